"""Property tests for sysmonconfig.xml: copy this file next to your own config.

Run with ``pytest examples/``. Each property is checked over hundreds of generated events.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sysmon_rules
from sysmon_rules.testing import strategies as sst

CONFIG = sysmon_rules.load(Path(__file__).with_name("sysmonconfig.xml"))
EVALUATOR = sysmon_rules.Evaluator(CONFIG)
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


GOOGLE_UPDATE = "C:\\Program Files (x86)\\Google\\Update\\GoogleUpdate.exe"
# Sysmon reads values as C strings: a NUL would cut the Image short, so keep it out.
TEXT = st.text(st.characters(blacklist_characters="\0"), max_size=40)


@PROPERTY
@given(prefix=TEXT, parent=st.one_of(TEXT, st.just(GOOGLE_UPDATE)))
def test_powershell_is_only_excluded_under_google_update(prefix: str, parent: str) -> None:
    """A process whose Image ends in \\powershell.exe is logged unless Google Update started it.

    Exclude rules win over include rules, so the GoogleUpdate exclusion also hides PowerShell:
    this property documents that blind spot instead of pretending it is not there.
    """
    event = sysmon_rules.Event(1, {"Image": prefix + "\\powershell.exe", "ParentImage": parent})
    expected = "exclude" if parent.lower() == GOOGLE_UPDATE.lower() else "include"
    assert EVALUATOR.decide(event).decision == expected


INCLUDE_RULES = sst.rules_of(CONFIG, onmatch="include")


@PROPERTY
@given(st.one_of([sst.events_matching(CONFIG, rule) for rule in INCLUDE_RULES]))
def test_include_rules_are_not_shadowed(event: sysmon_rules.Event) -> None:
    """Every include rule can log something: some event it matches gets past every exclude rule.

    (events_matching only draws such events; a rule an exclude rule always shadows fails here
    with hypothesis.errors.Unsatisfiable.)
    """
    assert EVALUATOR.decide(event).decision == "include"


@PROPERTY
@given(sst.events_matching(CONFIG, rule=INCLUDE_RULES[0]))
def test_powershell_rule_names_the_technique(event: sysmon_rules.Event) -> None:
    """Whatever else the event holds, the PowerShell rule logs it under its technique."""
    decision = EVALUATOR.decide(event)
    assert decision.decision == "include"
    assert decision.rule_name == "technique_id=T1059.001,technique_name=PowerShell"
