"""`sysmon-rules tune CONFIG --events LOGS [--budget N/host/day] [--sigma RULES] [--keep NAME] -o PATCH.xml`.

Proposes excludes that bring CONFIG's volume on LOGS under the budget, proves what each costs the
given detections, applies the cheapest and writes them as a module ``merge`` accepts (``--full``:
the merged config). Exit 0 written (a budget not met is a warning), 1 bad input, 2 usage.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from ..errors import SysmonRulesError
from ..fileio import write_output
from .messages import fail_with

if TYPE_CHECKING:
    from rich.console import Console

    from ..tuning import TuneResult

TOP = 20


@click.command("tune")
@click.argument("config", type=click.Path(dir_okay=False))
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
@click.option("--strict", is_flag=True, help="A damaged record is an error (exit 1) instead of a warning.")
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
        _write(diff_out, result.diff.to_markdown().encode("utf-8"))
    if fmt == "json":
        click.echo(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
    else:
        from rich.console import Console

        print_result(Console(width=None if sys.stdout.isatty() else 140), result)
    if not result.budget_met:
        click.echo(f"warning: the budget of {result.budget:,}/host/day is not met: peak "
                   f"{max(result.host_days_after.values(), default=0):,} (see the rejected proposals)", err=True)


def _write(path: str | None, data: bytes) -> None:
    if path is None:
        return
    try:
        write_output(path, data)
    except SysmonRulesError as exc:
        fail_with(exc, path)


def print_result(console: Console, result: TuneResult) -> None:
    """The tables: where the volume comes from, before/after, proposals and their fate."""
    from rich.table import Table

    def table(title: str, columns: list[str], rows: list[list[object]]) -> Table:
        out = Table(title=title, title_justify="left")
        for i, column in enumerate(columns):
            out.add_column(column, justify="left" if i == 0 or column in ("proposal", "status", "costs") else "right")
        for row in rows:
            out.add_row(*(str(v) for v in row))
        return out

    doc = result.as_dict()
    console.print(f"events read: {result.events:,}  logged: {result.logged_before:,} -> {result.logged_after:,}  "
                  f"peak host-day: {doc['peak_before']:,} -> {doc['peak_after']:,}"
                  + (f"  budget {result.budget:,}/host/day: {'met' if result.budget_met else 'NOT met'}"
                     if result.budget is not None else "")
                  + ("" if result.verified else "  (replay differs from the plan's prediction)"))
    console.print(table("Where the volume comes from", ["event id", "RuleName", "process", "events", "share"],
                        [[g.event_id, g.rule_name or "-", g.image or "-", g.events, f"{g.share:.1%}"]
                         for g in result.groups[:TOP]]))
    console.print(table("Logged per event type", ["event id", "before", "after"],
                        [[r["event_id"], r["before"], r["after"]] for r in result.event_type_rows()]))
    console.print(table("Logged per host-day (busiest first)", ["day", "host", "before", "after"],
                        [[r["day"], r["host"] or "-", r["before"], r["after"]] for r in result.host_day_rows()[:TOP]]))
    console.print(table("Proposals", ["id", "event id", "proposal", "removes", "status", "costs"],
                        [[p.id, p.proposal.event_id, p.proposal.text, p.removes, p.status,
                          "; ".join(f"{c.name} ({c.status})" for c in p.costs[:3])
                          + (f" +{len(p.costs) - 3}" if len(p.costs) > 3 else "")] for p in result.proposals]))
    detections = doc["detections"]
    assert isinstance(detections, dict)
    console.print(f"detections: {result.sigma_checked:,} Sigma rule(s) checked, RuleNames kept: "
                  f"{', '.join(result.kept_names) or '-'}; lost (accepted): {len(detections['lost']):,}; "
                  f"not checked: {len(detections['not_checked']):,}")
    for cost in result.costs:
        shown = json.dumps(cost.witness, ensure_ascii=False) if cost.witness else cost.why
        console.print(f"  accepted cost: {cost.kind} {cost.name!r}, event {cost.event_id}: {cost.status}, "
                      f"witness {shown}",
                      markup=False, highlight=False, soft_wrap=True)
