"""`sysmon-rules dump BLOB`: the rules listing `sysmon -c` prints, or the same as JSON."""

from __future__ import annotations

import json

import click

from ..blob.dump import dump_json, dump_text
from ..errors import SysmonRulesError
from ..schema.model import as_platform
from .decompile import read_input
from .messages import fail_with


@click.command("dump")
@click.argument("blob", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--platform", type=click.Choice(["windows", "linux"]), default="windows", show_default=True)
def command(blob: str, fmt: str, platform: str) -> None:
    """Print BLOB's rules as `sysmon -c` does (text) or every rule set in full (json)."""
    data = read_input(blob)
    plat = as_platform(platform)
    try:
        text = json.dumps(dump_json(data, plat), indent=2) + "\n" if fmt == "json" else dump_text(data, plat)
    except SysmonRulesError as exc:
        fail_with(exc, blob)
    click.echo(text, nl=False)
