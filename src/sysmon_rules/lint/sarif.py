"""SARIF 2.1.0, the subset GitHub code scanning reads: rules with helpUri, results with locations
relative to ``%SRCROOT%`` (the working directory) and partialFingerprints that survive line moves."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import Diagnostic
from .catalog import RULES

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# Where each rule's paragraph lives (docs/lint-rules.md, one heading per code); override with
# SYSMON_RULES_DOCS_URL when the docs are published elsewhere.
DOCS_URL = "https://github.com/sysmon-rules/sysmon-rules/blob/main/docs/lint-rules.md"
ROOT_ID = "SRCROOT"
FINGERPRINT_KEY = "sysmonRulesFinding/v1"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def docs_url() -> str:
    return os.environ.get("SYSMON_RULES_DOCS_URL", DOCS_URL)


def help_uri(code: str) -> str:
    """The rule's heading in the docs: GitHub's anchor of "`code` (severity)"."""
    return f"{docs_url()}#{code}-{RULES[code].severity}"


def _artifact(path: str | None, root: Path) -> dict[str, str]:
    """A URI relative to the working directory (with uriBaseId), else an absolute file URI."""
    p = Path(path or "config.xml")
    try:
        return {"uri": p.resolve().relative_to(root).as_posix(), "uriBaseId": ROOT_ID}
    except ValueError:
        return {"uri": p.resolve().as_uri()}


def _rule(code: str) -> dict[str, Any]:
    rule = RULES[code]
    return {"id": code, "name": code.title().replace("-", ""),
            "shortDescription": {"text": rule.summary}, "fullDescription": {"text": rule.help},
            "help": {"text": rule.help, "markdown": f"**{rule.summary}**\n\n{rule.help}"},
            "helpUri": help_uri(code), "defaultConfiguration": {"level": _LEVEL[rule.severity]}}


def to_sarif(findings: dict[str, list[Diagnostic]], fingerprints: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """One run for all files: ``findings`` maps each linted path to its findings, ``fingerprints``
    to theirs (same order; see baseline.fingerprints)."""
    codes = list(RULES)
    root = Path.cwd().resolve()
    results = []
    for path, diagnostics in findings.items():
        prints = (fingerprints or {}).get(path, [])
        for i, d in enumerate(diagnostics):
            region = {"startLine": max(d.location.line, 1), "startColumn": max(d.location.column, 1)}
            result: dict[str, Any] = {
                "ruleId": d.code, "ruleIndex": codes.index(d.code), "level": _LEVEL[d.severity],
                "message": {"text": d.message + (f" ({d.hint})" if d.hint else "")},
                "locations": [{"physicalLocation": {"artifactLocation": _artifact(d.location.path or path, root),
                                                    "region": region}}],
            }
            if i < len(prints) and prints[i]:
                result["partialFingerprints"] = {FINGERPRINT_KEY: prints[i]}
            results.append(result)
    run = {"tool": {"driver": {"name": "sysmon-rules", "version": __version__,
                               "informationUri": docs_url(),
                               "rules": [_rule(code) for code in codes]}},
           "originalUriBaseIds": {ROOT_ID: {"uri": root.as_uri() + "/"}},
           "results": results}
    return {"version": "2.1.0", "$schema": SCHEMA, "runs": [run]}
