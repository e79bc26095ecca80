"""SARIF 2.1.0, the subset GitHub code scanning reads: tool.driver.rules, results with locations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import Diagnostic
from ..validation.codes import CODES as VALIDATION_CODES
from .catalog import RULES, VALIDATION_FAMILY

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _uri(path: str | None) -> str:
    if not path:
        return "config.xml"
    p = Path(path)
    try:
        return p.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return p.as_posix()


def to_sarif(findings: dict[str, list[Diagnostic]]) -> dict[str, Any]:
    """One run for all files: ``findings`` maps each linted path to its findings."""
    family = RULES[VALIDATION_FAMILY]
    described = {code: (r.summary, r.help, r.severity) for code, r in RULES.items() if code != VALIDATION_FAMILY}
    described |= {code: (summary, f"{summary}. {family.help}", family.severity)
                  for code, summary in VALIDATION_CODES.items()}
    codes = list(described)
    rules = [{"id": code, "name": code.title().replace("-", ""),
              "shortDescription": {"text": summary},
              "fullDescription": {"text": text},
              "help": {"text": text, "markdown": f"**{summary}**\n\n{text}"},
              "defaultConfiguration": {"level": _LEVEL[severity]}}
             for code, (summary, text, severity) in described.items()]
    results = []
    for path, diagnostics in findings.items():
        for d in diagnostics:
            region = {"startLine": max(d.location.line, 1), "startColumn": max(d.location.column, 1)}
            results.append({
                "ruleId": d.code, "ruleIndex": codes.index(d.code), "level": _LEVEL[d.severity],
                "message": {"text": d.message + (f" ({d.hint})" if d.hint else "")},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(d.location.path or path)},
                                                    "region": region}}],
            })
    return {"version": "2.1.0", "$schema": SCHEMA,
            "runs": [{"tool": {"driver": {"name": "sysmon-rules", "version": __version__, "rules": rules}},
                      "results": results}]}
