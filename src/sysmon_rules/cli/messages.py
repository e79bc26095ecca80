"""How every command prints a Diagnostic or a failure, and the exit codes: one line each, one format.

The format is ``Diagnostic.__str__``: ``path:line:column: severity[code]: message (hint)``. An
error without a file of its own is placed at the file the command was reading or writing, or at
the command itself (``sysmon-rules diff: error[usage]: ...``). The exit codes are documented in docs/cli.md.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import replace
from typing import Any, NoReturn

import click

from ..errors import Diagnostic, Location, SysmonRulesError
from ..exitcodes import (  # re-exported: every command takes them from here
    EXIT_FINDINGS,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TROUBLE,
    EXIT_UNDECIDED,
    Interrupted,
)
from ..inputfiles import STDIO, NoInputError


def render(diagnostic: Diagnostic, path: str | None = None) -> str:
    """The one line for ``diagnostic``; ``path`` stands in when it names no file."""
    if path and not diagnostic.location.path:
        diagnostic = replace(diagnostic, location=replace(diagnostic.location, path=path))
    return str(diagnostic)


def echo_diagnostics(diagnostics: Iterable[Diagnostic], path: str | None = None, *, err: bool = False) -> None:
    for diagnostic in diagnostics:
        click.echo(render(diagnostic, path), err=err)


def fail(path: str, message: str) -> NoReturn:
    """Exit 2 with ``path: error[invalid-input]: message``."""
    fail_with(SysmonRulesError(message), path)


def fail_with(exc: SysmonRulesError, path: str) -> NoReturn:
    """Exit 2 (the command could not do its work) after printing what ``exc`` says, one line per error."""
    echo_diagnostics(exc.as_diagnostics(), path, err=True)
    raise SystemExit(EXIT_TROUBLE)


def one_file(path: str, what: str, *, stdin: bool = False) -> str:
    """``path`` when it names a file (or ``-`` with ``stdin``); NoInputError naming it otherwise."""
    if stdin and path == STDIO:
        return path
    if os.path.isdir(path):
        raise NoInputError(f"a folder; give one {what} file", Location(path))
    if not os.path.lexists(path):
        raise NoInputError("no such file or folder", Location(path))
    return path


class InputFile(click.Path):
    """A command-line argument naming one input file (``-`` too with ``stdin``): a missing path or a
    folder is the one ``no-input`` error line (exit 2), as for commands that take many files."""

    def __init__(self, what: str, *, stdin: bool = False) -> None:
        super().__init__(allow_dash=stdin)
        self.what = what
        self.stdin = stdin

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        return one_file(os.fspath(value), self.what, stdin=self.stdin)


__all__ = [
    "EXIT_FINDINGS",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_TROUBLE",
    "EXIT_UNDECIDED",
    "InputFile",
    "Interrupted",
    "Location",
    "echo_diagnostics",
    "fail",
    "fail_with",
    "one_file",
    "render",
]
