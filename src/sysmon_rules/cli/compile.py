"""`sysmon-rules compile CONFIG -o OUT`: the rule blob Sysmon would store for a config."""

from __future__ import annotations

import base64
import os
import tempfile
from pathlib import Path

import click

from ..blob.compile import compile_config
from ..blob.layout import KNOWN_VERSIONS, version_word
from ..blob.regfile import render_reg
from ..errors import ConfigValidationError, SysmonRulesError
from ..xml.reader import load


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


def atomic_write(path: str, data: bytes) -> None:
    """Write via a temporary file in the same folder and rename, so OUT is whole or untouched."""
    target = Path(path)
    fd, temp = tempfile.mkstemp(dir=target.parent or Path("."), prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def error_line(path: str, exc: SysmonRulesError) -> tuple[str, str]:
    """Where (``path[:line[:column]]``) and what, for the one ``where: error: what`` line."""
    if isinstance(exc, ConfigValidationError):
        errors = [d for d in exc.diagnostics if d.severity == "error"] or exc.diagnostics
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        first = errors[0]
        return (str(first.location) if first.location.path else path), f"{first.message} [{first.code}]{more}"
    return (str(exc.location) if exc.location.path else path), exc.message


def fail(path: str, message: str) -> None:
    click.echo(f"{path}: error: {message}", err=True)
    raise SystemExit(1)


@click.command("compile")
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Where to write the blob.")
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
    except OSError as exc:
        fail(config, exc.strerror or str(exc))
        return
    except SysmonRulesError as exc:
        fail(*error_line(config, exc))
        return
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
        atomic_write(output, payload)
    except OSError as exc:
        fail(output, exc.strerror or str(exc))
    for warning in compiled.warnings:
        click.echo(f"{warning.location}: warning: {warning.message}", err=True)
