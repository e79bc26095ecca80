"""`sysmon-rules dump BLOB`: what `sysmon -c` prints (the options, then the rules), or the rules as JSON."""

from __future__ import annotations

import json

import click

from ..blob.dump import dump_json, dump_text, left_out
from ..blob.regvalues import options_header
from ..errors import SysmonRulesError
from ..fileio import write_output
from ..schema.model import as_platform
from .decompile import read_host_rules
from .messages import InputFile, fail_with


@click.command("dump")
@click.argument("blob", type=InputFile("rule blob", stdin=True))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--platform", type=click.Choice(["windows", "linux"]), default="windows", show_default=True)
@click.option("--every-set", is_flag=True,
              help="Also print the rule sets `sysmon -c` leaves out (a set right after one of the same event "
                   "type and onmatch); the text is then no longer what `sysmon -c` prints.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help="Write the dump here (atomically; - or nothing: standard output).")
def command(blob: str, fmt: str, platform: str, every_set: bool, output: str | None) -> None:
    """Print BLOB's rules as `sysmon -c` does (text) or every rule set in full (json).

    The text leaves out what `sysmon -c` leaves out; stderr names those sets."""
    rules = read_host_rules(blob, platform)
    plat = as_platform(platform)
    try:
        data = rules.blob_bytes  # `sysmon -c` text: its rules again
        if fmt == "json":
            text = json.dumps(dump_json(data, plat), indent=2) + "\n"
        else:  # sysmon -c: the options, then the rules
            text = options_header(rules.table, rules.values) + dump_text(data, plat, every_set=every_set)
            missing = left_out(rules.table, plat)
            if missing:
                verb = "are printed here (--every-set)" if every_set else "are not printed (--every-set prints them)"
                click.echo(f"{blob}: note: `sysmon -c` does not print {len(missing)} rule set(s), each right after "
                           f"a set of the same event type and onmatch: {'; '.join(missing)}; they {verb}", err=True)
    except SysmonRulesError as exc:
        fail_with(exc, blob)
    try:
        write_output(output or "-", text.encode("utf-8", "backslashreplace"))
    except SysmonRulesError as exc:  # a FileAccessError names the output itself
        fail_with(exc, output or "-")
