"""`sysmon-rules evaluate CONFIG SOURCE...`: replay logged events through a config and report.

SOURCE is an .evtx file, rendered event XML, JSON lines (gzip or not, ``-`` for stdin) or
Parquet, a folder or .zip of them, or an fsspec URL; the format is recognised by content unless
``--collector`` names one. The replay is the library's (``sysmon_rules.replay``); this command
parses the options, shows progress and writes the result to standard output or, whole or not at
all, to ``-o FILE`` (every format).
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO, TYPE_CHECKING

import click

from ..errors import SysmonRulesError
from ..exitcodes import Interrupted as CommandInterrupted
from ..fileio import json_text, write_output
from ..inputfiles import NoInputError
from ..replaying import ConfigLoadError, Interrupted, JsonLines, ParquetFile, ReplayResult, Traces, replay
from .console import Stderr, progress
from .messages import InputFile, fail_with

_SPOOL = 32 << 20  # decisions for -o FILE stay in memory up to this, then in a temporary file

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


def _sink(fmt: str, explain: str | None, output: str | None, out: IO[str]) -> Sink | None:
    if fmt == "parquet":
        if output is None or output == "-":
            raise click.UsageError("--format parquet needs -o OUT.parquet (a file)")
        return None if explain else ParquetFile(output)  # explained events are not written as rows
    if fmt == "jsonl":
        return JsonLines(out.write)
    return Traces(out.write) if fmt == "summary" and explain else None


def _to_stdout(output: str | None) -> bool:
    return output in (None, "-")


def _spool(output: str | None) -> IO[str]:
    """Where the decisions go as they are made: standard output, or a spool until -o FILE is written whole."""
    if _to_stdout(output):
        return sys.stdout
    # a lone surrogate (from a damaged record) is written escaped, never a crash
    return tempfile.SpooledTemporaryFile(_SPOOL, mode="w+", encoding="utf-8", errors="backslashreplace")


def _chunks(spool: IO[str]) -> Iterator[bytes]:
    spool.seek(0)
    while chunk := spool.read(1 << 20):
        yield chunk.encode("utf-8", "backslashreplace")


def _write(output: str | None, spool: IO[str], text: str) -> None:
    """The spooled decisions and then ``text`` to -o FILE at once, or ``text`` after them on standard output."""
    parts: Iterable[bytes] = [text.encode("utf-8", "backslashreplace")]
    if not _to_stdout(output):
        parts = _chain(_chunks(spool), parts)
    try:
        write_output(output or "-", parts)
    except SysmonRulesError as exc:  # a FileAccessError names the output itself
        fail_with(exc, output or "-")


def _chain(first: Iterator[bytes], then: Iterable[bytes]) -> Iterator[bytes]:
    yield from first
    yield from then


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


def _finish(fmt: str, result: ReplayResult, budget: int | None, output: str | None) -> str:
    """The summary as text (json or tables); what was skipped or left out is said on stderr."""
    text = ""
    if fmt == "json":
        text = json_text(result.to_dict(budget=budget), indent=2) + "\n"
    elif fmt == "summary":
        import io

        from rich.console import Console

        from ..replaying.render import print_replay

        terminal = _to_stdout(output) and sys.stdout.isatty()
        buffer = io.StringIO()
        print_replay(Console(file=buffer, width=None if terminal else 120, force_terminal=terminal), result,
                     budget=budget)
        text = buffer.getvalue()
    elif result.stats.skipped:
        click.echo(f"warning: {result.stats.skipped} damaged record(s) skipped", err=True)
    for name in result.unread:  # named, not only counted: a mistyped log should be noticed
        click.echo(f"warning: {name}: not recognised by any collector, left out", err=True)
    return text


def _nothing_read(result: ReplayResult) -> None:
    """No event file was read (every file found was of another kind): never an all-clear."""
    if not result.files:
        left = f" ({len(result.unread)} file(s) not recognised by any collector)" if result.unread else ""
        raise NoInputError(f"no event file was read{left}")


@click.command("evaluate")
@click.argument("config", type=InputFile("config"))
@click.argument("sources", nargs=-1, required=True, type=click.Path(allow_dash=True))
@click.option("--collector", default=None, help="Read SOURCE with this collector instead of recognising it.")
@click.option("--format", "fmt", type=click.Choice(["summary", "jsonl", "json", "parquet"]), default="summary",
              show_default=True, help="summary: tables; jsonl: one decision per event; json: the summary as JSON; "
              "parquet: the events with their decisions, to -o OUT.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help="Write the output here, every format (atomically; - for standard output); parquet needs a file.")
@click.option("--explain", type=click.Choice(["short", "full"]), is_flag=False, flag_value="short", default=None,
              help="Show how each event was decided: the deciding set and filter (--explain), or every rule set "
                   "and filter tried (--explain=full).")
@click.option("--compare", "compare", type=InputFile("config"), default=None,
              help="Also decide with this config and show what changes.")
@click.option("--strict", is_flag=True, help="A damaged record is an error (exit 2) instead of a warning.")
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
    A bad input is one error line and exit 2 (raised as SysmonRulesError for `run` to print).
    """
    environment = _environment(env)
    spool = _spool(output)
    sink = _sink(fmt, explain, output, spool)
    _check_scheduler(scheduler, explain)
    err = Stderr()
    try:
        with progress(fmt == "summary" and scheduler is None and sys.stderr.isatty(), err) as tick:
            result = replay(config, sources, compare=compare, collector=collector, strict=strict, platform=platform,
                            environment=environment, sysmon_compatible=sysmon_compatible, sink=sink, progress=tick,
                            scheduler=scheduler, explain=explain, warn=err.warn)
    except ConfigLoadError as exc:
        fail_with(exc.cause, exc.path)
    except Interrupted as stop:  # Ctrl-C: what was decided so far is still worth showing, on standard output
        sys.stdout.flush()
        events = stop.result.summary.events
        kept = "" if _to_stdout(output) else f"; nothing written to {output}"
        err.warn(f"interrupted after {events:,} events{kept}: the summary below is partial")
        click.echo(_finish(fmt, stop.result, budget, None), nl=False)
        raise CommandInterrupted(f"interrupted (Ctrl-C) after {events:,} events{kept}") from None
    text = _finish(fmt, result, budget, output)
    _nothing_read(result)
    if fmt != "parquet":
        _write(output, spool, text)
