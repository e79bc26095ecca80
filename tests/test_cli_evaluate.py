"""`sysmon-rules evaluate` over the real EVTX corpus, cross-checked against per-event decide()."""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner

import sysmon_rules as sr
from conftest import SHARED
from sysmon_rules.cli import main, run
from sysmon_rules.collectors import CollectorError
from test_collectors_evtx import corpus

MODULAR = "sysmon-modular/sysmonconfig.xml"
SWIFT = "swiftonsecurity/sysmonconfig-export.xml"


@cache
def _evaluator(name: str) -> sr.Evaluator:
    assert SHARED is not None
    return sr.Evaluator(sr.load(SHARED / "corpus" / "configs" / name))


def _invoke(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(main, ["evaluate", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_summary_matches_per_event_decisions(shared_dir: Path) -> None:
    configs, evtx = shared_dir / "corpus" / "configs", shared_dir / "corpus" / "evtx"
    doc = _invoke(str(configs / MODULAR), str(evtx), "--format", "json")
    events, _ = corpus()
    evaluator = _evaluator(MODULAR)
    decisions = [evaluator.decide(e) for e in events]
    by_id: dict[str, Counter[str]] = {}
    for event, d in zip(events, decisions, strict=True):
        by_id.setdefault(str(event.event_id), Counter())[d.decision] += 1
    names = Counter(d.rule_name for d in decisions if d.rule_name)
    assert doc["events"] == 3241 and doc["skipped"] == 0 and doc["other_records"] == {"Security": 19}
    assert len(doc["files"]) == 193 and doc["unread"] == [str(evtx / "README.md")]  # type: ignore[arg-type]
    assert doc["included"] == sum(d.decision == "include" for d in decisions)
    assert doc["by_event_id"] == {k: {"include": v["include"], "exclude": v["exclude"]} for k, v in by_id.items()}
    assert {r["rule_name"]: r["events"] for r in doc["rule_names"]} == dict(names)  # type: ignore[attr-defined]
    matched = {id(d.rule_set) for d in decisions if d.rule_set is not None}
    never = [i for i, s in enumerate(evaluator.table.rule_sets) if id(s) not in matched]
    assert [s["index"] for s in doc["never_matched"]] == never  # type: ignore[attr-defined]
    assert 0 < len(never) < len(evaluator.table.rule_sets)


def test_compare_lists_the_differences(shared_dir: Path) -> None:
    configs, evtx = shared_dir / "corpus" / "configs", shared_dir / "corpus" / "evtx"
    doc = _invoke(str(configs / MODULAR), str(evtx), "--format", "json", "--compare", str(configs / SWIFT))
    compare = doc["compare"]
    events, _ = corpus()
    a, b = _evaluator(MODULAR), _evaluator(SWIFT)
    flips: Counter[tuple[int, str]] = Counter()
    changed = 0
    for event in events:
        da, db = a.decide(event), b.decide(event)
        changed += (da.decision, da.rule_name) != (db.decision, db.rule_name)
        if da.decision != db.decision:
            flips[event.event_id, db.decision] += 1
    assert compare["changed"] == changed > 0  # type: ignore[index]
    rows = {r["event_id"]: r for r in compare["by_event_id"]}  # type: ignore[index]
    assert {(k, "include"): r["now_included"] for k, r in rows.items() if r["now_included"]} | {
        (k, "exclude"): r["now_excluded"] for k, r in rows.items() if r["now_excluded"]} == dict(flips)
    assert compare["rule_names"]  # type: ignore[index]


def test_jsonl_gives_one_line_per_event_with_its_origin(shared_dir: Path) -> None:
    evtx = shared_dir / "corpus" / "evtx" / "Privilege Escalation" / "Sysmon_UACME_64.evtx"
    configs = shared_dir / "corpus" / "configs"
    result = CliRunner().invoke(main, ["evaluate", str(configs / MODULAR), str(evtx), "--format", "jsonl",
                                       "--compare", str(configs / SWIFT)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    events = [e for e in corpus()[0] if e.origin is not None and e.origin.source == str(evtx)]
    assert len(rows) == len(events) == 530
    for row, event in zip(rows, events, strict=True):
        d = _evaluator(MODULAR).decide(event)
        assert (row["decision"], row["rule_name"], row["source"], row["record"]) == (
            d.decision, d.rule_name, str(evtx), event.origin.record if event.origin else None)
        assert row["compare"]["decision"] == _evaluator(SWIFT).decide(event).decision


def test_summary_text(shared_dir: Path) -> None:
    result = CliRunner().invoke(main, ["evaluate", str(shared_dir / "corpus" / "configs" / MODULAR),
                                       str(shared_dir / "corpus" / "evtx")])
    assert result.exit_code == 0, result.output
    assert "events read: 3,241" in result.stdout
    for title in ("Decisions per event id", "Top RuleNames", "Rule sets that never matched"):
        assert title in result.stdout


def test_errors_are_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.xml"
    config.write_text('<Sysmon schemaversion="4.90"><EventFiltering/></Sysmon>', "utf-8")
    events = tmp_path / "e.jsonl"
    events.write_text('{"EventID": 1, "fields": {}}\n', "utf-8")
    result = CliRunner().invoke(main, ["evaluate", str(config), str(events), "--collector", "nope"])
    assert result.exit_code == 1 and isinstance(result.exception, CollectorError)
    with pytest.raises(SystemExit) as exit_info:
        run(["evaluate", str(config), str(events), "--collector", "nope"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown collector 'nope' (available: evtx, jsonl, xml" in err
    broken = tmp_path / "broken.xml"
    broken.write_text("<Sysmon", "utf-8")
    result = CliRunner().invoke(main, ["evaluate", str(broken), str(events)])
    assert result.exit_code == 2 and "broken.xml" in result.output
    assert CliRunner().invoke(main, ["evaluate", str(config)]).exit_code == 2
    assert CliRunner().invoke(main, ["evaluate", str(config), str(events), "--format", "xml"]).exit_code == 2
