"""Lint: valid XML that does not do what its author thinks, found before it is deployed.

``lint_file(path)`` returns Diagnostics whose codes are in ``catalog.RULES`` or, for the
validator's findings, in ``validation.codes.CODES`` (``invalid-config`` names them all in
select/ignore); ``lint_document`` also gives each finding's fingerprint (for baselines and
SARIF) and what suppression comments silenced. Only the families of the selected codes run.
The CLI (`sysmon-rules lint`) prints text, JSON or SARIF 2.1.0 for code scanning.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import Diagnostic, SysmonRulesError
from ..model import Config
from ..validation import diagnostic_order
from ..validation.codes import CODES as VALIDATION_CODES
from ..xml.reader import ParsedDocument, build_config, parse_document
from .baseline import fingerprints
from .catalog import RULES, VALIDATION_FAMILY, LintRule
from .context import LintContext
from .finding import finding_dict
from .suppress import suppressed

__all__ = ["RULES", "VALIDATION_CODES", "VALIDATION_FAMILY", "LintResult", "LintRule", "check_codes",
           "known_codes", "lint_document", "lint_file", "lint_parsed"]

Family = Callable[[LintContext], Iterator[Diagnostic]]


def _validator(ctx: LintContext) -> Iterator[Diagnostic]:
    yield from sorted(ctx.validator_findings, key=diagnostic_order)  # under the validator's own codes


def _values(ctx: LintContext) -> Iterator[Diagnostic]:
    from .values import check_values

    yield from check_values(ctx.config)


def _versions(ctx: LintContext) -> Iterator[Diagnostic]:
    from .versions import check_versions

    if ctx.target:
        yield from check_versions(ctx, ctx.target)


def _declared(ctx: LintContext) -> Iterator[Diagnostic]:
    from .versions import check_declared, check_module

    yield from check_declared(ctx.module_of or ctx.config)
    if ctx.module_of is not None:
        yield from check_module(ctx.module_of, ctx.config.schema_version)


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


def _capture(ctx: LintContext) -> Iterator[Diagnostic]:
    from .capture import check_capture

    if ctx.valid:
        yield from check_capture(ctx)


def _overridden(ctx: LintContext) -> Iterator[Diagnostic]:
    from .overridden import check_overridden

    if ctx.valid:
        yield from check_overridden(ctx)


def _structure(ctx: LintContext) -> Iterator[Diagnostic]:
    from .structure import check_structure

    yield from check_structure(ctx)


# Each family: the codes it can produce, and the check. A family runs only if one of its codes
# is wanted, so `--select empty-value` never compiles the rule table or builds the evaluator.
FAMILIES: tuple[tuple[frozenset[str], Family], ...] = (
    (frozenset(VALIDATION_CODES), _validator),
    (frozenset({"semicolon-in-single-value", "single-token-list", "empty-list-item", "string-compare-number",
                "environment-variable", "whitespace-in-value", "empty-value", "long-rule-name", "is-without-path",
                "is-not-without-path", "malformed-technique-name"}),
     _values),
    (frozenset({"needs-newer-sysmon"}), _versions),
    (frozenset({"schema-version-unreleased", "module-schema-too-old"}), _declared),
    (frozenset({"duplicate-filter", "and-repeated-field", "is-not-pair", "bypassable-exclude"}), _within_sets),
    (frozenset({"shadowed-filter", "cancelled-by-exclude", "empty-include-set"}), _across_sets),
    (frozenset({"matches-everything", "never-matches", "or-tautology", "excludes-list-inverted",
                "rule-name-never-surfaces", "short-contains"}), _logic),
    (frozenset({"rule-name-captured"}), _capture),
    (frozenset({"empty-exclude-beside-include"}), _overridden),
    (frozenset({"mixed-onmatch-group", "blocks-system-path"}), _structure),
)  # fmt: skip


def known_codes() -> set[str]:
    """What ``select``/``ignore`` accept: lint's rules, the validator's codes, and their family name."""
    return set(RULES) | set(VALIDATION_CODES)


def _expand(codes: Collection[str]) -> set[str]:
    """``invalid-config`` stands for every validator code."""
    expanded = set(codes)
    if VALIDATION_FAMILY in expanded:
        expanded |= set(VALIDATION_CODES)
    return expanded


def check_codes(codes: Collection[str]) -> None:
    """Raise a SysmonRulesError naming unknown codes, with the closest known one for each."""
    known = sorted(known_codes())
    unknown = sorted(set(codes) - set(known))
    if not unknown:
        return
    parts = []
    for code in unknown:
        close = difflib.get_close_matches(code, known, n=1, cutoff=0.5)
        parts.append(f"{code} (did you mean {close[0]}?)" if close else code)
    raise SysmonRulesError(f"unknown lint code(s): {', '.join(parts)}; `sysmon-rules lint --list-rules` lists them")


@dataclass(frozen=True)
class LintResult:
    """The findings of one config in file order, their fingerprints, and how many comments silenced."""

    findings: list[Diagnostic]
    fingerprints: list[str]
    suppressed: int = 0

    def to_dict(self) -> dict[str, object]:
        """The findings as `lint --format json` prints them, each with its baseline fingerprint."""
        pairs = zip(self.findings, self.fingerprints, strict=True)
        return {"findings": [finding_dict(d) | {"fingerprint": fp} for d, fp in pairs], "suppressed": self.suppressed}


def lint_document(
    path: str | Path | bytes,
    *,
    select: Collection[str] = (),
    ignore: Collection[str] = (),
    target_sysmon: str | None = None,
    build_schema: str | None = None,
) -> LintResult:
    """Every finding for one config; ``select``/``ignore`` filter by code (and decide what runs).

    ``build_schema``: the file is a module that a build merges into a config declaring this
    schema version (see ``merging.lintmodules``): it is judged at that version, and a declared
    version older than its content needs is ``module-schema-too-old``.
    """
    check_codes(set(select) | set(ignore))
    try:
        doc = parse_document(path)
    except SysmonRulesError as exc:
        return _unreadable(exc, select, ignore)
    return lint_parsed(doc, select=select, ignore=ignore, target_sysmon=target_sysmon, build_schema=build_schema)


def _unreadable(exc: SysmonRulesError, select: Collection[str], ignore: Collection[str]) -> LintResult:
    wanted = (_expand(select) or known_codes()) - _expand(ignore)
    found = [d for d in exc.as_diagnostics() if d.code in wanted]
    return LintResult(found, ["" for _d in found])


def lint_parsed(
    doc: ParsedDocument,
    *,
    select: Collection[str] = (),
    ignore: Collection[str] = (),
    target_sysmon: str | None = None,
    build_schema: str | None = None,
    declared: Config | None = None,
) -> LintResult:
    """``lint_document`` of a parsed document (which a module's build may have rearranged first);
    ``declared``: the module as written, when ``doc`` is what its build makes of it."""
    check_codes(set(select) | set(ignore))
    wanted = (_expand(select) or known_codes()) - _expand(ignore)
    try:
        config = build_config(doc)
        module = None
        if build_schema is not None:
            module, config = declared or config, replace(config, schema_version=build_schema)
            doc.root.set("schemaversion", build_schema)
        ctx = LintContext(doc, config, target_sysmon, module_of=module)
    except SysmonRulesError as exc:
        return _unreadable(exc, select, ignore)
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
    build_schema: str | None = None,
) -> list[Diagnostic]:
    """Every finding for one config, in file order; ``select``/``ignore`` filter by code."""
    return lint_document(path, select=select, ignore=ignore, target_sysmon=target_sysmon,
                         build_schema=build_schema).findings
