"""The union style's specification as a function of the modules' own decisions.

``UnionOracle(configs).expect(event)`` says what the union of those modules must decide, using
only each module on its own (each through the :class:`~sysmon_rules.Evaluator`):

* a type no module has rule sets for: Sysmon's default (every module alone decides it);
* otherwise excluded when some module's exclude set matches; else included when some module's
  include set matches, or when no module has an include set for the type; else excluded;
* the RuleName of an included event is the one the *first* including module in merge order
  reports on its own (the union writes modules in reverse merge order, and Sysmon tries include
  sets from the bottom of the file up).

Sysmon never clears a RuleName while it walks an event's sets: a match without a name reports
whatever name a partially matching set tried before it left. ``Expected.name_is_own`` is True
when the deciding module's own deciding set named the event, which no earlier set can change;
only then is the name a property of the modules alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..engine import Evaluator
from ..engine.decision import MATCH_REASON
from ..events import Event
from ..model import Config


@dataclass(frozen=True, slots=True)
class Expected:
    """What the union must decide: decision, RuleName, and whether the name is the module's own."""

    decision: str
    rule_name: str | None = None
    name_is_own: bool = False
    module: int | None = None  # index of the module whose include set decided


class UnionOracle:
    """The union formula over modules given as configs, in merge order."""

    def __init__(self, configs: Sequence[Config], *, platform: str = "windows") -> None:
        self.evaluators = [Evaluator(c, platform=platform) for c in configs]  # type: ignore[arg-type]

    def expect(self, event: Event) -> Expected:
        decisions = [e.decide(event) for e in self.evaluators]
        sets = [e.rule_sets_for(event.event_id) for e in self.evaluators]
        if not any(sets):
            return Expected(decisions[0].decision)
        if any(d.reason == MATCH_REASON and d.decision == "exclude" for d in decisions):
            return Expected("exclude")
        including = [i for i, d in enumerate(decisions) if d.reason == MATCH_REASON and d.decision == "include"]
        if including:
            first = including[0]
            return Expected("include", decisions[first].rule_name, self._names_itself(first, event), first)
        has_include = any(s.onmatch == "include" for found in sets for s in found)
        return Expected("exclude" if has_include else "include")

    def _names_itself(self, index: int, event: Event) -> bool:
        trace = self.evaluators[index].explain(event).trace
        deciding = trace.decided_by if trace else None
        return deciding is not None and any(s.status == "match" and s.name for s in deciding.steps)
