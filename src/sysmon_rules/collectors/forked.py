"""Reading many files on every core: ``EventStream.batches`` in forked worker processes.

Reading EVTX is CPU-bound Python around the Rust parser, so one process reads one core's worth.
An input of many plain files with enough EVTX in them is cut into chunks of consecutive files;
worker ``w`` reads chunks ``w``, ``w + W``, ``w + 2W``... with the single-process code (forked,
so it starts in about a millisecond with everything imported) and sends each chunk's batches
(Arrow IPC) with its counts, warnings and file lists. The parent hands them on in input order,
replays the warnings and adds the counts, so the stream's batches, ``stats``, ``files``,
``unread`` and warnings are those of the single-process run; only where batches are cut differs
(a batch never spans two chunks). Memory stays bounded: a worker blocks on its pipe until the
parent has taken its previous chunk.

A damaged record under ``strict`` (or any error) ends the worker's chunk; the parent raises it
after the batches before it, as the single-process run would.
"""

from __future__ import annotations

import os
import pickle
import signal
import stat
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, Pipe
from pathlib import Path
from typing import cast

import pyarrow as pa

from .base import CollectorError, ReadStats, Source, is_url
from .evtxfile import MAGIC
from .listing import expand

# Below this much input, forking costs more than it saves (benchmarks/bench_fleet.py measures both).
PARALLEL_BYTES = 128 << 20
# A chunk's batches are held until the parent takes them: about 8,000 records, 10-20 MB of Arrow.
CHUNK_BYTES = 32 << 20


@dataclass(slots=True)
class ChunkResult:
    """What a worker read from one chunk of files."""

    batches: list[bytes] = field(default_factory=list)  # Arrow IPC streams, one batch each
    stats: ReadStats = field(default_factory=ReadStats)
    files: list[tuple[str, str]] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: BaseException | None = None


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


Listed = list[tuple[Source, bool]]


def plan(inputs: list[str | Path], workers: int | None) -> tuple[list[Listed] | None, Listed | None]:
    """The chunks to read in parallel (None: read in this process), and the inputs' sources
    when they had to be listed to decide and can be read from that list.

    Parallel needs fork (Linux), more than one core (or ``workers`` > 1), and only plain files:
    stdin and pipes can be read once, zip members and URLs hold open handles.
    """
    count = cores() if workers is None else workers
    if count < 2 or sys.platform != "linux" or any(str(a) == "-" or is_url(str(a)) for a in inputs):
        return None, None
    if workers is None and threading.active_count() > 1:  # another thread may hold a lock a fork would copy
        return None, None
    try:
        sources = list(expand(inputs))
    except CollectorError:  # a damaged zip: reported in its place by the single-process run
        return None, None
    sizes = [_plain_size(s) for s, _ in sources]
    if None in sizes:  # a zip member (its archive is closed now: list again), a pipe, a device
        return None, None
    plain = cast("list[int]", sizes)
    if len(sources) < 2 or (workers is None and (sum(plain) < PARALLEL_BYTES  # no file opened to say so
                                                 or _evtx_bytes(sources, plain) < PARALLEL_BYTES)):
        return None, sources
    return _chunks(sources, plain, CHUNK_BYTES), None


def _evtx_bytes(sources: Listed, sizes: list[int]) -> int:
    """How much of the input is plain EVTX: what workers read faster (JSON lines and Parquet are
    not CPU-bound enough to pay for sending their batches back)."""
    total = 0
    for (source, _), size in zip(sources, sizes, strict=True):
        try:
            with source.path.open("rb") as stream:  # type: ignore[union-attr]  # plain files only
                total += size if stream.read(len(MAGIC)) == MAGIC else 0
        except OSError:
            continue
    return total


def _plain_size(source: Source) -> int | None:
    """The size of a regular file, None for anything else."""
    if source.opener is not None or source.path is None:
        return None
    try:
        status = source.path.stat()
    except OSError:
        return 0  # the read names why it cannot be opened
    return status.st_size if stat.S_ISREG(status.st_mode) else None


def _chunks(sources: Listed, sizes: list[int], target: int) -> list[Listed]:
    chunks: list[Listed] = [[]]
    filled = 0
    for source, size in zip(sources, sizes, strict=True):
        if filled >= target:
            chunks.append([])
            filled = 0
        chunks[-1].append(source)
        filled += size
    return chunks


ReadChunk = Callable[[Listed, int], ChunkResult]  # in a worker: a chunk's files read, ``rows`` a batch at most


def batches(chunks: list[Listed], rows: int, workers: int | None, read_chunk: ReadChunk,
            absorb: Callable[[ChunkResult], None]) -> Iterator[pa.RecordBatch]:
    """The chunks' batches, read by forked workers with ``read_chunk``, in input order; each
    chunk's counts, file lists and warnings go to ``absorb`` before its batches (see the module
    docstring)."""
    count = min(len(chunks), cores() if workers is None else workers)
    children: list[tuple[int, Connection]] = []
    finished = False
    try:
        for worker in range(count):
            children.append(_fork(read_chunk, chunks[worker::count], rows))
        for index in range(len(chunks)):
            result = _receive(children[index % count])
            absorb(result)
            for data in result.batches:
                yield pa.ipc.open_stream(data).read_next_batch()
            if result.error is not None:
                raise result.error
        finished = True
    finally:
        for pid, connection in children:
            connection.close()
            _end(pid, finished)


def _receive(child: tuple[int, Connection]) -> ChunkResult:
    try:
        result: ChunkResult = pickle.loads(child[1].recv_bytes())
    except EOFError:
        raise CollectorError(f"a reading worker (process {child[0]}) ended before sending its files") from None
    return result


def _fork(read_chunk: ReadChunk, chunks: list[Listed], rows: int) -> tuple[int, Connection]:
    receive, send = Pipe(duplex=False)
    pid = os.fork()
    if pid == 0:  # the worker: read its chunks, send each, and leave without the parent's exit handlers
        receive.close()
        status = 0
        try:
            for chunk in chunks:
                send.send_bytes(pickle.dumps(read_chunk(chunk, rows)))
        except BaseException:  # the parent went away (a closed pipe, Ctrl-C): nothing to report to
            status = 1
        finally:
            os._exit(status)
    send.close()
    return pid, receive


def read(batches: Iterable[pa.RecordBatch], result: ChunkResult) -> ChunkResult:
    """``result`` with ``batches`` (a chunk read by the single-process code) as Arrow IPC; an
    error ends the chunk, to be raised in the parent in its place."""
    try:
        for batch in batches:
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, batch.schema) as writer:
                writer.write_batch(batch)
            result.batches.append(sink.getvalue().to_pybytes())
    except Exception as exc:  # raised in the parent, in its place
        result.error = exc if _picklable(exc) else RuntimeError(f"{type(exc).__name__}: {exc}")
    return result


def _picklable(exc: BaseException) -> bool:
    try:
        pickle.dumps(exc)
    except Exception:
        return False
    return True


def _end(pid: int, finished: bool) -> None:
    """Reap a worker; when the consumer stopped early, the worker is stopped first."""
    try:
        if not finished and os.waitpid(pid, os.WNOHANG)[0] == 0:
            os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
