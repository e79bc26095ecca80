"""A Sigma detection (pySigma's condition tree, modifiers applied) as a formula over Sysmon fields.

Values are folded as Sysmon compares them (ASCII lowercase; Sigma matching is case-insensitive).
A Sigma string becomes ``eq`` / ``prefix`` / ``suffix`` / ``contains`` when its wildcards sit at
the ends, a ``glob`` otherwise. ``null`` and the empty string ``''`` are the empty field: Sysmon
has no empty value, it writes ``-`` for a missing or empty one (both ``null`` and ``''`` match
that, and a value Sysmon never writes would make the selection impossible). What
cannot be expressed (keywords, numeric comparisons, placeholders) raises :class:`Unsupported`
naming it. A case-sensitive value (``re`` without ``i``, ``cased``) is a ``regex`` atom: it is
tested on the value as given, so the solver's instances carry the case it needs, while on a folded
value its case is lost (docs/coverage.md, "Sigma modifiers and values").
"""

from __future__ import annotations

import re

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionItem,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.types import (
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SigmaType,
    SpecialChars,
)

from ..engine.conditions import fold
from .fields import EVENT_ID, sysmon_field
from .formula import ANY_ONE, ANY_RUN, FALSE, MARKERS, TRUE, Atom, Formula, Unsupported, conj, disj, negate, substitute

EMPTY = "-"  # how Sysmon writes an empty or missing value

_Node = ConditionItem | ConditionFieldEqualsValueExpression | ConditionValueExpression | None


def detection_formula(tree: _Node, event_fields: tuple[str, ...], missing: set[str] | None = None,
                      *, negated: bool = False) -> Formula:
    """The formula of a parsed condition tree, against one event type's field names.

    A field this event type lacks reads as empty (``-``), as in Sysmon's own events; its name is
    added to ``missing`` (when given) so the caller can tell a rule none of whose ids has it.
    A field reference (``A|fieldref: B``, two fields of one event equal) is no test on one field:
    it becomes true whichever way it is used (``negated`` tracks the NOTs above it), so the
    formula holds for every event the rule matches and more; the search's proofs stay proofs, and
    a witness is repaired to the reference (:func:`fieldrefs`) and re-checked before it is shown.
    """
    missing = set() if missing is None else missing
    if tree is None:
        raise Unsupported("empty condition")
    if isinstance(tree, ConditionAND):
        return conj([detection_formula(a, event_fields, missing, negated=negated) for a in tree.args])
    if isinstance(tree, ConditionOR):
        return disj([detection_formula(a, event_fields, missing, negated=negated) for a in tree.args])
    if isinstance(tree, ConditionNOT):
        return negate(detection_formula(tree.args[0], event_fields, missing, negated=not negated))
    if isinstance(tree, ConditionValueExpression):
        raise Unsupported(f"keyword search {_shown(tree.value)} (not bound to a field)")
    if isinstance(tree, ConditionFieldEqualsValueExpression):
        if isinstance(tree.value, SigmaFieldReference):
            return FALSE if negated else TRUE  # true once the NOTs above apply
        name = sysmon_field(tree.field, event_fields)
        if name is None:
            missing.add(str(tree.field))
            return substitute(value_formula(str(tree.field), tree.value, str(tree.field)), str(tree.field), EMPTY)
        return value_formula(name, tree.value, tree.field)
    raise Unsupported(f"condition element {type(tree).__name__}")


def fieldrefs(tree: _Node, event_fields: tuple[str, ...], negated: bool = False) -> list[tuple[str, str, bool]]:
    """(field, referenced field, wanted equal) of each field reference in ``tree``, Sysmon names."""
    if isinstance(tree, ConditionAND | ConditionOR):
        return [r for a in tree.args for r in fieldrefs(a, event_fields, negated)]
    if isinstance(tree, ConditionNOT):
        return fieldrefs(tree.args[0], event_fields, not negated)
    if isinstance(tree, ConditionFieldEqualsValueExpression) and isinstance(tree.value, SigmaFieldReference):
        left = sysmon_field(tree.field, event_fields) or str(tree.field)
        right = sysmon_field(tree.value.field, event_fields) or str(tree.value.field)
        return [(left, right, not negated)]
    return []


