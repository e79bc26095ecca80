"""Config test files (``*.sysmon-test.yaml``): load, validate and run them.

A test file names a config and lists cases::

    config: sysmonconfig.xml          # relative to the test file
    cases:
      - name: powershell is logged
        event: ProcessCreate          # rule element, event name, or id (1)
        fields: {Image: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe'}
        expect: include
        rule_name: technique_id=T1059.001,technique_name=PowerShell

Every mistake in the file is reported as ``file:line: message`` (a TestFileError listing all
of them at once), never as a traceback; the engine is imported only when cases run, so the
pytest plugin stays light.

``rule_name`` matches the reported RuleName exactly, or, when it is a bare MITRE technique id
(``T1059`` or ``T1059.001``), the ``technique_id=`` part of a sysmon-modular style RuleName.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import Location, SysmonRulesError
from ..hints import shown
from .yamlsafe import YamlError, load_yaml

if TYPE_CHECKING:
    from ..engine import Evaluator

EXPECTATIONS = ("include", "exclude")
_CASE_KEYS = {"name", "event", "fields", "expect", "rule_name", "platform"}
_FILE_KEYS = {"config", "cases", "platform"}
_NO_NAME = object()  # rule_name not given: not checked (distinct from rule_name: null)
_TECHNIQUE_ID = re.compile(r"T\d{4}(?:\.\d{3})?")
_SCALARS = (str, int, float, bool, type(None))


class TestFileError(SysmonRulesError):
    """A test file that cannot be read: its message names file:line; ``problems`` lists every
    mistake found in the file (the message shows the first and how many more)."""

    __test__ = False  # not a pytest test class despite the name

    def __init__(self, message: str, location: Location | None = None,
                 problems: list[TestFileError] | None = None) -> None:
        super().__init__(message, location)
        self.problems = problems or [self]

    @classmethod
    def of(cls, problems: list[TestFileError]) -> TestFileError:
        first, more = problems[0], len(problems) - 1
        suffix = f" (and {more} more mistake{'s' if more > 1 else ''})" if more else ""
        return cls(first.message + suffix, first.location, problems)


@dataclass(frozen=True)
class Case:
    """One expectation: this event is included/excluded (under this RuleName)."""

    __test__ = False

    name: str
    event_id: int
    fields: dict[str, str]
    expect: str
    rule_name: object = _NO_NAME  # str | None when checked
    location: Location = field(default_factory=Location)

    @property
    def checks_rule_name(self) -> bool:
        return self.rule_name is not _NO_NAME

    def rule_name_matches(self, reported: str | None) -> bool:
        """Exactly, or by technique id: ``T1059.001`` matches ``technique_id=T1059.001,...``."""
        if reported == self.rule_name or not isinstance(self.rule_name, str) or reported is None:
            return reported == self.rule_name
        if not _TECHNIQUE_ID.fullmatch(self.rule_name):
            return False
        parts = dict(p.partition("=")[::2] for p in reported.split(","))
        return parts.get("technique_id", "").strip() == self.rule_name


@dataclass(frozen=True)
class TestFile:
    """A parsed test file: the config it tests and its cases."""

    __test__ = False

    path: str
    config_path: Path
    cases: tuple[Case, ...]
    platform: str = "windows"


@dataclass(frozen=True)
class CaseResult:
    """The outcome of one case: passed, what was decided and, on failure, why."""

    case: Case
    passed: bool
    decision: str
    rule_name: str | None
    explanation: str = ""

    @property
    def message(self) -> str:
        want = self.case.expect
        if self.case.checks_rule_name:
            want += f" with RuleName={self.case.rule_name!r}"
        return f"expected {want}, got {self.decision} with RuleName={self.rule_name!r}"


def _show(value: object) -> str:
    """A value for a message: scalars as written, a list or mapping only by its type (an alias
    bomb must never be expanded into a string)."""
    return repr(value) if isinstance(value, _SCALARS) else f"a {type(value).__name__}"


def _unknown_keys(data: dict[object, object], known: set[str]) -> list[str]:
    return [_show(k) for k in sorted(set(data) - known - {"__line__"}, key=str)]


def load_test_file(path: str | Path) -> TestFile:
    """Parse and validate a test file; raise TestFileError naming file:line, with every mistake."""
    where = str(path)
    try:
        data = load_yaml(path)
    except YamlError as exc:
        raise TestFileError(exc.message, exc.location) from exc
    if not isinstance(data, dict):
        raise TestFileError("a test file is a mapping with 'config' and 'cases'", Location(where, 1))
    top = Location(where, int(data.pop("__line__", 1)))
    problems: list[TestFileError] = []
    unknown = _unknown_keys(data, _FILE_KEYS)
    if unknown:
        problems.append(TestFileError(f"unknown key {unknown[0]} (known: {', '.join(sorted(_FILE_KEYS))})", top))
    config = data.get("config")
    if not isinstance(config, str) or not config:
        problems.append(TestFileError("'config' (the config file to test, relative to this file) is missing", top))
    platform = data.get("platform", "windows")
    if platform not in ("windows", "linux"):
        problems.append(TestFileError(f"unknown platform {_show(platform)} (windows or linux)", top))
        platform = "windows"
    raw_cases = data.get("cases")
    if not isinstance(raw_cases, list) or not raw_cases:
        problems.append(TestFileError("'cases' must be a non-empty list of cases", top))
        raw_cases = []
    cases = []
    for number, raw in enumerate(raw_cases, 1):
        try:
            cases.append(_case(raw, where, top, str(platform), number))
        except TestFileError as exc:
            problems.extend(exc.problems)
    if problems:
        raise TestFileError.of(problems)
    return TestFile(where, Path(path).parent / str(config), tuple(cases), str(platform))


def _case(raw: object, where: str, top: Location, platform: str, number: int) -> Case:
    if not isinstance(raw, dict):
        raise TestFileError(f"case {number} is not a mapping", top)
    loc = Location(where, int(raw.pop("__line__", top.line)))
    problems: list[TestFileError] = []
    name = raw.get("name")
    # escaped: a name is quoted in one-line messages and report lines (a newline would split them)
    label = shown(str(name)) if isinstance(name, _SCALARS) and name else f"case {number}"
    if not isinstance(name, _SCALARS):
        problems.append(TestFileError(f"{label}: 'name' must be text, not {_show(name)}", loc))
    unknown = _unknown_keys(raw, _CASE_KEYS)
    if unknown:
        problems.append(TestFileError(f"{label}: unknown key {unknown[0]} (known: {', '.join(sorted(_CASE_KEYS))})",
                                      loc))
    expect = raw.get("expect")
    if not isinstance(expect, str) or expect not in EXPECTATIONS:
        problems.append(TestFileError(f"{label}: unknown expectation {_show(expect)} (include or exclude)", loc))
    try:
        event_id, field_names = resolve_event(raw.get("event"), platform, label, loc)
        values = _values(raw.get("fields"), field_names, event_id, label, loc, problems)
    except TestFileError as exc:
        problems.append(exc)
    rule_name = raw.get("rule_name", _NO_NAME)
    if rule_name is not _NO_NAME and rule_name is not None:
        if not isinstance(rule_name, _SCALARS):
            problems.append(TestFileError(f"{label}: 'rule_name' must be text, not {_show(rule_name)}", loc))
        rule_name = str(rule_name) if isinstance(rule_name, _SCALARS) else None
    if problems:
        raise TestFileError.of(problems)
    return Case(label, event_id, values, str(expect), rule_name, loc)


def _values(fields: object, field_names: tuple[str, ...], event_id: int, label: str, loc: Location,
            problems: list[TestFileError]) -> dict[str, str]:
    """The case's fields as strings; each unknown name or non-scalar value is one problem."""
    fields = fields or {}
    if not isinstance(fields, dict):
        raise TestFileError(f"{label}: 'fields' must be a mapping of field name to value", loc)
    fields.pop("__line__", None)
    values: dict[str, str] = {}
    for key, value in fields.items():
        if key not in field_names:
            problems.append(TestFileError(f"{label}: unknown field {_show(key)} for event {event_id}"
                                          f"{_did_you_mean(str(key), field_names)}", loc))
        elif not isinstance(value, _SCALARS):
            problems.append(TestFileError(f"{label}: field {key!r} must be text, not {_show(value)}", loc))
        else:
            values[str(key)] = "" if value is None else str(value)
    return values


