"""What a config does to a stream of events: counts per event id and RuleName, the rule sets
that never matched and the volume over time and hosts (:mod:`.volume`); and, for two configs
over the same events, what changes between them.

Aggregation only keeps counters (bounded by event ids, RuleNames and rule sets), never events,
so a report over any number of events takes constant memory.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from .events import Event
from .volume import Volume

if TYPE_CHECKING:
    import pyarrow as pa

    from .collectors import ReadStats
    from .engine import Decision, Evaluator
    from .ruletable import RuleSet

INCLUDE, EXCLUDE = "include", "exclude"


@dataclass
class Summary:
    """Decisions of one evaluator: per event id, per RuleName, and which rule sets matched."""

    events: int = 0
    by_id: dict[int, Counter[str]] = field(default_factory=dict)  # event id -> include/exclude counts
    rule_names: Counter[str] = field(default_factory=Counter)  # RuleName -> events decided under it
    name_decisions: dict[str, Counter[str]] = field(default_factory=dict)  # RuleName -> include/exclude
    matched: set[int] = field(default_factory=set)  # id() of the rule sets that decided an event
    volume: Volume = field(default_factory=Volume)  # per day/hour, event type, RuleName and host

    def add(self, event: Event, decision: Decision) -> None:
        self.events += 1
        add_volume(self.volume, event, decision)
        counts = self.by_id.get(event.event_id)
        if counts is None:
            counts = self.by_id[event.event_id] = Counter()
        counts[decision.decision] += 1
        if decision.rule_name:
            self.rule_names[decision.rule_name] += 1
            self.name_decisions.setdefault(decision.rule_name, Counter())[decision.decision] += 1
        if decision.rule_set is not None:
            self.matched.add(id(decision.rule_set))

    def add_batch(self, batch: pa.RecordBatch, result: pa.Table, evaluator: Evaluator) -> None:
        """:meth:`add` for every row of a record batch that ``evaluator.decide_batch`` decided."""
        from .batch_counts import add_to_summary

        add_to_summary(self, batch, result, evaluator.table.rule_sets)

    @property
    def included(self) -> int:
        return sum(c[INCLUDE] for c in self.by_id.values())

    @property
    def excluded(self) -> int:
        return sum(c[EXCLUDE] for c in self.by_id.values())

    def top_names(self, top: int | None = None) -> list[tuple[str, int]]:
        """RuleNames by events, most first, ties by name: the same order however events arrived."""
        return sorted(self.rule_names.items(), key=lambda kv: (-kv[1], kv[0]))[:top]

    def never_matched(self, evaluator: Evaluator) -> list[tuple[int, RuleSet]]:
        """``(position in the rule table, set)`` of every rule set no event matched."""
        return [(i, s) for i, s in enumerate(evaluator.table.rule_sets) if id(s) not in self.matched]

    def as_dict(self, evaluator: Evaluator, *, top: int | None = None, budget: int | None = None) -> dict[str, object]:
        return {
            "events": self.events,
            "included": self.included,
            "excluded": self.excluded,
            "by_event_id": {str(k): {INCLUDE: v[INCLUDE], EXCLUDE: v[EXCLUDE]} for k, v in sorted(self.by_id.items())},
            "rule_names": [{"rule_name": n, "events": c, **{k: self.name_decisions[n][k] for k in (INCLUDE, EXCLUDE)
                                                              if k in self.name_decisions[n]}}
                           for n, c in self.top_names(top)],
            "never_matched": [describe_set(i, s) for i, s in self.never_matched(evaluator)],
            "volume": self.volume.as_dict(budget=budget, top=top),
        }


def add_volume(volume: Volume, event: Event, decision: Decision) -> None:
    """Count one decided event in ``volume`` by its UtcTime field and its origin's host."""
    origin = event.origin
    volume.add(event.fields.get("UtcTime"), origin.computer if origin is not None else None,
               event.event_id, decision.rule_name, decision.decision)


def describe_set(index: int, rule_set: RuleSet) -> dict[str, object]:
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
        self.events += 1
        add_volume(self.volume, event, b)
        self.by_id.setdefault(event.event_id, Counter())[a.decision, b.decision] += 1
        if a.rule_name:
            self.names_a[a.rule_name] += 1
        if b.rule_name:
            self.names_b[b.rule_name] += 1
        if (a.decision, a.rule_name) != (b.decision, b.rule_name):
            self.changed += 1

    def add_batch(self, batch: pa.RecordBatch, a: pa.Table, b: pa.Table) -> None:
        """:meth:`add` for every row of a record batch, decided as ``a`` and as ``b``."""
        from .batch_counts import add_to_comparison

        add_to_comparison(self, batch, a, b)

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

    def as_dict(self, *, top: int | None = None, budget: int | None = None) -> dict[str, object]:
        return {"events": self.events, "changed": self.changed, "by_event_id": self.id_rows(),
                "rule_names": self.name_rows(), "volume": self.volume.as_dict(budget=budget, top=top)}


class ReadReport(Protocol):
    """What reading found (an EventStream, or a distributed Replay): counts and files."""

    @property
    def stats(self) -> ReadStats: ...
    @property
    def files(self) -> list[tuple[str, str]]: ...
    @property
    def unread(self) -> list[str]: ...


def replay_document(summary: Summary, evaluator: Evaluator, stream: ReadReport,
                    comparison: Comparison | None = None, compare_name: str = "", *,
                    budget: int | None = None) -> dict[str, object]:
    """The replay as `evaluate --format json` prints it: the summary, what was read, the comparison."""
    doc: dict[str, object] = {**summary.as_dict(evaluator, budget=budget), "skipped": stream.stats.skipped,
                              "other_records": dict(stream.stats.other),
                              "files": [{"source": s, "collector": c} for s, c in stream.files],
                              "unread": stream.unread}
    if comparison is not None:
        doc["compare"] = {"config": compare_name, **comparison.as_dict(budget=budget)}
    return doc
