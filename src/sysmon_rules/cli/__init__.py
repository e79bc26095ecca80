"""The `sysmon-rules` command: a click group; each subcommand lives in its own module."""

from __future__ import annotations

import importlib
import sys

import click

from ..errors import SysmonRulesError

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
    "report",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sysmon-rules")
def main() -> None:
    """Compile, decompile, validate, evaluate and lint Sysmon configurations offline."""


for _name in _COMMAND_MODULES:
    main.add_command(importlib.import_module(f"{__name__}.{_name}").command)


def run(argv: list[str] | None = None) -> None:
    """Console entry point: bad input is one line on stderr and exit 1, never a traceback."""
    try:
        main.main(args=argv, prog_name="sysmon-rules", standalone_mode=True)
    except SysmonRulesError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except (BrokenPipeError, KeyboardInterrupt):
        sys.exit(130)
    except Exception as exc:  # a bug: say so in one line, with where to look
        click.echo(f"internal error: {type(exc).__name__}: {exc} (please report this)", err=True)
        sys.exit(70)
