"""What the evaluator returns: a Decision, and the reasons it can give.

Its own module so that both the fast path (``evaluate``) and the recorded walk (``trace``) build
Decisions without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..ruletable import OnMatch, RuleSet

if TYPE_CHECKING:
    from .trace import Trace

DecisionName = OnMatch
# Why a decision was taken (Decision.reason).
NEVER = "never filtered"  # events 4, 16 and 255
NO_RULES = "no rule set"  # the event type's default
MATCH_REASON = "match"  # a set matched: the opposite of its default
ONE_SET_DEFAULT = "no match: the only set's default"
MANY_SETS_DROP = "no match in two or more sets: dropped"


@dataclass(frozen=True, slots=True)
class Decision:
    """What Sysmon does with an event: ``decision`` and the RuleName it reports (None: none).

    ``reason`` is one of the module constants; ``rule_set`` is the set that matched (if one did)
    and ``set_index`` its position in the rule table; ``trace`` is filled by
    :meth:`Evaluator.explain` only.
    """

    decision: DecisionName
    rule_name: str | None = None
    reason: str = MATCH_REASON
    rule_set: RuleSet | None = field(default=None, repr=False, compare=False)
    trace: Trace | None = field(default=None, repr=False, compare=False)
    set_index: int | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, object]:
        """``{"decision": ..., "rule_name": ...}``, the JSON form every output uses."""
        return {"decision": self.decision, "rule_name": self.rule_name}


# The decisions that name no set, shared by every evaluator (immutable).
NEVER_DECISION = Decision("include", None, NEVER)
DROPPED = Decision("exclude", None, MANY_SETS_DROP)
ONE_SET_DEFAULTS: dict[str, Decision] = {d: Decision(d, None, ONE_SET_DEFAULT) for d in ("include", "exclude")}
NO_RULES_DECISIONS: dict[str, Decision] = {d: Decision(d, None, NO_RULES) for d in ("include", "exclude")}
