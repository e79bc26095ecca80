"""`sysmon-rules lint FILE...`: mistakes valid configs hide, as text, JSON or SARIF.

Exit codes: 0 no finding at or above --fail-on, 1 some finding at or above it, 2 usage error.
"""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from ..api import lint_file
from ..errors import Diagnostic, SysmonRulesError
from ..io import write_output
from ..lint import known_codes
from ..lint.sarif import to_sarif
from .messages import fail_with, render

_RANK = {"info": 0, "warning": 1, "error": 2}


def _codes(values: tuple[str, ...]) -> set[str]:
    return {c.strip() for v in values for c in v.split(",") if c.strip()}


def _write(text: str, output: str | None) -> None:
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    try:
        write_output(output, text)
    except SysmonRulesError as exc:
        fail_with(exc, output)


def _text(findings: dict[str, list[Diagnostic]]) -> str:
    lines = []
    for diagnostics in findings.values():
        for d in diagnostics:
            lines.append(render(d))
    count = sum(len(v) for v in findings.values())
    files = len(findings)
    lines.append(f"{count} finding{'s' if count != 1 else ''} in {files} file{'s' if files != 1 else ''}")
    return "\n".join(lines) + "\n"


@click.command("lint")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text", show_default=True)
@click.option("--fail-on", type=click.Choice(["error", "warning", "never"]), default="error", show_default=True,
              help="Exit 1 when a finding of this severity or worse is found.")
@click.option("--select", multiple=True, metavar="CODES", help="Only these codes (comma-separated).")
@click.option("--ignore", multiple=True, metavar="CODES", help="Leave out these codes (comma-separated).")
@click.option("--target-sysmon", metavar="VERSION", help="Schema version the config must run on, e.g. 4.50.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True),
              help="Write the report here (atomically; - for standard output).")
def command(files: tuple[str, ...], fmt: str, fail_on: str, select: tuple[str, ...], ignore: tuple[str, ...],
            target_sysmon: str | None, output: str | None) -> None:
    """Lint Sysmon configs. Codes and their meaning: docs/lint-rules.md."""
    chosen, dropped = _codes(select), _codes(ignore)
    unknown = (chosen | dropped) - known_codes()
    if unknown:
        raise click.BadParameter(f"unknown code(s) {', '.join(sorted(unknown))}", param_hint="--select/--ignore")
    findings = {path: lint_file(path, select=chosen, ignore=dropped, target_sysmon=target_sysmon)
                for path in files}
    if fmt == "sarif":
        _write(json.dumps(to_sarif(findings), indent=2), output)
    elif fmt == "json":
        _write(json.dumps([{"path": p, "findings": [{**asdict(d), "location": asdict(d.location)} for d in ds]}
                           for p, ds in findings.items()], indent=2), output)
    else:
        _write(_text(findings), output)
    worst = max((_RANK[d.severity] for ds in findings.values() for d in ds), default=-1)
    raise SystemExit(1 if fail_on != "never" and worst >= _RANK[fail_on] else 0)
