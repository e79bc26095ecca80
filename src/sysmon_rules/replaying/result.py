"""What a replay found: the summary, the comparison with a second config, and what was read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..collectors.base import ReadStats
from .summary import Comparison, Summary

if TYPE_CHECKING:
    from ..engine import Evaluator


@dataclass
class ReplayResult:
    """The result of :func:`~sysmon_rules.replay`, the same in one process and on a cluster.

    ``evaluator`` (and ``other``, the compared config's) decided the events; ``stats``, ``files``
    (``(source, collector)`` in reading order) and ``unread`` (files in folders no collector
    recognised) say what was read. ``partitions`` and ``worker_cpu`` (CPU seconds, added up) are
    a cluster's (0 in one process).
    """

    evaluator: Evaluator
    other: Evaluator | None = None
    summary: Summary = field(default_factory=Summary)
    comparison: Comparison | None = None
    stats: ReadStats = field(default_factory=ReadStats)
    files: list[tuple[str, str]] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)
    config_name: str = ""  # the configs' paths as given ("" for an Evaluator given)
    compare_name: str = ""
    partitions: int = 0
    worker_cpu: float = 0.0

    def merge(self, other: ReplayResult) -> None:
        """Add ``other``, a replay of the inputs that follow with the same configs (a partition)."""
        self.summary.merge(other.summary)
        if self.comparison is not None and other.comparison is not None:
            self.comparison.merge(other.comparison)
        self.stats.merge(other.stats)
        for entry in other.files:
            if not self.files or self.files[-1] != entry:  # row groups of one file: one entry
                self.files.append(entry)
        self.unread += other.unread
        self.partitions += other.partitions
        self.worker_cpu += other.worker_cpu

    def to_dict(self, *, budget: int | None = None, top: int | None = None) -> dict[str, object]:
        """The replay as ``sysmon-rules evaluate --format json`` prints it (docs/evaluate.md):
        the summary, what was read and, with a second config, the comparison. ``budget`` flags
        event types and RuleNames logging more than that per host per day; ``top`` cuts lists."""
        doc: dict[str, object] = {**self.summary.to_dict(self.evaluator.table.rule_sets, budget=budget, top=top),
                                  "skipped": self.stats.skipped, "other_records": dict(self.stats.other),
                                  "files": [{"source": s, "collector": c} for s, c in self.files],
                                  "unread": self.unread}
        if self.comparison is not None:
            doc["compare"] = {"config": self.compare_name, **self.comparison.to_dict(budget=budget, top=top)}
        return doc
