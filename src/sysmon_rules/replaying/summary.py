"""What a config does to a stream of events: counts per event id and RuleName, the rule sets
that never matched and the volume over time and hosts (:mod:`.volume`); and, for two configs
over the same events, what changes between them.

Aggregation only keeps counters (bounded by event ids, RuleNames and rule sets), never events,
so a summary over any number of events takes constant memory, and two summaries over disjoint
events add up (``merge``): rule sets are counted by their position in the rule table, which
means the same in every process.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..events import Event
from .grouped import comparison_groups, summary_groups
from .volume import Volume

if TYPE_CHECKING:
    import pyarrow as pa

    from ..engine import Decision
    from ..ruletable import RuleSet

INCLUDE, EXCLUDE = "include", "exclude"


@dataclass
class Summary:
    """Decisions of one config: per event id, per RuleName, and which rule sets matched."""

    events: int = 0
    by_id: dict[int, Counter[str]] = field(default_factory=dict)  # event id -> include/exclude counts
    rule_names: Counter[str] = field(default_factory=Counter)  # RuleName -> events decided under it
    name_decisions: dict[str, Counter[str]] = field(default_factory=dict)  # RuleName -> include/exclude
    matched: set[int] = field(default_factory=set)  # positions (in the rule table) of the sets that decided
    volume: Volume = field(default_factory=Volume)  # per day/hour, event type, RuleName and host

    def add(self, event: Event, decision: Decision) -> None:
        """Count one event decided by ``Evaluator.decide`` (or ``explain``)."""
        self._count(event.event_id, decision.rule_name, decision.decision, 1)
        _add_volume(self.volume, event, decision)
        if decision.set_index is not None:
            self.matched.add(decision.set_index)

    def add_batch(self, batch: pa.RecordBatch, result: pa.Table | pa.RecordBatch) -> None:
        """:meth:`add` for every row of a record batch that ``Evaluator.decide_batch`` decided."""
        count, matched, volume = self._count, self.matched, self.volume
        for hour, host, event_id, rule_name, decision, set_index, events in summary_groups(batch, result):
            count(event_id, rule_name, decision, events)
            if set_index is not None:
                matched.add(set_index)
            volume.add(hour, host, event_id, rule_name or None, decision, events)

    def _count(self, event_id: int, rule_name: str | None, decision: str, count: int) -> None:
        self.events += count
        counts = self.by_id.get(event_id)
        if counts is None:
            counts = self.by_id[event_id] = Counter()
        counts[decision] += count
        if rule_name:
            self.rule_names[rule_name] += count
            decisions = self.name_decisions.get(rule_name)
            if decisions is None:
                decisions = self.name_decisions[rule_name] = Counter()
            decisions[decision] += count

    def merge(self, other: Summary) -> None:
        """Add the counts of ``other`` (a summary of other events under the same config)."""
        self.events += other.events
        for event_id, counts in other.by_id.items():
            self.by_id.setdefault(event_id, Counter()).update(counts)
        self.rule_names.update(other.rule_names)
        for name, counts in other.name_decisions.items():
            self.name_decisions.setdefault(name, Counter()).update(counts)
        self.matched |= other.matched
        self.volume.merge(other.volume)

    @property
    def included(self) -> int:
        return sum(c[INCLUDE] for c in self.by_id.values())

    @property
    def excluded(self) -> int:
        return sum(c[EXCLUDE] for c in self.by_id.values())

    def top_names(self, top: int | None = None) -> list[tuple[str, int]]:
        """RuleNames by events, most first, ties by name: the same order however events arrived."""
        return sorted(self.rule_names.items(), key=lambda kv: (-kv[1], kv[0]))[:top]

    def never_matched(self, rule_sets: Sequence[RuleSet]) -> list[tuple[int, RuleSet]]:
        """``(position in the rule table, set)`` of every rule set no event matched."""
        return [(i, s) for i, s in enumerate(rule_sets) if i not in self.matched]

    def to_dict(self, rule_sets: Sequence[RuleSet], *, top: int | None = None,
                budget: int | None = None) -> dict[str, object]:
        """The JSON form (docs/evaluate.md); ``rule_sets`` is the config's rule table's sets."""
        return {
            "events": self.events,
            "included": self.included,
            "excluded": self.excluded,
            "by_event_id": {str(k): {INCLUDE: v[INCLUDE], EXCLUDE: v[EXCLUDE]} for k, v in sorted(self.by_id.items())},
            "rule_names": [{"rule_name": n, "events": c, **{k: self.name_decisions[n][k] for k in (INCLUDE, EXCLUDE)
                                                              if k in self.name_decisions[n]}}
                           for n, c in self.top_names(top)],
            "never_matched": [_describe_set(i, s) for i, s in self.never_matched(rule_sets)],
            "volume": self.volume.to_dict(budget=budget, top=top),
        }


def _add_volume(volume: Volume, event: Event, decision: Decision) -> None:
    """Count one decided event in ``volume`` by its UtcTime field and its origin's host."""
    origin = event.origin
    volume.add(event.fields.get("UtcTime"), origin.computer if origin is not None else None,
               event.event_id, decision.rule_name, decision.decision)


