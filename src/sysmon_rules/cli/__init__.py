"""The `sysmon-rules` command: a click group; each subcommand lives in its own module."""

from __future__ import annotations

import importlib

import click

# One line per subcommand module; each module defines `command` (a click.Command).
_COMMAND_MODULES = (
    "validate",
    "schema",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sysmon-rules")
def main() -> None:
    """Compile, decompile, validate, evaluate and lint Sysmon configurations offline."""


for _name in _COMMAND_MODULES:
    main.add_command(importlib.import_module(f"{__name__}.{_name}").command)
