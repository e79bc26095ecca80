"""Turn config bytes into text the way Sysmon reads them (``xml.cpp:FetchConfigurationVersion``).

Sysmon sniffs the first bytes: a first byte that is neither whitespace nor ``<`` is a byte-order
mark, and the file is 16-bit only when that byte is 0xFF; without a mark the file is 16-bit when
its second byte is 0. 8-bit files are UTF-8 unless the declaration says ISO-8859-1. Everything
before the first ``<`` is dropped, and so is the ``<?xml ...?>`` declaration (Sysmon puts its own
DOCTYPE there). We blank the declaration instead of cutting it so line and column numbers stay
those of the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigSyntaxError, Location
from ..fileio import read_input

MAX_CONFIG_BYTES = 32 * 1024 * 1024  # the largest real configs are under 1 MB

_DECLARATION = re.compile(r"<\?xml(.*?)\?>", re.IGNORECASE | re.DOTALL)
_ENCODING = re.compile(r"""encoding\s*=\s*["']([^"']*)["']""", re.IGNORECASE)
_UTF8_NAMES = {"utf-8", "utf8", "us-ascii", "ascii"}
_LATIN1_NAMES = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1"}
_UTF16_NAMES = {"utf-16", "utf-16le", "utf16", "unicode"}


@dataclass(frozen=True, slots=True)
class DecodedSource:
    """The config as text, and what Sysmon's probe would report about its encoding."""

    text: str
    path: str | None
    declared_encoding: str | None
    is_16bit: bool
    has_bom: bool


def read_source(source: str | Path | bytes, *, path: str | None = None) -> tuple[bytes, str | None]:
    """Read a path (never modifying it) or take bytes; refuse what is too large to be a config."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    else:
        path = str(source)
        data = read_input(source, limit=MAX_CONFIG_BYTES, stdin=False)  # a bounded read: /dev/zero ends too
    if len(data) > MAX_CONFIG_BYTES:
        raise _too_large(len(data), path)
    return data, path


def _too_large(size: int, path: str | None) -> ConfigSyntaxError:
    return ConfigSyntaxError(
        f"file is {size / 1e6:.1f} MB; a Sysmon config is at most {MAX_CONFIG_BYTES // 2**20} MiB here",
        Location(path),
    )


def _sniff(data: bytes) -> tuple[bool, bool]:
    """(is_16bit, has_bom) exactly as Sysmon decides them."""
    first = data[0]
    if not chr(first).isspace() and first != ord("<"):
        return first == 0xFF, True
    return len(data) > 1 and data[1] == 0, False


def _position(data: bytes, offset: int, path: str | None) -> Location:
    before = data[:offset]
    line = before.count(b"\n") + 1
    column = offset - (before.rfind(b"\n") + 1) + 1
    return Location(path, line, column)


def decode_config(data: bytes, path: str | None = None) -> DecodedSource:
    """Decode config bytes as Sysmon does; raise ConfigSyntaxError (with a place) otherwise."""
    if len(data) < 2:
        raise ConfigSyntaxError("file is empty or too short to be a Sysmon config", Location(path, 1, 1))
    if data.startswith(b"\xfe\xff"):
        raise ConfigSyntaxError("UTF-16 big-endian is not an encoding Sysmon reads; save as UTF-16LE or UTF-8",
                                Location(path, 1, 1))
    is_16bit, has_bom = _sniff(data)
    if is_16bit:
        body = data[2:] if has_bom else data
        if len(body) % 2:
            body = body[:-1]
        text = _decode(body, "utf-16-le", data, path, offset_base=len(data) - len(body))
        declared = _declared_encoding(text) or (None if has_bom else "UTF-16LE")
    else:
        head = data[:1024].decode("latin-1")
        declared = _declared_encoding(head[head.find("<"):] if "<" in head else head)
        body = data.removeprefix(b"\xef\xbb\xbf") if has_bom else data
        codec = _codec_for(declared, path)
        text = _decode(body, codec, data, path, offset_base=len(data) - len(body))
    _check_leading_space(text, 1024 if is_16bit else 2048, path)
    return DecodedSource(_without_declaration(text, path), path, declared, is_16bit, has_bom)


def _check_leading_space(text: str, window: int, path: str | None) -> None:
    """Sysmon looks for the first '<' only in its first read (2048 bytes, 1024 UTF-16 units)."""
    first = text.find("<")
    if first >= window:
        raise ConfigSyntaxError(
            f"Too much white space: Sysmon looks for the first '<' within the first {window} "
            f"{'UTF-16 units' if window == 1024 else 'bytes'}", Location(path, text.count("\n", 0, first) + 1, 1))


def _declared_encoding(text: str) -> str | None:
    start = text.lstrip(" \t\r\n\ufeff")
    match = _DECLARATION.match(start)
    if not match:
        return None
    enc = _ENCODING.search(match.group(1))
    return enc.group(1) if enc and enc.group(1) else None


def _codec_for(declared: str | None, path: str | None) -> str:
    name = (declared or "utf-8").lower()
    if name in _UTF8_NAMES:
        return "utf-8"
    if name in _LATIN1_NAMES:
        return "latin-1"
    if name in _UTF16_NAMES:
        raise ConfigSyntaxError(
            f"the declaration says {declared} but the file is 8-bit; save it as UTF-16LE or fix the declaration",
            Location(path, 1, 1),
        )
    raise ConfigSyntaxError(
        f"encoding {declared!r} is not one Sysmon reads (UTF-8, UTF-16LE or ISO-8859-1)", Location(path, 1, 1)
    )


def _decode(body: bytes, codec: str, data: bytes, path: str | None, *, offset_base: int) -> str:
    try:
        return body.decode(codec)
    except UnicodeDecodeError as exc:
        where = _position(data, offset_base + exc.start, path)
        raise ConfigSyntaxError(f"bytes that are not valid {codec.upper()} (byte 0x{body[exc.start]:02x})",
                                where) from exc


def _without_declaration(text: str, path: str | None) -> str:
    text = text.lstrip("\ufeff")
    start = text.find("<")
    if start < 0:
        raise ConfigSyntaxError("no XML element found (the file has no '<')", Location(path, 1, 1))
    if text[start:start + 5].lower() == "<?xml":
        end = text.find("?>", start + 5)
        if end >= 0:
            text = text[:start] + _blank(text[start:end + 2]) + text[end + 2:]
    # Sysmon drops whatever precedes the first '<'; keep its line breaks for positions.
    return _blank(text[:start]) + text[start:]


def _blank(text: str) -> str:
    """``text`` with every character but line breaks a space (whole runs at once: a 32 MB
    declaration costs milliseconds, not a loop over its characters)."""
    return "\n".join(" " * len(line) for line in text.split("\n"))
