"""The index's implied-hits table equals the pairwise definition (hypothesis); unindexed decisions equal Sysmon's."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import sysmon_rules
from sysmon_rules.engine import Evaluator
from sysmon_rules.engine.index import _implied
from sysmon_rules.events import Event

_WORDS = st.lists(st.text(alphabet="ab\\.", max_size=6), min_size=1, max_size=25, unique=True)


def _pairwise(words: tuple[str, ...], contained: Callable[[str, str], bool]) -> dict[str, tuple[str, ...]]:
    return {w: tuple(other for other in words if contained(w, other)) for w in words}


@given(_WORDS, st.sampled_from([str.startswith, str.__contains__]))
def test_implied_is_every_word_a_word_starts_with_or_contains(words: list[str],
                                                             contained: Callable[[str, str], bool]) -> None:
    ordered = tuple(sorted(words, key=len, reverse=True))
    assert _implied(ordered, contained) == _pairwise(ordered, contained)


def test_the_unindexed_evaluator_decides_sysmons_unit_test_events_alike(shared_dir: Path) -> None:
    # Evaluator(index=False) (lint's witness checks) walks every set: same decisions as Sysmon's data.
    cases = [json.loads(line) for line in
             (shared_dir / "conformance" / "evaluate" / "cases.jsonl").read_text("utf-8").splitlines() if line]
    checked = 0
    for case in cases:
        config = sysmon_rules.load(case["config_xml"].encode("utf-8"))
        walked = Evaluator(config, environment=case.get("environment"), index=False)
        for ev in case["events"]:
            got = walked.decide(Event(ev["event_id"], ev["fields"]))
            assert (got.decision, got.rule_name or "") == (ev["expected"], ev.get("expected_rule_name") or "")
            checked += 1
    assert checked >= 169
