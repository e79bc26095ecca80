"""Fixtures shared by the whole suite.

Golden data lives in ``../shared`` beside the checkout (never copied into the project). Every test
reaches it through ``shared_dir``: missing data skips locally but fails under CI (``CI`` set).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

_ROOT = Path(__file__).resolve().parent.parent


def _find_shared() -> Path | None:
    override = os.environ.get("SYSMON_RULES_SHARED")
    candidates = [Path(override)] if override else []
    candidates += [_ROOT.parent / "shared", _ROOT / ".." / ".." / "shared"]
    return next((c.resolve() for c in candidates if (c / "conformance").is_dir()), None)


SHARED = _find_shared()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The ``shared/`` folder with conformance data, reference dumps and the corpus."""
    if SHARED is None:
        message = "../shared (conformance data) not found beside the checkout"
        if os.environ.get("CI"):
            pytest.fail(message + " and CI is set")
        pytest.skip(message)
    return SHARED


@pytest.fixture(scope="session")
def project_root() -> Path:
    return _ROOT


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under CI, missing golden data fails the run instead of silently skipping or collecting nothing."""
    if SHARED is None and os.environ.get("CI"):
        raise pytest.UsageError("../shared (conformance data) not found beside the checkout and CI is set")


@pytest.fixture(scope="session")
def windows_coverage(shared_dir: Path) -> tuple[list[Any], Any]:
    """Every SigmaHQ Windows rule (rules/windows, rules-threat-hunting/windows,
    rules-emerging-threats) read once, and its coverage under sysmon-modular (no captures), for the
    tests that check properties over all of them."""
    import sysmon_rules as sr
    from sysmon_rules.readiness import coverage, read_rules

    sigma = shared_dir / "corpus" / "sigma"
    rules = read_rules([sigma / "rules" / "windows", sigma / "rules-threat-hunting" / "windows",
                        sigma / "rules-emerging-threats"])
    config = sr.load(shared_dir / "corpus" / "configs" / "sysmon-modular" / "sysmonconfig.xml")
    return rules, coverage(config, rules, captures=False)
