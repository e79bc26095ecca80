"""The one walk (sysmon_rules.configwalk): Sysmon's order, its event id choice and what it drops."""

from __future__ import annotations

from sysmon_rules.configwalk import Outcome, walk
from sysmon_rules.model import Config, EventRules, Filter, Rule, RuleGroup
from sysmon_rules.schema import newest

WRITER = newest("windows")


def _steps(*filtering: RuleGroup | EventRules) -> list[tuple[str, Outcome, list[int]]]:
    config = Config(schema_version="4.90", filtering=filtering)
    return [(s.element.element, s.outcome, [a.event.id for a in s.attempts]) for s in walk(config, WRITER)]


def test_elements_come_in_manifest_order_then_document_order() -> None:
    steps = _steps(EventRules("NetworkConnect", (), onmatch="include"),
                   EventRules("ProcessCreate", (Filter("Image", "a"),), onmatch="include"),
                   EventRules("ProcessCreate", (), onmatch="exclude"))
    assert steps == [("ProcessCreate", Outcome.ADDED, [1]), ("ProcessCreate", Outcome.ADDED, [1]),
                     ("NetworkConnect", Outcome.ADDED, [3])]


def test_a_shared_element_tries_each_id_and_keeps_what_the_failed_attempts_placed() -> None:
    # RegistryEvent is 12, 13, 14: Details exists only in 13, so 12 is tried first and undone.
    element = EventRules("RegistryEvent", (Rule((Filter("TargetObject", "k"), Filter("Details", "v")), name="r"),),
                         onmatch="include")
    (step,) = walk(Config(schema_version="4.90", filtering=(element,)), WRITER)
    assert step.outcome is Outcome.ADDED and [a.event.id for a in step.attempts] == [12, 13]
    failed, chosen = step.attempts
    assert not failed.fits and [p.filter.field for p in failed.items[0].filters] == ["TargetObject"]
    assert chosen.fits and [p.name for p in chosen.items[0].filters] == ["r", "r"]


def test_an_incorrect_field_drops_the_later_elements_of_its_name_only() -> None:
    steps = _steps(EventRules("ProcessCreate", (Filter("NoSuchField", "x"),), onmatch="include"),
                   EventRules("ProcessCreate", (Filter("Image", "a"),), onmatch="include"),
                   EventRules("FileCreate", (Filter("TargetFilename", "t"),), onmatch="include"))
    assert [(e, o) for e, o, _ in steps] == [("ProcessCreate", Outcome.INCORRECT), ("ProcessCreate", Outcome.DROPPED),
                                             ("FileCreate", Outcome.ADDED)]


def test_onmatch_problems_skip_the_element_with_sysmons_own_distinction() -> None:
    config = Config(schema_version="4.90", filtering=(
        EventRules("ProcessCreate", ()), EventRules("ProcessCreate", (), onmatch="include", default="exclude")))
    steps = list(walk(config, WRITER, silent="warning"))
    assert [(s.outcome, s.silent[0].code, s.silent[0].severity) for s in steps] == [
        (Outcome.SKIPPED, "missing-onmatch", "warning"), (Outcome.SKIPPED, "onmatch-and-default", "warning")]


def test_fatal_findings_carry_the_writers_condition_names() -> None:
    element = EventRules("ProcessCreate", (Filter("Image", "x", "contains any"),), onmatch="include")
    config = Config(schema_version="4.90", filtering=(element,))
    assert [s.outcome for s in walk(config, WRITER)] == [Outcome.ADDED]
    old = list(walk(config, WRITER, conditions=("is", "is not", "contains")))  # an era without lists
    assert old[0].outcome is Outcome.FATAL and old[0].fatal[0].code == "unknown-condition"
    assert "Expected values are is, is not, contains" in old[0].fatal[0].message
