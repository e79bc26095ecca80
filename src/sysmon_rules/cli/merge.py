"""`sysmon-rules merge SOURCE... -o OUT`: one config from modules (union or sysmon-modular style)."""

from __future__ import annotations

import json

import click

from ..errors import SysmonRulesError
from ..fileio import write_output
from ..merging import STYLES, MergeResult, merge
from ..merging.builds import BUILDS
from ..merging.check import check
from ..merging.psscript import TEMPLATE_NAMES
from ..merging.sources import ORDERS
from ..validation import load
from .messages import echo_diagnostics, fail_with


@click.command("merge")
@click.argument("sources", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Where to write the merged config (atomically).")
@click.option("--style", type=click.Choice(STYLES), default="union", show_default=True,
              help="union: what the modules mean together; sysmon-modular: upstream's PowerShell build.")
@click.option("--build", type=click.Choice(list(BUILDS)), default=None,
              help="sysmon-modular: the published config to build (default for a checkout: default, "
                   "sysmonconfig.xml); sets the template and lists.")
@click.option("--template", help=f"union: a config supplying the options; sysmon-modular: "
                                 f"{', '.join(TEMPLATE_NAMES)} or an XML file.")
@click.option("--include-list", type=click.Path(exists=True, dir_okay=False), help="Merge only the listed modules.")
@click.option("--exclude-list", type=click.Path(exists=True, dir_okay=False), help="Leave the listed modules out.")
@click.option("--script", type=click.Path(exists=True, dir_okay=False),
              help="The Merge-SysmonXml.ps1 to read templates from (default: the checkout's own).")
@click.option("--check", "existing", type=click.Path(exists=True, dir_okay=False), metavar="EXISTING",
              help="Exit 1 unless EXISTING compiles to the same rule blob; name the modules that differ.")
@click.option("--format", "fmt", type=click.Choice(["xml", "json"]), default="xml", show_default=True)
@click.option("--platform", type=click.Choice(["windows", "linux"]), default="windows", show_default=True)
@click.option("--skip-invalid", is_flag=True, help="Skip (and count) modules Sysmon rejects instead of failing.")
@click.option("--annotate/--no-annotate", default=None,
              help="Comments naming each module (default: on for union, off for sysmon-modular).")
@click.option("--order", type=click.Choice(ORDERS), default="lower", show_default=True,
              help="Module order's case folding: lower (upstream builds since 2021-09-29) or upper (before).")
@click.option("-v", "--verbose", is_flag=True, help="Also print informational notes.")
def command(sources: tuple[str, ...], output: str | None, style: str, build: str | None, template: str | None,
            include_list: str | None, exclude_list: str | None, script: str | None, existing: str | None,
            fmt: str, platform: str, skip_invalid: bool, annotate: bool | None, order: str, verbose: bool) -> None:
    """Merge module files, folders or sysmon-modular checkouts into one config."""
    if output is None and existing is None:
        raise click.UsageError("give -o OUT, --check EXISTING, or both")
    try:
        result = merge(list(sources), style=style, template=template, include_list=include_list,
                       exclude_list=exclude_list, script=script, platform=platform,
                       skip_invalid=skip_invalid, annotate=annotate, order=order, template_from=existing,
                       build=build)
    except SysmonRulesError as exc:
        fail_with(exc, sources[0])
    echo_diagnostics((d for d in result.diagnostics if (verbose or d.severity != "info") and d.code != "build"),
                     err=True)
    skipped = sum(1 for d in result.diagnostics if d.code == "module-skipped")
    how = ", ".join([style, *(d.message for d in result.diagnostics if d.code == "build")])
    click.echo(f"merged {len(result.modules)} module(s) ({how})" + (f", {skipped} skipped" if skipped else ""),
               err=True)
    if output is not None:
        text = json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n" if fmt == "json" else None
        data = text.encode("utf-8") if text is not None else result.data()
        try:
            write_output(output, data)
        except SysmonRulesError as exc:
            fail_with(exc, output)
    if existing is not None:
        _check(existing, result, platform)


def _check(existing: str, result: MergeResult, platform: str) -> None:
    try:
        committed = load(existing, platform=platform)
    except SysmonRulesError as exc:
        fail_with(exc, existing)
    report = check(committed, result)
    for line in report.lines(existing):
        click.echo(line)
    if not report.ok:
        raise SystemExit(1)
