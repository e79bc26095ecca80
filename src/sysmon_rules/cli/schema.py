"""`sysmon-rules schema`: print the embedded schema like `sysmon -s`, or as XSD/DTD for editors."""

from __future__ import annotations

import click

from ..errors import SchemaVersionError, SysmonRulesError
from ..fileio import write_output
from ..schema import newest, schema_for
from ..schema.model import Platform, as_platform
from ..schema.printer import render, select
from .messages import fail_with


def _editor_schema(fmt: str, version: str | None, plat: Platform) -> str:
    from ..validation.dtd_text import dtd_text
    from ..validation.xsd import xsd_text

    if version == "all":
        raise click.BadParameter("--format xsd/dtd writes one schema version, not 'all'", param_hint="--version")
    schema = schema_for(version, plat) if version else newest(plat)
    return xsd_text(schema) if fmt == "xsd" else dtd_text(schema)


@click.command("schema")
@click.option("--version", "version", metavar="V", help="Schema version (prefix match as Sysmon does), or 'all'.")
@click.option("--platform", type=click.Choice(["windows", "linux"]), default="windows", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["manifest", "xsd", "dtd"]), default="manifest", show_default=True,
              help="manifest: as `sysmon -s` prints it; xsd/dtd: for XML editors to complete and check configs.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help="Write the schema here (atomically; - or nothing: standard output).")
def command(version: str | None, platform: str, fmt: str, output: str | None) -> None:
    """Print the Sysmon schema (events, fields, options, conditions) as `sysmon -s` does."""
    plat = as_platform(platform)
    if fmt != "manifest":
        text = _editor_schema(fmt, version, plat)
    else:
        schemas = select(version, plat)
        if not schemas:  # sysmon -s's own words, in the one error line
            fail_with(SchemaVersionError("There is no schema that matches that version."), f"--version {version}")
        text = "".join(render(schema, plat) for schema in schemas)
    try:
        write_output(output or "-", text)
    except SysmonRulesError as exc:  # a FileAccessError names the output itself
        fail_with(exc, output or "-")