def _did_you_mean(word: str, choices: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(choices)})"


def resolve_event(event: object, platform: str, case: str, loc: Location) -> tuple[int, tuple[str, ...]]:
    """An event given as id, rule element (ProcessCreate) or event name: its id and field names."""
    from ..schema import newest

    schema = newest(platform)  # type: ignore[arg-type]
    by_id = schema.events_by_id
    found = None
    if isinstance(event, int) and not isinstance(event, bool):
        found = by_id.get(event)
    elif isinstance(event, str):
        text = event.strip()
        if text.isdigit():
            found = by_id.get(int(text))
        else:
            found = next((e for e in schema.events if text in (e.rulename, e.name)), None)
    if found is None:
        names = sorted({n for e in schema.events for n in (e.rulename, e.name) if n})
        close = difflib.get_close_matches(str(event), names, n=1, cutoff=0.6) if isinstance(event, str) else []
        hint = f"did you mean {close[0]!r}?" if close else "an id or one of " + ", ".join(
            sorted({e.rulename for e in schema.events if e.rulename}))
        raise TestFileError(f"{case}: unknown event {_show(event)} ({hint})", loc)
    return found.id, found.field_names


def run_case(evaluator: Evaluator, case: Case) -> CaseResult:
    """Decide the case's event; on failure attach the evaluator's explanation."""
    from ..events import Event

    event = Event(case.event_id, case.fields)
    decision = evaluator.decide(event)
    passed = decision.decision == case.expect
    if passed and case.checks_rule_name:
        passed = case.rule_name_matches(decision.rule_name)
    explanation = ""
    if not passed:
        explained = evaluator.explain(event)
        explanation = explained.trace.render(steps=False) if explained.trace is not None else ""
    return CaseResult(case, passed, decision.decision, decision.rule_name, explanation)


