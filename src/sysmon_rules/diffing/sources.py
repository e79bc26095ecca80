"""Either side of a diff, in any form a user holds it, as one rule table.

An XML config, a raw blob, a ``.reg`` export, hex or base64 text, or ``sysmon -c`` output
(Windows or Linux) are told apart by content. ``sysmon -c`` text cannot carry everything
(``blob.dumptext.UNKNOWNS``); the side keeps the codes of what it lost so the diff can treat
those as unknown instead of as changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..blob.decode import decode
from ..blob.dumptext import looks_like_dump, read_dump_text
from ..blob.textforms import as_text, read_blob
from ..errors import Location, SysmonRulesError
from ..model import Config
from ..ruletable import RuleTable
from ..schema.model import Platform

DUMP_TEXT = "sysmon -c text"


@dataclass(frozen=True)
class Side:
    """One side of a diff: where it came from, what form it was in, its rules, what it lost."""

    label: str
    kind: str  # "xml", "blob", DUMP_TEXT, "config", "rule table"
    table: RuleTable
    unknowns: tuple[str, ...] = ()

    @property
    def has_rule_names(self) -> bool:
        return "rule-names" not in self.unknowns


class SourceError(SysmonRulesError):
    """A side of a diff that cannot be read (missing file, not a config, blob or dump text)."""


Source = str | Path | bytes | Config | RuleTable


def load_side(source: Source, *, platform: Platform = "windows", label: str | None = None) -> Side:
    """Read one side: a path, the bytes of a file, a parsed Config or a RuleTable."""
    if isinstance(source, RuleTable):
        return Side(label or "<rule table>", "rule table", source)
    if isinstance(source, Config):
        from ..blob.compile import compile_config

        return Side(label or "<config>", "config", compile_config(source, platform=platform).table)
    if isinstance(source, bytes):
        return _from_bytes(source, None, label or "<bytes>", platform)
    path = Path(source)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(str(exc.strerror or exc), Location(str(path))) from None
    return _from_bytes(data, path, label or str(path), platform)


def _from_bytes(data: bytes, path: Path | None, label: str, platform: Platform) -> Side:
    where = str(path) if path is not None else None
    try:
        return _read(data, path, label, platform, where)
    except SysmonRulesError as exc:
        if exc.location.path:
            raise
        raise SourceError(exc.message, Location(label)) from None


def _read(data: bytes, path: Path | None, label: str, platform: Platform, where: str | None) -> Side:
    start = data.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n")[:1]
    if start == b"<":
        from ..blob.compile import compile_config
        from ..validation import load, loads

        config = load(path, platform=platform) if path is not None else loads(data, platform=platform)
        return Side(label, "xml", compile_config(config, platform=platform).table)
    if not data.strip():
        raise SourceError("empty input (not a config, blob or `sysmon -c` text)", Location(label))
    text = as_text(data)
    if looks_like_dump(text):
        reading = read_dump_text(text, platform=platform, path=where)
        return Side(label, DUMP_TEXT, reading.table, reading.unknowns)
    blob = read_blob(data)
    return Side(label, "blob", decode(blob) if blob else RuleTable(0, 0, ()))


__all__ = ["DUMP_TEXT", "Side", "Source", "SourceError", "load_side"]
