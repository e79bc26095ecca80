"""Deciding record batches with one or two evaluators, and the rows of the outputs.

One batch is decided once per config (``decide_batch``), counted into the Summary (and the
Comparison with a second config), and handed on for the chosen output: JSON lines text, or the
input columns with the decisions beside them for Parquet. A replay in one process runs this over
a stream, and on a cluster over partitions, with the same functions, so both give the same output.
An event decided alone (``--explain``) gets the same JSON line from :func:`event_line`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from ..exitcodes import ctrl_c_held

if TYPE_CHECKING:  # the engine loads with the first config: reading (ReadAhead) can start without it
    from ..engine import Decision, Evaluator
    from ..events import Event
    from .summary import Comparison, Summary

DECISION_COLUMNS = ("decision", "rule_name", "rule_set")
COMPARE_COLUMNS = ("compare_decision", "compare_rule_name")
Decided = tuple[pa.RecordBatch, pa.Table, "pa.Table | None"]  # a batch, its decisions, the other's


def decided(batches: Iterable[pa.RecordBatch], evaluator: Evaluator, summary: Summary,
            other: Evaluator | None = None, comparison: Comparison | None = None,
            progress: Callable[[int], None] | None = None,
            emit: Callable[[pa.RecordBatch, pa.Table, pa.Table | None], None] | None = None) -> Iterator[Decided]:
    """Decide and count every batch, yielding each with its decisions (and the other config's).

    ``emit`` writes a batch's output before it is counted, both with Ctrl-C held: an interrupted
    run has counted exactly the rows it wrote, and never wrote part of a batch."""
    for batch in batches:
        result = evaluator.decide_batch(batch)
        theirs = other.decide_batch(batch) if other is not None else None
        with ctrl_c_held():
            if emit is not None:
                emit(batch, result, theirs)
            summary.add_batch(batch, result)
            if theirs is not None and comparison is not None:
                comparison.add_batch(batch, result, theirs)
            if progress is not None:
                progress(batch.num_rows)
        yield batch, result, theirs


def columns_read(evaluator: Evaluator, other: Evaluator | None) -> frozenset[str]:
    """The field columns deciding and counting read (each config's filters', the summary's): all a
    replay needs of its batches unless its output holds every column (Parquet)."""
    from .grouped import FIELDS_READ

    return evaluator.batch_fields() | (other.batch_fields() if other is not None else frozenset()) | FIELDS_READ


def empty(evaluator: Evaluator, other: Evaluator | None) -> Decided:
    """No events, decided: what gives an output without rows its columns."""
    from ..collectors.arrow import to_batch

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


@lru_cache(maxsize=4)
def _quoted(locations: tuple[str | None, ...]) -> pa.Array:
    """Each rule set's location as JSON text (null: none), once per table rather than per batch."""
    return pa.array([json.dumps(v, ensure_ascii=False) if v is not None else None for v in locations], pa.string())


def set_locations(evaluator: Evaluator) -> tuple[str | None, ...]:
    """Each rule set's location, by its position in the table (the batches' ``rule_set`` column)."""
    return tuple(str(s.location) if s.location is not None else None for s in evaluator.table.rule_sets)


_LINE_END = pa.scalar("}\n", pa.string())
_NULL = pa.scalar("null", pa.string())
_NO_SEPARATOR = pa.scalar("", pa.string())


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
    parts += [', "rule_set": ', pc.fill_null(pc.take(_quoted(locations), _array(result, "rule_set")), _NULL)]
    if theirs is not None:
        parts += [', "compare": {"decision": ', _json_text(_array(theirs, "decision")),
                  ', "rule_name": ', _json_text(_array(theirs, "rule_name")), "}"]
    # typed scalars: a Python str makes pyarrow infer its type, which imports dateutil each time
    # (a failed import when it is absent: slow, and a Ctrl-C arriving then is swallowed)
    typed = [pa.scalar(p, pa.string()) if isinstance(p, str) else p for p in parts]
    lines = pc.binary_join_element_wise(*typed, _LINE_END, _NO_SEPARATOR)
    # No line is null (every part is filled): the text is the lines' data end to end, read at once.
    _, offsets, data = lines.buffers()
    ends = memoryview(offsets).cast("i")  # int32 offsets (a string array's), in native order
    return str(memoryview(data)[ends[lines.offset]:ends[lines.offset + len(lines)]], "utf-8")


def event_line(event: Event, decision: Decision, other: Decision | None, explain: str | None) -> dict[str, object]:
    """The JSON line of one event decided alone: :func:`jsonl`'s keys, then the deciding filter
    (only the exact walk of ``Evaluator.explain`` knows it) and, with ``explain``, the explanation
    (``"full"``: every set and filter tried; otherwise the deciding set and filter)."""
    origin = event.origin
    row: dict[str, object] = {"decision": decision.decision, "rule_name": decision.rule_name,
                              "event_id": event.event_id,
                              **({"source": origin.source, "record": origin.record, "line": origin.line}
                                 if origin is not None else {}),
                              "rule_set": _set_location(decision)}
    trace = decision.trace
    if trace is not None and trace.matched_filter is not None and trace.matched_filter.location is not None:
        row["filter"] = str(trace.matched_filter.location)
    if other is not None:
        row["compare"] = {"decision": other.decision, "rule_name": other.rule_name}
    if explain and trace is not None:
        row["explanation"] = trace.render() if explain == "full" else trace.summary()
    return row


def _set_location(decision: Decision) -> str | None:
    """Where the set that decided is written (``config.xml:7:7``), None when no set matched."""
    rule_set = decision.rule_set
    return str(rule_set.location) if rule_set is not None and rule_set.location is not None else None
