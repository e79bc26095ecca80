"""`sysmon-rules compile CONFIG -o OUT`: the rule blob Sysmon would store for a config."""

from __future__ import annotations

import base64

import click

from ..blob.compile import compile_config
from ..blob.layout import KNOWN_VERSIONS, version_word
from ..blob.regfile import render_reg
from ..errors import SysmonRulesError
from ..fileio import write_output

# Commands written against the old homes of these keep working.
from ..fileio import write_output as atomic_write  # noqa: F401
from ..validation import load
from .messages import InputFile, echo_diagnostics, fail_with
from .messages import fail as fail


def parse_binary_version(text: str) -> int:
    """``18``, ``15.0``, ``9.20``, ``1.01`` or a raw word such as ``0x00120000``."""
    if text.lower().startswith("0x"):
        try:
            return int(text, 16)
        except ValueError:
            raise click.BadParameter(f"{text!r} is not a hexadecimal version word such as 0x00120000") from None
    major, _, minor = text.partition(".")
    if not major.isdigit() or (minor and not minor.isdigit()):
        raise click.BadParameter(f"{text!r} is not a version such as 18, 15.0 or 9.20")
    word = version_word(int(major), int(minor or 0))
    if word not in KNOWN_VERSIONS and not 11 <= int(major) <= 18:
        known = ", ".join(KNOWN_VERSIONS.values())
        raise click.BadParameter(f"no Sysmon writes binary version {text}; known: {known}")
    return word


@click.command("compile")
@click.argument("config", type=InputFile("config"))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              help="Where to write the blob (- for standard output).")
@click.option("--format", "fmt", type=click.Choice(["bin", "reg", "hex", "base64"]), default="bin", show_default=True)
@click.option("--binary-version", "binary_version", default=None, help="Blob format to write (default 18).")
@click.option("--platform", type=click.Choice(["windows", "linux"]), default="windows", show_default=True)
@click.option("--sysmon-compatible", is_flag=True, help="Drop what Sysmon silently drops instead of failing.")
def command(config: str, output: str, fmt: str, binary_version: str | None, platform: str,
            sysmon_compatible: bool) -> None:
    """Compile CONFIG into Sysmon's binary rule format; an invalid config writes nothing (exit 1)."""
    word = parse_binary_version(binary_version) if binary_version else None
    try:
        model = load(config, sysmon_compatible=sysmon_compatible, platform=platform)
        compiled = compile_config(model, binary_version=word, platform=platform)
    except SysmonRulesError as exc:
        fail_with(exc, config)
    data = compiled.data
    if fmt == "reg":
        payload = render_reg(model, compiled.table, data).encode("utf-16")
    elif fmt == "hex":
        payload = (data.hex() + "\n").encode("ascii")
    elif fmt == "base64":
        payload = (base64.b64encode(data).decode("ascii") + "\n").encode("ascii")
    else:
        payload = data
    try:
        write_output(output, payload)
    except SysmonRulesError as exc:
        fail_with(exc, output)
    echo_diagnostics(compiled.warnings, config, err=True)
