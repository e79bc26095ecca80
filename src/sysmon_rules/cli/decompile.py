"""`sysmon-rules decompile BLOB [-o OUT.xml]`: a rule blob back to a readable config."""

from __future__ import annotations

import click

from ..blob.decode import decode_blob
from ..blob.dumptext import blob_from_text
from ..blob.inputs import read_blob_and_values
from ..blob.reconstruct import rebuild
from ..blob.regvalues import options_of, with_options
from ..blob.sniff import describe
from ..errors import SysmonRulesError
from ..limits import MAX_BLOB_INPUT, read_bounded, size_text
from ..xml.writer import to_xml
from .compile import atomic_write, error_line, fail


def read_input(path: str) -> bytes:
    """The blob at ``path`` (``-`` = stdin) in any accepted form (raw, .reg, hex, base64; `sysmon -c`
    text is passed through for blob_from_text); an input that is something else (an XML config,
    an EVTX log, JSON) is named as what it is."""
    return read_input_and_values(path)[0]


def read_input_and_values(path: str) -> tuple[bytes, dict[str, str | int]]:
    """:func:`read_input`, and the registry values beside the blob in a .reg export."""
    try:
        raw = read_bounded(path, MAX_BLOB_INPUT)
    except OSError as exc:
        fail(path, exc.strerror or str(exc))
        raise  # unreachable: fail exits
    if len(raw) > MAX_BLOB_INPUT:
        fail(path, f"{size_text(len(raw), MAX_BLOB_INPUT)}: too large to be a rule blob")
    kind = describe(raw)
    if kind is not None:
        fail(path, f"this is {kind}")
    try:
        return read_blob_and_values(raw)
    except SysmonRulesError as exc:
        fail(path, str(exc))
        raise


@click.command("decompile")
@click.argument("blob", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, help="Write the XML here.")
@click.option("--platform", type=click.Choice(["windows", "linux"]), default="windows", show_default=True)
def command(blob: str, output: str | None, platform: str) -> None:
    """Turn BLOB (raw, .reg export, hex, base64 or `sysmon -c` text; - for stdin) into XML that compiles back to it."""
    data, values = read_input_and_values(blob)
    try:
        from_text = blob_from_text(data, platform="linux" if platform == "linux" else "windows", path=blob)
        data, lost = from_text if from_text is not None else (data, [])
        config, notes = rebuild(decode_blob(data), "linux" if platform == "linux" else "windows")
        notes = lost + notes
    except SysmonRulesError as exc:
        fail(*error_line(blob, exc))
        return
    config = with_options(config, options_of(values))  # a .reg export also holds HashAlgorithms & co.
    text = to_xml(config, notes=notes)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        atomic_write(output, text.encode("utf-8"))
    except OSError as exc:
        fail(output, exc.strerror or str(exc))
