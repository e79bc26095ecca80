"""Config test files (``*.sysmon-test.yaml``): load, validate and run them.

A test file names a config and lists cases::

    config: sysmonconfig.xml          # relative to the test file
    cases:
      - name: powershell is logged
        event: ProcessCreate          # rule element, event name, or id (1)
        fields: {Image: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe'}
        expect: include
        rule_name: technique_id=T1059.001,technique_name=PowerShell

Every mistake in the file is reported as ``file:line: message`` (a TestFileError), never as a
traceback; the engine is imported only when cases run, so the pytest plugin stays light.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import Location, SysmonRulesError
from ..io import read_input

if TYPE_CHECKING:
    from ..engine import Evaluator

EXPECTATIONS = ("include", "exclude")
_CASE_KEYS = {"name", "event", "fields", "expect", "rule_name", "platform"}
_FILE_KEYS = {"config", "cases", "platform"}
_NO_NAME = object()  # rule_name not given: not checked (distinct from rule_name: null)


class TestFileError(SysmonRulesError):
    """A test file that cannot be read: its message names file:line."""

    __test__ = False  # not a pytest test class despite the name


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


def _line_loader() -> type:
    import yaml

    class Loader(yaml.SafeLoader):
        """SafeLoader that remembers the line of every mapping (for file:line messages)."""

    def construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
        mapping = loader.construct_mapping(node, deep=True)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    return Loader


def load_test_file(path: str | Path) -> TestFile:
    """Parse and validate a test file; raise TestFileError naming file:line on any mistake."""
    import yaml

    where = str(path)
    text = read_input(path, stdin=False).decode("utf-8")  # FileAccessError names the file
    try:
        data = yaml.load(text, Loader=_line_loader())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        raise TestFileError(f"not valid YAML: {getattr(exc, 'problem', None) or exc}", Location(where, line)) from exc
    if not isinstance(data, dict):
        raise TestFileError("a test file is a mapping with 'config' and 'cases'", Location(where, 1))
    top = Location(where, int(data.pop("__line__", 1)))
    unknown = sorted(set(data) - _FILE_KEYS)
    if unknown:
        raise TestFileError(f"unknown key {unknown[0]!r} (known: {', '.join(sorted(_FILE_KEYS))})", top)
    config = data.get("config")
    if not isinstance(config, str) or not config:
        raise TestFileError("'config' (the config file to test, relative to this file) is missing", top)
    platform = data.get("platform", "windows")
    if platform not in ("windows", "linux"):
        raise TestFileError(f"unknown platform {platform!r} (windows or linux)", top)
    raw_cases = data.get("cases")
    if not isinstance(raw_cases, list) or not raw_cases:
        raise TestFileError("'cases' must be a non-empty list of cases", top)
    cases = tuple(_case(raw, where, top, platform, i) for i, raw in enumerate(raw_cases, 1))
    return TestFile(where, Path(path).parent / config, cases, platform)


def _case(raw: object, where: str, top: Location, platform: str, number: int) -> Case:
    if not isinstance(raw, dict):
        raise TestFileError(f"case {number} is not a mapping", top)
    loc = Location(where, int(raw.pop("__line__", top.line)))
    unknown = sorted(set(raw) - _CASE_KEYS)
    if unknown:
        raise TestFileError(f"case {number}: unknown key {unknown[0]!r} (known: {', '.join(sorted(_CASE_KEYS))})", loc)
    name = str(raw.get("name") or f"case {number}")
    expect = raw.get("expect")
    if expect not in EXPECTATIONS:
        raise TestFileError(f"{name}: unknown expectation {expect!r} (include or exclude)", loc)
    event_id, field_names = resolve_event(raw.get("event"), platform, name, loc)
    fields = raw.get("fields") or {}
    if not isinstance(fields, dict):
        raise TestFileError(f"{name}: 'fields' must be a mapping of field name to value", loc)
    fields.pop("__line__", None)
    for key in fields:
        if key not in field_names:
            raise TestFileError(f"{name}: unknown field {key!r} for event {event_id} "
                                f"(known: {', '.join(field_names)})", loc)
    values = {str(k): "" if v is None else str(v) for k, v in fields.items()}
    rule_name = raw.get("rule_name", _NO_NAME)
    if rule_name is not _NO_NAME and rule_name is not None:
        rule_name = str(rule_name)
    return Case(name, event_id, values, str(expect), rule_name, loc)


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
        known = ", ".join(sorted({e.rulename for e in schema.events if e.rulename}))
        raise TestFileError(f"{case}: unknown event {event!r} (an id or one of {known})", loc)
    return found.id, found.field_names


def run_case(evaluator: Evaluator, case: Case) -> CaseResult:
    """Decide the case's event; on failure attach the evaluator's explanation."""
    from ..events import Event

    event = Event(case.event_id, case.fields)
    decision = evaluator.decide(event)
    passed = decision.decision == case.expect
    if passed and case.checks_rule_name:
        passed = decision.rule_name == case.rule_name
    explanation = ""
    if not passed:
        explained = evaluator.explain(event)
        explanation = explained.trace.render(steps=False) if explained.trace is not None else ""
    return CaseResult(case, passed, decision.decision, decision.rule_name, explanation)


def evaluator_for(test_file: TestFile) -> Evaluator:
    """Load the tested config (validated as Sysmon would) and build its evaluator."""
    from .. import Evaluator, load

    if not test_file.config_path.is_file():
        raise TestFileError(f"config {str(test_file.config_path)!r} not found", Location(test_file.path, 1))
    config = load(test_file.config_path, platform=test_file.platform)
    return Evaluator(config, platform=test_file.platform)  # type: ignore[arg-type]


def run_test_file(test_file: TestFile) -> list[CaseResult]:
    """Run every case of a loaded test file against its config."""
    evaluator = evaluator_for(test_file)
    return [run_case(evaluator, case) for case in test_file.cases]
