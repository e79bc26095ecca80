"""The command line's exit codes (docs/cli.md), and the stop that carries what a command had done.

Below the CLI package so that its root (which must stay light for ``--help``) and its message
helpers share them without importing each other.
"""

from __future__ import annotations

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
