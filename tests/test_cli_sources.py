"""validate and lint take ``-`` (stdin) and folders (every ``*.xml`` in them), like files."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from sysmon_rules.cli import main

BROKEN = '<Sysmon schemaversion="4.90"><EventFiltering><ProcessCreate onmatch="maybe"/></EventFiltering></Sysmon>'


def _folder(tmp_path: Path, project_root: Path) -> Path:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "good.xml").write_bytes((project_root / "examples" / "sysmonconfig.xml").read_bytes())
    (tmp_path / "bad.xml").write_text(BROKEN, "utf-8")
    (tmp_path / "notes.txt").write_text("not a config", "utf-8")
    return tmp_path


def test_validate_a_folder_checks_each_xml_file(tmp_path: Path, project_root: Path) -> None:
    folder = _folder(tmp_path, project_root)
    result = CliRunner().invoke(main, ["validate", "--format", "json", str(folder)])
    assert result.exit_code == 1
    reports = json.loads(result.stdout)
    assert [(r["path"], r["valid"]) for r in reports] == [(str(folder / "bad.xml"), False),
                                                          (str(folder / "sub" / "good.xml"), True)]


def test_validate_and_lint_read_stdin(project_root: Path) -> None:
    config = (project_root / "examples" / "sysmonconfig.xml").read_bytes()
    result = CliRunner().invoke(main, ["validate", "-"], input=config)
    assert result.exit_code == 0 and "-: valid" in result.stderr
    broken = CliRunner().invoke(main, ["validate", "-"], input=BROKEN.encode())
    assert broken.exit_code == 1 and "maybe" in broken.stdout
    lint = CliRunner().invoke(main, ["lint", "--format", "json", "-"], input=config)
    assert lint.exit_code == 0 and json.loads(lint.stdout)[0]["path"] == "-"


def test_lint_a_folder(tmp_path: Path, project_root: Path) -> None:
    folder = _folder(tmp_path, project_root)
    result = CliRunner().invoke(main, ["lint", "--format", "json", str(folder)])
    assert [r["path"] for r in json.loads(result.stdout)] == [str(folder / "bad.xml"), str(folder / "sub" / "good.xml")]
