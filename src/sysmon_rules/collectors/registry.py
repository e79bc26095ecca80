"""Collectors found through the ``sysmon_rules.collectors`` entry-point group, and format sniffing.

The built-ins register through the same group (see pyproject.toml), so a third-party package
plugs in exactly as they do: ``[project.entry-points."sysmon_rules.collectors"] mine = "pkg:Mine"``
where ``Mine`` is a :class:`~sysmon_rules.collectors.base.Collector` class or instance.
"""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from ..errors import Location
from ..events import Event
from ..inputfiles import NoInputError
from .base import (
    DAMAGE_ERRORS,
    Collector,
    CollectorError,
    CollectorWarning,
    DamagedInput,
    LateColumns,
    ReadStats,
    Row,
    Source,
    UnknownFormat,
    _default_warn,
    strip_bom,
)
from .listing import expand as expand
from .plugins import entry_points, load

if TYPE_CHECKING:
    import pyarrow as pa

    from . import forked

GROUP = "sysmon_rules.collectors"
# Sniffing order: the built-ins are unambiguous about their formats, so they go first.
BUILTIN_ORDER = ("evtx", "jsonl", "xml", "parquet")
T = TypeVar("T")


def available() -> dict[str, Collector]:
    """Every registered collector by name: built-ins first, then the others by name."""
    found: dict[str, Collector] = {}
    for name, value in entry_points(GROUP):  # kept between runs: the search is a sixth of a start-up
        if name in found:
            continue  # the first distribution wins, as pip installs them
        try:
            loaded = load(value)
            collector = loaded() if isinstance(loaded, type) else loaded
        except Exception as exc:  # a broken plugin must not break the built-ins: say so, go on
            warnings.warn(f"collector {name!r} ({value}) cannot be loaded: {exc}", CollectorWarning,
                          stacklevel=2)
            continue
        if not isinstance(collector, Collector):
            warnings.warn(f"collector {name!r} ({value}) is not a Collector", CollectorWarning, stacklevel=2)
            continue
        found[name] = collector
    order = [n for n in BUILTIN_ORDER if n in found] + sorted(n for n in found if n not in BUILTIN_ORDER)
    return {name: found[name] for name in order}


def get(name: str) -> Collector:
    """The collector registered as ``name``; unknown names list the available ones."""
    collectors = available()
    if name not in collectors:
        raise CollectorError(f"unknown collector {name!r} (available: {', '.join(collectors) or 'none'})")
    return collectors[name]


def detect(source: Source, collectors: dict[str, Collector] | None = None) -> Collector | None:
    """The first collector that recognises the source's first bytes, or None."""
    collectors = available() if collectors is None else collectors
    head = source.head()
    return next((c for c in collectors.values() if c.recognizes(head, source.name)), None)


