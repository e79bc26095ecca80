"""Sysmon's RuleBuilder, byte for byte: an append-only buffer with one level of undo.

The quirks matter because the blobs Sysmon stores carry them:

* records are copied with their exact size and the cursor moves to the next multiple of 8, but
  the padding is never cleared, so bytes of an undone event can survive in later padding;
* the buffer grows in 4 KiB steps and only a growth zeroes what lies past the cursor;
* ``undo_event`` restores the cursor and chain ends but not the aggregation cursor, so the next
  ``<Rule>`` writes its predecessor's ``nextOffset`` into stale memory, and after undoing the very
  first event the header is rebuilt without ``FirstAggregationOffset``;
* a write outside the current allocation (a stale offset after the buffer was freed) lands
  nowhere we can see, and a later growth zeroes that region anyway, so it is dropped.
"""

from __future__ import annotations

from .layout import BlobFormat, StructLayout, align8

_GROW_STEP = 0x1000


class RuleBuilder:
    """Append events, filters and aggregations in the layout of one blob format."""

    def __init__(self, fmt: BlobFormat, version: int, schema_version: int) -> None:
        self.fmt = fmt
        self.version = version
        self.schema_version = schema_version
        self._free()
        self.last_event = 0
        self.last_filter = 0
        self.prev_size = 0
        self.prev_last_event: int | None = None
        self.prev_last_filter: int | None = None
        self.aggregation = 0

    def _free(self) -> None:
        self.mem = bytearray()
        self.size = 0

    # -- raw memory ---------------------------------------------------------------------------

    def _grow(self, needed: int) -> None:
        if needed == 0 or needed <= len(self.mem) - self.size:
            return
        new_size = max(needed, _GROW_STEP) + len(self.mem)
        del self.mem[self.size:]  # realloc keeps the bytes, then everything past the cursor is zeroed
        self.mem.extend(bytes(new_size - self.size))

    def _add(self, record: bytes) -> int:
        offset = self.size
        self._grow(align8(len(record)))
        self.mem[offset:offset + len(record)] = record
        self.size += align8(len(record))
        return offset

    def _get(self, base: int, layout: StructLayout, member: str) -> int:
        return layout.get(self.mem, base, member)

    def _set(self, base: int, layout: StructLayout, member: str, value: int) -> None:
        layout.put(self.mem, base, member, value)

    # -- RuleBuilder operations ---------------------------------------------------------------

    def add_event(self, event_id: int, rule_default: int, combine: int) -> None:
        fmt = self.fmt
        self.prev_size = self.size
        if self.last_event:
            self._set(self.last_event, fmt.event, "NextOffset", self.size)
        else:
            self._add(fmt.header.pack(Version=self.version, RuleRegSize=fmt.header.size,
                                      SchemaVersion=self.schema_version, FirstEventOffset=fmt.header.size))
            if "FirstEventOffset" in fmt.header.names:
                self._set(0, fmt.header, "FirstEventOffset", self.size)
        self.prev_last_event = self.last_event
        self.last_event = self._add(fmt.event.pack(EventId=event_id, RuleDefault=rule_default, CombineType=combine))
        self._set(0, fmt.header, "RuleCount", self._get(0, fmt.header, "RuleCount") + 1)
        self.prev_last_filter = self.last_filter
        self.last_filter = 0

    def undo_event(self) -> bool:
        """Drop the event added last (only that one); False when there is nothing to undo."""
        if self.last_event == 0 or self.prev_last_event is None or self.prev_last_filter is None:
            return False
        self._set(0, self.fmt.header, "RuleCount", self._get(0, self.fmt.header, "RuleCount") - 1)
        self.last_event = self.prev_last_event
        self.prev_last_event = None
        self.last_filter = self.prev_last_filter
        self.prev_last_filter = None
        self.size = self.prev_size
        if self.last_event == 0:
            self._free()
        return True

    def add_aggregation(self, aggregation_id: int, name: bytes, combine: int) -> None:
        layout = self.fmt.aggregation
        if layout is None:
            return
        if self.aggregation:
            self._set(self.aggregation, layout, "nextOffset", self.size)
        elif "FirstAggregationOffset" in self.fmt.header.names:
            self._set(0, self.fmt.header, "FirstAggregationOffset", self.size)
        self.aggregation = self._add(layout.pack(name=name, aggregationId=aggregation_id, combineType=combine))

    def add_filter(self, field_id: int, name: bytes, filter_type: int, data: bytes, aggregation_id: int) -> None:
        """``data`` is the UTF-16LE value including its NUL terminator (DataSize)."""
        fmt = self.fmt
        if self.last_filter:
            self._set(self.last_filter, fmt.filter, "NextOffset", self.size)
        self.last_filter = self.size
        aggregation_offset = 0
        layout = fmt.aggregation
        if aggregation_id and layout is not None:
            aggregation_offset = self.aggregation
            if self._get(aggregation_offset, layout, "rootRuleOffset") == 0:
                self._set(aggregation_offset, layout, "rootRuleOffset", self.size)
            self._set(aggregation_offset, layout, "ruleCount",
                      self._get(aggregation_offset, layout, "ruleCount") + 1)
        if fmt.has_combine and self._get(self.last_event, fmt.event, "FirstFilterOffset") == 0:
            self._set(self.last_event, fmt.event, "FirstFilterOffset", self.size)
        fixed = fmt.filter.pack(FieldId=field_id, Name=name, FilterType=filter_type, DataSize=len(data),
                                AggregationId=aggregation_id, AggregationOffset=aggregation_offset)
        # sizeof(RULE_FILTER) includes Data[1]: one byte more than the fixed part is copied.
        self._add(fixed + data + bytes(fmt.filter_sizeof - fmt.filter.size))
        self._set(self.last_event, fmt.event, "FilterCount", self._get(self.last_event, fmt.event, "FilterCount") + 1)

    def detach(self) -> bytes:
        return bytes(self.mem[: self.size])
