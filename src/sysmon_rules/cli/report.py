"""`sysmon-rules report CONFIG [--events SOURCE...] [--compare OTHER] [--sigma PATH...] -o report.html`.

One self-contained HTML page (styles, plots and their renderer inlined; nothing fetched when it
is opened) with a section per input given. Exit 0 written, 2 usage or an input that cannot be used
(one line), 130 interrupted (docs/cli.md).
"""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import SysmonRulesError
from ..fileio import write_output
from .messages import InputFile, Interrupted, fail_with


@click.command("report")
@click.argument("config", type=InputFile("config"))
@click.option("--events", "events", multiple=True, type=click.Path(allow_dash=True), metavar="SOURCE",
              help="Replay these events (.evtx, event XML, JSON lines, a folder, - for stdin); repeatable.")
@click.option("--compare", type=InputFile("config"), default=None, metavar="OTHER",
              help="Compare with this config: rule sets side by side and, with --events, what changes.")
@click.option("--per-change", is_flag=True,
              help="With --compare: also diff the configs change by change (witnesses, events per change).")
@click.option("--sigma", "sigma", multiple=True, type=click.Path(), metavar="PATH",
              help="Judge these Sigma rules (files or folders) against CONFIG: detection readiness; repeatable.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Where to write the page.")
@click.option("--collector", default=None, help="Read every SOURCE with this collector instead of recognising it.")
@click.option("--strict", is_flag=True, help="A damaged record is an error (exit 2) instead of a warning.")
@click.option("--budget", type=click.IntRange(min=1), default=None, metavar="N",
              help="Flag event types and RuleNames above N logged events per host per day.")
@click.option("--tune", "tune", type=click.IntRange(min=0), default=None, metavar="N",
              help="With --events: a tune section, the config tuned to N logged events per host per day "
                   "keeping the --sigma rules (see `sysmon-rules tune`).")
@click.option("--accept-cost", is_flag=True, help="With --tune: also apply excludes that cost a detection.")
@click.option("--platform", type=click.Choice(["windows", "linux"]), default="windows", show_default=True)
def command(config: str, events: tuple[str, ...], compare: str | None, per_change: bool, sigma: tuple[str, ...],
            output: str, collector: str | None, strict: bool, budget: int | None, tune: int | None, accept_cost: bool,
            platform: str) -> None:
    """Write an HTML report on CONFIG: at a glance, replayed over --events, compared with --compare,
    the detection readiness of --sigma rules, and tuned to a budget with --tune."""
    from ..htmlreport import html_report  # altair loads only when a report is made

    if per_change and compare is None:
        raise click.UsageError("--per-change needs --compare OTHER")
    if tune is not None and not events:
        raise click.UsageError("--tune needs --events SOURCE")
    inputs = {Path(p).resolve() for p in (config, compare, *events) if p and p != "-"}
    if Path(output).resolve() in inputs:
        raise click.BadParameter(f"{output} is one of the inputs; inputs are never overwritten", param_hint="-o")

    warned = []

    def warn(message: str) -> None:
        warned.append(message)
        click.echo(f"warning: {message}", err=True)

    try:
        page = html_report(config, events=events, compare=compare, sigma=sigma, collector=collector, strict=strict,
                           platform="linux" if platform == "linux" else "windows", warn=warn, budget=budget,
                           per_change=per_change, tune=tune, accept_cost=accept_cost)
    except SysmonRulesError as exc:
        if exc.location.path:  # a config's error names its file:line; an input's error names its source
            fail_with(exc, config)
        raise
    except KeyboardInterrupt:  # what was asked and how far it got; the page is written whole or not at all
        parts = [f"{len(events)} event source(s)" if events else "", f"--compare {compare}" if compare else "",
                 f"{len(sigma)} Sigma path(s)" if sigma else ""]
        asked = ", ".join(p for p in parts if p)
        raise Interrupted(f"interrupted (Ctrl-C) while building the report on {config}"
                          + (f" with {asked}" if asked else "") + f" ({len(warned)} warning(s) so far); "
                          f"nothing written to {output}") from None
    try:
        write_output(output, page)
    except SysmonRulesError as exc:
        fail_with(exc, output)
    click.echo(f"wrote {output} ({len(page.encode('utf-8')) / 1e6:.2f} MB)", err=True)
