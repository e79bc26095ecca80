"""The SigmaHQ rules and regression captures of ../shared/corpus/sigma, found the way the tests
read them (independently of the library's own capture lookup, which they check)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

_ID = re.compile(r"^id:\s*([0-9a-f-]{36})\s*$", re.MULTILINE)


def captures(sigma: Path) -> dict[str, list[Path]]:
    """Rule id -> the EVTX captures its ``regression_data/**/info.yml`` files name."""
    out: dict[str, list[Path]] = {}
    for info in sorted((sigma / "regression_data").rglob("info.yml")):
        meta = yaml.safe_load(info.read_text("utf-8"))
        paths = [sigma / t["path"] for t in meta["regression_tests_info"] if t.get("type") == "evtx"]
        out.setdefault(meta["rule_metadata"][0]["id"], []).extend(paths)
    return out


def rule_files(sigma: Path, wanted: set[str]) -> list[Path]:
    """The rule files whose id is in ``wanted``, in path order."""
    found = []
    for folder in ("rules", "rules-threat-hunting", "rules-emerging-threats"):
        for path in sorted((sigma / folder).rglob("*.yml")):
            m = _ID.search(path.read_text("utf-8"))
            if m and m.group(1) in wanted:
                found.append(path)
    return found
