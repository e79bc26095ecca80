"""Hostile and mistaken test files: one ``file:line`` error each, every mistake at once, quickly;
did-you-mean, technique-id RuleNames, folders; output that survives lone surrogates."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from sysmon_rules.cli import main, run
from sysmon_rules.testing.testfile import TestFileError, load_test_file, run_test_file

CLI = [sys.executable, "-c", "from sysmon_rules.cli import run; run()"]


@pytest.mark.parametrize("name, line, message", [
    ("yaml_alias-bomb_hang-memory", 3, "bomb: field 'Image' must be text, not a list"),
    ("yaml_bad-int-tag_valueerror", 3, "not valid YAML: tag:yaml.org,2002:int 'x'"),
    ("yaml_deep-nesting_recursionerror", 2, "nested more than 64 levels deep"),
    ("yaml_mixed-key-types_typeerror", 1, "unknown key 1 (known: cases, config, platform)"),
    ("yaml_not-utf8_unicodedecodeerror", 3, "not UTF-8 (byte 0xff)"),
    ("yaml_nul-char_multiline-error", 2, "not valid YAML: unacceptable character #x0000"),
])
def test_fuzz_reproducers_are_one_line_errors(shared_dir: Path, name: str, line: int, message: str) -> None:
    path = shared_dir / "fuzz" / f"{name}.sysmon-test.yaml"
    started = time.perf_counter()
    with pytest.raises(TestFileError) as info:
        load_test_file(path)
    assert time.perf_counter() - started < 2  # the alias bomb ran > 30 s, deep nesting 2-5 s
    text = str(info.value)
    assert text.startswith(f"{path}:{line}: ") and message in text and "\n" not in text


@pytest.mark.parametrize("text, line, message", [
    ("config: c.xml\ncases: !!int ''\n", 2, "not valid YAML: tag:yaml.org,2002:int ''"),
    ("config: c.xml\ncases: !!bool maybe\n", 2, "not valid YAML: tag:yaml.org,2002:bool 'maybe'"),
    ("config: c.xml\ncases: " + "[" * 4000 + "\n", 2, "nested more than 64 levels deep"),
    ("config: c.xml\ncases:\n" + "".join(f"  - &a{i} {{name: x}}\n" for i in range(3))
     + "  - [" + ", ".join(["*a0"] * 101) + "]\n", 6, "more than 100 aliases"),
])
def test_found_by_the_fuzz_harness(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "t.sysmon-test.yaml"
    path.write_text(text, "utf-8")
    started = time.perf_counter()
    with pytest.raises(TestFileError) as info:
        load_test_file(path)
    assert time.perf_counter() - started < 2
    assert str(info.value).startswith(f"{path}:{line}: ") and message in str(info.value)


def test_an_unreadable_config_path_is_a_test_file_error(shared_dir: Path) -> None:
    loaded = load_test_file(shared_dir / "fuzz" / "yaml_long-config-path_oserror.sysmon-test.yaml")
    with pytest.raises(TestFileError, match=r"cannot be read: File name too long$"):
        run_test_file(loaded)


def _tree(tmp_path: Path, project_root: Path, cases: str) -> Path:
    shutil.copy(project_root / "examples" / "sysmonconfig.xml", tmp_path / "c.xml")
    path = tmp_path / "t.sysmon-test.yaml"
    path.write_text("config: c.xml\ncases:\n" + cases, "utf-8")
    return path


def test_every_mistake_of_a_file_is_reported_at_once(tmp_path: Path, project_root: Path) -> None:
    path = _tree(tmp_path, project_root, "  - {name: a, event: ProcesCreate, expect: include}\n"
                                         "  - {name: b, event: 1, fields: {Imagee: x, CommandLin: y}, expect: yes}\n"
                                         "  - {name: c, event: 3, expect: include, rulename: x}\n")
    with pytest.raises(TestFileError) as info:
        load_test_file(path)
    assert [str(p) for p in info.value.problems] == [
        f"{path}:3: a: unknown event 'ProcesCreate' (did you mean 'ProcessCreate'?)",
        f"{path}:4: b: unknown expectation True (include or exclude)",
        f"{path}:4: b: unknown field 'Imagee' for event 1 (did you mean 'Image'?)",
        f"{path}:4: b: unknown field 'CommandLin' for event 1 (did you mean 'CommandLine'?)",
        f"{path}:5: c: unknown key 'rulename' (known: event, expect, fields, name, platform, rule_name)",
    ]
    assert str(info.value).endswith("(and 4 more mistakes)")
    result = CliRunner().invoke(main, ["test", str(path)])
    assert result.exit_code == 1
    assert result.output.count("ERROR ") == 5 and "0 passed, 0 failed, 5 errors" in result.output


def test_rule_name_matches_by_technique_id(tmp_path: Path, project_root: Path) -> None:
    path = _tree(tmp_path, project_root, """\
  - {name: by id, event: 1, fields: {Image: 'C:\\x\\powershell.exe'}, expect: include, rule_name: T1059.001}
  - {name: exact, event: 1, fields: {Image: 'C:\\x\\powershell.exe'}, expect: include,
     rule_name: 'technique_id=T1059.001,technique_name=PowerShell'}
  - {name: other id, event: 1, fields: {Image: 'C:\\x\\powershell.exe'}, expect: include, rule_name: T1059.003}
  - {name: parent id, event: 1, fields: {Image: 'C:\\x\\powershell.exe'}, expect: include, rule_name: T1059}
