"""Replay logged events through the config (and the one compared with) for the report.

The library's replay (``sysmon_rules.replay``), and the result is exactly the document
`evaluate --format json [--compare]` prints (``ReplayResult.to_dict``), so the page and that
command never disagree on a number.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from ..engine import Evaluator
from ..replaying import replay as replay_events


def replay(evaluator: Evaluator, sources: Sequence[str | Path], *, other: Evaluator | None = None,
           other_name: str = "", collector: str | None = None, strict: bool = False,
           warn: Callable[[str], None] | None = None, budget: int | None = None) -> dict[str, object]:
    """Decide every event of ``sources`` with ``evaluator`` (and ``other``): the summary document."""
    result = replay_events(evaluator, sources, compare=other, collector=collector, strict=strict, warn=warn)
    return replace(result, compare_name=other_name).to_dict(budget=budget)
