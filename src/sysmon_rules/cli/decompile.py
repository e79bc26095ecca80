"""`sysmon-rules decompile BLOB [-o OUT.xml]`: a rule blob back to a readable config."""

from __future__ import annotations

import click

from ..api import decompile, to_xml
from ..blob.dumptext import blob_from_text
from ..blob.inputs import read_blob
from ..errors import SysmonRulesError
from ..io import read_input as read_file
from ..io import write_output
from ..schema.model import as_platform
from .messages import fail_with


def read_input(path: str) -> bytes:
    """The blob at ``path`` (``-`` = stdin) in any accepted form (raw, .reg, hex, base64)."""
    try:
        return read_blob(read_file(path))
    except SysmonRulesError as exc:
        fail_with(exc, path)


@click.command("decompile")
@click.argument("blob", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help="Write the XML here (- or nothing: standard output).")
@click.option("--platform", type=click.Choice(["windows", "linux"]), default="windows", show_default=True)
def command(blob: str, output: str | None, platform: str) -> None:
    """Turn BLOB (raw, .reg export, hex, base64 or `sysmon -c` text; - for stdin) into XML."""
    data = read_input(blob)
    try:
        from_text = blob_from_text(data, platform=as_platform(platform), path=blob)
        if from_text is None:
            text = decompile(data, platform=platform).to_xml()
        else:  # what the text could not carry goes first among the notes
            result = decompile(from_text[0], platform=platform)
            text = to_xml(result.config, notes=(*from_text[1], *result.notes))
        write_output(output or "-", text)
    except SysmonRulesError as exc:
        fail_with(exc, blob)  # a FileAccessError names the output itself
