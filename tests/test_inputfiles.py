"""The one walk of folders and globs named on a command line (sysmon_rules.inputfiles)."""

from __future__ import annotations

import doctest
import os
from pathlib import Path

import pytest

from sysmon_rules import inputfiles
from sysmon_rules.cli import extras
from sysmon_rules.inputfiles import CONFIGS, SIGMA_RULES, TEST_FILES, NoInputError, input_files, walk


def _tree(root: Path, names: list[str]) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x", "utf-8")


def test_order_is_by_path_components_and_hidden_names_are_skipped(tmp_path: Path) -> None:
    _tree(tmp_path, ["a-b/c.xml", "a/z.xml", "a/B.xml", "b.xml", ".git/config.xml", "a/.backup.xml",
                     "notes.txt", "Z.XML"])
    names = [p.relative_to(tmp_path).as_posix() for p in walk(tmp_path, CONFIGS)]
    # component by component, code points (upper case first), the same on every OS
    assert names == ["Z.XML", "a/B.xml", "a/z.xml", "a-b/c.xml", "b.xml"]
    assert [p.name for p in walk(tmp_path)] == ["Z.XML", "B.xml", "z.xml", "c.xml", "b.xml", "notes.txt"]


def test_a_hidden_file_named_explicitly_is_read(tmp_path: Path) -> None:
    _tree(tmp_path, [".hidden.xml"])
    assert input_files([tmp_path / ".hidden.xml"], CONFIGS) == [tmp_path / ".hidden.xml"]
    with pytest.raises(NoInputError, match="no config file"):
        input_files([tmp_path], CONFIGS)


def test_kinds_apply_inside_folders_not_to_files_named(tmp_path: Path) -> None:
    _tree(tmp_path, ["r/a.yml", "r/b.yaml", "r/c.json", "t/x.sysmon-test.yaml", "t/y.yaml"])
    assert [p.name for p in input_files([tmp_path / "r"], SIGMA_RULES)] == ["a.yml", "b.yaml"]
    assert [p.name for p in input_files([tmp_path / "t"], TEST_FILES)] == ["x.sysmon-test.yaml"]
    assert input_files([tmp_path / "r" / "c.json"], SIGMA_RULES) == [tmp_path / "r" / "c.json"]


def test_nothing_found_is_an_error_naming_the_argument(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    _tree(tmp_path, ["texts/a.txt"])
    for arg, message in ((tmp_path / "empty", "no config file (*.xml) in this folder"),
                         (tmp_path / "texts", "no config file (*.xml) in this folder"),
                         (tmp_path / "missing.xml", "no such file or folder"),
                         (str(tmp_path / "*.xml"), "no config file (*.xml) matches this pattern")):
        with pytest.raises(NoInputError) as raised:
            input_files([arg], CONFIGS)
        assert raised.value.location.path == str(arg) and raised.value.message == message
        assert raised.value.code == "no-input"


def test_globs_are_expanded_here_with_the_same_rules(tmp_path: Path) -> None:
    _tree(tmp_path, ["logs/2024/a.xml", "logs/2023/b.xml", "logs/.old/c.xml", "logs/n.txt", "sysmonconfig.xml"])
    pattern = str(tmp_path / "logs" / "**" / "*.xml")
    assert [p.name for p in input_files([pattern], CONFIGS)] == ["b.xml", "a.xml"]
    # a folder matched by a glob is walked; a file of the same name as a pattern is that file
    assert [p.name for p in input_files([str(tmp_path / "log?")], CONFIGS)] == ["b.xml", "a.xml"]
    odd = tmp_path / "[x].xml"
    odd.write_text("x", "utf-8")
    assert input_files([str(odd)], CONFIGS) == [odd]


def test_each_file_once_in_argument_order(tmp_path: Path) -> None:
    _tree(tmp_path, ["m/a.xml", "m/b.xml"])
    found = input_files([tmp_path / "m" / "b.xml", tmp_path / "m", "-"], CONFIGS, stdin=True)
    assert found == [tmp_path / "m" / "b.xml", tmp_path / "m" / "a.xml", Path("-")]


@pytest.mark.skipif(os.name == "nt", reason="symbolic links need privileges on Windows")
def test_links_to_files_are_followed_links_to_folders_are_not(tmp_path: Path) -> None:
    _tree(tmp_path, ["real/a.xml", "top/b.xml"])
    (tmp_path / "top" / "loop").symlink_to(tmp_path)
    (tmp_path / "top" / "c.xml").symlink_to(tmp_path / "real" / "a.xml")
    (tmp_path / "top" / "gone.xml").symlink_to(tmp_path / "nowhere.xml")  # kept: reading it names it
    assert [p.name for p in walk(tmp_path / "top", CONFIGS)] == ["b.xml", "c.xml", "gone.xml"]


def test_the_module_examples_run() -> None:
    for module in (inputfiles, extras):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0, module.__name__
