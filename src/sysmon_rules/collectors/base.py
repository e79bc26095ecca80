"""What a collector is, the input it reads, and what reading counts (events, skipped, other).

A collector turns one source (a file or stdin) into :class:`~sysmon_rules.events.Event` objects
carrying their :class:`~sysmon_rules.events.Origin`. It never holds the whole input: events are
yielded as they are read, so memory stays constant whatever the size of the log.
"""

from __future__ import annotations

import gzip
import io
import sys
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

from ..errors import SysmonRulesError
from ..events import Event

# How much of an input collectors see to recognise it (after gzip is undone).
HEAD_SIZE = 4096
GZIP_MAGIC = b"\x1f\x8b"
SYSMON_PROVIDERS = frozenset({"Microsoft-Windows-Sysmon", "Linux-Sysmon"})


class CollectorError(SysmonRulesError):
    """An input that cannot be read: unknown collector or format, unreadable file, damage under --strict."""


class CollectorWarning(UserWarning):
    """A damaged record was skipped (the default ``warn`` of a :class:`Source`)."""


@dataclass(slots=True)
class ReadStats:
    """What reading found besides the events: damaged records and other providers' records."""

    events: int = 0
    skipped: int = 0  # damaged records, each announced by a warning
    other: Counter[str] = field(default_factory=Counter)  # records of other providers, by channel

    def add(self, more: ReadStats) -> None:
        self.events += more.events
        self.skipped += more.skipped
        self.other.update(more.other)


def _default_warn(message: str) -> None:
    warnings.warn(message, CollectorWarning, stacklevel=3)


@dataclass(slots=True)
class Source:
    """One input: its display name (a path or ``-``), how to open it, and its running counts.

    Collectors call :meth:`skip` for a damaged record and :meth:`other` for a record that is not
    a Sysmon event; with ``strict`` a damaged record raises :class:`CollectorError` instead.
    """

    name: str
    path: Path | None = None
    strict: bool = False
    warn: Callable[[str], None] = _default_warn
    stats: ReadStats = field(default_factory=ReadStats)
    _stdin: bytes | None = None  # stdin is read once: kept here so it can be sniffed and re-read
    url: str | None = None  # an fsspec URL (s3://, gs://, abfs://, file://...): read through fsspec

    @classmethod
    def from_arg(cls, arg: str | Path, **options: object) -> Source:
        if str(arg) == "-":
            return cls("-", None, **options)  # type: ignore[arg-type]
        if is_url(str(arg)):
            return cls(str(arg), None, url=str(arg), **options)  # type: ignore[arg-type]
        return cls(str(arg), Path(arg), **options)  # type: ignore[arg-type]

    def open(self) -> BinaryIO:
        """The bytes of the input, gunzipped when they are gzip."""
        raw = self._open_raw()
        if raw.peek(2)[:2] == GZIP_MAGIC:
            return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
        return raw

    def _open_raw(self) -> io.BufferedReader:
        if self.url is not None:
            return _open_url(self.name, self.url)
        if self.path is None:
            if self._stdin is None:
                self._stdin = sys.stdin.buffer.read()
            return io.BufferedReader(io.BytesIO(self._stdin))
        try:
            return self.path.open("rb")
        except OSError as exc:
            raise CollectorError(f"{self.name}: cannot read: {exc.strerror or exc}") from exc

    def head(self, size: int = HEAD_SIZE) -> bytes:
        """The first ``size`` bytes (decompressed), for recognising the format."""
        try:
            with self.open() as stream:
                return stream.read(size)
        except (OSError, EOFError) as exc:
            raise CollectorError(f"{self.name}: cannot read: {exc}") from exc

    def skip(self, where: str, reason: str) -> None:
        """Count a damaged record and warn (or raise under ``strict``); ``where`` names it."""
        message = f"{where}: damaged record skipped: {reason}"
        if self.strict:
            raise CollectorError(message.replace("damaged record skipped", "damaged record"))
        self.stats.skipped += 1
        self.warn(message)

    def other(self, channel: str) -> None:
        """Count a record of another provider or channel (skipped silently)."""
        self.stats.other[channel or "unknown"] += 1


def is_url(text: str) -> bool:
    """``s3://bucket/key`` and the like (fsspec protocols); a Windows drive ``C:\\`` is not one."""
    scheme, sep, _ = text.partition("://")
    return bool(sep) and len(scheme) > 1 and scheme.replace("+", "").replace("-", "").isalnum()


def _open_url(name: str, url: str) -> io.BufferedReader:
    """An fsspec file (object storage needs its own package: s3fs, gcsfs, adlfs...)."""
    try:
        import fsspec

        handle = fsspec.open(url, "rb").open()
    except ImportError as exc:
        raise CollectorError(f"{name}: cannot read: {exc} (install the fsspec package for this storage)") from exc
    except (OSError, ValueError) as exc:
        raise CollectorError(f"{name}: cannot read: {exc}") from exc
    return io.BufferedReader(handle)


@runtime_checkable
class Collector(Protocol):
    """A pluggable reader of one log format, registered under ``sysmon_rules.collectors``.

    ``recognizes(head, name)`` looks at the first bytes (gunzipped) and the file name;
    ``events(source)`` yields the Sysmon events in input order with their origin.
    """

    name: str
    description: str

    def recognizes(self, head: bytes, name: str) -> bool: ...

    def events(self, source: Source) -> Iterator[Event]: ...


def as_text(value: object) -> str:
    """A JSON value as Windows renders it in event XML: booleans ``true``/``false``, null empty."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):  # an element with attributes: its text is under "#text"
        return as_text(value.get("#text"))
    return str(value)


def strip_bom(head: bytes) -> bytes:
    """The head without a UTF-8 BOM or leading white space; UTF-16 text decoded to ASCII-ish."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", "ignore").encode("utf-8", "ignore")
    return head.removeprefix(b"\xef\xbb\xbf").lstrip()
