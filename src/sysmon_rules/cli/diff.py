"""`sysmon-rules diff OLD NEW`: what a config change does to events, with proof.

Exit 0 when proven equivalent, 1 when behaviour differs (a witness shows it), 3 when neither
could be proven; 2 for a usage error or an input that cannot be read (like diff(1)'s "trouble").
"""

from __future__ import annotations

import json
import time
from typing import NoReturn

import click

from ..diffing import diff
from ..diffing.render import to_markdown, to_text
from ..errors import SysmonRulesError
from ..fileio import write_output
from .messages import EXIT_INTERRUPTED, EXIT_TROUBLE, InputFile, Interrupted, echo_diagnostics

_QUIET_SECONDS = 1.0  # progress lines start once deciding takes this long


def _fail(exc: SysmonRulesError, path: str) -> NoReturn:
    echo_diagnostics(exc.as_diagnostics(), path, err=True)
    raise SystemExit(EXIT_TROUBLE)


@click.command("diff")
@click.argument("old", type=InputFile("config"))
@click.argument("new", type=InputFile("config"))
@click.option("--events", "events", multiple=True, type=click.Path(allow_dash=True),
              help="Replay these events (EVTX, event XML, JSON lines; files or folders) through both.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text",
              show_default=True, help="markdown is made for a pull-request comment.")
@click.option("--ignore-rule-names", is_flag=True, help="Compare include/exclude decisions only.")
@click.option("--platform", type=click.Choice(["windows", "linux"]), default="windows", show_default=True)
@click.option("--strict", is_flag=True, help="A damaged event record is an error (exit 2), not skipped and counted.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help="Write the report here (atomically; - for standard output).")
@click.option("--time-budget", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Event ids not decided by then are unknown (with that reason).")
@click.option("--progress/--no-progress", default=None,
              help="One line per event id on stderr (default: when deciding takes over a second).")
def command(old: str, new: str, events: tuple[str, ...], fmt: str, ignore_rule_names: bool, platform: str,
            strict: bool, output: str | None, time_budget: float | None, progress: bool | None) -> None:
    """Compare OLD and NEW (XML config, blob, .reg, hex/base64 or `sysmon -c` text) by behaviour.

    Exit 0: proven equivalent; 1: behaviour differs; 2: usage or unreadable input; 3: unknown;
    130: interrupted (Ctrl-C), after printing what was decided.
    """
    started = time.monotonic()
    skipped = []

    def tell(line: str) -> None:
        if progress or (progress is None and time.monotonic() - started > _QUIET_SECONDS):
            click.echo(line, err=True)

    def warn(message: str) -> None:
        skipped.append(message)
        click.echo(f"warning: {message}", err=True)

    try:
        result = diff(old, new, events=list(events) if events else None, ignore_rule_names=ignore_rule_names,
                      platform="linux" if platform == "linux" else "windows", strict=strict, warn=warn,
                      time_budget=time_budget, progress=tell)
    except SysmonRulesError as exc:
        _fail(exc, "sysmon-rules diff")
    except KeyboardInterrupt:  # before deciding (loading, replaying): what was asked, in the one line
        replay = f", replaying {', '.join(events)} ({len(skipped)} warning(s) so far)" if events else ""
        raise Interrupted(f"interrupted (Ctrl-C) while comparing {old} and {new}{replay}; no verdict, "
                          "nothing written") from None
    if fmt == "json":
        text = json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n"
    elif fmt == "markdown":
        text = to_markdown(result)
    else:
        text = to_text(result)
    try:
        write_output(output or "-", text)
    except SysmonRulesError as exc:  # a FileAccessError names the output itself
        _fail(exc, output or "-")
    if result.interrupted:
        click.echo("warning: interrupted (Ctrl-C): the report holds what was decided before", err=True)
        raise SystemExit(EXIT_INTERRUPTED)
    raise SystemExit(result.exit_code)
