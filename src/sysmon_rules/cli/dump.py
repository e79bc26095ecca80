"""`sysmon-rules dump BLOB`: what `sysmon -c` prints (the options, then the rules), or the rules as JSON."""

from __future__ import annotations

import json

import click

from ..blob.decode import decode_blob
from ..blob.dump import dump_json, dump_text
from ..blob.dumptext import blob_from_text
from ..blob.regvalues import options_header
from ..errors import SysmonRulesError
from ..fileio import write_output
from ..schema.model import as_platform
from .decompile import read_input_and_values
from .messages import InputFile, fail_with


@click.command("dump")
@click.argument("blob", type=InputFile("rule blob", stdin=True))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--platform", type=click.Choice(["windows", "linux"]), default="windows", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help="Write the dump here (atomically; - or nothing: standard output).")
def command(blob: str, fmt: str, platform: str, output: str | None) -> None:
    """Print BLOB's rules as `sysmon -c` does (text) or every rule set in full (json)."""
    data, values = read_input_and_values(blob)
    plat = as_platform(platform)
    try:
        from_text = blob_from_text(data, platform=plat, path=blob)  # `sysmon -c` text: its rules again
        data = from_text[0] if from_text is not None else data
        if fmt == "json":
            text = json.dumps(dump_json(data, plat), indent=2) + "\n"
        else:  # sysmon -c: the options, then the rules
            text = options_header(decode_blob(data).table, values) + dump_text(data, plat)
    except SysmonRulesError as exc:
        fail_with(exc, blob)
    try:
        write_output(output or "-", text.encode("utf-8", "backslashreplace"))
    except SysmonRulesError as exc:  # a FileAccessError names the output itself
        fail_with(exc, output or "-")
