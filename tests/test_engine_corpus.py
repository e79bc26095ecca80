"""Real configs over real Sysmon events (shared/corpus): the fast evaluator against the plain
reference engine, and the config-built evaluator against the one built from its blob."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

import sysmon_rules
from conftest import SHARED
from reference_engine import Reference
from sysmon_rules.blob.compile import compile_config
from sysmon_rules.engine import Evaluator
from sysmon_rules.events import Event

CONFIGS = ["sysmon-modular/sysmonconfig.xml", "swiftonsecurity/sysmonconfig-export.xml",
           "nextron/sysmonconfig-export.xml"]


def _text(value: object) -> str:
    if isinstance(value, dict):
        return _text(value.get("#text"))
    return "" if value is None else str(value)


@cache
def corpus_events() -> tuple[Event, ...]:
    from evtx import PyEvtxParser

    assert SHARED is not None
    found: list[Event] = []
    for path in sorted((SHARED / "corpus" / "evtx").rglob("*.evtx")):
        for record in PyEvtxParser(str(path)).records_json():
            body = json.loads(record["data"])["Event"]
            system = body.get("System", {})
            if system.get("Provider", {}).get("#attributes", {}).get("Name") != "Microsoft-Windows-Sysmon":
                continue
            data = body.get("EventData") or {}
            fields = {k: _text(v) for k, v in data.items() if not k.startswith("#")} if isinstance(data, dict) else {}
            found.append(Event(int(_text(system.get("EventID"))), fields))
    return tuple(found)


@pytest.mark.slow
@pytest.mark.parametrize("name", CONFIGS)
def test_fast_engine_equals_reference_on_real_events(shared_dir: Path, name: str) -> None:
    events = corpus_events()
    assert len(events) > 1000
    table = compile_config(sysmon_rules.load(shared_dir / "corpus" / "configs" / name)).table
    fast, slow = Evaluator(table), Reference(table)
    for event in events[::5]:  # a fifth keeps the slow reference affordable
        got = fast.decide(event)
        assert (got.decision, got.rule_name) == slow.decide(event.event_id, event.fields), event


@pytest.mark.parametrize("name", CONFIGS)
def test_config_and_blob_decide_alike_on_real_events(shared_dir: Path, name: str) -> None:
    config = sysmon_rules.load(shared_dir / "corpus" / "configs" / name)
    from_xml, from_blob = Evaluator(config), Evaluator(compile_config(config).data)
    decided = [from_xml.decide(e) for e in corpus_events()]
    assert decided == [from_blob.decide(e) for e in corpus_events()]
    assert {d.decision for d in decided} == {"include", "exclude"}
