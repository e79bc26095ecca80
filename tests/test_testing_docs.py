"""docs/testing.md: its examples run, and the test file it shows is the shipped example's format."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

from click.testing import CliRunner

from sysmon_rules.cli import main


def test_testing_doc_examples_run(project_root: Path) -> None:
    result = doctest.testfile(str(project_root / "docs" / "testing.md"), module_relative=False,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 8 and result.failed == 0


def test_documented_yaml_runs_against_the_example_config(project_root: Path, tmp_path: Path) -> None:
    text = (project_root / "docs" / "testing.md").read_text("utf-8")
    block = re.search(r"```yaml\n(.*?)```", text, re.DOTALL)
    assert block is not None
    (tmp_path / "sysmonconfig.xml").write_bytes((project_root / "examples" / "sysmonconfig.xml").read_bytes())
    (tmp_path / "doc.sysmon-test.yaml").write_text(block.group(1), encoding="utf-8")
    result = CliRunner().invoke(main, ["test", str(tmp_path / "doc.sysmon-test.yaml")])
    assert result.exit_code == 0, result.output
    assert "2 passed, 0 failed" in result.output
