"""How every command prints a Diagnostic or a failure: one line each, one format.

The format is ``Diagnostic.__str__``: ``path:line:column: severity[code]: message (hint)``. A
failure is the failing error's Diagnostics on stderr and exit 1; one without a place of its own is
placed at the file the command was reading or writing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import NoReturn

import click

from ..errors import Diagnostic, Location, SysmonRulesError


def render(diagnostic: Diagnostic, path: str | None = None) -> str:
    """The one line for ``diagnostic``; ``path`` stands in when it names no file."""
    if path and not diagnostic.location.path:
        diagnostic = replace(diagnostic, location=replace(diagnostic.location, path=path))
    return str(diagnostic)


def echo_diagnostics(diagnostics: Iterable[Diagnostic], path: str | None = None, *, err: bool = False) -> None:
    for diagnostic in diagnostics:
        click.echo(render(diagnostic, path), err=err)


def fail(path: str, message: str) -> NoReturn:
    """Exit 1 with ``path: error[invalid-input]: message``."""
    fail_with(SysmonRulesError(message), path)


def fail_with(exc: SysmonRulesError, path: str) -> NoReturn:
    """Exit 1 after printing what ``exc`` says, one line per error."""
    echo_diagnostics(exc.as_diagnostics(), path, err=True)
    raise SystemExit(1)


__all__ = ["Location", "echo_diagnostics", "fail", "fail_with", "render"]
