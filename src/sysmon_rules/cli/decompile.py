"""`sysmon-rules decompile BLOB [-o OUT.xml]`: a rule blob back to a readable config."""

from __future__ import annotations

import click

from ..errors import SysmonRulesError
from ..fileio import write_output
from ..rulesource import RuleSource, load_rules
from ..xml.writer import to_xml
from .messages import InputFile, fail_with


def read_host_rules(path: str, platform: str) -> RuleSource:
    """What a host runs, at ``path`` (``-`` = stdin): a rule blob (raw, .reg, reg query, hex,
    base64) or `sysmon -c` text; an input that is something else (an XML config, an EVTX log,
    JSON) is named as what it is."""
    try:
        return load_rules(path, platform=platform, stdin=True, blob_only=True)
    except SysmonRulesError as exc:
        fail_with(exc, path)


@click.command("decompile")
@click.argument("blob", type=InputFile("rule blob", stdin=True))
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help="Write the XML here (- or nothing: standard output).")
@click.option("--platform", type=click.Choice(["windows", "linux"]), default="windows", show_default=True)
def command(blob: str, output: str | None, platform: str) -> None:
    """Turn BLOB (raw, .reg export, reg query output, hex, base64 or `sysmon -c` text; - for stdin)
    into XML that compiles back to it."""
    rules = read_host_rules(blob, platform)
    try:
        config, notes = rules.as_config()  # a .reg export also holds HashAlgorithms & co.; a text, what it lost
        write_output(output or "-", to_xml(config, notes=notes))
    except SysmonRulesError as exc:
        fail_with(exc, blob)  # a FileAccessError names the output itself
