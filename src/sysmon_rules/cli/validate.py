"""`sysmon-rules validate FILE...`: would Sysmon load these configs, and what would it drop?"""

from __future__ import annotations

import json

import click

from ..errors import Diagnostic, SysmonRulesError
from ..fileio import write_output
from ..validation import diagnostic_order, iter_errors
from .messages import EXIT_FINDINGS, EXIT_OK, fail_with, render
from .sources import config_sources


def _as_json(path: str, diagnostics: list[Diagnostic]) -> dict[str, object]:
    return {
        "path": path,
        "valid": not any(d.severity == "error" for d in diagnostics),
        "diagnostics": [d.to_dict() for d in diagnostics],
    }


@click.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help="Write the findings here (atomically; - for standard output).")
@click.option("--sysmon-compatible", is_flag=True,
              help="Report what Sysmon silently drops (incorrect fields, missing onmatch) as warnings, "
                   "as Sysmon does, instead of errors.")
@click.option("--platform", type=click.Choice(["windows", "linux"]), default="windows", show_default=True,
              help="Whose schema: Windows Sysmon 15 (events 27-29) or Sysmon for Linux (event 100).")
@click.option("--no-dtd", is_flag=True,
              help="Behave like the newest open-source engine: no DTD validation (those findings become "
                   "warnings), only the first text chunk of an element read.")
def command(files: tuple[str, ...], fmt: str, output: str | None, sysmon_compatible: bool, platform: str,
            no_dtd: bool) -> None:
    """Check configs (files, folders of *.xml, - for stdin) as DTD-validating Windows Sysmon would.
    Exit 0 all valid, 1 any invalid, 2 usage or no config found (docs/cli.md)."""
    reports = []
    lines: list[str] = []
    any_invalid = False
    for path, source in config_sources(files):  # a folder: its *.xml files; -: stdin
        found = iter_errors(source, sysmon_compatible=sysmon_compatible, platform=platform, dtd=not no_dtd)
        diagnostics = sorted(found, key=diagnostic_order)
        any_invalid |= any(d.severity == "error" for d in diagnostics)
        if fmt == "json":
            reports.append(_as_json(path, diagnostics))
            continue
        lines += [render(d, path) + "\n" for d in diagnostics]
        if not any(d.severity == "error" for d in diagnostics):
            click.echo(f"{path}: valid", err=True)
    text = json.dumps(reports, indent=2) + "\n" if fmt == "json" else "".join(lines)
    try:
        write_output(output or "-", text.encode("utf-8", "backslashreplace"))
    except SysmonRulesError as exc:  # a FileAccessError names the output itself
        fail_with(exc, output or "-")
    raise SystemExit(EXIT_FINDINGS if any_invalid else EXIT_OK)
