"""Replaying record batches through one or two evaluators: counts, and rows for the outputs.

One batch is decided once per config (``decide_batch``), counted into the Summary (and the
Comparison with a second config), and handed on for the chosen output: JSON lines text, or the
input columns with the decisions beside them for Parquet. The CLI runs this over a stream, and
``sysmon_rules.distributed`` over partitions, with the same functions, so both give the same output.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:  # the engine loads with the first config: reading (ReadAhead) can start without it
    from .engine import Evaluator
    from .report import Comparison, Summary

DECISION_COLUMNS = ("decision", "rule_name", "rule_set")
COMPARE_COLUMNS = ("compare_decision", "compare_rule_name")
Decided = tuple[pa.RecordBatch, pa.Table, "pa.Table | None"]  # a batch, its decisions, the other's


def evaluator_from(data: bytes | str | os.PathLike[str], *, path: str | None = None, platform: Any = "windows",
                   environment: dict[str, str] | None = None, sysmon_compatible: bool = False) -> Evaluator:
    """The evaluator of rules (bytes, or a file path) in any form ``rulesource.load_rules`` reads:
    an XML config validated as Sysmon would, a rule blob raw, .reg, reg query, hex or base64,
    `sysmon -c` text. ``path`` names bytes, so rule locations name the file."""
    from .engine import Evaluator
    from .rulesource import load_rules

    rules = load_rules(data, label=path, platform=platform, sysmon_compatible=sysmon_compatible)
    return Evaluator(rules.table, environment=environment, platform=rules.platform)


def decided(batches: Iterable[pa.RecordBatch], evaluator: Evaluator, summary: Summary,
            other: Evaluator | None = None, comparison: Comparison | None = None,
            progress: Callable[[int], None] | None = None) -> Iterator[Decided]:
    """Decide and count every batch, yielding each with its decisions (and the other config's)."""
    for batch in batches:
        result = evaluator.decide_batch(batch)
        summary.add_batch(batch, result, evaluator)
        theirs = other.decide_batch(batch) if other is not None else None
        if theirs is not None and comparison is not None:
            comparison.add_batch(batch, result, theirs)
        if progress is not None:
            progress(batch.num_rows)
        yield batch, result, theirs


def empty(evaluator: Evaluator, other: Evaluator | None) -> Decided:
    """No events, decided: what gives an output without rows its columns."""
    from .collectors.arrow import to_batch

    batch = to_batch([])
    return batch, evaluator.decide_batch(batch), other.decide_batch(batch) if other is not None else None


def with_decisions(batch: pa.RecordBatch, result: pa.Table, theirs: pa.Table | None) -> pa.RecordBatch:
    """The input columns and, beside them, ``decision``, ``rule_name``, ``rule_set`` (and the
    other config's ``compare_decision``/``compare_rule_name``): the Parquet output's rows."""
    columns = dict(zip(batch.schema.names, batch.columns, strict=True))
    for name in DECISION_COLUMNS:
        columns[name] = _array(result, name)
    if theirs is not None:
        for name, source in zip(COMPARE_COLUMNS, DECISION_COLUMNS[:2], strict=True):
            columns[name] = _array(theirs, source)
    return pa.RecordBatch.from_pydict(columns)


def _array(table: pa.Table, name: str) -> pa.Array:
    column = table.column(name)
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def _json_text(column: pa.Array) -> pa.Array:
    """Each value as JSON text (``null`` for null): strings escaped once per distinct value."""
    if pa.types.is_integer(column.type):
        return pc.fill_null(pc.cast(column, pa.string()), "null")
    encoded = column if pa.types.is_dictionary(column.type) else pc.dictionary_encode(column)
    quoted = pa.array([json.dumps(v, ensure_ascii=False) for v in encoded.dictionary.to_pylist()], pa.string())
    text = pa.DictionaryArray.from_arrays(encoded.indices, quoted).dictionary_decode()
    return pc.fill_null(text, "null")


def set_locations(evaluator: Evaluator) -> tuple[str | None, ...]:
    """Each rule set's location, by its position in the table (the batches' ``rule_set`` column)."""
    return tuple(str(s.location) if s.location is not None else None for s in evaluator.table.rule_sets)


def jsonl(batch: pa.RecordBatch, result: pa.Table, theirs: pa.Table | None,
          locations: tuple[str | None, ...]) -> str:
    """One JSON line per row, as the per-event output writes them (same keys, order and spacing),
    assembled by Arrow's string kernels rather than a Python loop per row."""
    if batch.num_rows == 0:
        return ""
    parts: list[pa.Array | str] = [
        '{"decision": ', _json_text(_array(result, "decision")),
        ', "rule_name": ', _json_text(_array(result, "rule_name")),
        ', "event_id": ', _json_text(batch.column("EventID")), ', "source": ', _json_text(batch.column("source")),
        ', "record": ', _json_text(batch.column("record")), ', "line": ', _json_text(batch.column("line")),
    ]
    # where the deciding set is written, by its position (``set_locations``)
    parts += [', "rule_set": ', _json_text(pc.take(pa.array(locations, pa.string()), _array(result, "rule_set")))]
    if theirs is not None:
        parts += [', "compare": {"decision": ', _json_text(_array(theirs, "decision")),
                  ', "rule_name": ', _json_text(_array(theirs, "rule_name")), "}"]
    lines = pc.binary_join_element_wise(*parts, "}\n", "")
    return "".join(lines.to_pylist())


class ReadAhead:
    """Batches read on a thread of their own, handed over in order with what reading said.

    Parsing (Arrow's, in C++ without the GIL) then runs while this thread loads the configs
    and decides the batch before. Nothing is told out of turn: the warnings given to
    :meth:`warn` while reading come out through the consumer's ``warn`` just before the batch
    (or the error, or the end) that follows them, and an error is raised where reading stopped,
    so a run prints what it printed reading in this thread. ``start`` first: pass :meth:`warn`
    as the reader's warning callback, then start it with the reader's batches.
    """

    _WARNINGS = 1000  # handed over in parcels of at most this many, so they never pile up
    _END = object()

    def __init__(self, warn: Callable[[str], None]) -> None:
        self._warn = warn
        self._spare: Iterator[object] | None = None
        self._said: list[str] = []
        self._queue: queue.Queue[tuple[list[str], object]] = queue.Queue(maxsize=1)  # one batch ahead
        # The next batch is read only once the consumer took the one before: two in memory at most.
        self._room = threading.Semaphore(1)
        self._closed = threading.Event()

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop reading (the consumer is done, or gave up on an error): the thread ends after the
        batch it is reading, its reader closed, instead of waiting forever to hand it over."""
        self._closed.set()

    def warn(self, message: str) -> None:
        self._said.append(message)
        if len(self._said) >= self._WARNINGS:
            self._hand_over(None)

    def start(self, batches: Iterable[pa.RecordBatch]) -> ReadAhead:
        # A daemon: an error or Ctrl-C in the consumer ends the run without waiting for the reading.
        threading.Thread(target=self._read, args=(batches,), name="sysmon-rules read-ahead", daemon=True).start()
        return self

    def meanwhile(self, steps: Iterator[object]) -> ReadAhead:
        """Work to do, a step at a time, while the consumer waits for the next batch (such as
        ``Evaluator.prepare_batches``): none of it is done once a batch is waiting."""
        self._spare = steps
        return self

    def _hand_over(self, item: object) -> None:
        said, self._said = self._said, []
        while not self._closed.is_set():
            try:
                self._queue.put((said, item), timeout=0.1)  # and look again whether the consumer left
                return
            except queue.Full:
                continue
        raise _Closed

    def _read(self, batches: Iterable[pa.RecordBatch]) -> None:
        reading = iter(batches)
        try:
            for batch in self._paced(reading):
                self._hand_over(batch)
            self._hand_over(self._END)
        except _Closed:
            pass
        except BaseException as exc:  # raised again in the consumer, where reading stopped
            with contextlib.suppress(_Closed):
                self._hand_over(_Failed(exc))
        finally:
            close = getattr(reading, "close", None)
            if close is not None:
                close()  # a generator's files and worker threads are released now

    def _paced(self, reading: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        while True:
            while not self._room.acquire(timeout=0.1):  # and look again whether the consumer left
                if self._closed.is_set():
                    raise _Closed
            batch = next(reading, None)
            if batch is None:
                return
            yield batch

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        while True:
            while self._spare is not None and self._queue.empty():
                if next(self._spare, None) is None:
                    self._spare = None
            said, item = self._queue.get()
            for message in said:
                self._warn(message)
            if item is self._END:
                return
            if isinstance(item, _Failed):
                raise item.error
            if item is not None:
                assert isinstance(item, pa.RecordBatch)
                self._room.release()  # the reader may read the next one while this one is decided
                yield item


class _Closed(Exception):
    """The consumer closed the read-ahead: reading stops."""


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error
