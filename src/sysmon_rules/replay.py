"""Replaying record batches through one or two evaluators: counts, and rows for the outputs.

One batch is decided once per config (``decide_batch``), counted into the Summary (and the
Comparison with a second config), and rendered for the chosen output: JSON lines text, or the
input columns with the decisions beside them for Parquet. The CLI runs this over a stream, and
``sysmon_rules.distributed`` over partitions, with the same functions, so both give the same output.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyarrow as pa

from .engine import Evaluator
from .report import Comparison, Summary

DECISION_COLUMNS = ("decision", "rule_name", "rule_set")
COMPARE_COLUMNS = ("compare_decision", "compare_rule_name")
Output = Callable[[pa.RecordBatch, pa.Table, "pa.Table | None"], None]


def evaluator_from(data: bytes, *, path: str | None = None, platform: Any = "windows",
                   environment: dict[str, str] | None = None) -> Evaluator:
    """The evaluator of an XML config or a rule blob (raw, .reg, hex, base64), told apart by content.

    With ``path`` an XML config is read from there, so rule locations name the file.
    """
    from .blob.inputs import read_blob
    from .validation import load

    if data.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n")[:1] == b"<":
        config = load(Path(path) if path else data, platform=platform)
        return Evaluator(config, environment=environment, platform=platform)
    return Evaluator(read_blob(data), environment=environment, platform=platform)


@dataclass
class Replayed:
    """What a replay counted: the first config's Summary and, with a second, the Comparison."""

    summary: Summary = field(default_factory=Summary)
    comparison: Comparison | None = None


def replay(batches: Iterable[pa.RecordBatch], evaluator: Evaluator, other: Evaluator | None = None,
           output: Output | None = None, progress: Callable[[int], None] | None = None) -> Replayed:
    """Decide and count every batch; ``output(batch, decided, decided_by_other)`` sees each."""
    done = Replayed(comparison=Comparison() if other is not None else None)
    for batch in batches:
        result = evaluator.decide_batch(batch)
        done.summary.add_batch(batch, result, evaluator)
        theirs = other.decide_batch(batch) if other is not None else None
        if theirs is not None and done.comparison is not None:
            done.comparison.add_batch(batch, result, theirs)
        if output is not None:
            output(batch, result, theirs)
        if progress is not None:
            progress(batch.num_rows)
    return done


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


@lru_cache(maxsize=4096)
def _quoted(text: str | None) -> str:
    return json.dumps(text, ensure_ascii=False)


def jsonl(batch: pa.RecordBatch, result: pa.Table, theirs: pa.Table | None) -> str:
    """One JSON line per row, as the per-event output writes them (same keys, order and spacing)."""
    columns = [batch.column(n).to_pylist() for n in ("EventID", "source", "record", "line")]
    decided = [_array(result, n).to_pylist() for n in DECISION_COLUMNS[:2]]
    other = [_array(theirs, n).to_pylist() for n in DECISION_COLUMNS[:2]] if theirs is not None else None
    lines = []
    q = _quoted
    for row, (event_id, source, record, line) in enumerate(zip(*columns, strict=True)):
        text = (f'{{"decision": "{decided[0][row]}", "rule_name": {q(decided[1][row])}, "event_id": {event_id}, '
                f'"source": {q(source)}, "record": {_number(record)}, "line": {_number(line)}')
        if other is not None:
            text += f', "compare": {{"decision": "{other[0][row]}", "rule_name": {q(other[1][row])}}}'
        lines.append(text + "}\n")
    return "".join(lines)


def _number(value: int | None) -> str:
    return "null" if value is None else str(value)
