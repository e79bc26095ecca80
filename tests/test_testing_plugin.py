"""The pytest plugin in a throwaway project: test files collected, cases pass and fail; fixtures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sample_configs import SHELL_CONFIG

pytest_plugins = ["pytester"]

CONFIG = SHELL_CONFIG

CASES = """config: c.xml
cases:
  - name: cmd logged
    event: ProcessCreate
    fields: {Image: 'C:\\Windows\\cmd.exe'}
    expect: include
    rule_name: shell
  - name: notepad wrongly expected
    event: ProcessCreate
    fields: {Image: 'C:\\Windows\\notepad.exe'}
    expect: include
"""


def test_plugin_collects_cases_passing_and_failing(pytester: pytest.Pytester) -> None:
    pytester.makefile(".xml", c=CONFIG)
    pytester.makefile(".sysmon-test.yaml", rules=CASES)
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*rules.sysmon-test.yaml::cmd logged PASSED*",
        "*rules.sysmon-test.yaml::notepad wrongly expected FAILED*",
        "*expected include, got exclude*",
    ])
    assert "Traceback" not in result.stdout.str()


def test_plugin_broken_file_is_one_failure(pytester: pytest.Pytester) -> None:
    pytester.makefile(".xml", c=CONFIG)
    pytester.makefile(".sysmon-test.yaml", rules="config: c.xml\ncases:\n  - {event: Nope, expect: include}\n")
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*rules.sysmon-test.yaml:3: case 1: unknown event 'Nope'*"])


def test_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makefile(".xml", c=CONFIG)
    pytester.makeini("[pytest]\nsysmon_config = c.xml\n")
    pytester.makepyfile("""
        from sysmon_rules import Event
        def test_config(sysmon_config):
            assert sysmon_config.schema_version == "4.90"
        def test_evaluator(sysmon_evaluator):
            assert sysmon_evaluator.decide(Event(1, {"Image": "x\\\\CMD.exe"})).rule_name == "shell"
    """)
    pytester.runpytest().assert_outcomes(passed=2)


def test_plugin_is_registered_and_import_light() -> None:
    from importlib.metadata import entry_points

    names = {ep.value for ep in entry_points(group="pytest11")}
    assert "sysmon_rules.testing.pytest_plugin" in names
    code = ("import sys, sysmon_rules.testing.pytest_plugin as p; "
            "heavy = [m for m in ('lxml', 'lark', 'sysmon_rules.engine', 'yaml', 'hypothesis') if m in sys.modules]; "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_examples_run_under_pytest(project_root: Path) -> None:
    """`pytest examples/` works for users: the test file's cases and the property tests pass."""
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "examples/"],
                            cwd=project_root, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "8 passed" in result.stdout
