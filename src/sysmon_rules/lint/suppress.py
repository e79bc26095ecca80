"""Suppression comments: ``<!-- sysmon-rules: ignore[code, code] -->`` on or before an element.

A comment silences findings of the named codes located at one element: the element before it on
the same line (``<Image ...>x</Image> <!-- ... -->``), or else the next element after it. A comment
that names an unknown code, or silences nothing, is itself a finding (``bad-suppression``), so
stale ones do not pile up.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from dataclasses import dataclass

from lxml import etree

from ..errors import Diagnostic, Location
from ..validation.codes import CODES as VALIDATION_CODES
from ..xml.reader import Element
from .catalog import RULES, VALIDATION_FAMILY
from .context import LintContext

_PATTERN = re.compile(r"^\s*sysmon-rules:\s*ignore\[([^\]]*)\]\s*$")


@dataclass(frozen=True)
class Suppression:
    codes: frozenset[str]
    target: tuple[int, int]  # (line, column) of the element it applies to
    where: Location  # the comment itself


def _element_line(ctx: LintContext, element: Element | None) -> int:
    return ctx.doc.location(element).line if element is not None else -1


def _line(node: Element) -> int:
    return int(getattr(node, "sourceline", 0) or 0)


def _target(ctx: LintContext, comment: Element) -> Element | None:
    line = _line(comment)
    before = comment.getprevious()
    while before is not None and not isinstance(before.tag, str):
        before = before.getprevious()
    if before is not None and _element_line(ctx, before) == line:
        return before
    after = comment.getnext()
    while after is not None and not isinstance(after.tag, str):
        after = after.getnext()
    return after


def suppressions(ctx: LintContext) -> list[Suppression]:
    found = []
    for comment in ctx.doc.root.iter(etree.Comment):
        match = _PATTERN.match(comment.text or "")
        if not match:
            continue
        codes = frozenset(c.strip() for c in match.group(1).split(",") if c.strip())
        target = _target(ctx, comment)
        where = Location(ctx.doc.source.path, _line(comment), 1)
        at = ctx.doc.location(target) if target is not None else Location()
        found.append(Suppression(codes, (at.line, at.column), where))
    return found


def suppressed(ctx: LintContext, findings: list[Diagnostic],
               wanted: Collection[str] = RULES) -> tuple[list[Diagnostic], int]:
    """The findings no comment silences, plus ``bad-suppression`` findings; and how many were silenced."""
    rules = suppressions(ctx)
    if not rules:
        return findings, 0
    by_target: dict[tuple[int, int], list[Suppression]] = {}
    for rule in rules:
        by_target.setdefault(rule.target, []).append(rule)
    kept, used = [], set()
    for d in findings:
        named = next(((r, c) for r in by_target.get((d.location.line, d.location.column), [])
                      if (c := _named_by(r, d.code))), None)
        if named is None:
            kept.append(d)
        else:
            used.add((id(named[0]), named[1]))
    problems = [p for r in rules for p in _problems(r, used, wanted)] if "bad-suppression" in wanted else []
    ordered = sorted(kept + problems, key=lambda d: (d.location.line, d.location.column, d.code))
    return ordered, len(findings) - len(kept)


def _named_by(rule: Suppression, code: str) -> str | None:
    """The code in the comment that names ``code``: itself, or the validator family ``invalid-config``."""
    if code in rule.codes:
        return code
    return VALIDATION_FAMILY if code in VALIDATION_CODES and VALIDATION_FAMILY in rule.codes else None


def _checked(code: str, wanted: Collection[str]) -> bool:
    """Did this run look for findings of ``code`` (for the family: of any validator code)?"""
    if code == VALIDATION_FAMILY:
        return any(c in wanted for c in VALIDATION_CODES)
    return code in wanted


def _problems(rule: Suppression, used: set[tuple[int, str]], wanted: Collection[str]) -> list[Diagnostic]:
    out = []
    for code in sorted(rule.codes):
        if code not in RULES and code not in VALIDATION_CODES:
            close = difflib.get_close_matches(code, [*RULES, *VALIDATION_CODES], n=1, cutoff=0.5)
            out.append(Diagnostic("bad-suppression", RULES["bad-suppression"].severity,
                                  f"suppression comment names an unknown code {code!r}", rule.where,
                                  f"did you mean {close[0]}?" if close else None))
        elif _checked(code, wanted) and (id(rule), code) not in used:
            out.append(Diagnostic("bad-suppression", RULES["bad-suppression"].severity,
                                  f"suppression comment for {code} silences nothing here", rule.where,
                                  "remove it, or move it onto the element the finding points at"))
    return out
