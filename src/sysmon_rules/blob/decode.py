"""Rule blob -> RuleTable (what Sysmon's matcher sees) -> canonical Config.

The matcher walks chains (``NextRuleEvent``/``NextRuleFilter``); so does ``decode``, strictly: any
offset outside the blob, a cycle, a count that disagrees with its chain or a data block without
its terminator is a BlobFormatError naming the byte offset and struct. Work is bounded by the blob
size (every record visited once), so corrupt input can neither hang nor allocate without limit.

An aggregation without filters (an empty ``<Rule>``) is on no filter chain; it is found by
looking at the bytes between an event's records, where RuleBuilder puts it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import BlobFormatError
from ..ruletable import COMBINE_NAMES, Aggregation, RuleFilter, RuleSet, RuleTable, onmatch_of
from .layout import (
    RULE_REG,
    RULE_REG_V1,
    BlobFormat,
    Record,
    align8,
    decode_wchar,
    format_name,
    formats_for,
    is_known_version,
)


@dataclass(frozen=True)
class DecodedBlob:
    """A decoded blob: its format, the table, and per rule set the physical order of its records."""

    fmt: BlobFormat
    table: RuleTable
    # Per rule set: ("f", filter index) / ("a", aggregation index) in blob order.
    order: tuple[tuple[tuple[str, int], ...], ...]
    first_aggregation_offset: int = 0
    data: bytes = field(default=b"", repr=False, compare=False)


def _candidate_formats(data: bytes) -> tuple[BlobFormat, ...]:
    """Formats the header allows, most likely first (``layout.formats_for``)."""
    if len(data) < RULE_REG.size:
        raise BlobFormatError(f"{len(data)} bytes cannot hold a rule blob header", 0, RULE_REG.name)
    word = RULE_REG.unpack(data, 0).number("Version")
    if not is_known_version(word):
        raise BlobFormatError(f"unknown binary version word 0x{word:08x}", 0, RULE_REG.name)
    schema = RULE_REG_V1.unpack(data, 0).number("SchemaVersion") if len(data) >= RULE_REG_V1.size else 0
    return formats_for(word, schema)


class _Reader:
    def __init__(self, data: bytes, fmt: BlobFormat) -> None:
        self.data = data
        self.fmt = fmt
        self.seen: set[int] = set()
        # Live records never overlap, so together they fit in the blob: this bounds the work a
        # lying count can cause to len(data) / (smallest record) steps.
        self.budget = len(data)

    def visit(self, offset: int, size: int, struct: str) -> None:
        if offset in self.seen:
            raise BlobFormatError("offset visited twice (a cycle or shared record)", offset, struct)
        if offset < self.fmt.header.size or offset + size > len(self.data):
            raise BlobFormatError(f"record of {size} bytes does not lie inside the blob", offset, struct)
        self.budget -= size
        if self.budget < 0:
            raise BlobFormatError("records overlap: more of them than the blob can hold", offset, struct)
        self.seen.add(offset)

    def header(self) -> Record:
        return self.fmt.header.unpack(self.data, 0)

    def events(self) -> list[tuple[int, Record]]:
        head = self.header()
        count = head.number("RuleCount")
        offset = head.number("FirstEventOffset", self.fmt.header.size)  # 1.0: events follow RULE_REG
        found: list[tuple[int, Record]] = []
        while count and offset:
            if len(found) == count:
                if offset == len(self.data):  # an undone last event leaves NextOffset at the end
                    break
                raise BlobFormatError(f"event chain is longer than RuleCount {count}", offset, "RULE_EVENT")
            self.visit(offset, self.fmt.event.size, self.fmt.event.name)
            record = self.fmt.event.unpack(self.data, offset)
            if onmatch_of(record.number("RuleDefault")) is None:
                raise BlobFormatError(f"RuleDefault {record['RuleDefault']!r} is neither 0 nor 1", offset, "RULE_EVENT")
            found.append((offset, record))
            offset = record.number("NextOffset")
        if len(found) != count:
            raise BlobFormatError(f"RuleCount says {count} events, the chain has {len(found)}", 0, "RULE_REG")
        return found

    def filters(self, offset: int, record: Record) -> list[tuple[int, Record, str]]:
        count = record.number("FilterCount")
        at = record.number("FirstFilterOffset") if self.fmt.has_combine else offset + align8(self.fmt.event.size)
        found: list[tuple[int, Record, str]] = []
        while len(found) < count:
            if at == 0:
                raise BlobFormatError(f"FilterCount says {count}, the chain has {len(found)}", offset, "RULE_EVENT")
            self.visit(at, self.fmt.filter.size, self.fmt.filter.name)
            flt = self.fmt.filter.unpack(self.data, at)
            found.append((at, flt, self.value(at, flt.number("DataSize"))))
            at = flt.number("NextOffset")
        if at and self.fmt.has_combine:  # 1.01 filters simply follow their event; no chain end to check
            raise BlobFormatError(f"filter chain is longer than FilterCount {count}", at, self.fmt.filter.name)
        return found

    def value(self, offset: int, size: int) -> str:
        start = offset + self.fmt.filter.size
        if size < 2 or size % 2 or start + size > len(self.data):
            raise BlobFormatError(f"DataSize {size} is odd, empty or past the end", offset, self.fmt.filter.name)
        raw = self.data[start:start + size]
        if raw[-2:] != b"\0\0":
            raise BlobFormatError("filter data is not NUL-terminated", start, self.fmt.filter.name)
        return decode_wchar(raw)

    def aggregation(self, offset: int, expected_id: int) -> Record:
        layout = self.fmt.aggregation
        assert layout is not None
        record = layout.unpack(self.data, offset)
        if record.number("aggregationId") != expected_id:
            raise BlobFormatError(f"aggregation id {record['aggregationId']!r} != filter's {expected_id}",
                                  offset, layout.name)
        return record

    def loose_aggregations(self, start: int, end: int, known: dict[int, int]
                           ) -> list[tuple[int, Record]]:
        """Filterless aggregations RuleBuilder put between an event's records (best effort).

        ``known`` maps the offsets of the set's records to their aligned sizes; the walk stops at
        the first bytes that are neither a known record nor a plausible empty aggregation.
        """
        layout = self.fmt.aggregation
        found: list[tuple[int, Record]] = []
        cursor = start
        while layout is not None and cursor + layout.size <= end:
            if cursor in known:
                cursor += known[cursor]
                continue
            record = layout.unpack(self.data, cursor)
            if not (record.number("aggregationId") and record.number("ruleCount") == 0
                    and record.number("rootRuleOffset") == 0 and record.number("combineType") in COMBINE_NAMES
                    and cursor not in self.seen):
                break
            self.visit(cursor, layout.size, layout.name)
            found.append((cursor, record))
            cursor += align8(layout.size)
        return found


def decode_blob(data: bytes) -> DecodedBlob:
    """Decode with the physical record order (used by ``from_blob`` to rebuild the config)."""
    data = bytes(data)
    candidates = _candidate_formats(data)
    for fmt in candidates[:-1]:
        try:
            return _decode_as(data, fmt)
        except BlobFormatError:
            continue
    return _decode_as(data, candidates[-1])


def _decode_as(data: bytes, fmt: BlobFormat) -> DecodedBlob:
    reader = _Reader(data, fmt)
    head = reader.header()
    events = reader.events()
    sets: list[RuleSet] = []
    orders: list[tuple[tuple[str, int], ...]] = []
    # An event's records lie between it and the next event (RuleBuilder appends in order).
    ends = [off for off, _ in events[1:]] + [len(data)]
    for (offset, record), end in zip(events, ends[: len(events)], strict=True):
        rule_set, order = _rule_set(reader, offset, record, end if end > offset else len(data))
        sets.append(rule_set)
        orders.append(order)
    table = RuleTable(binary_version=head.number("Version"), schema_version=head.number("SchemaVersion", 0),
                      rule_sets=tuple(sets))
    return DecodedBlob(fmt, table, tuple(orders), head.number("FirstAggregationOffset", 0), data)


def _rule_set(reader: _Reader, offset: int, record: Record, end: int
              ) -> tuple[RuleSet, tuple[tuple[str, int], ...]]:
    fmt = reader.fmt
    known: dict[int, int] = {}  # offset -> aligned size of the set's records
    filters: list[RuleFilter] = []
    aggregations: dict[int, tuple[int, Aggregation]] = {}
    for at, flt, value in reader.filters(offset, record):
        known[at] = align8(fmt.filter_sizeof + flt.number("DataSize"))
        aggregation_id = flt.number("AggregationId", 0)
        if aggregation_id and aggregation_id not in aggregations and fmt.aggregation is not None:
            where = flt.number("AggregationOffset")
            reader.visit(where, fmt.aggregation.size, fmt.aggregation.name)
            aggregations[aggregation_id] = (where, _aggregation(reader.aggregation(where, aggregation_id)))
            known[where] = align8(fmt.aggregation.size)
        filters.append(RuleFilter(flt.number("FieldId"), flt.number("FilterType"), value, flt.text("Name"),
                                  aggregation_id))
    for where, agg in reader.loose_aggregations(offset + align8(fmt.event.size), end, known):
        aggregations.setdefault(agg.number("aggregationId"), (where, _aggregation(agg)))
    ordered = sorted(aggregations.values(), key=lambda pair: pair[0])
    filter_offsets = [at for at in known if at not in {where for where, _ in ordered}]
    placed = sorted([(at, "f", i) for i, at in enumerate(filter_offsets)]
                    + [(where, "a", i) for i, (where, _) in enumerate(ordered)])
    rule_set = RuleSet(record.number("EventId"), record.number("RuleDefault"), record.number("CombineType", 0),
                       tuple(filters), tuple(agg for _, agg in ordered))
    return rule_set, tuple((kind, index) for _, kind, index in placed)


def _aggregation(record: Record) -> Aggregation:
    return Aggregation(record.number("aggregationId"), record.text("name"), record.number("combineType"))


def decode(data: bytes) -> RuleTable:
    """The rule table of a blob of any binary version from 1.0 to 18."""
    return decode_blob(data).table


__all__ = ["DecodedBlob", "decode", "decode_blob", "format_name"]
