"""The evaluator against Sysmon's own unit-test tables (shared/conformance/evaluate).

Every event of cases.jsonl is decided from the XML, from the compiled blob's bytes and by the
plain reference engine (which is thereby held to Sysmon's data too); has-include-rules.jsonl
checks IdHasIncludeRules.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import sysmon_rules
from conftest import SHARED
from reference_engine import Reference
from sysmon_rules.blob.compile import compile_config
from sysmon_rules.engine import Evaluator
from sysmon_rules.events import Event


def _lines(name: str) -> list[dict[str, Any]]:
    if SHARED is None:
        return []
    path = SHARED / "conformance" / "evaluate" / name
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


CASES = _lines("cases.jsonl")
EVENTS = [pytest.param(case, ev, id=f"{case['id']}/{n}") for case in CASES for n, ev in enumerate(case["events"])]
INCLUDES = [pytest.param(case, check, id=f"{case['id']}/{n}")
            for case in _lines("has-include-rules.jsonl") for n, check in enumerate(case["checks"])]


def _expected(ev: dict[str, Any]) -> tuple[str, str]:
    return ev["expected"], ev.get("expected_rule_name") or ""


def test_data_present(shared_dir: Path) -> None:
    assert len(CASES) >= 40 and len(EVENTS) >= 169 and INCLUDES


@pytest.mark.parametrize(("case", "ev"), EVENTS)
def test_decision_from_xml_and_blob(shared_dir: Path, case: dict[str, Any], ev: dict[str, Any]) -> None:
    config = sysmon_rules.load(case["config_xml"].encode("utf-8"))
    env = case.get("environment")
    event = Event(ev["event_id"], ev["fields"])
    for source in (config, compile_config(config).data):
        got = Evaluator(source, environment=env).decide(event)
        assert (got.decision, got.rule_name or "") == _expected(ev)
        explained = Evaluator(source, environment=env).explain(event)
        assert (explained.decision, explained.rule_name or "") == _expected(ev)
        assert explained.trace is not None and str(explained.trace)


@pytest.mark.parametrize(("case", "ev"), EVENTS)
def test_reference_engine_agrees_with_sysmon(shared_dir: Path, case: dict[str, Any], ev: dict[str, Any]) -> None:
    table = compile_config(sysmon_rules.load(case["config_xml"].encode("utf-8"))).table
    got = Reference(table, "windows", case.get("environment")).decide(ev["event_id"], ev["fields"])
    assert (got[0], got[1] or "") == _expected(ev)


@pytest.mark.parametrize(("case", "ev"), [p for p in EVENTS if p.values[0]["platform"] == "all"])
def test_platform_neutral_cases_hold_on_linux(shared_dir: Path, case: dict[str, Any], ev: dict[str, Any]) -> None:
    config = sysmon_rules.load(case["config_xml"].encode("utf-8"))
    got = Evaluator(config, platform="linux").decide(Event(ev["event_id"], ev["fields"]))
    assert (got.decision, got.rule_name or "") == _expected(ev)


@pytest.mark.parametrize(("case", "check"), INCLUDES)
def test_has_include_rules(shared_dir: Path, case: dict[str, Any], check: dict[str, Any]) -> None:
    evaluator = Evaluator(sysmon_rules.load(case["config_xml"].encode("utf-8")))
    assert evaluator.has_include_rules(check["event_id"]) is check["expected"]
