"""The lines of a text input: one at a time, numbered, or as chunks of whole lines (numbered by
who parses them, ``jsonl_batches.parsed``).

A line longer than :data:`MAX_LINE` is not an event record (the XML collector's cap): it is
reported as ``None`` and read past without being held in memory.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

MAX_LINE = 16 << 20
_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class Block:
    """``count`` lines from line ``first`` on, as read (newlines kept); ``data`` is None for one
    line over :data:`MAX_LINE` (``count`` 1)."""

    first: int
    count: int
    data: bytes | None

    def lines(self) -> Iterator[tuple[int, bytes]]:
        """``(number, line)`` for each line, its newline kept: what :func:`lines` yields."""
        assert self.data is not None
        parts = self.data.split(b"\n")
        last = parts.pop()  # after the final newline: empty, or a last line without one
        for offset, part in enumerate(parts):
            yield self.first + offset, part + b"\n"
        if last:
            yield self.first + len(parts), last


def lines(stream: BinaryIO) -> Iterator[tuple[int, bytes | None]]:
    """``(number, line)`` for each line; None for a line over :data:`MAX_LINE`, read past unbuffered."""
    number = 0
    while True:
        raw = stream.readline(MAX_LINE + 1)
        if not raw:
            return
        number += 1
        if len(raw) <= MAX_LINE or raw.endswith(b"\n"):
            yield number, raw
            continue
        while raw and not raw.endswith(b"\n"):  # the rest of the over-long line, chunk by chunk
            raw = stream.readline(_CHUNK)
        yield number, None


@dataclass(frozen=True, slots=True)
class Chunk:
    """Whole lines as read (newlines kept), or None for one line over :data:`MAX_LINE`; ``count``
    lines, or None when they are not counted yet (who parses them may learn it for free)."""

    data: bytes | None
    count: int | None


def line_count(data: bytes) -> int:
    """How many lines ``data`` (whole lines, not empty) holds: a last one may lack its newline."""
    return data.count(b"\n") + (not data.endswith(b"\n"))


def chunks(stream: BinaryIO, size: int) -> Iterator[Chunk]:
    """The lines of :func:`lines` in chunks of whole lines of at most ``size`` bytes (a longer
    line is a chunk of its own).

    A regular file is read ``size`` bytes at a time, its chunks not counted (a pass over their
    bytes with the GIL held). So is a buffered stream whose raw stream says ``whole_reads`` (a
    pipe: each of its reads gives its bytes or fails with none of them), read as its reads come,
    so that a failure comes after the lines of the reads before it. Any other stream (gzip, a zip
    member) is read line by line as :func:`lines` reads it, so a damaged stream fails at the same
    line, after the same lines, as when read that way.
    """
    assert size <= MAX_LINE  # so every line of a chunk is within the limit
    if isinstance(stream, io.BufferedReader) and isinstance(stream.raw, io.FileIO) and stream.seekable():
        return _read_chunks(stream, size)
    if isinstance(stream, io.BufferedReader) and getattr(stream.raw, "whole_reads", False):
        return _piped_chunks(stream, size)
    return _line_chunks(stream, size)


def _line_chunks(stream: BinaryIO, size: int) -> Iterator[Chunk]:
    held: list[bytes] = []
    total = 0
    try:
        for _, raw in lines(stream):
            if raw is None or total + len(raw) > size:
                if held:
                    yield Chunk(b"".join(held), len(held))
                held, total = [], 0
            if raw is None:
                yield Chunk(None, 1)
                continue
            held.append(raw)
            total += len(raw)
    except GeneratorExit:  # closed by the consumer (Ctrl-C, an early stop): a yield here is an error
        raise
    except BaseException:
        if held:  # what was read before the stream failed, then the failure
            yield Chunk(b"".join(held), len(held))
        raise
    if held:
        yield Chunk(b"".join(held), len(held))


def _read_chunks(stream: BinaryIO, size: int) -> Iterator[Chunk]:
    """Chunks of a seekable file: ``size`` bytes read, cut after their last newline, and the
    file read again from there (a seek back, so that no bytes are copied into the next chunk)."""
    while True:
        data = stream.read(size)
        if not data:
            return
        end = data.rfind(b"\n") + 1
        if len(data) < size:  # the end of the file: the rest, a last line without a newline included
            end = len(data)
        if end == 0:  # the first line does not fit in a chunk
            line, rest = _long_line(stream, data)
            stream.seek(-len(rest), io.SEEK_CUR)
            yield Chunk(line, 1)
            continue
        if end < len(data):
            stream.seek(end - len(data), io.SEEK_CUR)
            data = data[:end]
        yield Chunk(data, None)


def _piped_chunks(stream: io.BufferedReader, size: int) -> Iterator[Chunk]:
    """Chunks of a stream read as its reads come (``readinto1``): cut after the last newline of
    their first ``size`` bytes, the rest carried over to the next chunk."""
    held, filled, ended = bytearray(size), 0, False  # held[:filled]: read, not in a chunk yet
    try:
        while True:
            with memoryview(held) as view:
                while filled < size and not ended:
                    got = stream.readinto1(view[filled:size])
                    filled += got
                    ended = not got
            if ended and filled <= size:  # the rest, a last line without a newline included
                if filled:
                    yield Chunk(bytes(held[:filled]), None)
                return
            end = held.rfind(b"\n", 0, size) + 1
            if end == 0:  # the first line does not fit in a chunk
                line, rest = _long_line(stream, bytes(held[:filled]))
                yield Chunk(line, 1)
            else:
                rest = bytes(held[end:filled])
                yield Chunk(bytes(held[:end]), None)
            held[:len(rest)] = rest  # (grows the buffer if what followed a long line is longer)
            filled = len(rest)
    except GeneratorExit:  # closed by the consumer (Ctrl-C, an early stop): a yield here is an error
        raise
    except BaseException:
        end = held.rfind(b"\n", 0, filled) + 1  # the whole lines read before the stream failed, then the failure
        if end:
            yield Chunk(bytes(held[:end]), None)
        raise


def _long_line(stream: BinaryIO, buffer: bytes) -> tuple[bytes | None, bytes]:
    """The line at the start of ``buffer`` that is longer than a chunk (None: longer than
    :data:`MAX_LINE`), and what follows it."""
    held, start = bytearray(buffer), 0
    while True:
        found = held.find(b"\n", start)
        if found >= 0:
            line, rest = bytes(held[:found + 1]), bytes(held[found + 1:])
            return line if len(line) <= MAX_LINE + 1 else None, rest
        if len(held) > MAX_LINE + 1:  # too long whatever follows: read past it, keeping nothing
            return None, _past_newline(stream)
        start = len(held)
        data = stream.read(_CHUNK)
        if not data:
            return bytes(held) if len(held) <= MAX_LINE else None, b""
        held += data


def _past_newline(stream: BinaryIO) -> bytes:
    """What follows the next newline in the stream (up to one chunk), the rest left unread."""
    while True:
        data = stream.read(_CHUNK)
        found = data.find(b"\n")
        if not data or found >= 0:
            return data[found + 1:] if data else b""
