"""`sysmon-rules test FILE...`: run config test files (``*.sysmon-test.yaml``) and report."""

from __future__ import annotations

import json
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

import click

from ..errors import SysmonRulesError
from ..io import write_output
from ..testing.testfile import CaseResult, load_test_file, run_test_file
from .messages import fail_with

FileResults = tuple[str, list[CaseResult], str | None]  # path, results, error that stopped the file


def _run(path: str) -> FileResults:
    try:
        return path, run_test_file(load_test_file(path)), None
    except SysmonRulesError as exc:  # a broken test file or config fails that file, not the run
        return path, [], str(exc)


def _text(results: list[FileResults]) -> str:
    lines: list[str] = []
    for path, cases, error in results:
        if error:
            lines.append(f"ERROR {error}")  # the message starts with file:line
        for r in cases:
            lines.append(f"{'PASS' if r.passed else 'FAIL'} {path}::{r.case.name}")
            if not r.passed:
                lines.append(f"    {r.case.location}: {r.message}")
                lines += ["    " + line for line in r.explanation.splitlines()]
    passed = sum(r.passed for _, cases, _ in results for r in cases)
    failed = sum(not r.passed for _, cases, _ in results for r in cases)
    errors = sum(1 for *_, e in results if e)
    lines.append(f"{passed} passed, {failed} failed, {errors} error{'s' if errors != 1 else ''}")
    return "\n".join(lines)


def _json(results: list[FileResults]) -> str:
    out = [{"path": p, "error": e,
            "cases": [{"name": r.case.name, "passed": r.passed, "line": r.case.location.line,
                       "expect": r.case.expect, "decision": r.decision, "rule_name": r.rule_name,
                       "message": None if r.passed else r.message, "explanation": r.explanation or None}
                      for r in cases]} for p, cases, e in results]
    return json.dumps(out, indent=2)


def _junit(results: list[FileResults]) -> str:
    suites = []
    for path, cases, error in results:
        body = []
        for r in cases:
            head = f"<testcase classname={quoteattr(path)} name={quoteattr(r.case.name)}"
            if r.passed:
                body.append(head + "/>")
            else:
                text = xml_escape(f"{r.case.location}: {r.message}\n{r.explanation}")
                body.append(f"{head}><failure message={quoteattr(r.message)}>{text}</failure></testcase>")
        if error:
            body.append(f"<testcase classname={quoteattr(path)} name=\"load\">"
                        f"<error message={quoteattr(error)}/></testcase>")
        failures = sum(not r.passed for r in cases)
        suites.append(f"<testsuite name={quoteattr(path)} tests=\"{len(cases) + bool(error)}\" "
                      f"failures=\"{failures}\" errors=\"{int(bool(error))}\">" + "".join(body) + "</testsuite>")
    return '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>' + "".join(suites) + "</testsuites>\n"


@click.command("test")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "junit"]), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help="Write the report to this file (atomically) instead of standard output.")
def command(files: tuple[str, ...], fmt: str, output: str | None) -> None:
    """Run config test files. Exit 0 all cases pass, 1 any case fails or a file is broken."""
    results = [_run(path) for path in files]
    report = {"text": _text, "json": _json, "junit": _junit}[fmt](results)
    if output:
        try:
            write_output(output, report if report.endswith("\n") else report + "\n")
        except SysmonRulesError as exc:
            fail_with(exc, output)
        if fmt != "text":
            click.echo(_text(results).splitlines()[-1], err=True)
    else:
        click.echo(report)
    ok = all(e is None and all(r.passed for r in cases) for _, cases, e in results)
    raise SystemExit(0 if ok else 1)
