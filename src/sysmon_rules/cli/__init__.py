"""The `sysmon-rules` command: a click group; each subcommand lives in its own module."""

from __future__ import annotations

import contextlib
import errno
import importlib
import io
import os
import sys

import click

from ..errors import SysmonRulesError

# Errors of a write that did not fit (a full disk, /dev/full): bad output, not a bug.
_OUTPUT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})

# One line per subcommand module; each module defines `command` (a click.Command).
_COMMAND_MODULES = (
    "validate",
    "schema",
    "compile",
    "decompile",
    "dump",
    "evaluate",
    "test",
    "lint",
    "diff",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sysmon-rules")
def main() -> None:
    """Compile, decompile, validate, evaluate and lint Sysmon configurations offline."""


for _name in _COMMAND_MODULES:
    main.add_command(importlib.import_module(f"{__name__}.{_name}").command)


def _tolerant_output() -> None:
    """Text that cannot be encoded (a lone surrogate from a blob or a file name) is escaped, not fatal."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")


def _output_failed(exc: OSError) -> None:
    """The output did not fit: one line, exit 1, and stdout pointed at /dev/null so that the
    interpreter's own flush at exit does not complain a second time."""
    click.echo(f"error: cannot write output: {exc.strerror or exc}", err=True)
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(1)


def run(argv: list[str] | None = None) -> None:
    """Console entry point: bad input is one line on stderr and exit 1 (2 for usage), Ctrl-C
    exit 130, never a traceback."""
    _tolerant_output()
    try:
        try:
            code: object = main.main(args=argv, prog_name="sysmon-rules", standalone_mode=False)
        except SystemExit as exc:
            code = exc.code
        sys.stdout.flush()  # a full stdout fails here, inside the handlers below
    except click.exceptions.Abort:  # click's name for Ctrl-C
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except SysmonRulesError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except (BrokenPipeError, KeyboardInterrupt):
        sys.exit(130)
    except OSError as exc:
        if exc.errno not in _OUTPUT_ERRNOS:
            _internal(exc)
        _output_failed(exc)
    except Exception as exc:  # a bug: say so in one line, with where to look
        _internal(exc)
    sys.exit(code)  # type: ignore[arg-type]


def _internal(exc: Exception) -> None:
    click.echo(f"internal error: {type(exc).__name__}: {exc} (please report this)", err=True)
    sys.exit(70)
