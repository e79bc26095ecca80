"""`sysmon-rules decompile BLOB [-o OUT.xml]`: a rule blob back to a readable config."""

from __future__ import annotations

import click

from ..api import decompile, to_xml
from ..blob.dumptext import blob_from_text
from ..blob.regvalues import options_of, with_options
from ..blob.sniff import describe
from ..blob.textforms import MAX_BLOB_INPUT, read_blob_and_values
from ..errors import SysmonRulesError
from ..fileio import read_input as read_file
from ..fileio import write_output
from ..schema.model import as_platform
from .messages import InputFile, fail, fail_with


def read_input(path: str) -> bytes:
    """The blob at ``path`` (``-`` = stdin) in any accepted form (raw, .reg, hex, base64; `sysmon -c`
    text is passed through for blob_from_text); an input that is something else (an XML config,
    an EVTX log, JSON) is named as what it is."""
    return read_input_and_values(path)[0]


def read_input_and_values(path: str) -> tuple[bytes, dict[str, str | int]]:
    """:func:`read_input`, and the registry values beside the blob in a .reg export."""
    try:
        raw = read_file(path, limit=MAX_BLOB_INPUT)  # bounded: /dev/zero or a sparse 1 GB file ends
        if len(raw) > MAX_BLOB_INPUT:
            fail(path, f"more than {MAX_BLOB_INPUT >> 20} MiB: too large to be a rule blob")
        kind = describe(raw)
        if kind is not None:
            fail(path, f"this is {kind}")
        return read_blob_and_values(raw)
    except SysmonRulesError as exc:
        fail_with(exc, path)


@click.command("decompile")
@click.argument("blob", type=InputFile("rule blob", stdin=True))
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help="Write the XML here (- or nothing: standard output).")
@click.option("--platform", type=click.Choice(["windows", "linux"]), default="windows", show_default=True)
def command(blob: str, output: str | None, platform: str) -> None:
    """Turn BLOB (raw, .reg export, hex, base64 or `sysmon -c` text; - for stdin) into XML that compiles back to it."""
    data, values = read_input_and_values(blob)
    try:
        from_text = blob_from_text(data, platform=as_platform(platform), path=blob)
        data, lost = from_text if from_text is not None else (data, [])
        result = decompile(data, platform=platform)
        config = with_options(result.config, options_of(values))  # a .reg export also holds HashAlgorithms & co.
        write_output(output or "-", to_xml(config, notes=[*lost, *result.notes]))
    except SysmonRulesError as exc:
        fail_with(exc, blob)  # a FileAccessError names the output itself
