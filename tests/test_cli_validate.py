"""`sysmon-rules validate` and `sysmon-rules schema` from the outside: output shape and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sysmon_rules.cli import main, run

GOOD = '<Sysmon schemaversion="4.90"><EventFiltering><ProcessCreate onmatch="include"/></EventFiltering></Sysmon>'
BAD = ('<Sysmon schemaversion="4.90">\n<EventFiltering>\n  <ProcessCreate onmatch="include">'
       '<Image condition="begins with">x</Image></ProcessCreate></EventFiltering></Sysmon>')


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_valid_files_exit_zero(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["validate", _write(tmp_path, "good.xml", GOOD)])
    assert result.exit_code == 0


def test_invalid_file_prints_path_line_column_code_and_hint(tmp_path: Path) -> None:
    bad = _write(tmp_path, "bad.xml", BAD)
    result = CliRunner().invoke(main, ["validate", _write(tmp_path, "good.xml", GOOD), bad])
    assert result.exit_code == 1
    first = result.stdout.splitlines()[0]
    assert first.startswith(f"{bad}:3:36: error[unknown-condition]: Unknown condition: begins with")
    assert first.endswith("(did you mean 'begin with'?)")  # the hint, on the same line


def test_json_format(tmp_path: Path) -> None:
    bad = _write(tmp_path, "bad.xml", BAD)
    result = CliRunner().invoke(main, ["validate", "--format", "json", bad])
    report = json.loads(result.output)
    assert result.exit_code == 1
    assert report[0]["valid"] is False
    assert report[0]["diagnostics"][0]["location"]["line"] == 3


def test_sysmon_compatible_turns_silent_drops_into_warnings(tmp_path: Path) -> None:
    text = GOOD.replace("<ProcessCreate onmatch=\"include\"/>", "<ProcessCreate><Image>x</Image></ProcessCreate>")
    path = _write(tmp_path, "noonmatch.xml", text)
    assert CliRunner().invoke(main, ["validate", path]).exit_code == 1
    relaxed = CliRunner().invoke(main, ["validate", "--sysmon-compatible", path])
    assert relaxed.exit_code == 0 and "warning[missing-onmatch]" in relaxed.output


def test_usage_errors_exit_two(tmp_path: Path) -> None:
    assert CliRunner().invoke(main, ["validate"]).exit_code == 2
    assert CliRunner().invoke(main, ["validate", "--format", "yaml", "x.xml"]).exit_code == 2


def test_unreadable_file_is_one_line_not_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.xml"
    with pytest.raises(SystemExit) as done:
        run(["validate", str(missing)])
    assert done.value.code == 2
    assert capsys.readouterr().err == f"{missing}: error[no-input]: no such file or folder\n"
    unreadable = tmp_path / "folder.xml"
    unreadable.mkdir()
    (unreadable / "c.xml").symlink_to(tmp_path / "gone.xml")  # a broken link found in a folder is named
    result = CliRunner().invoke(main, ["validate", str(unreadable)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output == (f"{unreadable / 'c.xml'}: error[file-access]: cannot read the file: "
                             "No such file or directory\n")


def test_schema_command_prefix_match_and_unknown(shared_dir: Path) -> None:
    result = CliRunner().invoke(main, ["schema", "--version", "4.9"])
    assert result.output.splitlines()[0] == '<manifest schemaversion="4.91" binaryversion="18">'
    missing = CliRunner().invoke(main, ["schema", "--version", "7"])
    assert missing.exit_code == 2 and "There is no schema that matches that version." in missing.output
