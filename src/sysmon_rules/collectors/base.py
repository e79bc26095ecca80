"""What a collector is, the input it reads, and what reading counts (events, skipped, other).

A collector turns one source (a file or stdin) into :class:`~sysmon_rules.events.Event` objects
carrying their :class:`~sysmon_rules.events.Origin`. It never holds the whole input: events are
yielded as they are read, so memory stays constant whatever the size of the log.
"""

from __future__ import annotations

import codecs
import gzip
import io
import stat
import sys
import threading
import warnings
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO, Protocol, runtime_checkable

from ..errors import Location, SysmonRulesError
from ..events import Event

if TYPE_CHECKING:
    import pyarrow as pa

# How much of an input collectors see to recognise it (after gzip is undone).
HEAD_SIZE = 4096
GZIP_MAGIC = b"\x1f\x8b"
SYSMON_PROVIDERS = frozenset({"Microsoft-Windows-Sysmon", "Linux-Sysmon"})


class CollectorError(SysmonRulesError):
    """An input that cannot be read: unknown collector or format, unreadable file, damage under --strict."""


class DamagedInput(CollectorError):
    """An input whose container (gzip, a zip member) is damaged before any record could be read."""

    code = "damaged-input"


class DamagedRecord(CollectorError):
    """A damaged record under ``strict`` (without it, the record is skipped, counted and warned)."""

    code = "damaged-record"


class UnknownFormat(CollectorError):
    """A file named on the command line that no collector recognises."""

    code = "unknown-format"


class UnreadableInput(CollectorError):
    """An input the operating system will not let us read."""

    code = "file-access"


# What a damaged gzip stream or zip member raises while it is read (zipfile: a bad header, a CRC
# mismatch, a compression method it does not know).
DAMAGE_ERRORS: tuple[type[Exception], ...] = (EOFError, zlib.error, gzip.BadGzipFile, zipfile.BadZipFile,
                                              NotImplementedError)


class CollectorWarning(UserWarning):
    """A damaged record was skipped (the default ``warn`` of a :class:`Source`)."""


@dataclass(slots=True)
class ReadStats:
    """What reading found besides the events: damaged records and other providers' records."""

    events: int = 0
    skipped: int = 0  # damaged records, each announced by a warning
    other: Counter[str] = field(default_factory=Counter)  # records of other providers, by channel

    def merge(self, more: ReadStats) -> None:
        self.events += more.events
        self.skipped += more.skipped
        if more.other:  # (once a file: Counter.update is Python)
            self.other.update(more.other)


def _default_warn(message: str) -> None:
    warnings.warn(message, CollectorWarning, stacklevel=3)


class LateColumns:
    """``Source.columns`` told after reading has begun: a replay starts reading while its configs
    load, and learns which fields their filters read once they have. A reader does what it can
    without them meanwhile (reading, checking), then waits for :meth:`tell`."""

    def __init__(self) -> None:
        self.names: frozenset[str] | None = None
        self._told = threading.Event()

    def tell(self, names: Iterable[str] | None) -> None:
        """The columns (None: all), once; a reader waiting for them goes on."""
        if not self._told.is_set():
            self.names = frozenset(names) if names is not None else None
            self._told.set()

    @property
    def told(self) -> bool:
        return self._told.is_set()

    def wait(self) -> frozenset[str] | None:
        self._told.wait()
        return self.names


def known_columns(source: Source) -> frozenset[str] | None:
    """``source.columns`` once known: a reader that needs them before it can read (EVTX's
    projected decoding) waits here for columns told late, then keeps them."""
    columns = source.columns
    if isinstance(columns, LateColumns):
        columns = source.columns = columns.wait()
    return columns