def value_formula(field: str, value: SigmaType, sigma_field: str) -> Formula:
    """``field`` (a Sysmon field, or EventID) compared with one Sigma value."""
    origin = f"sigma {sigma_field}"
    if isinstance(value, SigmaExpansion):
        return disj([value_formula(field, v, sigma_field) for v in value.values])
    if isinstance(value, SigmaCasedString):
        # |cased: the case-insensitive match (which it implies: plain tests the search can prove
        # with) and a case-sensitive regex of the whole value (exact on the solver's values).
        return conj([string_formula(field, value, origin), Atom(field, "regex", _cased(value), False, origin)])
    if isinstance(value, SigmaString):
        return string_formula(field, value, origin)
    if isinstance(value, SigmaNumber):
        return Atom(field, "eq", str(value.number), False, origin)
    if isinstance(value, SigmaBool):
        return Atom(field, "eq", "true" if value.boolean else "false", False, origin)
    if isinstance(value, SigmaNull):
        return Atom(field, "eq", EMPTY, False, origin)
    if isinstance(value, SigmaExists):
        return Atom(field, "eq", EMPTY, value.exists, origin)
    if isinstance(value, SigmaRegularExpression):
        return Atom(field, "regex", _regex(value, sigma_field), False, origin)
    if isinstance(value, SigmaCIDRExpression):
        return Atom(field, "cidr", value.network, False, origin)
    raise Unsupported(f"{type(value).__name__} value on {sigma_field}")


def string_formula(field: str, value: SigmaString, origin: str) -> Formula:
    parts: list[str] = []
    for part in value.s:
        if isinstance(part, str):
            text = fold(part)
            if parts and parts[-1] not in MARKERS:
                parts[-1] += text
            elif text:
                parts.append(text)
        elif part == SpecialChars.WILDCARD_MULTI:
            if not parts or parts[-1] != ANY_RUN:
                parts.append(ANY_RUN)
        elif part == SpecialChars.WILDCARD_SINGLE:
            parts.append(ANY_ONE)
        else:
            raise Unsupported(f"placeholder {part} in a value of {origin.removeprefix('sigma ')}")
    return _glob_formula(field, tuple(parts), origin)


def _glob_formula(field: str, parts: tuple[str, ...], origin: str) -> Formula:
    literal = [p for p in parts if p not in MARKERS]
    if ANY_ONE not in parts:
        if not literal:  # '' is Sysmon's empty value, "-" (an event id is never empty)
            return TRUE if parts else Atom(field, "eq", EMPTY, False, origin) if field != EVENT_ID else FALSE
        if parts == (literal[0],):
            return Atom(field, "eq", literal[0], False, origin)
        if len(literal) == 1:
            kind = {(True, False): "suffix", (False, True): "prefix", (True, True): "contains"}
            return Atom(field, kind[parts[0] == ANY_RUN, parts[-1] == ANY_RUN], literal[0], False, origin)
    return Atom(field, "glob", parts, False, origin)


def _regex(value: SigmaRegularExpression, sigma_field: str) -> re.Pattern[str]:
    flags = 0
    for flag in value.flags:
        flags |= {SigmaRegularExpressionFlag.IGNORECASE: re.IGNORECASE,
                  SigmaRegularExpressionFlag.MULTILINE: re.MULTILINE,
                  SigmaRegularExpressionFlag.DOTALL: re.DOTALL}.get(flag, 0)
    try:
        return re.compile(str(value.regexp), flags)
    except re.error as exc:
        raise Unsupported(f"regular expression on {sigma_field} Python cannot compile: {exc}") from exc


def _cased(value: SigmaCasedString) -> re.Pattern[str]:
    return re.compile(r"\A(?:" + str(value.to_regex().regexp) + r")\Z", re.DOTALL)


def _shown(value: object) -> str:
    text = str(value)
    return repr(text if len(text) <= 60 else text[:57] + "...")
