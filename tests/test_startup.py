"""Start-up: `sysmon-rules --help` imports no command module, schemas are parsed per version."""

from __future__ import annotations

import subprocess
import sys

import click
from click.testing import CliRunner

from sysmon_rules.cli import _COMMAND_MODULES, _load, main
from sysmon_rules.schema import SchemaRegistry

_PROBE = """
import sys
from sysmon_rules.cli import run
try:
    run(["--help"])
except SystemExit:
    pass
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("lxml", "lark", "rich", "pyarrow", "evtx", "yaml")
               or m.startswith(("sysmon_rules.cli.", "sysmon_rules.engine", "sysmon_rules.schema")))
print(heavy, file=sys.stderr)
"""


def test_help_imports_nothing_heavy() -> None:
    done = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True)
    assert "Commands:" in done.stdout
    assert done.stderr.strip() == "[]"


def test_help_lists_every_command_as_click_would_from_the_imported_commands() -> None:
    lazy = CliRunner().invoke(main, ["--help"], prog_name="sysmon-rules").output
    eager = click.Group(main.name, help=main.help, params=main.params,
                                      context_settings=main.context_settings)
    for module in _COMMAND_MODULES:
        eager.add_command(_load(module))
    assert CliRunner().invoke(eager, ["--help"], prog_name="sysmon-rules").output == lazy
    assert len([line for line in lazy.split("Commands:")[1].splitlines() if line.strip()]) == len(_COMMAND_MODULES)


def test_a_schema_version_parses_only_its_chain_of_bases() -> None:
    registry = SchemaRegistry()
    assert registry.get("4.50").version == "4.50"
    parsed = set(registry._versions)
    names = list(registry._files)
    assert parsed == set(names[: names.index("4.50") + 1])
    assert [s.version for s in registry] == names  # and iterating parses the rest, oldest first
