"""Reading record batches on a thread of its own while the configs load and batches are decided."""

from __future__ import annotations

import contextlib
import queue
import sys
import threading
from collections.abc import Callable, Iterable, Iterator

import pyarrow as pa

# While batches are read on threads beside a thread deciding in Python, a reading thread back from
# Arrow (which runs without the GIL) waits for the GIL until the decider is made to let go: every
# switch interval (5 ms by default) for each of the many Arrow calls a batch takes. Measured: 50k
# JSON lines read beside a busy Python thread in 2.8-3.0 s at 5 ms, 1.6-2.0 s at 0.5 ms. So the
# interval is shortened while any read-ahead's thread runs, and put back when the last one ends.
_SWITCH_INTERVAL = 0.0005
_running = 0
_saved_interval = 0.0
_interval_lock = threading.Lock()


def _reading_starts() -> None:
    global _running, _saved_interval
    with _interval_lock:
        if _running == 0:
            _saved_interval = sys.getswitchinterval()
            sys.setswitchinterval(min(_saved_interval, _SWITCH_INTERVAL))
        _running += 1


def _reading_ends() -> None:
    global _running
    with _interval_lock:
        _running -= 1
        if _running == 0:
            sys.setswitchinterval(_saved_interval)


class ReadAhead:
    """Batches read on a thread of their own, handed over in order with what reading said.

    Parsing (Arrow's, in C++ without the GIL) then runs while this thread loads the configs
    and decides the batch before. Nothing is told out of turn: the warnings given to
    :meth:`warn` while reading come out through the consumer's ``warn`` just before the batch
    (or the error, or the end) that follows them, and an error is raised where reading stopped,
    so a run prints what it printed reading in this thread. ``start`` first: pass :meth:`warn`
    as the reader's warning callback, then start it with the reader's batches.
    """

    _WARNINGS = 1000  # handed over in parcels of at most this many, so they never pile up
    _END = object()

    def __init__(self, warn: Callable[[str], None]) -> None:
        self._warn = warn
        self._spare: Iterator[object] | None = None
        self._said: list[str] = []
        self._queue: queue.Queue[tuple[list[str], object]] = queue.Queue(maxsize=1)  # one batch ahead
        # The next batch is read only once the consumer took the one before: two in memory at most.
        self._room = threading.Semaphore(1)
        self._closed = threading.Event()

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop reading (the consumer is done, or gave up on an error): the thread ends after the
        batch it is reading, its reader closed, instead of waiting forever to hand it over."""
        self._closed.set()

    def warn(self, message: str) -> None:
        self._said.append(message)
        if len(self._said) >= self._WARNINGS:
            self._hand_over(None)

    def start(self, batches: Iterable[pa.RecordBatch]) -> ReadAhead:
        _reading_starts()  # ends with the reading thread
        # A daemon: an error or Ctrl-C in the consumer ends the run without waiting for the reading.
        threading.Thread(target=self._read, args=(batches,), name="sysmon-rules read-ahead", daemon=True).start()
        return self

    def meanwhile(self, steps: Iterator[object]) -> ReadAhead:
        """Work to do, a step at a time, while the consumer waits for the next batch (such as
        ``Evaluator.prepare_batches``): none of it is done once a batch is waiting."""
        self._spare = steps
        return self

    def _hand_over(self, item: object) -> None:
        said, self._said = self._said, []
        while not self._closed.is_set():
            try:
                self._queue.put((said, item), timeout=0.1)  # and look again whether the consumer left
                return
            except queue.Full:
                continue
        raise _Closed

    def _read(self, batches: Iterable[pa.RecordBatch]) -> None:
        reading = iter(batches)
        try:
            for batch in self._paced(reading):
                self._hand_over(batch)
            self._hand_over(self._END)
        except _Closed:
            pass
        except BaseException as exc:  # raised again in the consumer, where reading stopped
            with contextlib.suppress(_Closed):
                self._hand_over(_Failed(exc))
        finally:
            close = getattr(reading, "close", None)
            if close is not None:
                close()  # a generator's files and worker threads are released now
            _reading_ends()

    def _paced(self, reading: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        while True:
            while not self._room.acquire(timeout=0.1):  # and look again whether the consumer left
                if self._closed.is_set():
                    raise _Closed
            batch = next(reading, None)
            if batch is None:
                return
            yield batch

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        while True:
            while self._spare is not None and self._queue.empty():
                if next(self._spare, None) is None:
                    self._spare = None
            said, item = self._queue.get()
            for message in said:
                self._warn(message)
            if item is self._END:
                return
            if isinstance(item, _Failed):
                raise item.error
            if item is not None:
                assert isinstance(item, pa.RecordBatch)
                self._room.release()  # the reader may read the next one while this one is decided
                yield item


class _Closed(Exception):
    """The consumer closed the read-ahead: reading stops."""


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error
