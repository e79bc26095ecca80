"""Real events through both configs: what changes, grouped by the structural change causing it.

Counting is ``report.Comparison``'s (per event id, per RuleName). An event decided differently
is charged to the changes of the rule sets that decided it on either side (the set that matched
in the old config and the one in the new); when neither set changed, to the changes of the
event's slot. Of those, changes proven inert are dropped, and when a few remain, the ones that
alone (old config plus just that change, ``isolate``) already alter the event are kept. Each
group keeps a few example events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..collectors import EventStream
from ..engine import Decision, Evaluator
from ..events import Event
from ..replaying import Comparison
from ..witness import differ
from .isolate import Outcome, hybrid
from .structure import NONE, Change

EXAMPLES = 3
_NARROW_UP_TO = 8  # candidate changes tried one by one per event (more: charged to them all)
NEWLY_DROPPED, NEWLY_LOGGED, RENAMED = "newly dropped", "newly logged", "RuleName changed"


@dataclass
class Example:
    event: Event
    old: Decision
    new: Decision

    def to_dict(self) -> dict[str, object]:
        return {"origin": str(self.event.origin) if self.event.origin else None,
                "EventID": self.event.event_id, "fields": dict(self.event.fields),
                "old_decision": self.old.to_dict(), "new_decision": self.new.to_dict()}


@dataclass
class ReplayGroup:
    """The events one group of changes alters: counts per kind and a few examples."""

    changes: tuple[int, ...]  # change ids (empty: not attributed to a structural change)
    counts: dict[str, int] = field(default_factory=lambda: {NEWLY_DROPPED: 0, NEWLY_LOGGED: 0, RENAMED: 0})
    examples: list[Example] = field(default_factory=list)

    def add(self, event: Event, old: Decision, new: Decision) -> None:
        flipped = NEWLY_DROPPED if new.decision == "exclude" else NEWLY_LOGGED
        kind = RENAMED if old.decision == new.decision else flipped
        self.counts[kind] += 1
        if len(self.examples) < EXAMPLES:
            self.examples.append(Example(event, old, new))


@dataclass
class Replay:
    """What replaying events through both configs showed."""

    comparison: Comparison = field(default_factory=Comparison)
    groups: dict[tuple[int, ...], ReplayGroup] = field(default_factory=dict)
    skipped: int = 0

    @property
    def changed(self) -> int:
        return sum(sum(g.counts.values()) for g in self.groups.values())

    def ranked(self) -> list[ReplayGroup]:
        """The groups, those altering the most events first."""
        return sorted(self.groups.values(), key=lambda g: -sum(g.counts.values()))

    def to_dict(self) -> dict[str, object]:
        """The JSON form (docs/diff.md, ``replay``)."""
        return {
            "events": self.comparison.events, "changed": self.changed, "skipped": self.skipped,
            "by_event_id": self.comparison.id_rows(),
            "groups": [{"changes": list(g.changes), "newly_dropped": g.counts[NEWLY_DROPPED],
                        "newly_logged": g.counts[NEWLY_LOGGED], "rule_name_changed": g.counts[RENAMED],
                        "examples": [e.to_dict() for e in g.examples]} for g in self.ranked()],
        }


class Charger:
    """Which change ids an event decided differently is charged to."""

    def __init__(self, old: Evaluator, new: Evaluator, changes: Sequence[Change], names: bool) -> None:
        self.old, self.new, self.names = old, new, names
        self.old_sets = {id(s): i for i, s in enumerate(old.table.rule_sets)}
        self.new_sets = {id(s): i for i, s in enumerate(new.table.rule_sets)}
        self.by_old: dict[int, set[int]] = {}
        self.by_new: dict[int, set[int]] = {}
        self.by_event: dict[int, set[int]] = {}
        self.changes = {c.id: c for c in changes}
        self.alone: dict[tuple[int, int], Callable[[Event], Outcome] | None] = {}
        for change in changes:
            if change.effect == NONE:
                continue  # proven not to alter any decision: never the cause
            if change.old_set is not None:
                self.by_old.setdefault(change.old_set, set()).add(change.id)
            if change.new_set is not None:
                self.by_new.setdefault(change.new_set, set()).add(change.id)
            self.by_event.setdefault(change.event_id, set()).add(change.id)

    def __call__(self, event: Event, old: Decision, new: Decision) -> tuple[int, ...]:
        return tuple(sorted(self.narrow(event, old, self.candidates(event, old, new))))

    def candidates(self, event: Event, old: Decision, new: Decision) -> set[int]:
        """The changes of the sets that decided ``event`` on either side (or of its event type)."""
        ids: set[int] = set()
        if old.rule_set is not None:
            ids |= self.by_old.get(self.old_sets.get(id(old.rule_set), -1), set())
        if new.rule_set is not None:
            ids |= self.by_new.get(self.new_sets.get(id(new.rule_set), -1), set())
        if not ids:
            for event_id in self.old.sharing_sets_with(event.event_id):
                ids |= self.by_event.get(event_id, set())
        return ids

    def narrow(self, event: Event, old: Decision, ids: set[int]) -> set[int]:
        """The candidates that alone (old + that change) already change the event, when any do."""
        if len(ids) <= 1 or len(ids) > _NARROW_UP_TO:
            return ids
        causes = {i for i in ids if self.alone_differs(i, event, old)}
        return causes or ids

    def alone_differs(self, change_id: int, event: Event, old: Decision) -> bool:
        """Does the old config plus only this change decide ``event`` otherwise than the old one?"""
        key = (change_id, event.event_id)
        if key not in self.alone:
            self.alone[key] = hybrid(self.changes[change_id], self.old, self.new, event.event_id)
        decide = self.alone[key]
        if decide is None:
            return False
        decision, name = decide(event)
        return decision != old.decision or (self.names and name != old.rule_name)


def replay(old: Evaluator, new: Evaluator, events: Iterable[Event], changes: Sequence[Change], *,
           ignore_rule_names: bool = False) -> Replay:
    """Decide every event with both evaluators and group what differs by change."""
    result = Replay()
    charge = Charger(old, new, changes, not ignore_rule_names)
    for event in events:
        a, b = old.decide(event), new.decide(event)
        result.comparison.add(event, a, b)
        if differ(a, b, ignore_rule_names=ignore_rule_names):
            key = charge(event, a, b)
            group = result.groups.get(key)
            if group is None:
                group = result.groups[key] = ReplayGroup(key)
            group.add(event, a, b)
    return result


EventInput = Iterable[Event] | Sequence[str | Path]


def event_source(events: EventInput, *, strict: bool = False, warn: Callable[[str], None] | None = None
                 ) -> tuple[Iterable[Event], EventStream | None]:
    """Events as given (streamed), or read from files and folders by the collectors (the stream
    keeps the read statistics)."""
    if isinstance(events, str | Path):
        events = [events]
    if isinstance(events, list | tuple) and events and all(isinstance(i, str | Path) for i in events):
        stream = EventStream([str(i) for i in events], strict=strict, warn=warn)
        return stream, stream
    return (e for e in events if isinstance(e, Event)), None


__all__ = [
    "EXAMPLES",
    "NEWLY_DROPPED",
    "NEWLY_LOGGED",
    "RENAMED",
    "EventInput",
    "Example",
    "Replay",
    "ReplayGroup",
    "event_source",
    "replay",
]
