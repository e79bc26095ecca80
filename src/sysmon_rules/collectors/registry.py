"""Collectors found through the ``sysmon_rules.collectors`` entry-point group, and format sniffing.

The built-ins register through the same group (see pyproject.toml), so a third-party package
plugs in exactly as they do: ``[project.entry-points."sysmon_rules.collectors"] mine = "pkg:Mine"``
where ``Mine`` is a :class:`~sysmon_rules.collectors.base.Collector` class or instance.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING

from ..events import Event
from .base import Collector, CollectorError, CollectorWarning, ReadStats, Source, is_url

if TYPE_CHECKING:
    import pyarrow as pa

GROUP = "sysmon_rules.collectors"
# Sniffing order: the built-ins are unambiguous about their formats, so they go first.
BUILTIN_ORDER = ("evtx", "jsonl", "xml", "parquet")


def available() -> dict[str, Collector]:
    """Every registered collector by name: built-ins first, then the others by name."""
    found: dict[str, Collector] = {}
    for ep in entry_points(group=GROUP):
        if ep.name in found:
            continue  # the first distribution wins, as pip installs them
        try:
            loaded = ep.load()
            collector = loaded() if isinstance(loaded, type) else loaded
        except Exception as exc:  # a broken plugin must not break the built-ins: say so, go on
            warnings.warn(f"collector {ep.name!r} ({ep.value}) cannot be loaded: {exc}", CollectorWarning,
                          stacklevel=2)
            continue
        if not isinstance(collector, Collector):
            warnings.warn(f"collector {ep.name!r} ({ep.value}) is not a Collector", CollectorWarning, stacklevel=2)
            continue
        found[ep.name] = collector
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


def expand(args: Iterable[str | Path]) -> Iterator[tuple[Source, bool]]:
    """Each input as a Source; a folder gives its files (sorted, recursively), flagged as implicit.

    An fsspec URL (``s3://bucket/logs/``) is a file or, ending in a folder, every file under it.
    """
    for arg in args:
        if is_url(str(arg)):
            yield from _expand_url(str(arg))
            continue
        path = Path(arg)
        if str(arg) != "-" and path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                yield Source(str(child), child), True
        else:
            yield Source.from_arg(arg), False


def _expand_url(url: str) -> Iterator[tuple[Source, bool]]:
    try:
        import fsspec

        fs, root = fsspec.core.url_to_fs(url)
        folder = fs.isdir(root)
        found = sorted(fs.find(root)) if folder else []
    except ImportError as exc:
        raise CollectorError(f"{url}: cannot read: {exc} (install the fsspec package for this storage)") from exc
    except (OSError, ValueError) as exc:
        raise CollectorError(f"{url}: cannot read: {exc}") from exc
    if not folder:
        yield Source.from_arg(url), False
        return
    for name in found:
        yield Source.from_arg(fs.unstrip_protocol(name)), True


class EventStream:
    """The events of many inputs, in order; ``stats`` grows as they are read.

    Files found inside a folder that no collector recognises are left out (``unread``); a file
    named explicitly that nothing recognises is an error. With ``collector`` given, that one
    reads every named file, and only the files it recognises inside folders.
    """

    def __init__(self, inputs: Iterable[str | Path], *, collector: str | Collector | None = None,
                 strict: bool = False, warn: Callable[[str], None] | None = None) -> None:
        self.inputs = list(inputs)
        self.strict = strict
        self.warn = warn
        self.stats = ReadStats()
        self.files: list[tuple[str, str]] = []  # (input, collector name) in reading order
        self.unread: list[str] = []
        self._collectors = available()
        self._forced = get(collector) if isinstance(collector, str) else collector

    def pick(self, source: Source, implicit: bool) -> Collector | None:
        """The collector for one input; None for a file in a folder that nothing recognises."""
        if self._forced is not None:
            if implicit and not self._forced.recognizes(source.head(), source.name):
                return None
            return self._forced
        found = detect(source, self._collectors)
        if found is None and not implicit:
            names = ", ".join(self._collectors)
            raise CollectorError(f"{source.name}: cannot tell the format; give --collector ({names})")
        return found

    def _opened(self) -> Iterator[tuple[Source, Collector]]:
        """Each input with the collector that reads it; its counts join ``stats`` once read."""
        for source, implicit in expand(self.inputs):
            source.strict = self.strict
            if self.warn is not None:
                source.warn = self.warn
            collector = self.pick(source, implicit)
            if collector is None:
                self.unread.append(source.name)
                continue
            self.files.append((source.name, collector.name))
            try:
                yield source, collector
            finally:
                self.stats.add(source.stats)

    def __iter__(self) -> Iterator[Event]:
        for source, collector in self._opened():
            for event in collector.events(source):
                source.stats.events += 1
                yield event

    def batches(self, rows: int | None = None) -> Iterator[pa.RecordBatch]:
        """The same events as record batches (``collectors.arrow`` layout) of up to ``rows`` each.

        Batches run across file boundaries, so a folder of small files still gives full batches;
        a collector with a ``batches(source)`` method of its own (Parquet) hands its batches over.
        """
        from .arrow import BATCH_ROWS

        size = rows or BATCH_ROWS
        pending: list[Event] = []
        for source, collector in self._opened():
            own = getattr(collector, "batches", None)
            if own is not None:
                if pending:
                    yield self._batch(pending)
                    pending = []
                for batch in own(source):
                    source.stats.events += batch.num_rows
                    yield batch
                continue
            for event in collector.events(source):
                source.stats.events += 1
                pending.append(event)
                if len(pending) >= size:
                    yield self._batch(pending)
                    pending = []
        if pending:
            yield self._batch(pending)

    def _batch(self, events: list[Event]) -> pa.RecordBatch:
        from .arrow import UNENCODABLE, to_batch

        def unencodable(event: Event) -> None:  # a damaged record of a file already counted
            where = Source(event.origin.source if event.origin else "-", strict=self.strict)
            if self.warn is not None:
                where.warn = self.warn
            where.skip(str(event.origin or "-"), UNENCODABLE)
            self.stats.events -= 1
            self.stats.add(where.stats)

        return to_batch(events, unencodable)


def read(*inputs: str | Path, collector: str | None = None, strict: bool = False) -> EventStream:
    """``for event in read("Sysmon.evtx", "more/"): ...``; formats are recognised by content."""
    return EventStream(inputs, collector=collector, strict=strict)
