"""Lint: valid XML that does not do what its author thinks, found before it is deployed.

``lint_file(path)`` returns Diagnostics whose codes are in ``catalog.RULES``; ``lint_document``
also gives each finding's fingerprint (for baselines and SARIF) and what suppression comments
silenced. Only the families of the selected codes run. The CLI (`sysmon-rules lint`) prints
text, JSON or SARIF 2.1.0 for code scanning.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import Diagnostic, SysmonRulesError
from ..xml.reader import build_config, parse_document
from .baseline import fingerprints
from .catalog import RULES, LintRule
from .context import LintContext
from .suppress import suppressed

__all__ = ["RULES", "LintResult", "LintRule", "check_codes", "lint_document", "lint_file"]

Family = Callable[[LintContext], Iterator[Diagnostic]]


def _validator(ctx: LintContext) -> Iterator[Diagnostic]:
    for d in ctx.validator_findings:
        yield replace(d, code="invalid-config", message=f"[{d.code}] {d.message}")


def _values(ctx: LintContext) -> Iterator[Diagnostic]:
    from .values import check_values

    yield from check_values(ctx.config)


def _versions(ctx: LintContext) -> Iterator[Diagnostic]:
    from .versions import check_versions

    if ctx.target:
        yield from check_versions(ctx, ctx.target)


def _within_sets(ctx: LintContext) -> Iterator[Diagnostic]:
    from .sets import SetChecker

    if ctx.valid:
        checker = SetChecker(ctx)
        for rule_set in ctx.table.rule_sets:
            yield from checker.within_set(rule_set)


def _across_sets(ctx: LintContext) -> Iterator[Diagnostic]:
    from .sets import SetChecker

    if ctx.valid:
        yield from SetChecker(ctx).across_sets()


def _logic(ctx: LintContext) -> Iterator[Diagnostic]:
    from .logic import check_logic

    if ctx.valid:
        yield from check_logic(ctx)


def _structure(ctx: LintContext) -> Iterator[Diagnostic]:
    from .structure import check_structure

    yield from check_structure(ctx)


# Each family: the codes it can produce, and the check. A family runs only if one of its codes
# is wanted, so `--select empty-value` never compiles the rule table or builds the evaluator.
FAMILIES: tuple[tuple[frozenset[str], Family], ...] = (
    (frozenset({"invalid-config"}), _validator),
    (frozenset({"semicolon-in-single-value", "single-token-list", "empty-list-item", "string-compare-number",
                "environment-variable", "whitespace-in-value", "empty-value", "long-rule-name", "is-without-path"}),
     _values),
    (frozenset({"needs-newer-sysmon"}), _versions),
    (frozenset({"duplicate-filter", "and-repeated-field", "is-not-pair", "bypassable-exclude"}), _within_sets),
    (frozenset({"shadowed-filter", "cancelled-by-exclude", "empty-include-set"}), _across_sets),
    (frozenset({"matches-everything", "never-matches", "or-tautology", "excludes-list-inverted",
                "rule-name-never-surfaces", "short-contains"}), _logic),
    (frozenset({"mixed-onmatch-group", "blocks-system-path"}), _structure),
)  # fmt: skip


def check_codes(codes: Collection[str]) -> None:
    """Raise a SysmonRulesError naming unknown codes, with the closest known one for each."""
    unknown = sorted(set(codes) - set(RULES))
    if not unknown:
        return
    parts = []
    for code in unknown:
        close = difflib.get_close_matches(code, list(RULES), n=1, cutoff=0.5)
        parts.append(f"{code} (did you mean {close[0]}?)" if close else code)
    raise SysmonRulesError(f"unknown lint code(s): {', '.join(parts)}; `sysmon-rules lint --list-rules` lists them")


@dataclass(frozen=True)
class LintResult:
    """The findings of one config in file order, their fingerprints, and how many comments silenced."""

    findings: list[Diagnostic]
    fingerprints: list[str]
    suppressed: int = 0


def lint_document(
    path: str | Path | bytes,
    *,
    select: Collection[str] = (),
    ignore: Collection[str] = (),
    target_sysmon: str | None = None,
) -> LintResult:
    """Every finding for one config; ``select``/``ignore`` filter by code (and decide what runs)."""
    check_codes(set(select) | set(ignore))
    wanted = (set(select) or set(RULES)) - set(ignore)
    try:
        doc = parse_document(path)
        ctx = LintContext(doc, build_config(doc), target_sysmon)
    except SysmonRulesError as exc:
        found = [Diagnostic("invalid-config", "error", f"[xml-syntax] {exc.message}", exc.location)]
        return LintResult([d for d in found if d.code in wanted], ["" for d in found if d.code in wanted])
    if target_sysmon:
        from ..schema.releases import resolve_target

        resolve_target(target_sysmon)  # a bad target is an error even when its rule is not selected
    found = [d for codes, family in FAMILIES if codes & wanted for d in family(ctx) if d.code in wanted]
    found.sort(key=lambda d: (d.location.line, d.location.column, d.code))
    kept, silenced = suppressed(ctx, found, wanted)
    return LintResult(kept, fingerprints(ctx, kept), silenced)


def lint_file(
    path: str | Path | bytes,
    *,
    select: Collection[str] = (),
    ignore: Collection[str] = (),
    target_sysmon: str | None = None,
) -> list[Diagnostic]:
    """Every finding for one config, in file order; ``select``/``ignore`` filter by code."""
    return lint_document(path, select=select, ignore=ignore, target_sysmon=target_sysmon).findings
