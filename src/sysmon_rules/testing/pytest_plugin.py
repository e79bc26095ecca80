"""pytest plugin: collects ``*.sysmon-test.yaml`` files and offers config fixtures.

Registered through the ``pytest11`` entry point, so it loads in every pytest run of every
project where sysmon-rules is installed: it therefore imports nothing heavy (lxml, lark, the
engine) until a test file is collected or a fixture is used.

Fixtures: ``sysmon_config`` (the Config named by ``--sysmon-config`` or the ini option
``sysmon_config``) and ``sysmon_evaluator`` (an Evaluator for it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ..engine import Evaluator
    from ..model import Config
    from .testfile import Case

SUFFIX = ".sysmon-test.yaml"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--sysmon-config", default=None, help="Sysmon config used by the sysmon_config fixture.")
    parser.addini("sysmon_config", "Sysmon config used by the sysmon_config fixture.", default="")


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.name.endswith(SUFFIX):
        return SysmonTestFile.from_parent(parent, path=file_path)
    return None


class SysmonTestFile(pytest.File):
    """One test file: each case becomes a test item; a broken file is one failing item."""

    def collect(self) -> Iterator[pytest.Item]:
        from ..errors import SysmonRulesError
        from .testfile import load_test_file

        try:
            test_file = load_test_file(self.path)
        except SysmonRulesError as exc:
            yield BrokenTestFile.from_parent(self, name="<load>", message=str(exc))
            return
        for case in test_file.cases:
            yield SysmonCase.from_parent(self, name=case.name, case=case, config_path=test_file.config_path,
                                         platform=test_file.platform)


class SysmonCaseFailure(Exception):
    """A case whose decision differs from its expectation (shown without a traceback)."""


class SysmonCase(pytest.Item):
    def __init__(self, *, case: Case, config_path: Path, platform: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.config_path = config_path
        self.platform = platform

    def runtest(self) -> None:
        from .testfile import TestFile, evaluator_for, run_case

        # One evaluator per config per session: compiling is the slow part.
        cache: dict[tuple[str, str], Evaluator] = self.config.stash.setdefault(_EVALUATORS, {})
        key = (str(self.config_path.resolve()), self.platform)
        if key not in cache:
            cache[key] = evaluator_for(TestFile(str(self.path), self.config_path, (), self.platform))
        result = run_case(cache[key], self.case)
        if not result.passed:
            raise SysmonCaseFailure(f"{self.case.location}: {result.message}\n{result.explanation}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        from ..errors import SysmonRulesError

        if isinstance(excinfo.value, SysmonCaseFailure | SysmonRulesError):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, self.case.location.line - 1, f"sysmon case: {self.name}"


class BrokenTestFile(pytest.Item):
    def __init__(self, *, message: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.message = message

    def runtest(self) -> None:
        raise SysmonCaseFailure(self.message)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        return self.message

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, "sysmon test file"


_EVALUATORS = pytest.StashKey[dict[tuple[str, str], "Evaluator"]]()


@pytest.fixture(scope="session")
def sysmon_config(pytestconfig: pytest.Config) -> Config:
    """The config named by ``--sysmon-config`` / ini ``sysmon_config`` (relative to rootdir)."""
    from ..validation import load

    name = pytestconfig.getoption("sysmon_config") or pytestconfig.getini("sysmon_config")
    if not name:
        pytest.skip("no Sysmon config: pass --sysmon-config or set sysmon_config in the ini file")
    path = Path(str(name))
    if not path.is_absolute():
        path = Path(pytestconfig.rootpath) / path
    return load(path)


@pytest.fixture(scope="session")
def sysmon_evaluator(sysmon_config: Config) -> Evaluator:
    """An Evaluator (Windows) for ``sysmon_config``."""
    from ..engine import Evaluator

    return Evaluator(sysmon_config)