def _describe_set(index: int, rule_set: RuleSet) -> dict[str, object]:
    return {"index": index, "event_id": rule_set.event_id, "onmatch": rule_set.onmatch,
            "filters": len(rule_set.filters), "location": str(rule_set.location) if rule_set.location else None}


Change = tuple[str, str]  # (decision under the first config, under the second)


@dataclass
class Comparison:
    """Two configs' decisions on the same events: transitions per event id and per RuleName."""

    events: int = 0
    by_id: dict[int, Counter[Change]] = field(default_factory=dict)
    names_a: Counter[str] = field(default_factory=Counter)
    names_b: Counter[str] = field(default_factory=Counter)
    changed: int = 0  # events whose decision or RuleName differs
    volume: Volume = field(default_factory=Volume)  # the second config's volume

    def add(self, event: Event, a: Decision, b: Decision) -> None:
        self._count(event.event_id, (a.decision, a.rule_name), (b.decision, b.rule_name), 1)
        _add_volume(self.volume, event, b)

    def add_batch(self, batch: pa.RecordBatch, a: pa.Table | pa.RecordBatch, b: pa.Table | pa.RecordBatch) -> None:
        """:meth:`add` for every row of a record batch, decided as ``a`` and as ``b``."""
        for g in comparison_groups(batch, a, b):
            self._count(g.event_id, (g.decision_a, g.rule_name_a), (g.decision, g.rule_name), g.count)
            self.volume.add(g.hour, g.host, g.event_id, g.rule_name or None, g.decision, g.count)

    def _count(self, event_id: int, a: tuple[str, str | None], b: tuple[str, str | None], count: int) -> None:
        self.events += count
        self.by_id.setdefault(event_id, Counter())[a[0], b[0]] += count
        if a[1]:
            self.names_a[a[1]] += count
        if b[1]:
            self.names_b[b[1]] += count
        if a != b:
            self.changed += count

    def merge(self, other: Comparison) -> None:
        """Add the counts of ``other`` (a comparison of other events under the same two configs)."""
        self.events += other.events
        self.changed += other.changed
        for event_id, counts in other.by_id.items():
            self.by_id.setdefault(event_id, Counter()).update(counts)
        self.names_a.update(other.names_a)
        self.names_b.update(other.names_b)
        self.volume.merge(other.volume)

    def id_rows(self) -> list[dict[str, int]]:
        """Per event id: events, included by each config, and the events that flip each way."""
        rows = []
        for event_id, c in sorted(self.by_id.items()):
            rows.append({
                "event_id": event_id,
                "events": sum(c.values()),
                "included_a": c[INCLUDE, INCLUDE] + c[INCLUDE, EXCLUDE],
                "included_b": c[INCLUDE, INCLUDE] + c[EXCLUDE, INCLUDE],
                "now_included": c[EXCLUDE, INCLUDE],
                "now_excluded": c[INCLUDE, EXCLUDE],
            })
        return rows

    def name_rows(self) -> list[dict[str, object]]:
        """Every RuleName whose event count differs between the configs, biggest change first."""
        names = set(self.names_a) | set(self.names_b)
        rows = [{"rule_name": n, "events_a": self.names_a[n], "events_b": self.names_b[n],
                 "delta": self.names_b[n] - self.names_a[n]} for n in names if self.names_a[n] != self.names_b[n]]
        rows.sort(key=lambda r: (-abs(int(str(r["delta"]))), str(r["rule_name"])))
        return rows

    def to_dict(self, *, top: int | None = None, budget: int | None = None) -> dict[str, object]:
        """The JSON form (docs/evaluate.md, ``compare``)."""
        return {"events": self.events, "changed": self.changed, "by_event_id": self.id_rows(),
                "rule_names": self.name_rows(), "volume": self.volume.to_dict(budget=budget, top=top)}