class EventStream:
    """The events of many inputs, in order; ``stats`` grows as they are read.

    Files found inside a folder that no collector recognises are left out (``unread``); a file
    named explicitly that nothing recognises is an error. With ``collector`` given, that one
    reads every named file, and only the files it recognises inside folders.
    """

    def __init__(self, inputs: Iterable[str | Path], *, collector: str | Collector | None = None,
                 strict: bool = False, warn: Callable[[str], None] | None = None,
                 collectors: dict[str, Collector] | None = None, workers: int | None = None,
                 columns: Iterable[str] | LateColumns | None = None) -> None:
        self.inputs = list(inputs)
        # batches(): the field columns the caller reads; the others may come null (Source.columns)
        self.columns = columns if columns is None or isinstance(columns, LateColumns) else frozenset(columns)
        self.workers = workers  # batches(): processes reading files (None: by input size, 1: this one)
        self.strict = strict
        self.warn = warn
        self.stats = ReadStats()
        self.files: list[tuple[str, str]] = []  # (input, collector name) in reading order
        self.unread: list[str] = []
        self._collectors = available() if collectors is None else collectors  # given: no entry-point scan
        self._forced = self._collectors.get(collector) if isinstance(collector, str) else collector
        if isinstance(collector, str) and self._forced is None:
            get(collector)  # the error listing what is available

    def pick(self, source: Source, implicit: bool) -> Collector | None:
        """The collector for one input; None for a file in a folder that nothing recognises, or
        for a damaged or unreadable one there (skipped: counted, warned, an error under strict)."""
        try:
            return self._recognise(source, implicit)
        except CollectorError as exc:
            if not implicit and not isinstance(exc, DamagedInput):
                raise  # a file named on the command line that cannot be read is an error
            # a damaged zip member or gzip header, or an unreadable file in a folder: skipped
            source.skip(source.name, exc.message.removeprefix(f"{source.name}: "))
            return None

    def _recognise(self, source: Source, implicit: bool) -> Collector | None:
        if self._forced is not None:
            if implicit and not self._forced.recognizes(source.head(), source.name):
                return None
            return self._forced
        found = detect(source, self._collectors)
        if found is None and not implicit:
            if not strip_bom(source.head()).strip():  # nothing, or only blank lines: no format to tell
                raise NoInputError("empty: no record in it", Location(source.name))
            names = ", ".join(self._collectors)
            raise UnknownFormat(f"cannot tell the format; give --collector ({names})", Location(source.name))
        return found

    def _opened(self, found: Iterable[tuple[Source, bool]] | None = None) -> Iterator[tuple[Source, Collector]]:
        """Each input (or each of ``found``) with the collector that reads it; its counts join
        ``stats`` once read."""
        for source, implicit in expand(self.inputs) if found is None else found:
            source.strict, source.columns = self.strict, self.columns
            if self.warn is not None:
                source.warn = self.warn
            collector = self.pick(source, implicit)
            if collector is None:
                if not source.stats.skipped:  # a damaged one is counted as skipped, not as unread
                    self.unread.append(source.name)
                self.stats.merge(source.stats)
                continue
            self.files.append((source.name, collector.name))
            try:
                yield source, collector
            finally:
                self.stats.merge(source.stats)
            _warn_if_no_sysmon(source)
        # every file found was of another kind: never an all-clear (a forked worker's chunk is a part of the whole)
        if found is None and not self.files and self.unread:
            inputs = [str(i) for i in self.inputs]
            raise NoInputError(f"no event file: none of the {len(self.unread)} file(s) found is in a format a "
                               "collector reads (--collector NAME forces one)",
                               Location(inputs[0] if len(inputs) == 1 else ", ".join(inputs)))

    def __iter__(self) -> Iterator[Event]:
        for source, collector in self._opened():
            for event in guarded(collector.events(source), source):
                source.stats.events += 1
                yield event

    def batches(self, rows: int | None = None) -> Iterator[pa.RecordBatch]:
        """The same events as record batches (``collectors.arrow`` layout) of up to ``rows`` each.

        Batches run across file boundaries, so a folder of small files still gives full batches;
        a collector with a ``batches(source)`` method of its own (Parquet) hands its batches over;
        one with ``gather(source)`` (EVTX) hands over events or rows of its own kind, whose
        ``to_batch`` turns the rows of many files into one batch. Plain files holding 128 MiB or
        more of EVTX are read by a worker process per core (``workers``; ``collectors.forked``).
        ``rows`` is ``arrow.BATCH_ROWS`` unless given: batches of 8,192 rows hold a tenth of the
        memory of 65,536 and decide as fast (the corpus x12 in a fresh process: 0.68 s instead of
        0.80, peak RSS 127 MiB instead of 179: a first batch's memory is taken from the system
        page by page).
        """
        from . import forked
        from .arrow import BATCH_ROWS

        size = rows or BATCH_ROWS
        chunks, listed = forked.plan(self.inputs, self.workers) if self.workers != 1 else (None, None)
        if chunks is not None:
            yield from forked.batches(chunks, size, self.workers, self._read_chunk, self._absorb)
        else:
            yield from self.serial_batches(listed, size)

    def _read_chunk(self, chunk: list[tuple[Source, bool]], rows: int) -> forked.ChunkResult:
        """In a forked worker (a copy of this stream): one chunk read by the single-process code,
        counted and warned about into the chunk's result, for the parent's :meth:`_absorb`."""
        from . import forked

        result = forked.ChunkResult()
        self.stats, self.files, self.unread = result.stats, result.files, result.unread
        self.warn = result.warnings.append
        return forked.read(self.serial_batches(chunk, rows), result)

    def _absorb(self, result: forked.ChunkResult) -> None:
        """A chunk a worker read, told and counted here as the single-process run would have."""
        for message in result.warnings:
            (self.warn or _default_warn)(message)
        self.stats.merge(result.stats)
        self.files.extend(result.files)
        self.unread.extend(result.unread)

    def forks(self) -> bool:
        """Would :meth:`batches` read in forked worker processes? Ask before starting a thread:
        no fork is made while other threads run (``collectors.forked.plan``)."""
        from . import forked

        try:
            return self.workers != 1 and forked.plan(self.inputs, self.workers)[0] is not None
        except (CollectorError, OSError):  # an input that cannot be listed: reported when it is read
            return False

    def serial_batches(self, found: Iterable[tuple[Source, bool]] | None, size: int) -> Iterator[pa.RecordBatch]:
        """:meth:`batches` in this process, of the inputs (or of ``found``), ``size`` rows at most."""
        pending: list[Event | Row] = []
        held = 0  # events in pending
        for source, collector in self._opened(found):
            own = getattr(collector, "batches", None)
            if own is not None:
                if pending:
                    yield self._batch(pending)
                    pending, held = [], 0
                for batch in guarded(own(source), source):
                    source.stats.events += batch.num_rows
                    yield batch
                continue
            gather = getattr(collector, "gather", None)
            for item in guarded(gather(source) if gather is not None else collector.events(source), source):
                split = getattr(item, "split", None)
                if split is None:  # one event, or one row
                    source.stats.events += 1
                    pending.append(item)
                    held += 1
                    if held >= size:
                        yield self._batch(pending)
                        pending, held = [], 0
                    continue
                count = len(item)  # rows of many records (Row)
                source.stats.events += count
                while held + count >= size:  # cut where a batch of single events would be cut
                    take = size - held
                    head, item = split(take)
                    split = item.split
                    pending.append(head)
                    yield self._batch(pending)
                    pending, held, count = [], 0, count - take
                if count:
                    pending.append(item)
                    held += count
        if pending:
            yield self._batch(pending)

    def _batch(self, events: list[Event | Row]) -> pa.RecordBatch:
        from .arrow import UNENCODABLE, concat_batches, to_batch

        def unencodable(event: Event) -> None:  # a damaged record of a file already counted
            where = Source(event.origin.source if event.origin else "-", strict=self.strict)
            if self.warn is not None:
                where.warn = self.warn
            where.skip(str(event.origin or "-"), UNENCODABLE)
            self.stats.events -= 1
            self.stats.merge(where.stats)

        # Runs of one kind of item: events, or a gathering collector's rows (one to_batch per run).
        parts = [(kind.to_batch if kind is not None else to_batch)(list(run), unencodable)  # type: ignore[arg-type]
                 for kind, run in groupby(events, _row_kind)]
        return parts[0] if len(parts) == 1 else concat_batches(parts)


