"""The planted-mistakes example: every planted mistake is found where it was planted, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from sysmon_rules.lint import RULES, lint_file
from sysmon_rules.validation import validate

_PLANTED = re.compile(r"<!-- planted: ([a-z-]+)")


def _planted(path: Path) -> set[tuple[int, str]]:
    """(line of the element after each "planted:" comment, code)."""
    lines = path.read_text("utf-8").splitlines()
    found = set()
    for number, line in enumerate(lines, 1):
        match = _PLANTED.search(line)
        if match:
            after = next(n for n in range(number + 1, len(lines) + 1) if lines[n - 1].strip().startswith("<")
                         and not lines[n - 1].strip().startswith("<!--"))
            found.add((after, match.group(1)))
    return found


def test_every_planted_mistake_is_found_and_nothing_else(project_root: Path) -> None:
    path = project_root / "examples" / "lint-mistakes.xml"
    assert validate(path) == []  # Sysmon loads it without a word
    planted = _planted(path)
    assert len(planted) >= 20 and {code for _line, code in planted} <= set(RULES)
    assert {(d.location.line, d.code) for d in lint_file(path)} == planted


def test_the_planted_config_against_older_sysmon_releases(project_root: Path) -> None:
    path = project_root / "examples" / "lint-mistakes.xml"
    assert lint_file(path, target_sysmon="15", select=["needs-newer-sysmon"]) == []
    older = lint_file(path, target_sysmon="13.33", select=["needs-newer-sysmon"])
    assert {d.message.split(" ")[0] for d in older} == {"<FileBlockExecutable>"}
