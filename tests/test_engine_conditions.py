"""Each condition on its own, with the expectations the reference map (§4-§6) and Sysmon's
rules.cpp state: one include set holding one filter, so Match = include, NoMatch = exclude."""

from __future__ import annotations

import pytest

from sysmon_rules.engine import Evaluator
from sysmon_rules.events import Event
from sysmon_rules.ruletable import RuleFilter, RuleSet, RuleTable
from sysmon_rules.schema import CONDITIONS

IMAGE, COMMAND_LINE = 4, 10  # ProcessCreate field ids


def matches(condition: str, data: str, value: str | None, *, platform: str = "windows") -> bool:
    flt = RuleFilter(COMMAND_LINE, CONDITIONS.index(condition), data)
    table = RuleTable(0x00120000, 0x0004005A, (RuleSet(1, 1, 0, (flt,)),))
    fields = {} if value is None else {"CommandLine": value}
    return Evaluator(table, platform=platform).decide(Event(1, fields)).decision == "include"  # type: ignore[arg-type]


@pytest.mark.parametrize(("condition", "data", "value", "expected"), [
    ("is", "/Something:Equal", "/SOMETHING:equal", True),
    ("is", "abc", "abcd", False),
    ("is not", "abc", "ABC", False),
    ("is not", "abc", "abd", True),
    ("contains", "MiddlE", "the middle part", True),
    ("contains", "x", "abc", False),
    ("excludes", "x", "abc", True),
    ("excludes", "B", "abc", False),
    ("contains any", "a;b", "zzb", True),
    ("contains any", "a;b", "zz", False),
    ("contains any", "a;", "zz", True),  # a trailing ';' matches every value
    ("contains any", "a;;b", "x;bx", True),  # the empty token searches the remainder ";b"
    ("contains any", "q;;b", "xbx", True),
    ("contains any", "q;;r", "x;zr", True),
    ("contains any", "q;;r", "x;z", False),
    ("contains any", "a; b", "b", False),  # tokens are not trimmed
    ("contains all", "a;b", "BA", True),
    ("contains all", "a;b", "a", False),
    ("contains all", "a;;b", "ab", False),  # ";b" is required too
    ("contains all", "a;;b", "a;b", True),
    ("excludes any", "a;b", "zzz", True),  # matches when no token is present
    ("excludes any", "a;b", "xa", False),
    ("excludes all", "a;b", "xa", True),  # matches when some token is missing
    ("excludes all", "a;b", "ab", False),
    ("is any", "one;TWO", "two", True),
    ("is any", "one;two", "one;two", False),
    ("is any", "one;two", "tw", False),
    ("begin with", "TheFirst", "thefirststring", True),
    ("begin with", "TheFirst", "TheFirs", False),
    ("not begin with", "TheFirst", "x TheFirst", True),
    ("not begin with", "TheFirst", "THEFIRST x", False),
    ("end with", "\\cmd.exe", "C:\\x\\CMD.EXE", True),
    ("end with", "long.exe", "g.exe", False),
    ("not end with", ".exe", "a.dll", True),
    ("not end with", ".exe", "a.EXE", False),
    ("less than", "443", "1024", True),  # strings, not numbers
    ("more than", "443", "1024", False),
    ("less than", "abc", "ABC", False),
    ("image", "cmd.exe", "C:\\Windows\\System32\\CMD.exe", True),
    ("image", "c:\\windows\\cmd.exe", "C:\\Windows\\cmd.exe", True),
    ("image", "system32\\cmd.exe", "C:\\Windows\\System32\\cmd.exe", False),  # a '\' compares it all
    ("image", "cmd.exe", "cmd.exe", True),
])  # fmt: skip
def test_condition(condition: str, data: str, value: str, expected: bool) -> None:
    assert matches(condition, data, value) is expected


def test_absent_and_empty_fields_read_as_dash() -> None:
    assert matches("is", "-", None) and matches("is", "-", "")
    assert not matches("is", "", None)  # `is ""` never matches
    assert matches("contains", "", None)  # `contains ""` always does


def test_ordering_folds_differently_per_platform() -> None:
    # Windows lowercases ('_' 0x5F < 'a' 0x61); Linux uppercases ('_' > 'A' 0x41).
    assert matches("less than", "a", "_", platform="windows")
    assert not matches("less than", "a", "_", platform="linux")
    assert matches("more than", "a", "_", platform="linux")


def test_linux_folds_ascii_only() -> None:
    assert not matches("is", "é", "É", platform="linux")
    assert matches("is", "abc", "ABC", platform="linux")


def test_image_splits_on_backslash_only() -> None:
    # With Linux '/' paths the image condition behaves like `is`.
    assert not matches("image", "bash", "/usr/bin/bash", platform="linux")
    assert matches("image", "/usr/bin/bash", "/usr/bin/bash", platform="linux")


def test_unknown_condition_fails_the_set() -> None:
    bad = RuleFilter(COMMAND_LINE, 16, "x")
    good = RuleFilter(IMAGE, 0, "x")
    table = RuleTable(0x00120000, 0, (RuleSet(1, 1, 0, (bad, good)),))
    # Failed skips the set; with one set its default (exclude for onmatch=include) applies.
    got = Evaluator(table).decide(Event(1, {"CommandLine": "x", "Image": "x"}))
    assert (got.decision, got.rule_name) == ("exclude", None)
