"""`sysmon-rules evaluate CONFIG SOURCE...`: replay logged events through a config and report.

SOURCE is an .evtx file, rendered event XML, JSON lines (gzip or not, ``-`` for stdin) or
Parquet, a folder or .zip of them, or an fsspec URL; the format is recognised by content unless
``--collector`` names one. The replay is the library's (``sysmon_rules.replay``); this command
parses the options, shows progress and prints the result.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from ..errors import SysmonRulesError
from ..fileio import json_text
from ..replaying import ConfigLoadError, Interrupted, JsonLines, ParquetFile, ReplayResult, Traces, replay
from .console import Stderr, progress
from .messages import fail_with

if TYPE_CHECKING:
    from ..replaying import Sink


def _environment(pairs: tuple[str, ...]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"expected NAME=VALUE, got {pair!r}", param_hint="--env")
        env[name] = value
    return env


def _sink(fmt: str, explain: str | None, output: str | None) -> Sink | None:
    if fmt == "parquet":
        if output is None or output == "-":
            raise click.UsageError("--format parquet needs -o OUT.parquet (a file)")
        return None if explain else ParquetFile(output)  # explained events are not written as rows
    if fmt == "jsonl":
        return JsonLines(sys.stdout.write)
    return Traces(sys.stdout.write) if fmt == "summary" and explain else None


def _check_scheduler(scheduler: str | None, explain: str | None) -> None:
    """A bad --scheduler is a usage error before any config is read."""
    if scheduler is None:
        return
    if explain:
        raise click.UsageError("--explain decides event by event in this process; leave out --scheduler")
    from ..replaying import parse_scheduler

    try:
        parse_scheduler(scheduler)
    except SysmonRulesError as exc:
        raise click.BadParameter(str(exc).removeprefix(f"--scheduler {scheduler!r}: "),
                                 param_hint="--scheduler") from None


def _finish(fmt: str, result: ReplayResult, budget: int | None) -> None:
    if fmt == "json":
        click.echo(json_text(result.to_dict(budget=budget), indent=2))
    elif fmt == "summary":
        from rich.console import Console

        from ..replaying.render import print_replay

        print_replay(Console(width=None if sys.stdout.isatty() else 120), result, budget=budget)
    elif result.stats.skipped:
        click.echo(f"warning: {result.stats.skipped} damaged record(s) skipped", err=True)
    for name in result.unread:  # named, not only counted: a mistyped log should be noticed
        click.echo(f"warning: {name}: not recognised by any collector, left out", err=True)


@click.command("evaluate")
@click.argument("config", type=click.Path(dir_okay=False))
@click.argument("sources", nargs=-1, required=True, type=click.Path(allow_dash=True))
@click.option("--collector", default=None, help="Read SOURCE with this collector instead of recognising it.")
@click.option("--format", "fmt", type=click.Choice(["summary", "jsonl", "json", "parquet"]), default="summary",
              show_default=True, help="summary: tables; jsonl: one decision per event; json: the summary as JSON; "
              "parquet: the events with their decisions, to -o OUT.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the --format parquet output here (atomically).")
@click.option("--explain", type=click.Choice(["short", "full"]), is_flag=False, flag_value="short", default=None,
              help="Show how each event was decided: the deciding set and filter (--explain), or every rule set "
                   "and filter tried (--explain=full).")
@click.option("--compare", "compare", type=click.Path(dir_okay=False), default=None,
              help="Also decide with this config and show what changes.")
@click.option("--strict", is_flag=True, help="A damaged record is an error (exit 1) instead of a warning.")
@click.option("--platform", type=click.Choice(["windows", "linux"]), default="windows", show_default=True)
@click.option("--env", "env", multiple=True, metavar="NAME=VALUE",
              help="A session environment variable for %VAR% expansion in rule values (Windows).")
@click.option("--budget", type=click.IntRange(min=0), default=None, metavar="N",
              help="Flag event types and RuleNames logging more than N events per host per day.")
@click.option("--scheduler", default=None, metavar="local[:N]|tcp://HOST:PORT",
              help="Replay on a Dask cluster: N local worker processes, or a running dask scheduler.")
@click.option("--sysmon-compatible", is_flag=True, help="Load CONFIG as Sysmon does: drop what it silently drops.")
def command(config: str, sources: tuple[str, ...], collector: str | None, fmt: str, output: str | None,
            explain: str | None, compare: str | None, strict: bool, platform: str, env: tuple[str, ...],
            budget: int | None, scheduler: str | None, sysmon_compatible: bool) -> None:
    """Decide every Sysmon event in SOURCE... with CONFIG (XML or rule blob) and report.

    SOURCE: .evtx, event XML, JSON lines (gzip or not) or Parquet, a folder or .zip of them, an
    fsspec URL (s3://bucket/logs/), or - for stdin.
    A bad input is one error line and exit 1 (raised as SysmonRulesError for `run` to print).
    """
    environment = _environment(env)
    sink = _sink(fmt, explain, output)
    _check_scheduler(scheduler, explain)
    err = Stderr()
    try:
        with progress(fmt == "summary" and scheduler is None and sys.stderr.isatty(), err) as tick:
            result = replay(config, sources, compare=compare, collector=collector, strict=strict, platform=platform,
                            environment=environment, sysmon_compatible=sysmon_compatible, sink=sink, progress=tick,
                            scheduler=scheduler, explain=explain, warn=err.warn)
    except ConfigLoadError as exc:
        fail_with(exc.cause, exc.path)
    except Interrupted as stop:  # Ctrl-C: what was decided so far is still worth showing
        sys.stdout.flush()
        err.warn(f"interrupted after {stop.result.summary.events:,} events: the summary below is partial")
        _finish(fmt, stop.result, budget)
        raise SystemExit(130) from None
    _finish(fmt, result, budget)
