"""Lint: valid XML that does not do what its author thinks, found before it is deployed.

``lint_file(path)`` returns Diagnostics whose codes are in ``catalog.RULES``; the CLI
(`sysmon-rules lint`) prints them as text, JSON or SARIF 2.1.0 for code scanning.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import replace
from pathlib import Path

from ..errors import Diagnostic, SysmonRulesError
from ..validation import check_document
from ..xml.reader import build_config, parse_document
from .catalog import RULES, LintRule
from .values import check_values
from .versions import check_versions

__all__ = ["RULES", "LintRule", "lint_file"]


def _all(path: str | Path | bytes, target: str | None) -> Iterator[Diagnostic]:
    try:
        doc = parse_document(path)
        config = build_config(doc)
    except SysmonRulesError as exc:
        yield Diagnostic("invalid-config", "error", f"[xml-syntax] {exc.message}", exc.location)
        return
    found = check_document(doc, config)
    for d in found:
        yield replace(d, code="invalid-config", message=f"[{d.code}] {d.message}")
    yield from check_values(config)
    if target:
        yield from check_versions(config, target)
    if not any(d.severity == "error" for d in found):
        yield from _semantic(config)


def _semantic(config: object) -> Iterator[Diagnostic]:
    from ..blob.compile import compile_config
    from ..engine import Evaluator
    from .sets import SetChecker

    table = compile_config(config).table  # type: ignore[arg-type]
    yield from SetChecker(table, Evaluator(table)).check()


def lint_file(
    path: str | Path | bytes,
    *,
    select: Collection[str] = (),
    ignore: Collection[str] = (),
    target_sysmon: str | None = None,
) -> list[Diagnostic]:
    """Every finding for one config, in file order; ``select``/``ignore`` filter by code."""
    unknown = (set(select) | set(ignore)) - set(RULES)
    if unknown:
        raise SysmonRulesError(f"unknown lint code(s): {', '.join(sorted(unknown))}; known: {', '.join(RULES)}")
    findings = [d for d in _all(path, target_sysmon)
                if (not select or d.code in select) and d.code not in ignore]
    return sorted(findings, key=lambda d: (d.location.line, d.location.column, d.code))