@dataclass(slots=True)
class Source:
    """One input: its display name (a path or ``-``), how to open it, and its running counts.

    Collectors call :meth:`skip` for a damaged record and :meth:`other` for a record that is not
    a Sysmon event; with ``strict`` a damaged record raises :class:`CollectorError` instead.
    A regular file is opened afresh for each :meth:`open`; stdin, a FIFO or a device can be read
    only once, so it is opened once, its head kept for sniffing and then replayed before the rest
    of the stream: nothing is slurped, and nothing is lost to a second open.
    """

    name: str
    path: Path | None = None
    strict: bool = False
    warn: Callable[[str], None] = _default_warn
    stats: ReadStats = field(default_factory=ReadStats)
    opener: Callable[[], IO[bytes]] | None = None  # a member of an archive: opened afresh each time
    url: str | None = None  # an fsspec URL (s3://, gs://, abfs://, file://...): read through fsspec
    # The field columns the reader of batches will look at (None: all): a collector may leave the
    # others (and ``extra_fields``) null, but reads and counts the same records and damage.
    # LateColumns: told once reading has begun.
    columns: frozenset[str] | LateColumns | None = None
    _stream: _OnceStream | None = None
    _regular: bool | None = None  # a regular file, or one that cannot be looked at (None: not asked yet)

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

    @property
    def replayable(self) -> bool:
        """Whether the input can be opened again (a regular file), or only read once (stdin, FIFO)."""
        return self._once() is None

    def _once(self) -> _OnceStream | None:
        if self.opener is not None or self.url is not None:
            return None
        if self._stream is None and (self.path is None or not self._is_regular()):
            self._stream = _OnceStream(self._open_path() if self.path is not None else _stdin())
        return self._stream

    def _is_regular(self) -> bool:
        if self._regular is None:  # asked for each open: looked up once
            assert self.path is not None
            self._regular = is_regular(self.path)
        return self._regular

    def _open_path(self) -> BinaryIO:
        assert self.path is not None
        try:
            return self.path.open("rb")
        except OSError as exc:
            raise UnreadableInput(f"{self.name}: cannot read: {exc.strerror or exc}") from exc

    def _open_raw(self) -> io.BufferedReader:
        if self.opener is not None:
            return self.opener()  # type: ignore[return-value]  # a zip member: seekable, with peek
        if self.url is not None:
            return _open_url(self.name, self.url)
        once = self._once()
        if once is None:
            return self._open_path()  # type: ignore[return-value]
        return io.BufferedReader(once.take(self.name))

    def head(self, size: int = HEAD_SIZE) -> bytes:
        """The first ``size`` bytes (decompressed, as far as a damaged gzip allows), for recognising
        the format; the damage itself is reported when the events are read."""
        try:
            once = self._once()
            if once is not None:
                return _gunzip_head(once.prefix, size)
            with self._open_raw() as stream:
                head = stream.read(size)  # gzip needs more of its compressed bytes: read them only then
                if head.startswith(GZIP_MAGIC):
                    head += stream.read(max(0, _OnceStream.PREFIX - len(head)))
                return _gunzip_head(head, size)
        except DAMAGE_ERRORS as exc:
            kind = "zip member" if isinstance(exc, zipfile.BadZipFile | NotImplementedError) else "gzip stream"
            raise DamagedInput(f"{self.name}: damaged {kind} ({exc or type(exc).__name__})") from exc
        except OSError as exc:
            raise UnreadableInput(f"{self.name}: cannot read: {exc.strerror or exc}") from exc

    def skip(self, where: str, reason: str, records: int = 1) -> None:
        """Count a damaged record (or ``records`` of them lost at once) and warn (or raise under
        ``strict``); ``where`` names it."""
        lines = reason.strip().splitlines()  # parsers' details (excerpts of the record) stay out
        what = "damaged record" if records == 1 else f"{records:,} damaged records"
        if self.strict:  # placed, so that the one error line puts it first: file:line: error[...]: ...
            raise DamagedRecord(f"{what}: {lines[0] if lines else 'unreadable'}", self._place(where))
        message = f"{where}: {what} skipped: {lines[0] if lines else 'unreadable'}"
        self.stats.skipped += records
        self.warn(message)

    def _place(self, where: str) -> Location:
        """``file:line`` as a Location with its line; any other place (``file#record``) as it is written."""
        rest = where.removeprefix(self.name) if where.startswith(self.name) else ""
        if rest[:1] == ":" and rest[1:].isdigit():
            return Location(self.name, int(rest[1:]))
        return Location(where)

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


class Row(Protocol):
    """What a collector's ``gather(source)`` may yield in place of an event: a record read but
    not yet made an event, which ``EventStream.batches`` turns into columns with the rows of
    other files (``type(row).to_batch(rows, unencodable)``). A row with a ``split(n)`` method
    stands for ``len(row)`` records, and ``split(n)`` gives its first ``n`` and the rest as two
    rows (EVTX's ``EvtxRows``: a run of one file's records)."""

    @staticmethod
    def to_batch(rows: Sequence[Any], unencodable: Callable[[Event], None] | None = None) -> pa.RecordBatch: ...


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
    encoding = utf16_encoding(head)
    if encoding is not None:
        head = head.decode(encoding, "ignore").encode("utf-8", "ignore")
    return head.removeprefix(b"\xef\xbb\xbf").lstrip()


