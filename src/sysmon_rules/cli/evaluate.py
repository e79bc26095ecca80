"""`sysmon-rules evaluate CONFIG SOURCE...`: replay logged events through a config and report.

SOURCE is an .evtx file, rendered event XML, JSON lines (gzip or not, ``-`` for stdin) or
Parquet, a folder or .zip of them, or an fsspec URL; the format is recognised by content unless
``--collector`` names one. Events are decided in record batches (``sysmon_rules.replay``),
event by event with ``--explain``, and on a Dask cluster with ``--scheduler``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Any, NoReturn

import click

from ..errors import FileAccessError, SysmonRulesError
from ..inputfiles import NoInputError
from .messages import InputFile, Interrupted, fail, fail_with

# Imported where used: reading starts (on its own thread) before the engine and the config
# loader are imported, and rich only when something is printed with it.
if TYPE_CHECKING:
    import pyarrow as pa
    from rich.console import Console
    from rich.table import Table

    from ..collectors import EventStream
    from ..engine import Decision, Evaluator
    from ..events import Event
    from ..replay import ReadAhead
    from ..report import Comparison, ReadReport, Summary

TOP_NAMES = 20


def load_evaluator(path: str, platform: str, environment: dict[str, str] | None = None,
                   sysmon_compatible: bool = False) -> Evaluator:
    """An XML config or a rule blob (raw, .reg, hex, base64), told apart by content."""
    from ..blob.textforms import MAX_BLOB_INPUT
    from ..fileio import read_input
    from ..replay import evaluator_from
    from ..schema.model import as_platform

    try:
        data = read_input(path, limit=MAX_BLOB_INPUT, stdin=False)  # bounded: /dev/zero, sparse files
        if len(data) > MAX_BLOB_INPUT:
            fail(path, f"more than {MAX_BLOB_INPUT >> 20} MiB: too large to be a config or a rule blob")
        return evaluator_from(data, path=path, platform=as_platform(platform), environment=environment,
                              sysmon_compatible=sysmon_compatible)
    except SysmonRulesError as exc:
        fail_with(exc, path)


def _origin(event: Event) -> dict[str, object]:
    o = event.origin
    return {"source": o.source, "record": o.record, "line": o.line} if o is not None else {}


def _line(event: Event, decision: Decision, other: Decision | None, explain: str | None) -> dict[str, object]:
    row: dict[str, object] = {"decision": decision.decision, "rule_name": decision.rule_name,
                              "event_id": event.event_id, **_origin(event), "rule_set": _set_location(decision)}
    trace = decision.trace
    if trace is not None and trace.matched_filter is not None and trace.matched_filter.location is not None:
        row["filter"] = str(trace.matched_filter.location)  # only the exact walk (--explain) knows it
    if other is not None:
        row["compare"] = {"decision": other.decision, "rule_name": other.rule_name}
    if explain and trace is not None:
        row["explanation"] = trace.render() if explain == "full" else trace.summary()
    return row


def _set_location(decision: Decision) -> str | None:
    """Where the set that decided is written (``config.xml:7:7``), None when no set matched."""
    rule_set = decision.rule_set
    return str(rule_set.location) if rule_set is not None and rule_set.location is not None else None


class _Stderr:
    """The rich console on stderr for warnings and the progress display, made on first use."""

    def __init__(self) -> None:
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=True)
        return self._console

    def warn(self, message: str) -> None:
        self.console.print(f"warning: {message}", markup=False, highlight=False, soft_wrap=True)


@contextmanager
def _progress(enabled: bool, err: _Stderr) -> Iterator[Callable[[int], None]]:
    """A live count of events read, on a terminal only (stderr), gone when done."""
    if not enabled:
        yield lambda count: None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = err.console
    with Progress(SpinnerColumn(), TextColumn("{task.completed:,} events"), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("reading", total=None)
        yield lambda count: progress.advance(task, count)


def _table(title: str, columns: list[str], rows: list[list[object]]) -> Table:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i == 0 and column != "event id" else "right")
    for row in rows:
        table.add_row(*(str(v) for v in row))
    return table


def print_summary(console: Console, summary: Summary, evaluator: Evaluator, stream: ReadReport) -> None:
    stats = stream.stats
    other = sum(stats.other.values())
    console.print(f"events read: {summary.events:,}  included: {summary.included:,}  "
                  f"excluded: {summary.excluded:,}  skipped (damaged): {stats.skipped:,}  "
                  f"other records: {other:,}  files: {len(stream.files):,}"
                  + (f"  files not recognised (left out): {len(stream.unread):,}" if stream.unread else ""))
    console.print(_table("Decisions per event id", ["event id", "events", "included", "excluded"],
                         [[k, sum(c.values()), c["include"], c["exclude"]] for k, c in sorted(summary.by_id.items())]))
    console.print(_table(f"Top RuleNames (of {len(summary.rule_names):,})",
                         ["RuleName", "events", "include", "exclude"],
                         [[n, c, summary.name_decisions[n]["include"], summary.name_decisions[n]["exclude"]]
                          for n, c in summary.top_names(TOP_NAMES)]))
    never = summary.never_matched(evaluator)
    console.print(_table(f"Rule sets that never matched ({len(never):,} of {len(evaluator.table.rule_sets):,})",
                         ["where", "event id", "onmatch", "filters"],
                         [[s.location or f"set {i}", s.event_id, s.onmatch, len(s.filters)] for i, s in never]))


def print_volume(console: Console, volume: dict[str, Any], title: str) -> None:
    """The volume view (see report.Summary.as_dict's "volume"): noisiest first, budget breaches."""
    budget = volume["budget"]
    console.print(f"{title}: {volume['days']} day(s) {volume['first_day'] or ''}..{volume['last_day'] or ''}, "
                  f"{volume['hosts']} host(s), without UtcTime: {volume['unknown_time']:,}, "
                  f"without host: {volume['unknown_host']:,}"
                  + (f", budget {budget:,}/host/day" if budget is not None else ""))
    for kind, key, label in (("rule_names", "rule_name", "RuleName"), ("event_types", "event_id", "event id")):
        rows = [r for r in volume[kind] if r["logged"]][:TOP_NAMES]
        console.print(_table(f"Noisiest by {label} (logged events)",
                             [label, "logged", "hosts", "peak host-day", "host-days over budget"],
                             [[r[key] or "(none)", r["logged"], r["hosts"], _peak(r["peak"]),
                               r["host_days_over_budget"]] for r in rows]))
    if budget is not None:
        over = volume["over_budget"]
        console.print(_table(f"Over budget ({len(over):,})", ["event id / RuleName", "day", "host", "logged"],
                             [[r[r["kind"]], r["day"], r["host"] or "-", r["logged"]] for r in over[:TOP_NAMES]]))


def _peak(peak: object) -> str:
    if not isinstance(peak, dict):
        return "-"
    return f"{peak['logged']:,} ({peak['host'] or '-'}, {peak['day']})"


def print_comparison(console: Console, comparison: Comparison, names: tuple[str, str]) -> None:
    console.print(f"A = {names[0]}\nB = {names[1]}\n{comparison.changed:,} of {comparison.events:,} events "
                  "change decision or RuleName")
    console.print(_table("Per event id", ["event id", "events", "included A", "included B", "now included",
                                          "now excluded"], [list(r.values()) for r in comparison.id_rows()]))
    rows = comparison.name_rows()
    console.print(_table(f"RuleNames whose event count changes ({len(rows):,})", ["RuleName", "A", "B", "delta"],
                         [[r["rule_name"], r["events_a"], r["events_b"], f"{int(str(r['delta'])):+d}"]
                          for r in rows]))


def _environment(pairs: tuple[str, ...]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"expected NAME=VALUE, got {pair!r}", param_hint="--env")
        env[name] = value
    return env


def _run(config: str, sources: tuple[str, ...], collector: str | None, fmt: str, explain: str | None,
         compare: str | None, strict: bool, platform: str, env: dict[str, str], budget: int | None = None,
         output: str | None = None, scheduler: str | None = None, sysmon_compatible: bool = False) -> None:
    if fmt == "parquet" and (output is None or output == "-"):
        raise click.UsageError("--format parquet needs -o OUT.parquet (a file)")
    if scheduler is not None:
        if explain:
            raise click.UsageError("--explain decides event by event in this process; leave out --scheduler")
        _run_distributed(config, sources, collector, fmt, compare, strict, platform, env, budget, output, scheduler,
                         sysmon_compatible)
        return
    err = _Stderr()
    warn = err.warn
    stream, ahead, unknown = _reading(sources, collector, strict, warn, batches=not explain)
    with ahead or nullcontext():  # a run that stops early stops the reading too
        evaluator = load_evaluator(config, platform, env, sysmon_compatible)
        other = load_evaluator(compare, platform, env, sysmon_compatible) if compare else None
        if unknown is not None:
            raise unknown
        assert stream is not None
        from ..report import Comparison, Summary

        summary, comparison = Summary(), Comparison()
        compared = comparison if other is not None else None
        names = (config, compare or "")

        def report() -> Iterator[str]:  # the decisions as they are made, then the summary: one output
            with _progress(fmt == "summary" and sys.stderr.isatty(), err) as tick:
                if explain:
                    yield from _replay_events(stream, evaluator, other, fmt, explain, tick, summary, comparison)
                elif ahead is None:  # read by forked workers
                    yield from _replay_batches(stream.batches(), evaluator, other, fmt, output, tick, summary,
                                               comparison)
                else:  # the classifiers' lookups are built while the first batch is still being read
                    ahead.meanwhile(evaluator.prepare_batches())
                    yield from _replay_batches(ahead, evaluator, other, fmt, output, tick, summary, comparison)
            yield _finish(fmt, summary, compared, evaluator, stream, names, budget, output)

        try:
            _emit(report(), fmt, output)
        except KeyboardInterrupt:  # Ctrl-C: what was decided so far is still worth showing
            _interrupted(fmt, output, summary, compared, evaluator, stream, names, budget, warn)


def _emit(text: Iterable[str], fmt: str, output: str | None) -> None:
    """Every format but parquet goes to ``-o`` (atomically: whole or not at all) or standard output."""
    from ..fileio import write_output

    if fmt == "parquet":
        for _ in text:  # the events went to the Parquet file; the rest is said on stderr
            pass
        return
    try:
        # a lone surrogate (from a damaged record) is written escaped, never a crash
        write_output(output or "-", (chunk.encode("utf-8", "backslashreplace") for chunk in text))
    except FileAccessError as exc:
        if exc.path != output:  # an input's error, raised while its events were being decided
            raise
        fail_with(exc, output)


def _interrupted(fmt: str, output: str | None, summary: Summary, comparison: Comparison | None,
                 evaluator: Evaluator, stream: ReadReport, names: tuple[str, str], budget: int | None,
                 warn: Callable[[str], None]) -> NoReturn:
    """Ctrl-C: the partial summary on standard output (a file named by -o is left as it was)."""
    sys.stdout.flush()
    kept = f"; nothing written to {output}" if output not in (None, "-") else ""
    warn(f"interrupted after {summary.events:,} events{kept}: the summary below is partial")
    if fmt in ("summary", "json"):
        click.echo(_finish(fmt, summary, comparison, evaluator, stream, names, budget, None), nl=False)
    raise Interrupted(f"interrupted (Ctrl-C) after {summary.events:,} events{kept}")


def _reading(sources: tuple[str, ...], collector: str | None, strict: bool, warn: Callable[[str], None], *,
             batches: bool) -> tuple[EventStream | None, ReadAhead | None, SysmonRulesError | None]:
    """The event stream and, for ``batches``, its batches being read on a thread from now on,
    while the configs load (``replay.ReadAhead``: what reading says and raises still comes out
    in reading order), unless forked workers will read them. A bad ``--collector`` is
    returned, to be told after the configs' errors."""
    from ..collectors import EventStream
    from ..replay import ReadAhead

    ahead = ReadAhead(warn) if batches else None
    try:
        stream = EventStream(sources, collector=collector, strict=strict,
                             warn=ahead.warn if ahead is not None else warn)
    except SysmonRulesError as exc:
        return None, None, exc
    if ahead is not None and stream.forks():  # worker processes read in parallel (a thread would stop the fork)
        stream.warn, ahead = warn, None
    if ahead is not None:
        ahead.start(stream.batches())
    return stream, ahead, None


def _replay_events(stream: EventStream, evaluator: Evaluator, other: Evaluator | None, fmt: str, explain: str,
                   tick: Callable[[int], None], summary: Summary, comparison: Comparison) -> Iterator[str]:
    """Event by event, with every decision explained (--explain: concise; --explain=full: every set)."""
    for event in stream:
        decision = evaluator.explain(event)
        summary.add(event, decision)
        theirs = other.decide(event) if other is not None else None
        if theirs is not None:
            comparison.add(event, decision, theirs)
        if fmt == "jsonl":
            yield json.dumps(_line(event, decision, theirs, explain), ensure_ascii=False) + "\n"
        elif fmt == "summary" and decision.trace is not None:
            trace = decision.trace.render() if explain == "full" else decision.trace.summary()
            yield f"{event.origin or '-'}\n{trace}\n"
        tick(1)


def _replay_batches(batches: Iterable[pa.RecordBatch], evaluator: Evaluator, other: Evaluator | None, fmt: str,
                    output: str | None, tick: Callable[[int], None], summary: Summary,
                    comparison: Comparison) -> Iterator[str]:
    """In record batches, each decided once per config (see sysmon_rules.replay)."""
    from ..collectors.parquet import write_parquet
    from ..replay import decided, empty, jsonl, set_locations, with_decisions

    done = decided(batches, evaluator, summary, other, comparison if other is not None else None, tick)
    if fmt == "parquet":
        assert output is not None
        write_parquet(output, (with_decisions(*d) for d in done), with_decisions(*empty(evaluator, other)).schema)
    elif fmt == "jsonl":
        locations = set_locations(evaluator)
        for batch, result, theirs in done:
            yield jsonl(batch, result, theirs, locations)
    else:
        for _ in done:
            pass


def _run_distributed(config: str, sources: tuple[str, ...], collector: str | None, fmt: str, compare: str | None,
                     strict: bool, platform: str, env: dict[str, str], budget: int | None, output: str | None,
                     scheduler: str, sysmon_compatible: bool = False) -> None:
    """The same replay on a Dask cluster (sysmon_rules.distributed), same outputs and report."""
    from ..collectors.parquet import write_parquet
    from ..distributed import evaluate, parse_scheduler
    from ..replay import empty, with_decisions

    try:
        parse_scheduler(scheduler)  # a bad spec is a usage error before any config is read
    except SysmonRulesError as exc:
        reason = str(exc).removeprefix(f"--scheduler {scheduler!r}: ")
        raise click.BadParameter(reason, param_hint="--scheduler") from None
    load_evaluator(config, platform, env, sysmon_compatible)  # and a bad config the usual one-line error
    if compare:
        load_evaluator(compare, platform, env, sysmon_compatible)
    warn = _Stderr().warn
    options: dict[str, Any] = {"compare": compare, "scheduler": scheduler, "collector": collector, "strict": strict,
                               "platform": platform, "environment": env, "warn": warn,
                               "sysmon_compatible": sysmon_compatible}
    if fmt == "parquet":
        assert output is not None
        tables: list[Any] = []  # the partitions' rows, in input order, until the file is written
        done = evaluate(config, sources, output="parquet", write=tables.append, **options)
        columns = with_decisions(*empty(done.evaluator, done.other)).schema
        write_parquet(output, (b for t in tables for b in t.to_batches()), columns)
        _finish(fmt, done.summary, done.comparison, done.evaluator, done, (config, compare or ""), budget, output)
        return
    # standard output: the decisions as they come; a file: kept in input order until it is written whole
    lines: list[str] = []

    def write(text: str) -> None:
        if output in (None, "-"):
            sys.stdout.write(text)
        else:
            lines.append(text)

    done = evaluate(config, sources, output="jsonl" if fmt == "jsonl" else None,
                    write=write if fmt == "jsonl" else None, **options)
    lines.append(_finish(fmt, done.summary, done.comparison, done.evaluator, done, (config, compare or ""), budget,
                         output))
    _emit(lines, fmt, output)


def _finish(fmt: str, summary: Summary, comparison: Comparison | None, evaluator: Evaluator,
            stream: ReadReport, names: tuple[str, str], budget: int | None, output: str | None) -> str:
    """The summary (json or tables) as text; what was skipped or left out is said on stderr."""
    text = ""
    if fmt == "json":
        from ..report import replay_document

        doc = replay_document(summary, evaluator, stream, comparison, names[1], budget=budget)
        text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    elif fmt == "summary":
        import io

        from rich.console import Console

        terminal = output in (None, "-") and sys.stdout.isatty()
        buffer = io.StringIO()
        console = Console(file=buffer, width=None if terminal else 120, force_terminal=terminal)
        print_summary(console, summary, evaluator, stream)
        print_volume(console, summary.volume.as_dict(budget=budget), "Volume")
        if comparison is not None:
            print_comparison(console, comparison, names)
            print_volume(console, comparison.volume.as_dict(budget=budget), "Volume with B")
        text = buffer.getvalue()
    elif stream.stats.skipped:
        click.echo(f"warning: {stream.stats.skipped} damaged record(s) skipped", err=True)
    for name in stream.unread:  # named, not only counted: a mistyped log should be noticed
        click.echo(f"warning: {name}: not recognised by any collector, left out", err=True)
    if not stream.files:  # nothing was read: never an all-clear
        left = f" ({len(stream.unread)} file(s) not recognised by any collector)" if stream.unread else ""
        raise NoInputError(f"no event file was read{left}")
    return text


@click.command("evaluate")
@click.argument("config", type=InputFile("config"))
@click.argument("sources", nargs=-1, required=True, type=click.Path(allow_dash=True))
@click.option("--collector", default=None, help="Read SOURCE with this collector instead of recognising it.")
@click.option("--format", "fmt", type=click.Choice(["summary", "jsonl", "json", "parquet"]), default="summary",
              show_default=True, help="summary: tables; jsonl: one decision per event; json: the summary as JSON; "
              "parquet: the events with their decisions, to -o OUT.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help="Write the output here (atomically; - for standard output); --format parquet needs a file.")
@click.option("--explain", type=click.Choice(["short", "full"]), is_flag=False, flag_value="short", default=None,
              help="Show how each event was decided: the deciding set and filter (--explain), or every rule set "
                   "and filter tried (--explain=full).")
@click.option("--compare", "compare", type=InputFile("config"), default=None,
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
    _run(config, sources, collector, fmt, explain, compare, strict, platform, _environment(env), budget, output,
         scheduler, sysmon_compatible)
