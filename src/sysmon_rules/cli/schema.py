"""`sysmon-rules schema`: print the embedded schema like `sysmon -s`."""

from __future__ import annotations

import click

from ..schema.model import as_platform
from ..schema.printer import render, select


@click.command("schema")
@click.option("--version", "version", metavar="V", help="Schema version (prefix match as Sysmon does), or 'all'.")
@click.option("--platform", type=click.Choice(["windows", "linux"]), default="windows", show_default=True)
def command(version: str | None, platform: str) -> None:
    """Print the Sysmon schema (events, fields, options, conditions) as `sysmon -s` does."""
    plat = as_platform(platform)
    schemas = select(version, plat)
    if not schemas:
        click.echo("There is no schema that matches that version.")
        raise SystemExit(1)
    for schema in schemas:
        click.echo(render(schema, plat), nl=False)