class _Utf16AsUtf8(io.RawIOBase):
    """A UTF-16 text stream read as UTF-8 bytes (line breaks where they were). A broken code unit
    becomes a backslash escape, which no JSON line holds: its record reads as damaged, not altered."""

    def __init__(self, stream: BinaryIO, encoding: str) -> None:
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="backslashreplace")
        self._pending = b""
        self._ended = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending and not self._ended:
            data = self._stream.read(1 << 16)
            self._ended = not data
            self._pending = self._decoder.decode(data, final=self._ended).encode("utf-8", "surrogatepass")
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def close(self) -> None:
        self._stream.close()
        super().close()


def utf16_encoding(head: bytes) -> str | None:
    """The UTF-16 codec of text that starts with a BOM or with ``{``/``[`` as a UTF-16LE unit (as
    PowerShell 5's ``>`` and ``Out-File`` write), else None."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if len(head) >= 2 and head[1] == 0 and head[:1] in (b"{", b"["):
        return "utf-16-le"
    return None


def as_utf8(stream: BinaryIO) -> BinaryIO:
    """``stream`` itself, or read as UTF-8 when it holds UTF-16 text (a text format's one way in)."""
    peek = getattr(stream, "peek", None)
    encoding = utf16_encoding(peek(2)[:2]) if peek is not None else None
    if encoding is None:
        return stream
    return io.BufferedReader(_Utf16AsUtf8(stream, encoding))


def _stdin() -> BinaryIO:
    """Standard input through a reader of our own: a reading thread blocked in ``sys.stdin.buffer``
    holds its lock, and an interpreter exiting then (Ctrl-C) aborts trying to take it."""
    try:
        return open(sys.stdin.fileno(), "rb", buffering=0, closefd=False)  # read until the end
    except (AttributeError, OSError, ValueError):  # replaced by a test runner, or closed
        return sys.stdin.buffer


def is_regular(path: Path) -> bool:
    """A regular file (one a FIFO or a device is read once), or one that cannot be looked at."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return True  # let the open report why it cannot be read


def _gunzip_head(prefix: bytes, size: int) -> bytes:
    """The first ``size`` bytes of ``prefix``, decompressed when it is gzip: a cut or corrupt
    stream gives what decompressed before the damage."""
    if not prefix.startswith(GZIP_MAGIC):
        return prefix[:size]
    inflate, out = zlib.decompressobj(wbits=31), b""
    for start in range(0, len(prefix), 512):
        try:
            out += inflate.decompress(prefix[start:start + 512], size - len(out))
        except zlib.error:
            if not out:
                raise  # damaged before its first byte: nothing to recognise it by
            break
        if len(out) >= size or inflate.eof:
            break
    return out


class _OnceStream(io.RawIOBase):
    """A stream that can be read once: its first bytes are kept (for sniffing), then replayed."""

    PREFIX = 64 * 1024  # enough compressed bytes for a 4 KiB gunzipped head

    def __init__(self, stream: BinaryIO) -> None:
        super().__init__()
        self._stream = stream
        # Only what sniffing needs: a live stream (tail -f) must not wait for 64 KiB to start.
        self.prefix = _read_up_to(stream, HEAD_SIZE)
        if self.prefix.startswith(GZIP_MAGIC) and len(self.prefix) == HEAD_SIZE:
            self.prefix += _read_up_to(stream, self.PREFIX - HEAD_SIZE)
        self._offset = 0
        self._taken = False

    def take(self, name: str) -> _OnceStream:
        if self._taken:
            raise CollectorError(f"{name}: can be read only once (a pipe or device), and it was read already")
        self._taken = True
        return self

    def readable(self) -> bool:
        return True

    @property
    def whole_reads(self) -> bool:
        """Does each read give its bytes or fail with none of them (an OS read: a pipe, a FIFO, a
        device)? Then ``lines.chunks`` may read it by reads, not line by line: a failure still
        comes after the lines the reads before it hold."""
        inner = self._stream
        return isinstance(inner, io.FileIO) or (isinstance(inner, io.BufferedReader)
                                                and isinstance(inner.raw, io.FileIO))

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        if self._offset < len(self.prefix):
            chunk = self.prefix[self._offset:self._offset + len(view)]
            self._offset += len(chunk)
            view[:len(chunk)] = chunk
            return len(chunk)
        chunk = self._stream.read1(len(view)) if hasattr(self._stream, "read1") else self._stream.read(len(view))
        view[:len(chunk)] = chunk
        return len(chunk)


def _read_up_to(stream: BinaryIO, size: int) -> bytes:
    """Up to ``size`` bytes: a pipe answers in pieces, so read until ``size`` or the end."""
    parts, total = [], 0
    while total < size:
        chunk = stream.read1(size - total) if hasattr(stream, "read1") else stream.read(size - total)
        if not chunk:
            break
        parts.append(chunk)
        total += len(chunk)
    return b"".join(parts)
