"""SARIF 2.1.0, the subset GitHub code scanning reads: rules with helpUri, results with locations
relative to ``%SRCROOT%`` (the working directory) and partialFingerprints that survive line moves.

The validator's findings keep their own codes as ``ruleId``; each is described with the
``invalid-config`` family's help and points at its paragraph.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import Diagnostic, Location, Severity
from ..validation.codes import CODES as VALIDATION_CODES
from .catalog import RULES, SECURITY_SEVERITY, VALIDATION_FAMILY
from .finding import Finding

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
    heading = code if code in RULES else VALIDATION_FAMILY
    return f"{docs_url()}#{heading}-{RULES[heading].severity}"


def _artifact(path: str | None, root: Path) -> dict[str, str]:
    """A URI relative to the working directory (with uriBaseId), else an absolute file URI."""
    p = Path(path or "config.xml")
    try:
        return {"uri": p.resolve().relative_to(root).as_posix(), "uriBaseId": ROOT_ID}
    except ValueError:
        return {"uri": p.resolve().as_uri()}


def _described() -> dict[str, tuple[str, str, Severity]]:
    """Code -> (summary, help, severity): lint's rules and, for the family, each validator code."""
    family = RULES[VALIDATION_FAMILY]
    described = {code: (r.summary, r.help, r.severity) for code, r in RULES.items() if code != VALIDATION_FAMILY}
    described |= {code: (summary, f"{summary}. {family.help}", family.severity)
                  for code, summary in VALIDATION_CODES.items()}
    return described


def _rule(code: str, summary: str, text: str, severity: Severity) -> dict[str, Any]:
    score = SECURITY_SEVERITY.get(code, SECURITY_SEVERITY[VALIDATION_FAMILY])
    return {"id": code, "name": code.title().replace("-", ""),
            "shortDescription": {"text": summary}, "fullDescription": {"text": text},
            "help": {"text": text, "markdown": f"**{summary}**\n\n{_markdown(text)}"},
            "helpUri": help_uri(code), "defaultConfiguration": {"level": _LEVEL[severity]},
            "properties": {"tags": ["security"], "security-severity": f"{score:.1f}"}}


def _markdown(text: str) -> str:
    """Plain text for a Markdown field: a backslash escapes the next character there, so double it."""
    return text.replace("\\", "\\\\")


def _physical(location: Location, path: str, root: Path) -> dict[str, Any]:
    region = {"startLine": max(location.line, 1), "startColumn": max(location.column, 1)}
    return {"physicalLocation": {"artifactLocation": _artifact(location.path or path, root), "region": region}}


def to_sarif(findings: dict[str, list[Diagnostic]], fingerprints: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """One run for all files: ``findings`` maps each linted path to its findings, ``fingerprints``
    to theirs (same order; see baseline.fingerprints)."""
    described = _described()
    codes = list(described)
    root = Path.cwd().resolve()
    results = []
    for path, diagnostics in findings.items():
        prints = (fingerprints or {}).get(path, [])
        for i, d in enumerate(diagnostics):
            result: dict[str, Any] = {
                "ruleId": d.code, "ruleIndex": codes.index(d.code), "level": _LEVEL[d.severity],
                "message": {"text": d.message + (f" ({d.hint})" if d.hint else "")},
                "locations": [_physical(d.location, path, root)],
            }
            if isinstance(d, Finding) and d.related:
                result["relatedLocations"] = [{"id": n, **_physical(where, path, root),
                                               "message": {"text": f"line {where.line}"}}
                                              for n, where in enumerate(d.related, 1)]
            if isinstance(d, Finding) and d.witness is not None and d.claim is not None:
                result["properties"] = {"witness": {"EventID": d.witness.event_id, "fields": dict(d.witness.fields)},
                                        "claim": {"decision": d.claim[0], "RuleName": d.claim[1]}}
            if i < len(prints) and prints[i]:
                result["partialFingerprints"] = {FINGERPRINT_KEY: prints[i]}
            results.append(result)
    run = {"tool": {"driver": {"name": "sysmon-rules", "version": __version__, "informationUri": docs_url(),
                               "rules": [_rule(code, *described[code]) for code in codes]}},
           "originalUriBaseIds": {ROOT_ID: {"uri": root.as_uri() + "/"}},
           "results": results}
    return {"version": "2.1.0", "$schema": SCHEMA, "runs": [run]}
