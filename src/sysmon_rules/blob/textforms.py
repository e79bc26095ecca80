"""Blob bytes from the forms people have them in: raw, a ``.reg`` export, ``reg query`` output,
hex, base64, a byte list.

``regedit`` exports are UTF-16LE with a BOM; the ``Rules`` value is ``"Rules"=hex:00,00,...``
with ``\\`` continuation lines. ``reg query <key> /v Rules`` prints ``    Rules    REG_BINARY    0100...``
on one line (and the other values beside it without ``/v``). Sysmon's own ``-c`` never prints the
blob, so these are the ways a blob leaves a machine.
"""

from __future__ import annotations

import base64
import binascii
import re

from ..errors import BlobFormatError
from .regvalues import reg_query_values, reg_values

_HEX_ONLY = re.compile(rb"[0-9a-fA-F\s,:]+")
# Base64 lines (wrapped or not, indented or not), never words with spaces between them.
_B64_ONLY = re.compile(rb"(?:[ \t]*[A-Za-z0-9+/=]+[ \t]*(?:\r?\n|\Z))+")
_LIST = re.compile(rb"\[\s*\d+(?:\s*,\s*\d+)*\s*,?\s*\]")
_REG_VALUE = re.compile(r'^[ \t]*"Rules"[ \t]*=[ \t]*hex(?:\(3\))?:', re.IGNORECASE | re.MULTILINE)
_REG_QUERY = re.compile(r"^[ \t]+Rules[ \t]+REG_BINARY[ \t]+(?P<hex>[0-9A-Fa-f]*)[ \t\r]*$", re.MULTILINE)
_NOT_DIGITS = re.compile(r"[\s,]")


def _text(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:  # an odd length or a lone surrogate: a damaged export
            raise BlobFormatError(f"starts like a .reg export but is not valid UTF-16 ({exc.reason})",
                                  exc.start, "input") from exc
    if len(data) > 1 and data[1:2] == b"\0" and data[:1] != b"\0":
        return data.decode("utf-16-le", "replace")
    return data.decode("utf-8-sig", "replace")


def as_text(data: bytes) -> str:
    """Text saved by any Windows or Linux tool: UTF-16 (with or without a BOM) or UTF-8."""
    return _text(data)


def _from_reg(text: str) -> bytes:
    """The Rules value's bytes, line by line from where it starts: no copy of the whole text."""
    match = _REG_VALUE.search(text)
    if match is None:
        raise BlobFormatError('no "Rules"=hex:... value in this .reg file', 0, "input")
    out, carry, position = bytearray(), "", match.end()
    while True:
        end = text.find("\n", position)
        line = text[position:end if end >= 0 else len(text)].strip()
        more = line.endswith("\\") and end >= 0
        digits = carry + _NOT_DIGITS.sub("", line[:-1] if more else line)
        carry = digits[-1] if len(digits) % 2 and more else ""  # a byte cut across lines
        try:
            out += bytes.fromhex(digits[:len(digits) - len(carry)])
        except ValueError as exc:
            raise BlobFormatError(f"the Rules value is not hex: {exc}", 0, "input") from exc
        if not more:
            return bytes(out)
        position = end + 1


def is_probably_binary(data: bytes) -> bool:
    """Raw blob bytes rather than text: NULs early on, and no UTF-16 byte-order mark."""
    return b"\0" in data[:64] and not data.startswith((b"\xff\xfe", b"\xfe\xff"))


def read_blob(data: bytes) -> bytes:
    """The blob inside ``data``: raw bytes as they are, or decoded from .reg, hex, base64 or a list."""
    return read_blob_and_values(data)[0]


def read_blob_and_values(data: bytes) -> tuple[bytes, dict[str, str | int]]:
    """The blob, and the registry values beside it when ``data`` is a .reg export (else none)."""
    blob, values, _ = read_blob_form(data)
    return blob, values


def read_blob_form(data: bytes) -> tuple[bytes, dict[str, str | int], str | None]:
    """The blob, the registry values beside it, and the form it was in: "raw", ".reg export",
    "reg query output", "byte list", "hex", "base64", or None for text that is none of them
    (then the bytes are returned as they are)."""
    if not data or is_probably_binary(data):
        return data, {}, "raw"
    text = _text(data)
    if "Windows Registry Editor" in text[:200] or "REGEDIT" in text[:20].upper() or _REG_VALUE.search(text):
        return _from_reg(text), reg_values(text), ".reg export"
    query = _REG_QUERY.search(text)
    if query is not None:
        if len(query.group("hex")) % 2:
            raise BlobFormatError("the Rules value of this `reg query` output has an odd number of hex digits: cut?",
                                  0, "input")
        return bytes.fromhex(query.group("hex")), reg_query_values(text), "reg query output"
    blob, form = _from_text(data, text)
    return blob, {}, form


def _from_text(data: bytes, text: str) -> tuple[bytes, str | None]:
    stripped = text.strip().encode("ascii", "replace")
    if stripped.startswith(b"0x"):
        stripped = stripped[2:]
    if _LIST.fullmatch(stripped):
        values = [int(v) for v in re.findall(rb"\d+", stripped)]
        if any(v > 255 for v in values):
            raise BlobFormatError("a byte list holds a value above 255", 0, "input")
        return bytes(values), "byte list"
    if _HEX_ONLY.fullmatch(stripped):
        try:
            return bytes.fromhex(re.sub(rb"[\s,:]", b"", stripped).decode("ascii")), "hex"
        except ValueError:
            pass  # an odd number of digits: maybe base64 after all
    if _B64_ONLY.fullmatch(stripped):
        try:
            return base64.b64decode(re.sub(rb"\s", b"", stripped), validate=True), "base64"
        except binascii.Error as exc:
            raise BlobFormatError(f"not valid base64: {exc}", 0, "input") from exc
    return data, None
