"""Config test files and `sysmon-rules test`: format errors name file:line; reports and exit codes."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from sample_configs import SHELL_CONFIG
from sysmon_rules.cli import main
from sysmon_rules.testing.testfile import TestFileError, load_test_file, run_test_file

CONFIG = SHELL_CONFIG

GOOD_CASES = """config: c.xml
cases:
  - name: cmd logged
    event: ProcessCreate
    fields: {Image: 'C:\\Windows\\cmd.exe'}
    expect: include
    rule_name: shell
  - name: notepad dropped
    event: 1
    fields: {Image: 'C:\\Windows\\notepad.exe'}
    expect: exclude
"""

FAILING_CASE = """  - name: notepad wrongly expected
    event: ProcessCreate
    fields: {Image: 'C:\\Windows\\notepad.exe'}
    expect: include
"""


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    (tmp_path / "c.xml").write_text(CONFIG, encoding="utf-8")
    return tmp_path


def write(tree: Path, text: str, name: str = "t.sysmon-test.yaml") -> Path:
    path = tree / name
    path.write_text(text, encoding="utf-8")
    return path


def test_good_file_runs_every_case(tree: Path) -> None:
    results = run_test_file(load_test_file(write(tree, GOOD_CASES)))
    assert [(r.case.name, r.passed, r.decision, r.rule_name) for r in results] == [
        ("cmd logged", True, "include", "shell"), ("notepad dropped", True, "exclude", None)]


@pytest.mark.parametrize(("case", "line", "message"), [
    ("  - {name: a, event: ProcessCreat, expect: include}\n", 3, "unknown event 'ProcessCreat'"),
    ("  - {name: a, event: 3, fields: {Image: x, Imagee: y}, expect: include}\n", 3,
     "unknown field 'Imagee' for event 3"),
    ("  - {name: a, event: 1, expect: included}\n", 3, "unknown expectation 'included'"),
    ("  - {name: a, event: 1, expect: include, rulename: x}\n", 3, "unknown key 'rulename'"),
    ("  - {name: a, event: 1, expect: include}\n  - {name: b, event: 99, expect: include}\n", 4,
     "unknown event 99"),
])
def test_mistakes_name_file_and_line(tree: Path, case: str, line: int, message: str) -> None:
    path = write(tree, "config: c.xml\ncases:\n" + case)
    with pytest.raises(TestFileError) as info:
        load_test_file(path)
    assert f"{path}:{line}: " in str(info.value)
    assert message in str(info.value)


def test_unknown_top_level_key(tree: Path) -> None:
    path = write(tree, "config: c.xml\ncase:\n  - {name: a, event: 1, expect: include}\n")
    with pytest.raises(TestFileError, match=r"sysmon-test\.yaml:1: unknown key 'case'"):
        load_test_file(path)


def test_broken_yaml_names_the_line(tree: Path) -> None:
    path = write(tree, "config: c.xml\ncases:\n  - name: [unclosed\n")
    with pytest.raises(TestFileError, match=r"t\.sysmon-test\.yaml:\d+: not valid YAML"):
        load_test_file(path)


def test_cli_text_report_explains_failures(tree: Path) -> None:
    path = write(tree, GOOD_CASES + FAILING_CASE)
    result = CliRunner().invoke(main, ["test", str(path)])
    assert result.exit_code == 1
    assert f"PASS {path}::cmd logged" in result.output
    assert f"FAIL {path}::notepad wrongly expected" in result.output
    assert "expected include, got exclude" in result.output
    assert "set 0 (event 1, onmatch=include" in result.output  # the evaluator's trace
    assert "2 passed, 1 failed, 0 errors" in result.output


def test_cli_exit_zero_when_all_pass_and_json(tree: Path) -> None:
    path = write(tree, GOOD_CASES)
    result = CliRunner().invoke(main, ["test", "--format", "json", str(path)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert [c["passed"] for c in report[0]["cases"]] == [True, True]
    assert report[0]["cases"][0]["rule_name"] == "shell"


def test_cli_junit_written_to_file(tree: Path) -> None:
    path = write(tree, GOOD_CASES + FAILING_CASE)
    out = tree / "report.xml"
    result = CliRunner().invoke(main, ["test", "--format", "junit", "-o", str(out), str(path)])
    assert result.exit_code == 1
    suite = ET.parse(out).getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == "3" and suite.get("failures") == "1"
    assert [p.name for p in tree.iterdir() if p.name.endswith(".tmp")] == []


def test_cli_broken_file_is_an_error_not_a_traceback(tree: Path) -> None:
    path = write(tree, "config: missing.xml\ncases:\n  - {name: a, event: 1, expect: include}\n")
    result = CliRunner().invoke(main, ["test", str(path)])
    assert result.exit_code == 1
    assert "ERROR" in result.output and "not found" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_example_test_file_passes(project_root: Path, tmp_path: Path) -> None:
    example = project_root / "examples" / "sysmonconfig.sysmon-test.yaml"
    result = CliRunner().invoke(main, ["test", str(example)])
    assert result.exit_code == 0, result.output
    assert "5 passed, 0 failed" in result.output
    # The same file with one expectation flipped fails: the example really tests something.
    shutil.copy(project_root / "examples" / "sysmonconfig.xml", tmp_path)
    flipped = example.read_text(encoding="utf-8").replace("expect: exclude", "expect: include", 1)
    broken = write(tmp_path, flipped, "flipped.sysmon-test.yaml")
    assert CliRunner().invoke(main, ["test", str(broken)]).exit_code == 1