def _row_kind(item: Event | Row) -> type[Row] | None:
    return None if isinstance(item, Event) else type(item)


def read(*inputs: str | Path, collector: str | None = None, strict: bool = False) -> EventStream:
    """``for event in read("Sysmon.evtx", "more/"): ...``; formats are recognised by content."""
    return EventStream(inputs, collector=collector, strict=strict)


def require_events(stats: ReadStats, inputs: Sequence[str | Path]) -> None:
    """Files were read but none held a Sysmon event (all damaged, or another log): never an all-clear."""
    if stats.events:
        return
    found = []
    if stats.skipped:
        found.append(f"{stats.skipped:,} damaged record(s) skipped")
    if stats.other:
        channels = ", ".join(f"{name} ({count:,})" for name, count in stats.other.most_common(3))
        found.append(f"{sum(stats.other.values()):,} record(s) of other channels: {channels}")
    names = [str(i) for i in inputs]
    raise NoInputError(f"no Sysmon event read ({'; '.join(found) or 'no record'})",
                       Location(names[0] if len(names) == 1 else ", ".join(names)))


def guarded(items: Iterator[T], source: Source) -> Iterator[T]:
    """The source's events (or batches); a stream damaged past repair (gzip cut or corrupt, a
    damaged zip member) ends that file as one skipped record, after what was read before it."""
    try:
        yield from items
    except DAMAGE_ERRORS as exc:
        kind = "zip member" if isinstance(exc, zipfile.BadZipFile | NotImplementedError) else "gzip stream"
        source.skip(source.name, f"damaged {kind} ({exc or type(exc).__name__}), the rest of the file is lost")


def _warn_if_no_sysmon(source: Source) -> None:
    """A file with records but no Sysmon event is most likely the wrong log: say so."""
    if source.stats.events == 0 and source.stats.other:
        channels = ", ".join(f"{name} ({count:,})" for name, count in source.stats.other.most_common(3))
        source.warn(f"{source.name}: no Sysmon events, only records of other channels: {channels}")
