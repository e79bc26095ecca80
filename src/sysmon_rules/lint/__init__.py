"""Lint: valid XML that does not do what its author thinks, found before it is deployed.

``lint_file(path)`` returns Diagnostics whose codes are in ``catalog.RULES``; the CLI
(`sysmon-rules lint`) prints them as text, JSON or SARIF 2.1.0 for code scanning.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from pathlib import Path

from ..errors import Diagnostic, SysmonRulesError
from ..model import Config
from ..validation import check_document, diagnostic_order
from ..validation.codes import CODES as VALIDATION_CODES
from ..xml.reader import build_config, parse_document
from .catalog import RULES, VALIDATION_FAMILY, LintRule
from .values import check_values
from .versions import check_versions

__all__ = ["RULES", "VALIDATION_CODES", "VALIDATION_FAMILY", "LintRule", "known_codes", "lint_file"]


def _all(path: str | Path | bytes, target: str | None) -> Iterator[Diagnostic]:
    try:
        doc = parse_document(path)
        config = build_config(doc)
    except SysmonRulesError as exc:
        yield from exc.as_diagnostics()
        return
    found = sorted(check_document(doc, config), key=diagnostic_order)
    yield from found  # under the validator's own codes
    yield from check_values(config)
    if target:
        yield from check_versions(config, target)
    if not any(d.severity == "error" for d in found):
        yield from _semantic(config)


def _semantic(config: Config) -> Iterator[Diagnostic]:
    from ..blob.compile import compile_config
    from ..engine import Evaluator
    from .sets import SetChecker

    table = compile_config(config).table
    yield from SetChecker(table, Evaluator(table)).check()


def lint_file(
    path: str | Path | bytes,
    *,
    select: Collection[str] = (),
    ignore: Collection[str] = (),
    target_sysmon: str | None = None,
) -> list[Diagnostic]:
    """Every finding for one config, in file order; ``select``/``ignore`` filter by code."""
    unknown = (set(select) | set(ignore)) - known_codes()
    if unknown:
        raise SysmonRulesError(f"unknown lint code(s): {', '.join(sorted(unknown))}; known: {', '.join(RULES)}")
    chosen, dropped = _expand(select), _expand(ignore)
    findings = [d for d in _all(path, target_sysmon)
                if (not chosen or d.code in chosen) and d.code not in dropped]
    return sorted(findings, key=lambda d: (d.location.line, d.location.column, d.code))


def known_codes() -> set[str]:
    """What ``select``/``ignore`` accept: lint's rules, the validator's codes, and their family name."""
    return set(RULES) | set(VALIDATION_CODES)


def _expand(codes: Collection[str]) -> set[str]:
    """``invalid-config`` stands for every validator code."""
    expanded = set(codes)
    if VALIDATION_FAMILY in expanded:
        expanded |= set(VALIDATION_CODES)
    return expanded
