"""The command line's exit codes (docs/cli.md), and the stop that carries what a command had done.

Below the CLI package so that its root (which must stay light for ``--help``) and its message
helpers share them without importing each other.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

EXIT_OK = 0
EXIT_FINDINGS = 1  # the command ran to the end and its answer is "no": invalid, findings, failures, different
EXIT_TROUBLE = 2  # could not answer: usage; an input missing, empty, unreadable, of the wrong kind; output unwritable
EXIT_UNDECIDED = 3  # diff: neither equivalence nor a difference could be proven
EXIT_INTERNAL = 70  # a bug (EX_SOFTWARE)
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)


class Interrupted(Exception):
    """Ctrl-C, with what the command had done by then (printed as the one error line, exit 130)."""

    def __init__(self, done: str) -> None:
        self.done = done
        super().__init__(done)


@contextlib.contextmanager
def ctrl_c_held() -> Iterator[None]:
    """Ctrl-C waits until the block is done, then interrupts as usual: a batch of output lines is
    written whole and counted, so an interrupted run never leaves half a line or uncounted rows.
    (A Python handler, not a signal mask: a mask holds one thread, and the signal would reach the
    reading threads.) Off the main thread, where handlers cannot be set, the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: caught.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            if callable(previous):
                previous(signal.SIGINT, None)  # Python's own raises KeyboardInterrupt here
            elif previous == signal.SIG_DFL:
                signal.raise_signal(signal.SIGINT)
