"""Blob bytes from the forms people have them in: raw, a ``.reg`` export, hex, base64, a byte list.

``regedit`` exports are UTF-16LE with a BOM; the ``Rules`` value is ``"Rules"=hex:00,00,...``
with ``\\`` continuation lines. Sysmon's own ``-c`` never prints the blob, so these are the ways a
blob leaves a machine.
"""

from __future__ import annotations

import base64
import binascii
import re

from ..errors import BlobFormatError

_HEX_ONLY = re.compile(rb"[0-9a-fA-F\s,:]+")
_B64_ONLY = re.compile(rb"[A-Za-z0-9+/=\s]+")
_LIST = re.compile(rb"\[\s*\d+(?:\s*,\s*\d+)*\s*,?\s*\]")
_REG_VALUE = re.compile(r'^"Rules"\s*=\s*hex(?:\(3\))?:(.*)$', re.IGNORECASE | re.MULTILINE)
_MAX_TEXT = 256 * 1024 * 1024


def _text(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if len(data) > 1 and data[1:2] == b"\0" and data[:1] != b"\0":
        return data.decode("utf-16-le", "replace")
    return data.decode("utf-8-sig", "replace")


def as_text(data: bytes) -> str:
    """Text saved by any Windows or Linux tool: UTF-16 (with or without a BOM) or UTF-8."""
    return _text(data)


def _from_reg(text: str) -> bytes:
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if _REG_VALUE.match(line.strip())), None)
    if start is None:
        raise BlobFormatError('no "Rules"=hex:... value in this .reg file', 0, "input")
    match = _REG_VALUE.match(lines[start].strip())
    assert match is not None
    parts = [match.group(1).strip()]
    for line in lines[start + 1:]:
        if not parts[-1].endswith("\\"):
            break
        parts[-1] = parts[-1][:-1]
        parts.append(line.strip())
    digits = re.sub(r"[\s,]", "", "".join(parts))
    try:
        return bytes.fromhex(digits)
    except ValueError as exc:
        raise BlobFormatError(f"the Rules value is not hex: {exc}", 0, "input") from exc


def _is_probably_binary(data: bytes) -> bool:
    return b"\0" in data[:64] and not data.startswith((b"\xff\xfe", b"\xfe\xff"))


def read_blob(data: bytes) -> bytes:
    """The blob inside ``data``: raw bytes as they are, or decoded from .reg, hex, base64 or a list."""
    if not data or _is_probably_binary(data) or len(data) > _MAX_TEXT:
        return data
    text = _text(data)
    if "Windows Registry Editor" in text[:200] or "REGEDIT" in text[:20].upper() or _REG_VALUE.search(text):
        return _from_reg(text)
    stripped = text.strip().encode("ascii", "replace")
    if stripped.startswith(b"0x"):
        stripped = stripped[2:]
    if _LIST.fullmatch(stripped):
        values = [int(v) for v in re.findall(rb"\d+", stripped)]
        if any(v > 255 for v in values):
            raise BlobFormatError("a byte list holds a value above 255", 0, "input")
        return bytes(values)
    if _HEX_ONLY.fullmatch(stripped):
        try:
            return bytes.fromhex(re.sub(rb"[\s,:]", b"", stripped).decode("ascii"))
        except ValueError:
            pass  # an odd number of digits: maybe base64 after all
    if _B64_ONLY.fullmatch(stripped):
        try:
            return base64.b64decode(re.sub(rb"\s", b"", stripped), validate=True)
        except binascii.Error as exc:
            raise BlobFormatError(f"not valid base64: {exc}", 0, "input") from exc
    return data
