"""SigmaHQ's regression captures (real EVTX in which a named rule fires) replayed against coverage.

For each capture whose rule reads a Sysmon log source: the events in it that the rule matches
(by the independent Sigma check) must also satisfy the detection formula coverage reasons with,
the config formula must decide each as the evaluator does, and a rule reported ``logged`` must
have every firing event included, a ``dropped`` one every firing event excluded.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

import sysmon_rules as sr
from sysmon_rules.collectors import read
from sysmon_rules.engine.conditions import fold
from sysmon_rules.readiness import coverage, read_rules
from sysmon_rules.readiness.config import ConfigFormulas
from sysmon_rules.readiness.detection import detection_formula
from sysmon_rules.readiness.fields import EVENT_ID
from sysmon_rules.readiness.formula import disj, evaluate, substitute
from sysmon_rules.readiness.sigmacheck import sigma_matches
from sysmon_rules.schema import newest

CONFIGS = ["sysmon-modular/sysmonconfig.xml"]
_ID = re.compile(r"^id:\s*([0-9a-f-]{36})\s*$", re.MULTILINE)


def _captures(sigma: Path) -> list[tuple[str, list[Path]]]:
    out = []
    for info in sorted((sigma / "regression_data").rglob("info.yml")):
        meta = yaml.safe_load(info.read_text("utf-8"))
        paths = [sigma / t["path"] for t in meta["regression_tests_info"] if t.get("type") == "evtx"]
        out.append((meta["rule_metadata"][0]["id"], paths))
    return out


def _rule_files(sigma: Path, wanted: set[str]) -> list[Path]:
    found = []
    for folder in ("rules", "rules-threat-hunting", "rules-emerging-threats"):
        for path in (sigma / folder).rglob("*.yml"):
            m = _ID.search(path.read_text("utf-8"))
            if m and m.group(1) in wanted:
                found.append(path)
    return found


@pytest.mark.parametrize("config_name", CONFIGS)
def test_regression_captures_agree(shared_dir: Path, config_name: str) -> None:
    sigma = shared_dir / "corpus" / "sigma"
    captures = _captures(sigma)
    inputs = {r.id: r for r in read_rules(_rule_files(sigma, {rid for rid, _ in captures}))}
    assert set(inputs) == {rid for rid, _ in captures}
    config = sr.load(shared_dir / "corpus" / "configs" / config_name)
    evaluator = sr.Evaluator(config)
    formulas = ConfigFormulas(evaluator)
    report = {r.id: r for r in coverage(config, list(inputs.values())).rules}
    schema = newest("windows")
    seen: Counter[str] = Counter()
    for rule_id, paths in captures:
        result, sigma_rule = report[rule_id], inputs[rule_id].rule
        if result.status == "not-applicable":
            seen["not-applicable"] += 1
            continue
        assert sigma_rule is not None
        trees = [c.parsed for c in sigma_rule.detection.parsed_condition]
        fired = [e for p in paths for e in read(str(p))
                 if e.event_id in result.event_ids and any(sigma_matches(t, e.event_id, e.fields) for t in trees)]
        assert fired, f"{rule_id}: no event of the capture fires the rule"
        for event in fired:
            folded = {k: fold(v) or "-" for k, v in event.fields.items()}
            names = schema.events_by_id[event.event_id].field_names
            detection = substitute(disj([detection_formula(t, names) for t in trees]),
                                   EVENT_ID, str(event.event_id))
            assert evaluate(detection, lambda f, seen=folded: seen.get(f, "-")), (rule_id, event.fields)  # type: ignore[misc]
            decision = evaluator.decide(event).decision
            logged = evaluate(formulas.rules(event.event_id).logged, lambda f, seen=folded: seen.get(f, "-"))  # type: ignore[misc]
            assert logged == (decision == "include"), (rule_id, event.fields)
            if result.status == "logged":
                assert decision == "include", (rule_id, event.fields)
            if result.status == "dropped":
                assert decision == "exclude", (rule_id, event.fields)
        seen[result.status] += 1
    # Every Sysmon capture reached a verdict that the replay could check or that allows both outcomes.
    assert seen["logged"] + seen["dropped"] + seen["partial"] == len(captures) - seen["not-applicable"]
