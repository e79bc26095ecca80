"""`sysmon-rules merge`: bad input is one line naming the file, exit 1, and nothing is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sysmon_rules.cli import main

GOOD = '<Sysmon schemaversion="4.90"><EventFiltering><RuleGroup groupRelation="or"><ProcessCreate onmatch="include">' \
       '<Image condition="end with">\\cmd.exe</Image></ProcessCreate></RuleGroup></EventFiltering></Sysmon>'


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stderr


@pytest.fixture()
def good(tmp_path: Path) -> Path:
    path = tmp_path / "good.xml"
    path.write_text(GOOD, "utf-8")
    return path


BAD_MODULES = {
    "not_xml.xml": ("<Sysmon schemaversion='4.90'><EventFiltering>", "not_xml.xml:1:"),
    "rejected.xml": (GOOD.replace('"end with"', '"ends with"'), "rejected.xml:1:"),
}


@pytest.mark.parametrize("name", sorted(BAD_MODULES))
@pytest.mark.parametrize("style", ["union", "sysmon-modular"])
def test_a_bad_module_is_one_line_naming_it(tmp_path: Path, good: Path, name: str, style: str,
                                            shared_dir: Path) -> None:
    text, where = BAD_MODULES[name]
    bad = tmp_path / name
    bad.write_text(text, "utf-8")
    out = tmp_path / "out.xml"
    script = shared_dir / "corpus" / "sysmon-modular-a9ff298" / "Merge-SysmonXml.ps1"
    extra = ["--script", str(script)] if style == "sysmon-modular" else []
    code, err = _run("merge", "--style", style, *extra, str(good), str(bad), "-o", str(out))
    assert code == 2 and where in err and len(err.strip().splitlines()) == 1, err
    assert err.count("error[") == 1, err  # the validator's own code, said once
    assert not out.exists()


def test_an_empty_folder_is_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "modules"
    empty.mkdir()
    out = tmp_path / "out.xml"
    code, err = _run("merge", str(empty), "-o", str(out))
    assert code == 2 and f"{empty}: error[no-input]: no module (*.xml) in this folder" in err
    assert len(err.strip().splitlines()) == 1 and not out.exists()


def test_a_list_naming_a_missing_module_is_one_line_with_its_line(tmp_path: Path, good: Path) -> None:
    checkout = tmp_path / "checkout"
    (checkout / "1_process_creation").mkdir(parents=True)
    (checkout / "1_process_creation" / "a.xml").write_text(GOOD, "utf-8")
    listing = tmp_path / "list.txt"
    listing.write_bytes("\ufeff1_process_creation\\a.xml\r\n1_process_creation\\gone.xml\r\n".encode("utf-16-le"))
    out = tmp_path / "out.xml"
    code, err = _run("merge", str(checkout), "--include-list", str(listing), "-o", str(out))
    expected = f"{listing}:2: error[source]: listed module not found: 1_process_creation/gone.xml"
    assert code == 2 and expected in err
    assert len(err.strip().splitlines()) == 1 and not out.exists()


def test_usage_errors_exit_2(good: Path) -> None:
    assert _run("merge", str(good))[0] == 2  # neither -o nor --check
    assert _run("merge", "--style", "nope", str(good), "-o", "x")[0] == 2


def test_json_output_names_the_module_of_every_filter(tmp_path: Path, good: Path) -> None:
    out = tmp_path / "out.json"
    code, _ = _run("merge", str(good), "--format", "json", "-o", str(out))
    assert code == 0
    body = json.loads(out.read_text("utf-8"))
    assert body["filters"] == [{"event": "ProcessCreate", "onmatch": "include", "field": "Image",
                                "condition": "end with", "value": "\\cmd.exe", "name": None,
                                "module": good.as_posix(), "line": 1}]


def test_inputs_are_never_modified(tmp_path: Path, good: Path) -> None:
    before = good.read_bytes()
    assert _run("merge", str(good), "-o", str(tmp_path / "o.xml"))[0] == 0
    assert good.read_bytes() == before


def test_the_docs_sysmon_modular_example_prints_what_it_says(project_root: Path, shared_dir: Path,
                                                             tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (project_root / "docs" / "merge.md").read_text("utf-8")
    block = text.split("$ sysmon-rules merge --style sysmon-modular examples/", 1)[1].split("```", 1)[0]
    expected = [line for line in block.splitlines()[2:] if line]
    monkeypatch.chdir(project_root)
    script = shared_dir / "corpus" / "sysmon-modular-a9ff298" / "Merge-SysmonXml.ps1"
    modules = ["examples/modules/include_shells.xml", "examples/modules/exclude_backup_agent.xml"]
    code, err = _run("merge", "--style", "sysmon-modular", *modules, "--script", str(script),
                     "-o", str(tmp_path / "o.xml"))
    assert code == 0 and err.splitlines() == expected


def test_check_names_the_changed_module_of_a_union(tmp_path: Path, project_root: Path) -> None:
    modules = tmp_path / "modules"
    modules.mkdir()
    for module in (project_root / "examples" / "modules").glob("*.xml"):
        (modules / module.name).write_bytes(module.read_bytes())
    built = tmp_path / "merged.xml"
    assert _run("merge", str(modules), "-o", str(built))[0] == 0
    assert _run("merge", str(modules), "--check", str(built))[0] == 0
    shells = modules / "include_shells.xml"
    shells.write_text(shells.read_text("utf-8").replace("powershell.exe", "pwsh.exe"), "utf-8")
    result = CliRunner().invoke(main, ["merge", str(modules), "--check", str(built)])
    assert result.exit_code == 1
    assert f"{shells.as_posix()}: 1 rule(s) missing or different in {built}" in result.stdout
    line = next(n for n, text in enumerate(built.read_text("utf-8").splitlines(), 1) if "powershell.exe" in text)
    assert f"{built}:{line}:9: rule no module has now" in result.stdout
