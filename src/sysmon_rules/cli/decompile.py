"""`sysmon-rules decompile BLOB [-o OUT.xml]`: a rule blob back to a readable config."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..blob.decode import decode_blob
from ..blob.dumptext import blob_from_text
from ..blob.inputs import read_blob
from ..blob.reconstruct import rebuild
from ..errors import SysmonRulesError
from ..xml.writer import to_xml
from .compile import atomic_write, error_line, fail


def read_input(path: str) -> bytes:
    """The blob at ``path`` (``-`` = stdin) in any accepted form (raw, .reg, hex, base64)."""
    try:
        raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        fail(path, exc.strerror or str(exc))
        raise  # unreachable: fail exits
    try:
        return read_blob(raw)
    except SysmonRulesError as exc:
        fail(path, str(exc))
        raise


@click.command("decompile")
@click.argument("blob", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, help="Write the XML here.")
@click.option("--platform", type=click.Choice(["windows", "linux"]), default="windows", show_default=True)
def command(blob: str, output: str | None, platform: str) -> None:
    """Turn BLOB (raw, .reg export, hex, base64 or `sysmon -c` text; - for stdin) into XML that compiles back to it."""
    data = read_input(blob)
    try:
        from_text = blob_from_text(data, platform="linux" if platform == "linux" else "windows", path=blob)
        data, lost = from_text if from_text is not None else (data, [])
        config, notes = rebuild(decode_blob(data), "linux" if platform == "linux" else "windows")
        notes = lost + notes
    except SysmonRulesError as exc:
        fail(*error_line(blob, exc))
        return
    text = to_xml(config, notes=notes)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        atomic_write(output, text.encode("utf-8"))
    except OSError as exc:
        fail(output, exc.strerror or str(exc))
