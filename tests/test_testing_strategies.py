"""The hypothesis strategies: every draw is what it claims to be.

The acceptance measurement: ``events_matching`` over 20 include rules of sysmon-modular, each
draw included by the evaluator. ``make test`` draws 50 per rule; set SYSMON_RULES_MATCH_DRAWS=1000
for the full measurement.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sysmon_rules
from sysmon_rules import Config, Evaluator, Event
from sysmon_rules.testing import strategies as sst

DRAWS = int(os.environ.get("SYSMON_RULES_MATCH_DRAWS", "50"))
QUIET = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

SMALL = sysmon_rules.loads("""<Sysmon schemaversion="4.90"><EventFiltering>
<RuleGroup groupRelation="or"><ProcessCreate onmatch="include">
  <Image name="ps" condition="end with">\\powershell.exe</Image>
  <Rule name="both" groupRelation="and">
    <Image condition="begin with">C:\\Tools\\</Image>
    <CommandLine condition="contains all">-enc;-nop</CommandLine>
  </Rule>
  <DestinationPort condition="is">1</DestinationPort>
</ProcessCreate></RuleGroup>
<RuleGroup groupRelation="or"><ProcessCreate onmatch="exclude">
  <ParentImage condition="is">C:\\updater.exe</ParentImage>
</ProcessCreate></RuleGroup>
<RuleGroup groupRelation="or"><NetworkConnect onmatch="include">
  <DestinationPort condition="more than">1023</DestinationPort>
</NetworkConnect></RuleGroup>
</EventFiltering></Sysmon>""".replace("<DestinationPort condition=\"is\">1</DestinationPort>\n", ""))


def _draws(strategy: st.SearchStrategy[Event], n: int) -> list[Event]:
    seen: list[Event] = []

    @settings(QUIET, max_examples=n)
    @given(strategy)
    def collect(event: Event) -> None:
        seen.append(event)

    collect()
    return seen


@pytest.mark.parametrize("index", range(len(sst.rules_of(SMALL))))
def test_matching_and_not_matching_on_a_small_config(index: int) -> None:
    rule = sst.rules_of(SMALL)[index]
    onmatch = next(ev.onmatch for _, ev in SMALL.event_rules() if rule in ev.items)
    evaluator = Evaluator(SMALL)
    matching = _draws(sst.events_matching(SMALL, rule), 50)
    assert len(matching) >= 25
    assert all(evaluator.decide(e).decision == onmatch for e in matching)
    missing = _draws(sst.events_not_matching(SMALL, rule), 30)
    assert missing and all(e.fields != matching[0].fields for e in missing)


def test_and_rule_draws_satisfy_every_filter() -> None:
    rule = next(r for r in sst.rules_of(SMALL) if isinstance(r, sysmon_rules.Rule))
    for event in _draws(sst.events_matching(SMALL, rule), 50):
        assert event.fields["Image"].lower().startswith("c:\\tools\\")
        assert "-enc" in event.fields["CommandLine"].lower() and "-nop" in event.fields["CommandLine"].lower()
        assert Evaluator(SMALL).decide(event).rule_name == "both"


def test_a_rule_from_another_config_is_refused() -> None:
    with pytest.raises(ValueError, match="not part of this config"):
        sst.events_matching(SMALL, sysmon_rules.Filter("Image", "nowhere"))


def _modular_rules(shared_dir: Path) -> tuple[Config, list[sysmon_rules.Filter | sysmon_rules.Rule]]:
    config = sysmon_rules.load(shared_dir / "corpus" / "configs" / "sysmon-modular" / "sysmonconfig.xml")
    include = sst.rules_of(config, onmatch="include")
    return config, random.Random(20).sample(include, 20)  # fixed seed: the same 20 rules each run


def test_events_matching_sysmon_modular(shared_dir: Path) -> None:
    config, rules = _modular_rules(shared_dir)
    evaluator = Evaluator(config)
    counts: list[tuple[str, int, int]] = []
    for rule in rules:
        drawn = _draws(sst.events_matching(config, rule), DRAWS)
        included = sum(evaluator.decide(e).decision == "include" for e in drawn)
        counts.append((str(rule.location), included, len(drawn)))
    print("\nevents_matching on sysmon-modular (included/drawn per rule):")
    print("\n".join(f"  {where}: {inc}/{n}" for where, inc, n in counts))
    assert all(inc == n for _, inc, n in counts)
    # Hypothesis stops early when it runs out of distinct events (an `is` rule has few): demand
    # at least half the requested draws for most rules so the measurement means something.
    assert sum(n >= DRAWS // 2 for _, _, n in counts) >= 15


@settings(QUIET, max_examples=40)
@given(sst.configs())
def test_configs_draw_loadable_configs(config: Config) -> None:
    assert sysmon_rules.loads(sysmon_rules.to_xml(config)) == config


@settings(QUIET, max_examples=40)
@given(sst.events(3))
def test_events_have_real_fields(event: Event) -> None:
    from sysmon_rules.schema import newest

    assert event.event_id == 3
    assert set(event.fields) <= set(newest().events_by_id[3].field_names)


def test_schema_versions_are_loadable() -> None:
    for version in _draw_versions():
        sysmon_rules.loads(f'<Sysmon schemaversion="{version}"><EventFiltering/></Sysmon>')


def _draw_versions() -> set[str]:
    found: set[str] = set()

    @settings(QUIET, max_examples=60)
    @given(sst.schema_versions())
    def collect(version: str) -> None:
        found.add(version)

    collect()
    assert len(found) > 3
    return found


def test_events_matching_builds_evaluators_only_for_rules_it_draws(shared_dir: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A config's every rule got its own evaluator up front (157 s for sysmon-modular's config
    before the first example); now one is built when its rule is first drawn."""
    config = sysmon_rules.load(shared_dir / "corpus" / "configs" / "sysmon-modular" / "sysmonconfig.xml")
    built: list[object] = []
    real = sst._alone

    def counting(*args: object) -> Evaluator:
        built.append(args[1])
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(sst, "_alone", counting)
    strategy = sst.events_matching(config)
    assert built == []
    assert _draws(strategy, 10)
    assert 0 < len(built) < 200  # of the config's ~1,500 rules
    assert len(built) == len({id(target) for target in built})  # each rule's evaluator built once
