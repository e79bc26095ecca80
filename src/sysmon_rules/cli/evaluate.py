"""`sysmon-rules evaluate CONFIG EVENTS...`: Sysmon's decision for every event, in input order."""

from __future__ import annotations

import gzip
import io
import json
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Literal

import click

from ..errors import SysmonRulesError
from ..events import Event, Origin


class EventLineError(SysmonRulesError):
    """A line of an events file that is not an event."""


@contextmanager
def _open_text(source: str) -> Iterator[IO[str]]:
    """Text lines of a file or stdin ("-"), gunzipped when the file is gzip."""
    if source == "-":
        yield io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8")
        return
    with Path(source).open("rb") as raw:
        zipped = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        binary = gzip.GzipFile(fileobj=raw) if zipped else raw
        yield io.TextIOWrapper(binary, encoding="utf-8")


def _event(record: Any, where: str) -> Event:
    if not isinstance(record, dict):
        raise EventLineError(f"{where}: expected a JSON object")
    event_id = record.get("EventID", record.get("event_id"))
    fields = record.get("fields", {})
    if isinstance(event_id, str) and event_id.isdigit():
        event_id = int(event_id)
    if not isinstance(event_id, int) or isinstance(event_id, bool):
        raise EventLineError(f'{where}: "EventID" must be an integer, got {event_id!r}')
    if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
        raise EventLineError(f'{where}: "fields" must be an object of strings')
    return Event(event_id, fields)


def read_events(source: str) -> Iterator[Event]:
    """Canonical JSON lines ``{"EventID": 1, "fields": {...}}``; blank lines are skipped."""
    with _open_text(source) as stream:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            where = f"{source}:{number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise EventLineError(f"{where}: not JSON ({exc.msg} at column {exc.colno})") from exc
            event = _event(record, where)
            yield Event(event.event_id, event.fields, Origin(source, line=number))


def _load_evaluator(config: str, environment: dict[str, str], platform: Literal["windows", "linux"]) -> Any:
    from ..engine import Evaluator
    from ..xml.reader import load

    data = Path(config).read_bytes()
    if data.lstrip()[:1] == b"<" or data[:3] == b"\xef\xbb\xbf" or data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return Evaluator(load(data), environment=environment or None, platform=platform)
    from ..blob.inputs import read_blob

    return Evaluator(read_blob(data), environment=environment or None, platform=platform)


def _environment(pairs: tuple[str, ...]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"expected NAME=VALUE, got {pair!r}", param_hint="--env")
        env[name] = value
    return env


@click.command("evaluate")
@click.argument("config", type=click.Path(dir_okay=False, exists=True))
@click.argument("sources", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["jsonl", "summary"]), default="summary", show_default=True)
@click.option("--explain", is_flag=True, help="Add the reason: every rule set and filter tried, in order.")
@click.option("--platform", type=click.Choice(["windows", "linux"]), default="windows", show_default=True)
@click.option("--env", "env", multiple=True, metavar="NAME=VALUE",
              help="A session environment variable for %VAR% expansion in rule values (Windows).")
def command(config: str, sources: tuple[str, ...], fmt: str, explain: bool, platform: str,
            env: tuple[str, ...]) -> None:
    """Decide, as Sysmon would, whether each event in SOURCES (JSON lines, '-' for stdin, gzip ok) is logged."""
    evaluator = _load_evaluator(config, _environment(env), "linux" if platform == "linux" else "windows")
    out = sys.stdout
    counts: Counter[tuple[int, str]] = Counter()
    names: Counter[str] = Counter()
    for source in sources:
        for event in read_events(source):
            decision = evaluator.explain(event) if explain else evaluator.decide(event)
            if fmt == "summary":
                counts[(event.event_id, decision.decision)] += 1
                if decision.rule_name:
                    names[decision.rule_name] += 1
                continue
            record: dict[str, Any] = {"decision": decision.decision, "rule_name": decision.rule_name,
                                      "event_id": event.event_id, "source": source,
                                      "line": event.origin.line if event.origin else None}
            if explain:
                record["explanation"] = str(decision.trace)
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    if fmt == "summary":
        _summary(counts, names)


def _summary(counts: Counter[tuple[int, str]], names: Counter[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Decisions per event id")
    for column in ("event id", "included", "excluded"):
        table.add_column(column, justify="right")
    for event_id in sorted({i for i, _ in counts}):
        table.add_row(str(event_id), str(counts[(event_id, "include")]), str(counts[(event_id, "exclude")]))
    console = Console()
    console.print(table)
    top = Table(title="Top RuleNames")
    top.add_column("count", justify="right")
    top.add_column("RuleName")
    for name, count in names.most_common(15):
        top.add_row(str(count), name)
    console.print(top)
