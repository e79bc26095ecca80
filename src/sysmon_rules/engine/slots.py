"""Which rule sets apply to which event id: Sysmon's quick access table.

``GetIndexFromEventId`` maps an id to the highest id of its rule-name series (12-14 share
RegistryEvent's list, 17-18 PipeEvent's, 19-21 WmiEvent's) by walking the build's event list in
manifest order; 255 lands in slot 0. The Linux build is not the public one, so ids carrying the
internal bits go to a separate (shadow) table. ``BackwardFillEventList`` then orders each list:
onmatch="exclude" sets first, then onmatch="include" sets, each in reverse blob order.
"""

from __future__ import annotations

from ..errors import SysmonRulesError
from ..ruletable import RULE_DEFAULT_EXCLUDE, RULE_DEFAULT_INCLUDE, RuleSet
from ..schema import SchemaVersion
from ..schema.model import Platform
from .conditions import fold

INTERNAL_MASK = 0xF000
ERROR_EVENT = 255
NEVER_FILTERED = frozenset({4, 16, ERROR_EVENT})  # service state, config change, error report

Slot = tuple[bool, int]  # (shadow table, index)


class SlotMap:
    """Event id -> slot, for one platform's writer build."""

    def __init__(self, schema: SchemaVersion, platform: Platform) -> None:
        self._rule_names = [e.rulename for e in schema.events]  # AllEvents, in manifest order
        self._public = platform == "windows"
        self.max_event_id = max(e.id for e in schema.events if e.id != ERROR_EVENT)

    def slot(self, event_id: int) -> Slot:
        names = self._rule_names
        highest = event_id
        if 0 <= event_id < len(names) and names[event_id] is not None:
            series = fold(names[event_id] or "")
            while highest + 1 < len(names) and names[highest + 1] is not None \
                    and fold(names[highest + 1] or "") == series:
                highest += 1
        if self._public:
            index = highest
            shadow = False
        else:
            shadow = bool(highest & INTERNAL_MASK)
            index = highest & ~INTERNAL_MASK
        return shadow, 0 if index == ERROR_EVENT else index


def order_sets(rule_sets: tuple[RuleSet, ...], slots: SlotMap) -> dict[Slot, list[int]]:
    """Blob indexes of the sets of each slot, in evaluation order; rejects what Sysmon rejects."""
    counts: dict[Slot, int] = {}
    for rule_set in rule_sets:
        slot = slots.slot(rule_set.event_id)
        if slot[1] > slots.max_event_id or slot[1] < 0:
            raise SysmonRulesError(f"Invalid event id in rules (event id {rule_set.event_id})")
        if rule_set.rule_default not in (RULE_DEFAULT_INCLUDE, RULE_DEFAULT_EXCLUDE):
            raise SysmonRulesError(f"Invalid data in rules (RuleDefault {rule_set.rule_default})")
        counts[slot] = counts.get(slot, 0) + 1
        if counts[slot] >= 0xFFFF:
            raise SysmonRulesError("Invalid event count in rules")
    ordered: dict[Slot, list[int]] = {}
    for wanted in (RULE_DEFAULT_INCLUDE, RULE_DEFAULT_EXCLUDE):
        for index in reversed(range(len(rule_sets))):
            if rule_sets[index].rule_default == wanted:
                ordered.setdefault(slots.slot(rule_sets[index].event_id), []).append(index)
    return ordered
