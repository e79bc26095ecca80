"""`sysmon-rules tune CONFIG --events LOGS [--budget N/host/day] [--sigma RULES] [--keep NAME] -o PATCH.xml`.

Proposes excludes that bring CONFIG's volume on LOGS under the budget, proves what each costs the
given detections, applies the cheapest and writes them as a module ``merge`` accepts (``--full``:
the merged config). Exit 0 written and the budget met (or none given), 1 written but the budget
not met (docs/cli.md: an answer, no), 2 no answer (bad input, usage).
"""

from __future__ import annotations

import json
import sys

import click

from ..errors import SysmonRulesError
from ..fileio import write_output
from .messages import EXIT_FINDINGS, InputFile, fail_with


@click.command("tune")
@click.argument("config", type=InputFile("config"))
@click.option("--events", "events", multiple=True, required=True, type=click.Path(allow_dash=True),
              metavar="SOURCE", help="The logs to tune on (.evtx, event XML, JSON lines, Parquet, a folder); "
              "repeatable. A capture from a log-everything config is the best input.")
@click.option("--budget", default=None, metavar="N[/host/day]",
              help="Logged events per host per day to reach (counted as `evaluate --budget` counts).")
@click.option("--sigma", "sigma", multiple=True, type=click.Path(exists=True), metavar="PATH",
              help="Sigma rules (files or folders) whose events must stay logged; repeatable.")
@click.option("--keep", "keep", multiple=True, metavar="RULENAME",
              help="A RuleName whose events must stay logged; repeatable.")
@click.option("--accept-cost", is_flag=True, help="Also apply proposals that cost a detection (listed with witnesses).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the patch module here (atomically); with --full, the merged config.")
@click.option("--full", is_flag=True, help="Write CONFIG merged with the patch instead of the patch.")
@click.option("--diff", "diff_out", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Write the diff of CONFIG and the tuned config (Markdown, with witnesses) for a pull request.")
@click.option("--format", "fmt", type=click.Choice(["summary", "json"]), default="summary", show_default=True)
@click.option("--collector", default=None, help="Read every SOURCE with this collector instead of recognising it.")
@click.option("--strict", is_flag=True, help="A damaged record is an error (exit 2) instead of a warning.")
@click.option("--platform", type=click.Choice(["windows", "linux"]), default="windows", show_default=True)
def command(config: str, events: tuple[str, ...], budget: str | None, sigma: tuple[str, ...], keep: tuple[str, ...],
            accept_cost: bool, output: str | None, full: bool, diff_out: str | None, fmt: str,
            collector: str | None, strict: bool, platform: str) -> None:
    """Cut CONFIG's volume on LOGS to a budget with excludes whose detection cost is proven."""
    from ..tuning import parse_budget, tune

    if full and output is None:
        raise click.UsageError("--full needs -o OUT")
    try:
        limit = parse_budget(budget) if budget is not None else None
    except SysmonRulesError as exc:
        raise click.BadParameter(exc.message, param_hint="--budget") from None

    def warn(message: str) -> None:
        click.echo(f"warning: {message}", err=True)

    try:
        result = tune(config, events, budget=limit, sigma=sigma, keep=keep, accept_cost=accept_cost,
                      platform="linux" if platform == "linux" else "windows", collector=collector, strict=strict,
                      warn=warn)
    except SysmonRulesError as exc:
        if exc.location.path:  # a config's error names its file:line; an input's error names its source
            fail_with(exc, config)
        raise
    _write(output, result.merged.data() if full else result.patch.encode("utf-8"))
    if diff_out is not None and result.diff is not None:
        from ..render import to_markdown

        _write(diff_out, to_markdown(result.diff).encode("utf-8"))
    # the summary goes to stderr when standard output already carries the patch or the diff
    aside = "-" in (output, diff_out)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False), err=aside)
    else:
        from rich.console import Console

        from ..tuning.render import print_tune

        stream = sys.stderr if aside else sys.stdout
        print_tune(Console(file=stream, width=None if stream.isatty() else 140), result)
    if not result.budget_met:
        click.echo(f"{config}: budget {result.budget:,}/host/day not met: the busiest host-day logs "
                   f"{max(result.host_days_after.values(), default=0):,} (see the rejected proposals)", err=True)
        raise SystemExit(EXIT_FINDINGS)


def _write(path: str | None, data: bytes) -> None:
    if path is None:
        return
    try:
        write_output(path, data)
    except SysmonRulesError as exc:
        fail_with(exc, path)
