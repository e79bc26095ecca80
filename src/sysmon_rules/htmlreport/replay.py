"""Replay logged events through the config (and the one compared with) for the report.

The same batch replay as `sysmon-rules evaluate` (``sysmon_rules.replay``), and the result is
exactly the document `evaluate --format json [--compare]` prints (``report.replay_document``),
so the page and that command never disagree on a number.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from ..collectors import EventStream
from ..engine import Evaluator
from ..replay import decided
from ..report import Comparison, Summary, replay_document


def replay(evaluator: Evaluator, sources: Sequence[str | Path], *, other: Evaluator | None = None,
           other_name: str = "", collector: str | None = None, strict: bool = False,
           warn: Callable[[str], None] | None = None, budget: int | None = None) -> dict[str, object]:
    """Decide every event of ``sources`` with ``evaluator`` (and ``other``): the summary document."""
    stream = EventStream(sources, collector=collector, strict=strict, warn=warn)
    summary, comparison = Summary(), Comparison() if other is not None else None
    for _ in decided(stream.batches(), evaluator, summary, other, comparison):
        pass  # counting is all the page needs
    return replay_document(summary, evaluator, stream, comparison, other_name, budget=budget)
