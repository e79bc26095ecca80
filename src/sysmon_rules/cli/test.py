"""`sysmon-rules test FILE|DIR...`: run config test files (``*.sysmon-test.yaml``) and report.

A folder stands for every ``*.sysmon-test.yaml`` under it; every mistake of a broken test file is
listed (one ``ERROR file:line: ...`` each), not only the first.
"""

from __future__ import annotations

import json
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

import click

from ..errors import SysmonRulesError
from ..fileio import write_output
from ..inputfiles import TEST_FILES, input_files
from ..testing.testfile import CaseResult, TestFileError, load_test_file, run_test_file
from .messages import fail_with

FileResults = tuple[str, list[CaseResult], list[str]]  # path, results, errors that stopped the file
SUFFIX = ".sysmon-test.yaml"


def _run(path: str, sysmon_compatible: bool = False) -> FileResults:
    try:
        return path, run_test_file(load_test_file(path), sysmon_compatible=sysmon_compatible), []
    except TestFileError as exc:  # a broken test file fails that file, not the run: all its mistakes
        return path, [], [str(problem) for problem in exc.problems]
    except SysmonRulesError as exc:  # so does a broken config
        return path, [], [str(exc)]


def test_files(args: tuple[str, ...]) -> list[str]:
    """The files named, a folder or glob giving every ``*.sysmon-test.yaml`` under it (``inputfiles``'s
    walk: hidden files skipped, one order); NoInputError when an argument names none."""
    return [str(path) for path in input_files(args, TEST_FILES)]


def _text(results: list[FileResults]) -> str:
    lines: list[str] = []
    for path, cases, errors in results:
        lines += [f"ERROR {error}" for error in errors]  # each message starts with file:line
        for r in cases:
            lines.append(f"{'PASS' if r.passed else 'FAIL'} {path}::{r.case.name}")
            if not r.passed:
                lines.append(f"    {r.case.location}: {r.message}")
                lines += ["    " + line for line in r.explanation.splitlines()]
    passed = sum(r.passed for _, cases, _ in results for r in cases)
    failed = sum(not r.passed for _, cases, _ in results for r in cases)
    broken = sum(len(e) for *_, e in results)
    lines.append(f"{passed} passed, {failed} failed, {broken} error{'s' if broken != 1 else ''}")
    return "\n".join(lines)


def _json(results: list[FileResults]) -> str:
    out = [{"path": p, "error": e[0] if e else None, "errors": e,
            "cases": [{"name": r.case.name, "passed": r.passed, "line": r.case.location.line,
                       "expect": r.case.expect, "decision": r.decision, "rule_name": r.rule_name,
                       "message": None if r.passed else r.message, "explanation": r.explanation or None}
                      for r in cases]} for p, cases, e in results]
    return json.dumps(out, indent=2)


def _junit(results: list[FileResults]) -> str:
    suites = []
    for path, cases, errors in results:
        body = []
        for r in cases:
            head = f"<testcase classname={quoteattr(path)} name={quoteattr(r.case.name)}"
            if r.passed:
                body.append(head + "/>")
            else:
                text = xml_escape(f"{r.case.location}: {r.message}\n{r.explanation}")
                body.append(f"{head}><failure message={quoteattr(r.message)}>{text}</failure></testcase>")
        for error in errors:
            body.append(f"<testcase classname={quoteattr(path)} name=\"load\">"
                        f"<error message={quoteattr(error)}/></testcase>")
        failures = sum(not r.passed for r in cases)
        suites.append(f"<testsuite name={quoteattr(path)} tests=\"{len(cases) + len(errors)}\" "
                      f"failures=\"{failures}\" errors=\"{len(errors)}\">" + "".join(body) + "</testsuite>")
    return '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>' + "".join(suites) + "</testsuites>\n"


@click.command("test")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json", "junit"]), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help="Write the report to this file (atomically) instead of standard output.")
@click.option("--sysmon-compatible", is_flag=True, help="Load configs as Sysmon does: drop what it silently drops.")
def command(files: tuple[str, ...], fmt: str, output: str | None, sysmon_compatible: bool) -> None:
    """Run config test files (a folder: every *.sysmon-test.yaml in it). Exit 0 all cases pass,
    1 any case fails or a file is broken."""
    paths = test_files(files)
    results = [_run(path, sysmon_compatible) for path in paths]
    report = {"text": _text, "json": _json, "junit": _junit}[fmt](results)
    if output:
        text = report if report.endswith("\n") else report + "\n"
        try:  # a lone surrogate (from a YAML escape) is written escaped, never a crash
            write_output(output, text.encode("utf-8", "backslashreplace"))
        except SysmonRulesError as exc:
            fail_with(exc, output)
        if fmt != "text":
            click.echo(_text(results).splitlines()[-1], err=True)
    else:
        click.echo(report)
    ok = all(not e and all(r.passed for r in cases) for _, cases, e in results)
    raise SystemExit(0 if ok else 1)
