"""Coverage reports as text, Markdown or JSON (the stable object documented in docs/coverage.md)."""

from __future__ import annotations

import json

from .result import STATUSES, CoverageReport, RuleCoverage

_ATTRIBUTION = ("Sigma rules by their authors (shown per rule), under the Detection Rule License (DRL) 1.1: "
                "https://github.com/SigmaHQ/Detection-Rule-License")


def to_json(report: CoverageReport) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


_SHOWN = ("partial", "dropped-in-practice", "dropped", "unsupported")


def to_text(report: CoverageReport, *, show: tuple[str, ...] = _SHOWN) -> str:
    lines = []
    for rule in report.rules:
        if rule.status not in show:
            continue
        by = f" (by {rule.author})" if rule.author else ""
        lines.append(f"{rule.path or rule.id}: {rule.status}: {rule.title}{by}")
        lines += [f"    {reason}" for reason in rule.reasons[:6]]
        for w in rule.witnesses:
            lines.append(f"    witness event {w.event_id} -> {w.decision} RuleName={w.rule_name!r}: "
                         f"{_fields(w.fields)}")
        if rule.suggestion:
            lines.append(f"    suggestion (re-checked: {rule.suggestion_checked}):")
            lines += [f"      {line}" for line in rule.suggestion.splitlines()]
    lines.append(_summary_line(report))
    return "\n".join(lines) + "\n"


def to_markdown(report: CoverageReport) -> str:
    counts = report.summary
    lines = [f"## Sigma coverage of `{report.config or 'config'}`", "",
             "| " + " | ".join(STATUSES) + " | total |", "|" + "---|" * (len(STATUSES) + 1),
             "| " + " | ".join(str(counts[s]) for s in STATUSES) + f" | {counts['total']} |", ""]
    rows = [r for r in report.rules if r.status in _SHOWN]
    if rows:
        lines += ["| rule | status | author | why |", "|---|---|---|---|"]
        lines += [_row(r) for r in rows]
        lines.append("")
    lines.append(_ATTRIBUTION)
    return "\n".join(lines) + "\n"


def _row(rule: RuleCoverage) -> str:
    why = (rule.reasons[0] if rule.reasons else "").replace("|", "\\|")
    return f"| {rule.title.replace('|', '/')} (`{rule.id}`) | {rule.status} | {rule.author.replace('|', '/')} | {why} |"


def _fields(fields: dict[str, str]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in fields.items())


def _summary_line(report: CoverageReport) -> str:
    counts = report.summary
    parts = ", ".join(f"{counts[s]} {s}" for s in STATUSES)
    return f"{counts['total']} rules: {parts} ({report.seconds:.1f} s)"
