"""A config's "logged" formula against the evaluator, on random configs (hypothesis).

The evaluator is the oracle: for events built from the config's own values (so filters do
match), the formula's truth must be the evaluator's decision, and every solution the search
finds for "logged" / "not logged" must be decided that way by the evaluator.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sysmon_rules import Config, Evaluator, Event, Rule
from sysmon_rules.engine.conditions import fold
from sysmon_rules.readiness.config import ConfigFormulas
from sysmon_rules.readiness.formula import evaluate
from sysmon_rules.readiness.search import search
from sysmon_rules.schema import newest
from sysmon_rules.testing.strategies import configs

SCHEMA = newest("windows")


def _values(config: Config) -> list[str]:
    found = ["-", "x"]
    for _group, rules in config.event_rules():
        for item in rules.items:
            for flt in item.filters if isinstance(item, Rule) else (item,):
                found += [flt.value, "x" + flt.value, flt.value + "x", flt.value.split(";")[0]]
    return found


def _event_ids(config: Config) -> list[int]:
    ids = {e.id for _g, rules in config.event_rules() for e in SCHEMA.rule_elements.get(rules.element, ())}
    return sorted(ids) or [1]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs("4.90", max_events=4), st.data())
def test_logged_formula_decides_as_the_evaluator(config: Config, data: st.DataObject) -> None:
    evaluator = Evaluator(config)
    formulas = ConfigFormulas(evaluator)
    pool = _values(config)
    for _ in range(8):
        event_id = data.draw(st.sampled_from(_event_ids(config)))
        names = SCHEMA.events_by_id[event_id].field_names
        fields = {n: data.draw(st.sampled_from(pool)) for n in data.draw(st.lists(st.sampled_from(names), max_size=5))}
        event = Event(event_id, fields)
        folded = {k: fold(v) or "-" for k, v in fields.items()}
        logged = evaluate(formulas.rules(event_id).logged, lambda f, seen=folded: seen.get(f, "-"))  # type: ignore[misc]
        assert logged == (evaluator.decide(event).decision == "include"), (fields, evaluator.explain(event).trace)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs("4.90", max_events=4))
def test_search_solutions_are_decided_as_claimed(config: Config) -> None:
    evaluator = Evaluator(config)
    formulas = ConfigFormulas(evaluator)
    for event_id in _event_ids(config):
        rules = formulas.rules(event_id)
        for formula, expected in ((rules.logged, "include"), (rules.dropped, "exclude")):
            outcome = search(formula)
            if outcome.status == "sat":
                assert evaluator.decide(Event(event_id, outcome.values)).decision == expected, outcome.values