def evaluator_for(test_file: TestFile, *, sysmon_compatible: bool = False) -> Evaluator:
    """Load the tested config (validated as Sysmon would; ``sysmon_compatible``: dropping what
    Sysmon silently drops; or what a host runs, in any form ``rulesource.load_rules`` reads) and
    build its evaluator."""
    from ..engine import Evaluator
    from ..rulesource import load_rules

    try:
        found = test_file.config_path.is_file()
    except OSError as exc:  # e.g. a name longer than the system allows
        shown = str(test_file.config_path)
        shown = shown if len(shown) <= 100 else shown[:100] + "..."
        raise TestFileError(f"config {shown!r} cannot be read: {exc.strerror or exc}",
                            Location(test_file.path, 1)) from exc
    if not found:
        raise TestFileError(f"config {str(test_file.config_path)!r} not found", Location(test_file.path, 1))
    rules = load_rules(test_file.config_path, platform=test_file.platform, sysmon_compatible=sysmon_compatible)
    return Evaluator(rules.table, platform=rules.platform)


def run_test_file(test_file: TestFile, *, sysmon_compatible: bool = False) -> list[CaseResult]:
    """Run every case of a loaded test file against its config."""
    evaluator = evaluator_for(test_file, sysmon_compatible=sysmon_compatible)
    return [run_case(evaluator, case) for case in test_file.cases]
