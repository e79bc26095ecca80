"""The project's own properties, over configs and events drawn by sysmon_rules.testing.strategies."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sysmon_rules
from sysmon_rules import Config, Evaluator, Event
from sysmon_rules.testing import strategies as sst

PROPS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(sst.configs())
def test_xml_blob_xml_round_trip(config: Config) -> None:
    """XML -> blob -> XML -> blob: the decompiled config compiles to the same bytes."""
    blob = sysmon_rules.to_blob(config)
    assert blob  # every drawn element loads, so it becomes a rule set
    again = sysmon_rules.loads(sysmon_rules.to_xml(sysmon_rules.from_blob(blob)))
    assert sysmon_rules.to_blob(again) == blob


@st.composite
def config_and_events(draw: st.DrawFn) -> tuple[Config, list[Event]]:
    config = draw(sst.configs(version="4.90"))
    rules = sst.rules_of(config)
    found = [draw(sst.events_matching(config, draw(st.sampled_from(rules))))] if rules and draw(st.booleans()) else []
    return config, found + draw(st.lists(sst.events(), min_size=1, max_size=5))


@PROPS
@given(config_and_events())
def test_evaluator_from_xml_equals_evaluator_from_blob(drawn: tuple[Config, list[Event]]) -> None:
    config, events = drawn
    from_xml, from_blob = Evaluator(config), Evaluator(sysmon_rules.to_blob(config))
    for event in events:
        assert from_xml.decide(event) == from_blob.decide(event)


@PROPS
@given(config_and_events(), st.sampled_from([str.upper, str.lower, str.swapcase]))
def test_decisions_ignore_the_case_of_ascii_values(drawn: tuple[Config, list[Event]], change: object) -> None:
    """Windows Sysmon folds ASCII case on both sides: changing it in event values changes nothing."""
    config, events = drawn
    evaluator = Evaluator(config, platform="windows")
    for event in events:
        changed = Event(event.event_id, {k: change(v) for k, v in event.fields.items()})  # type: ignore[operator]
        assert evaluator.decide(changed) == evaluator.decide(event)


@PROPS
@given(config_and_events())
def test_explain_agrees_with_decide(drawn: tuple[Config, list[Event]]) -> None:
    config, events = drawn
    evaluator = Evaluator(config)
    for event in events:
        fast, explained = evaluator.decide(event), evaluator.explain(event)
        assert (fast.decision, fast.rule_name) == (explained.decision, explained.rule_name)
