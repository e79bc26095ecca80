"""``replay``: decide every event of some sources with a config (and a second one), count, write.

One pipeline for every way of running it. In one process the batches are read on a thread
(``ReadAhead``) while the configs load, or by forked worker processes for big inputs, and each
batch is decided once per config; with ``explain`` events are decided one by one with their
explanation; with a ``scheduler`` the inputs are split into partitions replayed on a Dask cluster
(:mod:`.cluster`). All give the same :class:`ReplayResult` and the same rows in the same order.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import SysmonRulesError
from ..exitcodes import ctrl_c_held
from ..fileio import json_text
from .configs import load_evaluator
from .result import ReplayResult
from .sinks import JsonLines, ParquetFile, Sink, Traces
from .summary import Comparison, Summary

if TYPE_CHECKING:
    import pyarrow as pa

    from ..collectors import EventStream
    from ..collectors.base import LateColumns
    from ..engine import Evaluator
    from ..events import Event
    from .readahead import ReadAhead

_T = TypeVar("_T")

class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a replay: ``result`` holds what was decided until then."""

    def __init__(self, result: ReplayResult) -> None:
        super().__init__()
        self.result = result


def replay(config: str | Path | Evaluator, sources: Iterable[str | Path], *,
           compare: str | Path | Evaluator | None = None, collector: str | None = None, strict: bool = False,
           platform: str = "windows", environment: dict[str, str] | None = None, sysmon_compatible: bool = False,
           sink: Sink | None = None, progress: Callable[[int], None] | None = None, scheduler: Any = None,
           explain: str | None = None, warn: Callable[[str], None] | None = None) -> ReplayResult:
    """Decide every Sysmon event of ``sources`` with ``config`` (and ``compare``) and count.

    ``config`` and ``compare`` are paths of XML configs or rule blobs (raw, .reg, hex, base64; a
    failure to load one is a :class:`ConfigLoadError` naming it) or Evaluators. ``sources`` are
    what ``read_events`` reads: .evtx, event XML, JSON lines, Parquet, folders, zips, URLs,
    ``-`` for stdin; ``collector`` forces one reader, ``strict`` makes a damaged record an error
    (otherwise it is skipped, counted and given to ``warn``). ``sink`` also receives each event's
    decision (:class:`JsonLines`, :class:`ParquetFile`, :class:`Traces`); ``progress`` the number of
    events decided, as they are. ``explain`` (``"short"`` or ``"full"``) decides events one by one
    with their explanation. ``scheduler`` (``"local"``, ``"local:N"``, ``"tcp://HOST:PORT"`` or a
    ``distributed.Client``) replays on a Dask cluster. Ctrl-C raises :class:`Interrupted`.
    """
    if isinstance(sink, ParquetFile) and explain:
        raise SysmonRulesError("explained events are not written to Parquet; leave out explain or the Parquet sink")
    if isinstance(sink, Traces) and not explain:
        raise SysmonRulesError("traces are written for explained events only; give explain")
    warn = warn or _collector_warning
    loading: dict[str, Any] = {"platform": platform, "environment": environment,
                               "sysmon_compatible": sysmon_compatible}
    if scheduler is not None:
        if explain:
            raise SysmonRulesError("explain decides event by event in this process; leave out the scheduler")
        from .cluster import replay_on_cluster

        return replay_on_cluster(config, list(sources), compare=compare, scheduler=scheduler, collector=collector,
                                 strict=strict, sink=sink, warn=warn, progress=progress, **loading)
    from ..collectors.base import LateColumns
    from .rows import columns_read

    # Batches need only what deciding and counting read, unless the output holds every column;
    # which fields those are is known once the configs have loaded, and reading starts before.
    columns = LateColumns() if not explain and (sink is None or isinstance(sink, JsonLines)) else None
    stream, ahead, unknown = _reading(sources, collector, strict, warn, batches=not explain, columns=columns)
    with ahead or nullcontext():  # a replay that stops early (a config that fails to load too) stops the reading
        try:
            evaluator = _evaluator(config, loading)
            other = _evaluator(compare, loading) if compare is not None else None
        except BaseException:
            if columns is not None:
                columns.tell(None)  # the reading waiting for them goes on, to stop (it is closed)
            raise
        if columns is not None:
            columns.tell(columns_read(evaluator, other))
        if unknown is not None:
            raise unknown
        assert stream is not None
        summary, comparison = Summary(), Comparison() if other is not None else None
        try:
            if explain:
                _replay_events(_checked(stream, stream), evaluator, other, summary, comparison, explain, sink,
                               progress)
            elif ahead is None:  # read by forked workers
                _replay_batches(_checked(stream.batches(), stream), evaluator, other, summary, comparison, sink,
                                progress)
            else:  # the classifiers' lookups are built while the first batch is still being read
                ahead.meanwhile(evaluator.prepare_batches())
                _replay_batches(_checked(ahead, stream), evaluator, other, summary, comparison, sink, progress)
        except KeyboardInterrupt:
            raise Interrupted(_result(stream, evaluator, other, summary, comparison, (config, compare))) from None
    return _result(stream, evaluator, other, summary, comparison, (config, compare))


