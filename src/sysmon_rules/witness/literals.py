"""Constraints on one field value, in Sysmon's own conditions, and their exact test.

A :class:`Constraint` says "this condition with this data must (or, negated, must not) match the
field". Rule data is folded as Sysmon folds it when loading a blob (ASCII letters to lowercase,
the text after a NUL dropped), so a constraint built from raw config text and one built from a
compiled filter are the same thing. Checking always goes through the evaluator's own condition
functions (:func:`sysmon_rules.engine.conditions.compile_test`), so a value the solver returns
decides exactly as it will in the evaluator.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..engine.conditions import (
    BEGIN_WITH,
    CONTAINS,
    CONTAINS_ALL,
    CONTAINS_ANY,
    END_WITH,
    EXCLUDES,
    EXCLUDES_ALL,
    EXCLUDES_ANY,
    IS,
    IS_NOT,
    NOT_BEGIN_WITH,
    NOT_END_WITH,
    Test,
    c_string,
    compile_test,
    fold,
)
from ..errors import SysmonRulesError
from ..schema import CONDITIONS, condition_index
from ..schema.model import Platform

# Conditions that are exact complements of another over every value an event can carry (the
# evaluator never tests an empty value: absent and empty read as "-").
_COMPLEMENT = {IS_NOT: IS, EXCLUDES: CONTAINS, EXCLUDES_ANY: CONTAINS_ANY, EXCLUDES_ALL: CONTAINS_ALL,
               NOT_BEGIN_WITH: BEGIN_WITH, NOT_END_WITH: END_WITH}


@dataclass(frozen=True, slots=True)
class Constraint:
    """``condition`` (a FilterType number or Sysmon's name, e.g. ``"begin with"``) on ``data``.

    ``negated=True`` asks for a value the condition does *not* match. ``data`` is taken as Sysmon
    loads it: folded, cut at a NUL. Environment variables are not expanded here (give the
    expanded data, as :func:`from_filter` does with a compiled filter).
    """

    condition: int
    data: str
    negated: bool = False

    @classmethod
    def of(cls, condition: int | str, data: str, *, negated: bool = False) -> Constraint:
        """A constraint from a condition number or name and raw rule data."""
        number = condition if isinstance(condition, int) else condition_index(condition)
        if number is None or not 0 <= number < len(CONDITIONS):
            raise SysmonRulesError(f"unknown condition {condition!r} (one of: {', '.join(CONDITIONS)})")
        return cls(number, fold(c_string(data)), negated)

    @property
    def name(self) -> str:
        return ("not " if self.negated else "") + CONDITIONS[self.condition]

    def negate(self) -> Constraint:
        return Constraint(self.condition, self.data, not self.negated)

    def canonical(self) -> tuple[int, bool]:
        """The same constraint over a complement-free condition: ``(condition, wanted)``.

        ``excludes x`` wanted is ``contains x`` not wanted, and so on; conditions without an exact
        complement (ordering, ``image``, ``is any``) stay as they are.
        """
        base = _COMPLEMENT.get(self.condition)
        if base is None:
            return self.condition, not self.negated
        return base, self.negated

    def test(self, platform: Platform = "windows") -> Test:
        """The exact predicate over a folded value (the evaluator's own condition function)."""
        inner = compile_test(self.condition, self.data, platform)
        if inner is None:  # never happens for the sixteen conditions; kept total for safety
            raise SysmonRulesError(f"condition {self.condition} has no test")
        if self.negated:
            return lambda value: not inner(value)
        return inner

    def __str__(self) -> str:
        return f"{self.name} {self.data!r}"


def holds(constraints: tuple[Constraint, ...] | list[Constraint], value: str, platform: Platform = "windows"
          ) -> bool:
    """Does the (folded, non-empty) ``value`` satisfy every constraint?"""
    return all(c.test(platform)(value) for c in constraints)


def event_value(raw: str) -> str:
    """What the evaluator tests for a raw event field value: folded, cut at NUL, ``-`` if empty."""
    cut = c_string(raw)
    return fold(cut) if cut else "-"


__all__ = ["Constraint", "event_value", "holds"]
