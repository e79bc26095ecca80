"""`sysmon-rules lint FILE...`: mistakes valid configs hide, as text, JSON or SARIF.

Exit codes: 0 no finding at or above --fail-on, 1 some finding at or above it (or bad input),
2 usage error.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict
from pathlib import Path

import click

from ..errors import Diagnostic, SysmonRulesError
from ..fileio import write_output
from ..lint import RULES, VALIDATION_CODES, VALIDATION_FAMILY, LintResult, check_codes, lint_document
from ..lint.baseline import Baseline, render_baseline
from ..lint.finding import finding_dict
from ..lint.sarif import to_sarif
from .messages import fail_with, render
from .sources import config_sources

_RANK = {"info": 0, "warning": 1, "error": 2}


def _codes(values: tuple[str, ...]) -> set[str]:
    return {c.strip() for v in values for c in v.split(",") if c.strip()}


def _write(text: str, output: str | None) -> None:
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        _save(output, text)


def _save(path: str, text: str) -> None:
    try:
        write_output(path, text)
    except SysmonRulesError as exc:
        fail_with(exc, path)


def _text(findings: dict[str, list[Diagnostic]], accepted: int, silenced: int) -> str:
    lines = []
    for diagnostics in findings.values():
        for d in diagnostics:
            lines.append(render(d))
    count = sum(len(v) for v in findings.values())
    files = len(findings)
    summary = f"{count} finding{'s' if count != 1 else ''} in {files} file{'s' if files != 1 else ''}"
    extra = [f"{n} {what}" for n, what in ((accepted, "in the baseline"), (silenced, "suppressed by comments")) if n]
    lines.append(summary + (f" ({', '.join(extra)})" if extra else ""))
    return "\n".join(lines) + "\n"


def _list_rules(fmt: str) -> str:
    """Lint's rules, then the validator's codes (the family ``invalid-config`` selects them all)."""
    family = RULES[VALIDATION_FAMILY]
    validator = [{"code": code, "severity": family.severity, "summary": summary, "family": VALIDATION_FAMILY}
                 for code, summary in VALIDATION_CODES.items()]
    if fmt == "json":
        return json.dumps([asdict(r) for r in RULES.values()] + validator, indent=2) + "\n"
    width = max(len(code) for code in [*RULES, *VALIDATION_CODES])
    lines = [f"{r.code:<{width}}  {r.severity:<7}  {r.summary}" for r in RULES.values()]
    lines += [f"{v['code']:<{width}}  {v['severity']:<7}  {v['summary']} ({VALIDATION_FAMILY})" for v in validator]
    return "\n".join(lines) + "\n"


def _min_versions(files: tuple[str, ...]) -> str:
    from ..lint.versions import min_version
    from ..xml.reader import build_config, parse_document

    lines = []
    for path, source in config_sources(files):  # a folder: its *.xml files; -: stdin
        found = min_version(build_config(parse_document(source, path=path)))
        if found.release is None:
            lines.append(f"{path}: {found.reason}")
        else:
            lines.append(f"{path}: Sysmon {found.release.sysmon} (schema {found.release.schema}) or later; "
                         f"{found.reason}")
    return "\n".join(lines) + "\n"


def _apply_baseline(results: dict[str, LintResult],
                    baseline: Baseline | None) -> tuple[dict[str, list[tuple[Diagnostic, str]]], int]:
    """Findings (with fingerprints) the baseline does not accept, and how many it accepted."""
    kept: dict[str, list[tuple[Diagnostic, str]]] = {}
    for path, result in results.items():
        pairs = zip(result.findings, result.fingerprints, strict=True)
        kept[path] = [(d, fp) for d, fp in pairs if baseline is None or not baseline.accepts(path, fp)]
    accepted = sum(len(r.findings) for r in results.values()) - sum(len(v) for v in kept.values())
    return kept, accepted


_SETTINGS = ("select", "ignore", "fail_on", "target_sysmon", "baseline_path")


def _settings(ctx: click.Context) -> dict[str, object]:
    """``[tool.sysmon-rules.lint]`` of ./pyproject.toml: defaults for options not given on the command line.

    Keys: select, ignore (lists of codes), fail-on, target-sysmon, baseline.
    """
    path = Path("pyproject.toml")
    if not path.is_file():
        return {}
    try:
        table = tomllib.loads(path.read_text("utf-8")).get("tool", {}).get("sysmon-rules", {}).get("lint", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SysmonRulesError(f"{path}: {exc}") from None
    if not isinstance(table, dict):
        raise SysmonRulesError(f"{path}: [tool.sysmon-rules.lint] is not a table")
    names = {"select": "select", "ignore": "ignore", "fail-on": "fail_on", "target-sysmon": "target_sysmon",
             "baseline": "baseline_path"}
    unknown = sorted(set(table) - set(names))
    if unknown:
        raise SysmonRulesError(f"{path}: unknown key(s) in [tool.sysmon-rules.lint]: {', '.join(unknown)}; "
                               f"known: {', '.join(names)}")
    found: dict[str, object] = {}
    for key, value in table.items():
        param = names[key]
        if ctx.get_parameter_source(param) is click.core.ParameterSource.DEFAULT:
            found[param] = tuple(value) if isinstance(value, list) else value
    return found


def _codes_from(config: dict[str, object], key: str, given: tuple[str, ...]) -> tuple[str, ...]:
    value = config.get(key, given)
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
        raise SysmonRulesError(f"pyproject.toml: [tool.sysmon-rules.lint] {key} must be a list of codes")
    return value


def _text_from(config: dict[str, object], key: str, given: str | None) -> str | None:
    value = config.get(key, given)
    if value is not None and not isinstance(value, str):
        raise SysmonRulesError(f"pyproject.toml: [tool.sysmon-rules.lint] {key.replace('_', '-')} must be text")
    return value


def _target(value: str | None) -> None:
    if value is not None:
        from ..schema.releases import resolve_target

        try:
            resolve_target(value)
        except SysmonRulesError as exc:
            raise click.BadParameter(exc.message, param_hint="--target-sysmon") from None


@click.command("lint")
@click.argument("files", nargs=-1, type=click.Path(allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text", show_default=True)
@click.option("--fail-on", type=click.Choice(["error", "warning", "never"]), default="error", show_default=True,
              help="Exit 1 when a finding of this severity or worse is found.")
@click.option("--select", multiple=True, metavar="CODES", help="Only these codes (comma-separated); only they run.")
@click.option("--ignore", multiple=True, metavar="CODES", help="Leave out these codes (comma-separated).")
@click.option("--target-sysmon", metavar="VERSION",
              help="Sysmon version (15.15, 14, 13.33) or schema version (4.50) the config must load on.")
@click.option("--baseline", "baseline_path", type=click.Path(dir_okay=False), metavar="FILE",
              help="Leave out the findings accepted in this baseline file.")
@click.option("--update-baseline", is_flag=True, help="Write today's findings to --baseline FILE and exit 0.")
@click.option("--min-version", is_flag=True, help="Print the oldest Sysmon release that loads each config, and why.")
@click.option("--modules", is_flag=True,
              help="Each argument is a module tree (sysmon-modular): lint its modules as its build merges them.")
@click.option("--list-rules", is_flag=True, help="List every rule code (text, or JSON with --format json).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True),
              help="Write the report here (atomically; - for standard output).")
def command(files: tuple[str, ...], fmt: str, fail_on: str, select: tuple[str, ...], ignore: tuple[str, ...],
            target_sysmon: str | None, baseline_path: str | None, update_baseline: bool, min_version: bool,
            modules: bool, list_rules: bool, output: str | None) -> None:
    """Lint Sysmon configs. Codes and their meaning: docs/lint-rules.md (or --list-rules).

    Defaults for --select, --ignore, --fail-on, --target-sysmon and --baseline may be set in
    ./pyproject.toml under [tool.sysmon-rules.lint] (fail-on, target-sysmon, baseline, select, ignore).
    """
    config = _settings(click.get_current_context())
    select, ignore = _codes_from(config, "select", select), _codes_from(config, "ignore", ignore)
    fail_on = _text_from(config, "fail_on", fail_on) or fail_on
    target_sysmon = _text_from(config, "target_sysmon", target_sysmon)
    baseline_path = _text_from(config, "baseline_path", baseline_path)
    if list_rules:
        _write(_list_rules(fmt), output)
        return
    chosen, dropped = _check_usage(files, fail_on, select, ignore, target_sysmon, baseline_path, update_baseline)
    if min_version:
        _write(_min_versions(files), output)
        return
    if modules:
        results = _module_trees(files, chosen, dropped, target_sysmon)
    else:
        results = {path: lint_document(source, select=chosen, ignore=dropped, target_sysmon=target_sysmon)
                   for path, source in config_sources(files)}  # a folder: its *.xml files; -: stdin
    if update_baseline:
        assert baseline_path is not None
        _save(baseline_path, render_baseline({p: (r.findings, r.fingerprints) for p, r in results.items()}))
        total = sum(len(r.findings) for r in results.values())
        click.echo(f"baseline {baseline_path}: {total} finding(s) in {len(results)} file(s) accepted", err=True)
        return
    worst = _report(results, Baseline.read(baseline_path) if baseline_path else None, fmt, output)
    raise SystemExit(1 if fail_on != "never" and worst >= _RANK[fail_on] else 0)


def _module_trees(trees: tuple[str, ...], select: set[str], ignore: set[str],
                  target_sysmon: str | None) -> dict[str, LintResult]:
    """``--modules``: every module of each tree, judged at the schema version its build writes."""
    from ..merging.lintmodules import lint_modules

    results: dict[str, LintResult] = {}
    for tree in trees:
        try:
            results.update(lint_modules(tree, select=select, ignore=ignore, target_sysmon=target_sysmon))
        except SysmonRulesError as exc:
            fail_with(exc, tree)
    return results


def _check_usage(files: tuple[str, ...], fail_on: str, select: tuple[str, ...], ignore: tuple[str, ...],
                 target_sysmon: str | None, baseline_path: str | None,
                 update_baseline: bool) -> tuple[set[str], set[str]]:
    """Usage errors (exit 2) before any work; the selected and ignored codes."""
    if not files:
        raise click.UsageError("give one or more config files (or --list-rules)")
    if fail_on not in ("error", "warning", "never"):
        raise click.BadParameter(f"{fail_on!r} (from pyproject.toml) is not error, warning or never",
                                 param_hint="fail-on")
    if update_baseline and not baseline_path:
        raise click.UsageError("--update-baseline needs --baseline FILE")
    chosen, dropped = _codes(select), _codes(ignore)
    try:
        check_codes(chosen | dropped)
    except SysmonRulesError as exc:
        raise click.BadParameter(exc.message, param_hint="--select/--ignore") from None
    _target(target_sysmon)
    return chosen, dropped


def _report(results: dict[str, LintResult], baseline: Baseline | None, fmt: str, output: str | None) -> int:
    """Write the findings the baseline does not accept; the rank of the worst (-1: none)."""
    kept, accepted = _apply_baseline(results, baseline)
    findings = {p: [d for d, _fp in pairs] for p, pairs in kept.items()}
    if fmt == "sarif":
        prints = {p: [fp for _d, fp in pairs] for p, pairs in kept.items()}
        _write(json.dumps(to_sarif(findings, prints), indent=2), output)
    elif fmt == "json":
        _write(json.dumps([{"path": p, "findings": [finding_dict(d) for d in ds]} for p, ds in findings.items()],
                          indent=2), output)
    else:
        _write(_text(findings, accepted, sum(r.suppressed for r in results.values())), output)
    return max((_RANK[d.severity] for ds in findings.values() for d in ds), default=-1)