def _checked(items: Iterable[_T], stream: EventStream) -> Iterator[_T]:
    """``items``, then an error if no Sysmon event was read at all: raised before the output
    (a Parquet file) is committed, so nothing-checked never leaves a result behind."""
    from ..collectors import require_events

    yield from items
    require_events(stream.stats, stream.inputs)


def _evaluator(config: str | Path | Evaluator, loading: dict[str, Any]) -> Evaluator:
    return config if not isinstance(config, str | Path) else load_evaluator(config, **loading)


def _result(stream: EventStream, evaluator: Evaluator, other: Evaluator | None, summary: Summary,
            comparison: Comparison | None, configs: tuple[object, object]) -> ReplayResult:
    names = [str(c) if isinstance(c, str | Path) else "" for c in configs]
    return ReplayResult(evaluator, other, summary, comparison, stream.stats, stream.files, stream.unread,
                        config_name=names[0], compare_name=names[1])


def _reading(sources: Iterable[str | Path], collector: str | None, strict: bool, warn: Callable[[str], None],
             *, batches: bool, columns: LateColumns | None
             ) -> tuple[EventStream | None, ReadAhead | None, SysmonRulesError | None]:
    """The event stream and, for ``batches``, its batches being read on a thread from now on,
    while the configs load and the first batch is decided (``ReadAhead``: what reading says and
    raises comes out in reading order, once the configs have loaded), unless forked workers will
    read them. A bad ``collector`` is returned, to be told after the configs' errors.
    ``columns``: the field columns the batches need."""
    from ..collectors import EventStream
    from .readahead import ReadAhead

    ahead = ReadAhead(warn) if batches else None
    try:
        stream = EventStream(sources, collector=collector, strict=strict,
                             warn=ahead.warn if ahead is not None else warn, columns=columns)
    except SysmonRulesError as exc:
        return None, None, exc
    if ahead is not None and stream.forks():  # worker processes read in parallel (a thread would stop the fork)
        stream.warn, ahead = warn, None
    if ahead is not None:
        ahead.start(stream.batches())
    return stream, ahead, None


def _collector_warning(message: str) -> None:
    """What reading says when the caller gave no ``warn``: a ``CollectorWarning``."""
    from ..collectors import CollectorWarning

    warnings.warn(message, CollectorWarning, stacklevel=2)


def _replay_events(stream: Iterable[Event], evaluator: Evaluator, other: Evaluator | None, summary: Summary,
                   comparison: Comparison | None, explain: str, sink: Sink | None,
                   progress: Callable[[int], None] | None) -> None:
    """Event by event, with every decision explained (concise, or ``"full"``: every set)."""
    from .rows import event_line

    for event in stream:
        decision = evaluator.explain(event)
        theirs = other.decide(event) if other is not None else None
        with ctrl_c_held():  # written and counted, or neither (as ``rows.decided`` does a batch)
            summary.add(event, decision)
            if theirs is not None and comparison is not None:
                comparison.add(event, decision, theirs)
            if isinstance(sink, JsonLines):
                sink.write(json_text(event_line(event, decision, theirs, explain)) + "\n")
            elif isinstance(sink, Traces) and decision.trace is not None:
                trace = decision.trace.render() if explain == "full" else decision.trace.summary()
                sink.write(f"{event.origin or '-'}\n{trace}\n")
            if progress is not None:
                progress(1)


def _replay_batches(batches: Iterable[pa.RecordBatch], evaluator: Evaluator, other: Evaluator | None,
                    summary: Summary, comparison: Comparison | None, sink: Sink | None,
                    progress: Callable[[int], None] | None) -> None:
    """In record batches, each decided once per config (:mod:`.rows`)."""
    from ..collectors.parquet import write_parquet
    from .rows import decided, empty, jsonl, set_locations, with_decisions

    if isinstance(sink, ParquetFile):  # written whole at the end, or not at all
        done = decided(batches, evaluator, summary, other, comparison, progress)
        write_parquet(sink.path, (with_decisions(*d) for d in done), with_decisions(*empty(evaluator, other)).schema)
        return
    emit = None
    if isinstance(sink, JsonLines):
        locations, lines = set_locations(evaluator), sink

        def emit(batch: pa.RecordBatch, result: pa.Table, theirs: pa.Table | None) -> None:
            lines.write(jsonl(batch, result, theirs, locations))

    for _ in decided(batches, evaluator, summary, other, comparison, progress, emit):
        pass