""")
    results = run_test_file(load_test_file(path))
    assert [(r.case.name, r.passed) for r in results] == [
        ("by id", True), ("exact", True), ("other id", False), ("parent id", False)]


def test_a_folder_runs_every_test_file_in_it(tmp_path: Path, project_root: Path) -> None:
    first = _tree(tmp_path, project_root, "  - {name: a, event: 1, fields: {Image: 'C:\\x\\cmd.exe'}, "
                                          "expect: include}\n")
    (tmp_path / "sub").mkdir()
    second = tmp_path / "sub" / "more.sysmon-test.yaml"
    second.write_text(first.read_text("utf-8").replace("config: c.xml", "config: ../c.xml"), "utf-8")
    (tmp_path / "notes.yaml").write_text("not a test file", "utf-8")
    result = CliRunner().invoke(main, ["test", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"PASS {second}::a" in result.output and f"PASS {first}::a" in result.output
    assert "2 passed, 0 failed, 0 errors" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SystemExit) as done:
        run(["test", str(empty)])
    assert done.value.code == 2


@pytest.mark.parametrize("fmt", ["text", "json", "junit"])
def test_a_lone_surrogate_in_a_name_never_crashes_a_report(shared_dir: Path, tmp_path: Path, fmt: str) -> None:
    test_file = shared_dir / "fuzz" / "yaml_lone-surrogate-name_stdout-unicodeencodeerror.sysmon-test.yaml"
    env = {"PYTHONIOENCODING": "utf-8:strict", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([*CLI, "test", "--format", fmt, str(test_file)], capture_output=True, env=env,
                          cwd=tmp_path, timeout=120, check=False)
    assert done.returncode == 1, done.stderr  # the case fails: the config drops that event
    assert b"internal error" not in done.stderr and b"\\ud800" in done.stdout
    if fmt == "json":
        assert json.loads(done.stdout)[0]["cases"][0]["name"] == "\\ud800"  # escaped when loaded
    out = tmp_path / f"report.{fmt}"
    done = subprocess.run([*CLI, "test", "--format", fmt, str(test_file), "-o", str(out)], capture_output=True,
                          env=env, timeout=120, check=False)
    assert done.returncode == 1 and b"internal error" not in done.stderr
    assert "\\ud800" in out.read_text("utf-8")


def test_stdout_full_is_a_one_line_error() -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run([*CLI, "schema"], stdout=full, capture_output=False, stderr=subprocess.PIPE,
                              timeout=120, check=False)
    assert done.returncode == 2
    assert done.stderr.decode() == "<stdout>: error[file-access]: cannot write the file: No space left on device\n"


def test_sysmon_compatible_loads_the_config_as_sysmon_does(tmp_path: Path) -> None:
    (tmp_path / "c.xml").write_text('<Sysmon schemaversion="4.90"><EventFiltering><RuleGroup groupRelation="or">'
                                    '<ProcessCreate><Image condition="end with">cmd.exe</Image></ProcessCreate>'
                                    "</RuleGroup></EventFiltering></Sysmon>", "utf-8")
    path = tmp_path / "t.sysmon-test.yaml"
    path.write_text("config: c.xml\ncases:\n  - {name: a, event: 1, fields: {Image: 'C:\\cmd.exe'}, "
                    "expect: include}\n", "utf-8")  # the set is dropped: no rules, logged
    assert "missing-onmatch" in CliRunner().invoke(main, ["test", str(path)]).output
    result = CliRunner().invoke(main, ["test", str(path), "--sysmon-compatible"])
    assert result.exit_code == 0 and "1 passed, 0 failed, 0 errors" in result.output
