"""Graded verdicts without evidence, checked against SigmaHQ's regression captures (real events).

For each capture, the rule's true-positive events (those its detection matches, by the
independent pySigma-tree check) are decided by the evaluator under each real-world config. Where
the config drops every one of them, coverage reasoning *without* evidence must never say
``logged`` and must say ``dropped-in-practice`` (or ``dropped``) in at least 90% of the cases.
Every ``partial`` and ``dropped-in-practice`` rule names what decides, with a file and line.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

import sysmon_rules as sr
from sysmon_rules.collectors import CollectorWarning, read
from sysmon_rules.events import Event
from sysmon_rules.readiness import EventPool, SigmaInput, coverage, read_rules, rule_loses
from sysmon_rules.readiness.sigmacheck import sigma_matches, text_fields
from test_coverage_evidence import CONFIGS, captures, rule_files

_STATEMENT = re.compile(r"^logged (unless|only when) .* at .+:\d+:\d+")


@pytest.fixture(scope="module")
def fired(shared_dir: Path) -> tuple[list[SigmaInput], dict[str, list[Event]]]:
    """The capture rules and, per rule id, the capture events its detection matches."""
    sigma = shared_dir / "corpus" / "sigma"
    found = captures(sigma)
    inputs = read_rules(rule_files(sigma, set(found)))
    out: dict[str, list[Event]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CollectorWarning)
        for item in inputs:
            assert item.rule is not None
            trees = [c.parsed for c in item.rule.detection.parsed_condition]
            events = [e for p in found[item.id] for e in read(str(p))]
            out[item.id] = [e for e in events if any(sigma_matches(t, e.event_id, text_fields(e.fields))
                                                     for t in trees)]
    return inputs, out


@pytest.mark.parametrize("config_name", CONFIGS)
def test_rules_whose_real_events_are_dropped_are_called_dropped(
        shared_dir: Path, config_name: str, fired: tuple[list[SigmaInput], dict[str, list[Event]]]) -> None:
    inputs, events = fired
    config = sr.load(shared_dir / "corpus" / "configs" / config_name)
    evaluator = sr.Evaluator(config)
    report = coverage(config, inputs, captures=False)
    all_dropped = called = 0
    for result in report.rules:
        if result.status in ("partial", "dropped-in-practice"):
            assert result.grade and any(_STATEMENT.match(r) for r in result.reasons), (result.path, result.reasons)
        positives = [e for e in events[result.id] if e.event_id in result.event_ids]
        if result.status == "not-applicable" or not positives:
            continue
        if all(evaluator.decide(e).decision == "exclude" for e in positives):
            all_dropped += 1
            assert result.status != "logged", result.path
            called += result.status in ("dropped-in-practice", "dropped")
    assert called >= 0.9 * all_dropped, (called, all_dropped)


def test_rule_loses_agrees_with_the_real_events(shared_dir: Path,
                                                fired: tuple[list[SigmaInput], dict[str, list[Event]]]) -> None:
    """excludes-only -> the default sysmon-modular config: a proven "nothing lost" loses no real event."""
    inputs, events = fired
    configs = shared_dir / "corpus" / "configs" / "sysmon-modular"
    old = sr.Evaluator(sr.load(configs / "sysmonconfig-excludes-only.xml"))
    new = sr.Evaluator(sr.load(configs / "sysmonconfig.xml"))
    verdicts = []
    for item in inputs:
        pool = EventPool(events[item.id])
        loss = rule_loses(old, new, item, events=pool)
        really = sum(old.decide(e).decision == "include" and new.decide(e).decision == "exclude"
                     for e in events[item.id])
        if loss.evidence is not None and item.rule is not None and loss.lost is not None:
            assert loss.evidence[1] == really, item.path
        if loss.lost is False:
            assert really == 0, item.path
        if loss.witness is not None:
            fields = loss.witness.fields
            assert old.decide(Event(loss.witness.event_id, fields)).decision == "include"
            assert new.decide(Event(loss.witness.event_id, fields)).decision == "exclude"
        verdicts.append(loss.lost)
    assert verdicts.count(True) > 40 and verdicts.count(False) > 0


def test_suggestions_make_the_typical_events_of_dropped_rules_logged(
        shared_dir: Path, fired: tuple[list[SigmaInput], dict[str, list[Event]]]) -> None:
    """Every capture rule reported dropped (or dropped in practice) for sysmon-modular gets a snippet
    under which its typical events, rebuilt and decided by a fresh evaluator, are all logged."""
    from sysmon_rules.readiness.detection import detection_formula
    from sysmon_rules.readiness.formula import disj, substitute
    from sysmon_rules.readiness.status import Assessor
    from sysmon_rules.readiness.suggest import suggest
    from sysmon_rules.readiness.typical import typical_events
    from sysmon_rules.schema import newest

    inputs, _ = fired
    config = sr.load(shared_dir / "corpus" / "configs" / "sysmon-modular" / "sysmonconfig.xml")
    evaluator = sr.Evaluator(config)
    assessor = Assessor(evaluator)
    checked = 0
    for item in inputs:
        result = assessor.assess(item)
        if result.status not in ("dropped", "dropped-in-practice"):
            continue
        found = suggest(evaluator, config, item, result, lambda ev, it: Assessor(ev).assess(it))
        assert found is not None, item.path
        changed = sr.Evaluator(found.config)
        assert item.rule is not None
        trees = [c.parsed for c in item.rule.detection.parsed_condition]
        events = []
        for event_id in result.event_ids:
            names = newest().events_by_id[event_id].field_names
            detection = substitute(disj([detection_formula(t, names) for t in trees]), "EventID", str(event_id))
            events += typical_events(event_id, names, detection, trees)
        assert events, item.path
        assert all(changed.decide(e).decision == "include" for e in events), item.path
        checked += 1
    assert checked >= 40
