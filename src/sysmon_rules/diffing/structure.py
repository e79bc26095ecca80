"""The structural diff: rule sets and filters added, removed, changed or moved, matched by content.

Sets are compared per event type (its rule element, e.g. ``RegistryEvent``) and onmatch, the
unit Sysmon evaluates together. Within that unit, sets are paired by content: identical ones
first, then the most similar (shared filters); a set whose filters stayed but whose onmatch
flipped is one change. Filters of a pair are matched by what they test (field, condition, folded
value, the ``<Rule>`` they sit in), so an edit elsewhere in the file never shows as a change
here; a filter whose test stayed but whose place among its set's filters changed is "moved".
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

from ..engine.conditions import c_string, fold
from ..errors import Location
from ..ruletable import RuleFilter, RuleSet, RuleTable
from ..schema import CONDITIONS, newest
from ..witness import Witness

BEHAVIOUR, NONE, UNKNOWN = "behaviour", "none", "unknown"


@dataclass
class Change:
    """One structural change, and (filled by the behavioural pass) what it does to events."""

    kind: str  # set-added, set-removed, set-moved, set-combine, set-onmatch, set-event-id,
    # filter-added, filter-removed, filter-changed, filter-renamed, filter-moved, filters-moved
    event: str
    event_id: int
    onmatch: str
    description: str
    old_set: int | None = None
    new_set: int | None = None
    old_filter: int | None = None
    new_filter: int | None = None
    old_location: Location | None = None
    new_location: Location | None = None
    effect: str = UNKNOWN  # behaviour (a witness shows it), none (proven), unknown
    proof: str = ""
    reason: str = ""  # when unknown: why (the event id's reason, or what was not found)
    witness: Witness | None = field(default=None, repr=False)
    id: int = 0

    def to_dict(self) -> dict[str, object]:
        """The JSON form of one change (docs/diff.md, ``changes``)."""
        w = self.witness
        return {
            "id": self.id, "kind": self.kind, "event": self.event, "event_id": self.event_id,
            "onmatch": self.onmatch, "description": self.description,
            "old_location": location_text(self.old_location), "new_location": location_text(self.new_location),
            "effect": self.effect, "proof": self.proof or None, "reason": self.reason or None,
            "witness": w.to_dict() if w is not None else None,
            "old_decision": w.decisions[0].to_dict() if w is not None else None,
            "new_decision": w.decisions[1].to_dict() if w is not None else None,
        }


def location_text(location: Location | None) -> str | None:
    """A location as text (``config.xml:7:7``), None for none."""
    return str(location) if location is not None else None


def _event_name(event_id: int, platform: str) -> str:
    event = newest(platform).events_by_id.get(event_id)  # type: ignore[arg-type]
    return (event.rulename or event.name) if event is not None else f"event {event_id}"


def _field_name(event_id: int, field_id: int, platform: str) -> str:
    event = newest(platform).events_by_id.get(event_id)  # type: ignore[arg-type]
    return event.fields[field_id].name if event is not None and field_id < len(event.fields) else f"field {field_id}"


def _group(rule_set: RuleSet, flt: RuleFilter, names: bool) -> Hashable:
    agg = rule_set.aggregation(flt.aggregation_id) if flt.aggregation_id else None
    return None if agg is None else (agg.combine, agg.name if names else None)


def filter_key(rule_set: RuleSet, flt: RuleFilter, names: bool = True) -> Hashable:
    """What a filter tests, its own name and place aside (and its ``<Rule>``'s name unless ``names``)."""
    return (flt.field_id, flt.condition & 0xFFFF, fold(c_string(flt.value)), _group(rule_set, flt, names))


def describe_filter(rule_set: RuleSet, flt: RuleFilter, platform: str) -> str:
    condition = CONDITIONS[flt.condition & 0xFFFF] if (flt.condition & 0xFFFF) < len(CONDITIONS) else "?"
    text = f"{_field_name(rule_set.event_id, flt.field_id, platform)} {condition} {flt.value!r}"
    agg = rule_set.aggregation(flt.aggregation_id) if flt.aggregation_id else None
    if agg is not None:
        text += f" in <Rule{' name=' + repr(agg.name) if agg.name else ''} {'and' if agg.combine else 'or'}>"
    return text + (f" (name {flt.name!r})" if flt.name else "")


def _set_key(rule_set: RuleSet, names: bool) -> Hashable:
    return (rule_set.event_id, rule_set.combine,
            tuple((filter_key(rule_set, f, names), f.name if names else None) for f in rule_set.filters))


def _similarity(a: RuleSet, b: RuleSet, names: bool) -> int:
    common = Counter(filter_key(a, f, names) for f in a.filters) & Counter(filter_key(b, f, names) for f in b.filters)
    return sum(common.values())


def _stable(pairs: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """The pairs that kept their relative order: a longest increasing run of new positions."""
    ordered = sorted(pairs)
    tails: list[int] = []  # tails[n]: index in ordered of the smallest end of a run of length n + 1
    ends: list[int] = []  # ends[n]: that end's new position (kept beside tails for the bisection)
    back: list[int] = [-1] * len(ordered)
    for k, (_, y) in enumerate(ordered):
        n = bisect.bisect_left(ends, y)
        back[k] = tails[n - 1] if n else -1
        if n == len(tails):
            tails.append(k)
            ends.append(y)
        else:
            tails[n] = k
            ends[n] = y
    kept: set[tuple[int, int]] = set()
    k = tails[-1] if tails else -1
    while k >= 0:
        kept.add(ordered[k])
        k = back[k]
    return kept


class _Differ:
    def __init__(self, old: RuleTable, new: RuleTable, platform: str, names: bool) -> None:
        self.old, self.new, self.platform, self.names = old, new, platform, names
        self.changes: list[Change] = []

    def unit(self, rule_set: RuleSet) -> tuple[str, str]:
        return _event_name(rule_set.event_id, self.platform), rule_set.onmatch

    def add(self, kind: str, rule_set: RuleSet, description: str, **places: int | None) -> Change:
        event, onmatch = self.unit(rule_set)
        change = Change(kind, event, rule_set.event_id, onmatch, f"{event} onmatch={onmatch}: {description}",
                        **places)  # type: ignore[arg-type]
        change.old_location = self._location(self.old, change.old_set, change.old_filter)
        change.new_location = self._location(self.new, change.new_set, change.new_filter)
        self.changes.append(change)
        return change

    @staticmethod
    def _location(table: RuleTable, set_index: int | None, filter_index: int | None) -> Location | None:
        if set_index is None:
            return None
        rule_set = table.rule_sets[set_index]
        if filter_index is not None and rule_set.filters[filter_index].location is not None:
            return rule_set.filters[filter_index].location
        return rule_set.location

    def run(self) -> list[Change]:
        units: dict[tuple[str, str], tuple[list[int], list[int]]] = {}
        for i, s in enumerate(self.old.rule_sets):
            units.setdefault(self.unit(s), ([], []))[0].append(i)
        for j, s in enumerate(self.new.rule_sets):
            units.setdefault(self.unit(s), ([], []))[1].append(j)
        removed: list[int] = []
        added: list[int] = []
        for olds, news in units.values():
            pairs, lost, gained = self.pair_sets(olds, news)
            removed += lost
            added += gained
            stable = _stable(pairs)
            for i, j in pairs:
                self.compare_sets(i, j, moved=(i, j) not in stable)
        self.flipped(removed, added)
        self.moves()
        for k, change in enumerate(self.changes, 1):
            change.id = k
        return self.changes

    def pair_sets(self, olds: list[int], news: list[int]) -> tuple[list[tuple[int, int]], list[int], list[int]]:
        left, right = list(olds), list(news)
        pairs: list[tuple[int, int]] = []
        for i in list(left):  # identical first
            key = _set_key(self.old.rule_sets[i], self.names)
            j = next((j for j in right if _set_key(self.new.rule_sets[j], self.names) == key), None)
            if j is not None:
                pairs.append((i, j))
                left.remove(i)
                right.remove(j)
        while left and right:  # then the most similar
            score, i, j = max((_similarity(self.old.rule_sets[i], self.new.rule_sets[j], self.names), i, j)
                              for i in left for j in right)
            empty = not self.old.rule_sets[i].filters and not self.new.rule_sets[j].filters
            if score == 0 and not empty and len(left) + len(right) > 2:
                break
            pairs.append((i, j))
            left.remove(i)
            right.remove(j)
        return pairs, left, right

    def flipped(self, removed: list[int], added: list[int]) -> None:
        for i in removed:
            a = self.old.rule_sets[i]
            keys = self.keys(a)
            j = next((j for j in added if self.new.rule_sets[j].event_id == a.event_id and
                      self.keys(self.new.rule_sets[j]) == keys), None)
            if j is not None:
                added.remove(j)
                self.add("set-onmatch", a, f"onmatch changed to {self.new.rule_sets[j].onmatch} "
                         f"({len(a.filters)} filters)", old_set=i, new_set=j)
            else:
                self.add("set-removed", a, f"rule set removed ({len(a.filters)} filters)", old_set=i)
        for j in added:
            b = self.new.rule_sets[j]
            self.add("set-added", b, f"rule set added ({len(b.filters)} filters)", new_set=j)

    def moves(self) -> None:
        """Filters removed from one set and added to another of the same event type and onmatch:
        one "filters-moved" change per pair of sets, in place of the removals and additions (a
        set added or removed whose filters all moved is not reported on its own)."""
        leaving: dict[Hashable, list[tuple[Change, int]]] = {}
        for change in self.changes:
            for x in self._filters_of(change, old=True):
                rule_set = self.old.rule_sets[change.old_set]  # type: ignore[index]
                key = (change.event, change.onmatch, filter_key(rule_set, rule_set.filters[x], self.names),
                       rule_set.filters[x].name if self.names else None)
                leaving.setdefault(key, []).append((change, x))
        moved: dict[tuple[int, int], list[tuple[int, int]]] = {}
        used: dict[int, set[int]] = {}  # id(change) -> filters of it that moved
        for change in self.changes:
            for y in self._filters_of(change, old=False):
                rule_set = self.new.rule_sets[change.new_set]  # type: ignore[index]
                key = (change.event, change.onmatch, filter_key(rule_set, rule_set.filters[y], self.names),
                       rule_set.filters[y].name if self.names else None)
                queue = leaving.get(key)
                if not queue:
                    continue
                source, x = queue.pop(0)
                moved.setdefault((source.old_set, change.new_set), []).append((x, y))  # type: ignore[arg-type]
                used.setdefault(id(source), set()).add(x)
                used.setdefault(id(change), set()).add(y)
        if not moved:
            return
        kept = [c for c in self.changes if not self._consumed(c, used.get(id(c), set()))]
        self.changes = kept
        for (i, j), pairs in moved.items():
            a = self.old.rule_sets[i]
            x, y = pairs[0]
            more = f" and {len(pairs) - 1} more" if len(pairs) > 1 else ""
            self.add("filters-moved", a, f"{describe_filter(a, a.filters[x], self.platform)}{more} moved to "
                     f"another rule set ({len(pairs)} filter(s))", old_set=i, new_set=j, old_filter=x, new_filter=y)

    def _filters_of(self, change: Change, *, old: bool) -> list[int]:
        if old and change.kind == "filter-removed" and change.old_filter is not None:
            return [change.old_filter]
        if not old and change.kind == "filter-added" and change.new_filter is not None:
            return [change.new_filter]
        if old and change.kind == "set-removed" and change.old_set is not None:
            return list(range(len(self.old.rule_sets[change.old_set].filters)))
        if not old and change.kind == "set-added" and change.new_set is not None:
            return list(range(len(self.new.rule_sets[change.new_set].filters)))
        return []

    def _consumed(self, change: Change, moved: set[int]) -> bool:
        if change.kind in ("filter-removed", "filter-added"):
            return bool(moved)
        if change.kind in ("set-removed", "set-added"):  # only when every filter moved
            side = self.old if change.kind == "set-removed" else self.new
            index = change.old_set if change.kind == "set-removed" else change.new_set
            count = len(side.rule_sets[index].filters)  # type: ignore[index]
            return count > 0 and len(moved) == count
        return False

    def keys(self, rule_set: RuleSet) -> list[str]:
        return sorted(repr(filter_key(rule_set, f, self.names)) for f in rule_set.filters)

    def compare_sets(self, i: int, j: int, *, moved: bool) -> None:
        a, b = self.old.rule_sets[i], self.new.rule_sets[j]
        if moved:
            self.add("set-moved", a, "rule set moved among the sets of its event type", old_set=i, new_set=j)
        if a.combine != b.combine:
            self.add("set-combine", a, f"combine changed from {a.combine_name} to {b.combine_name}",
                     old_set=i, new_set=j)
        if a.event_id != b.event_id:
            self.add("set-event-id", a, f"event id changed from {a.event_id} to {b.event_id}", old_set=i, new_set=j)
        self.compare_filters(i, j)

    def compare_filters(self, i: int, j: int) -> None:
        a, b = self.old.rule_sets[i], self.new.rule_sets[j]
        pairs, lost, gained = _pair_filters([filter_key(a, f, self.names) for f in a.filters],
                                            [filter_key(b, f, self.names) for f in b.filters])
        stable = _stable(pairs)
        for x, y in pairs:
            fa, fb = a.filters[x], b.filters[y]
            if fa.name != fb.name and self.names:
                self.add("filter-renamed", a, f"{describe_filter(a, fa, self.platform)} renamed to {fb.name!r}",
                         old_set=i, new_set=j, old_filter=x, new_filter=y)
            if (x, y) not in stable:
                self.add("filter-moved", a, f"{describe_filter(a, fa, self.platform)} moved "
                         f"(position {x + 1} -> {y + 1})", old_set=i, new_set=j, old_filter=x, new_filter=y)
        for x, y in _pair_by_field(a, lost, b, gained):
            before, after = describe_filter(a, a.filters[x], self.platform), describe_filter(b, b.filters[y],
                                                                                            self.platform)
            self.add("filter-changed", a, f"{before} -> {after}", old_set=i, new_set=j, old_filter=x, new_filter=y)
        for x in lost:
            self.add("filter-removed", a, f"{describe_filter(a, a.filters[x], self.platform)} removed",
                     old_set=i, new_set=j, old_filter=x)
        for y in gained:
            self.add("filter-added", a, f"{describe_filter(b, b.filters[y], self.platform)} added",
                     old_set=i, new_set=j, new_filter=y)


def _pair_filters(left: Sequence[Hashable], right: Sequence[Hashable]
                  ) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Equal keys paired in order; the unpaired positions on each side."""
    waiting: dict[Hashable, list[int]] = {}
    for y, key in enumerate(right):
        waiting.setdefault(key, []).append(y)
    pairs: list[tuple[int, int]] = []
    lost: list[int] = []
    for x, key in enumerate(left):
        queue = waiting.get(key)
        if queue:
            pairs.append((x, queue.pop(0)))
        else:
            lost.append(x)
    used = {y for _, y in pairs}
    return pairs, lost, [y for y in range(len(right)) if y not in used]


def _similar(x: RuleFilter, y: RuleFilter) -> bool:
    """The same field and place, and the same condition or the same value: one filter edited."""
    if x.field_id != y.field_id or (x.aggregation_id == 0) != (y.aggregation_id == 0):
        return False
    return x.condition == y.condition or fold(c_string(x.value)) == fold(c_string(y.value))


def _pair_by_field(a: RuleSet, lost: list[int], b: RuleSet, gained: list[int]) -> list[tuple[int, int]]:
    """Removed and added filters that look like one edited filter (:func:`_similar`), in order."""
    pairs: list[tuple[int, int]] = []
    for x in list(lost):
        fa = a.filters[x]
        y = next((y for y in gained if _similar(fa, b.filters[y])), None)
        if y is not None:
            pairs.append((x, y))
            lost.remove(x)
            gained.remove(y)
    return pairs


def structural_changes(old: RuleTable, new: RuleTable, platform: str = "windows", *, names: bool = True
                       ) -> list[Change]:
    """Every structural change from ``old`` to ``new``, numbered from 1 (RuleNames aside unless ``names``)."""
    return _Differ(old, new, platform, names).run()


__all__ = ["BEHAVIOUR", "NONE", "UNKNOWN", "Change", "describe_filter", "filter_key", "structural_changes"]
