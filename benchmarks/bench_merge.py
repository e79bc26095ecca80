"""Merge benchmark and full proof run on the sysmon-modular trees in ../shared.

Prints: build times (targets: sysmon-modular style < 5 s, union < 3 s for ~400 modules); the
union checked against its formula (sysmon_rules.merging.oracle) on every real event of
``corpus/evtx`` and on witnesses drawn for every module (``events_matching``); and where the
upstream build (``--style sysmon-modular``) decides or names those events differently from the
union, i.e. what the upstream build changes. Exits 1 when a target or a check fails.

Run ``.venv/bin/python benchmarks/bench_merge.py`` (``make bench``); quote it with ``uptime``.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sysmon_rules as sr
from sysmon_rules.collectors import read
from sysmon_rules.merging import merge
from sysmon_rules.merging.modules import load_module
from sysmon_rules.merging.oracle import UnionOracle
from sysmon_rules.testing import strategies as sst

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
SCRIPT = SHARED / "corpus" / "sysmon-modular-a9ff298" / "Merge-SysmonXml.ps1"
TREES = (SHARED / "corpus" / "sysmon-modular-a9ff298", SHARED / "corpus" / "configs" / "sysmon-modular")
TARGETS = {"sysmon-modular": 5.0, "union": 3.0}
WITNESSES = 3  # per module


def timed(action: Callable[[], sr.MergeResult]) -> tuple[float, sr.MergeResult]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def witnesses(modules: list[sr.Config]) -> list[tuple[int, sr.Event]]:
    found: list[tuple[int, sr.Event]] = []

    @settings(max_examples=WITNESSES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def draw(index: int, data: st.DataObject) -> None:
        found.append((index, data.draw(sst.events_matching(modules[index]))))

    for index, module in enumerate(modules):
        if sst.rules_of(module):
            draw(index)  # type: ignore[call-arg]
    return found


def compare(tree: Path, events: list[sr.Event]) -> tuple[Counter[str], list[str]]:
    union = merge([tree], skip_invalid=True)
    # every module, as the union has them: what the build itself changes, not which modules it picks
    upstream = merge([tree], style="sysmon-modular", script=str(SCRIPT), build="with-filedelete")
    modules = [replace(m.config, schema_version=m.needs) for m in (load_module(p)[0] for p in union.modules)]
    oracle, merged, built = UnionOracle(modules), sr.Evaluator(union.config), sr.Evaluator(upstream.config)
    counts: Counter[str] = Counter(f"upstream warning {d.code}" for d in upstream.diagnostics)
    examples: list[str] = []
    drawn = witnesses(modules)
    for source, event in [*((-1, e) for e in events), *drawn]:
        kind = "real" if source < 0 else "witness"
        expected, got, theirs = oracle.expect(event), merged.decide(event), built.decide(event)
        counts[f"{kind} events"] += 1
        counts[f"{kind} decision = formula"] += got.decision == expected.decision
        if expected.decision == "include" and expected.name_is_own:
            counts[f"{kind} own RuleName checked"] += 1
            counts[f"{kind} own RuleName = formula"] += got.rule_name == expected.rule_name
        if theirs.decision != got.decision or (got.decision == "include" and theirs.rule_name != got.rule_name):
            what = "decision" if theirs.decision != got.decision else "RuleName"
            counts[f"{kind}: upstream {what} differs"] += 1
            if len(examples) < 6 and source >= 0:
                examples.append(f"  {union.modules[source]}: event {event.event_id} {dict(event.fields)}: union "
                                f"{got.decision}/{got.rule_name!r}, upstream {theirs.decision}/{theirs.rule_name!r}")
    return counts, examples


def main() -> int:
    if not SCRIPT.exists():
        print(f"skipped: {SCRIPT} not found")
        return 0
    print(f"load average {os.getloadavg()[0]:.2f} (2 cores shared)")
    failed = False
    for style, target in TARGETS.items():
        seconds, result = timed(lambda style=style: merge([TREES[0]], style=style, skip_invalid=True))  # type: ignore[misc]
        verdict = "ok" if seconds < target else "SLOW"
        failed |= seconds >= target
        print(f"{style:<16} {len(result.modules):>4} modules {seconds:>7.2f} s (target < {target} s): {verdict}")
    events = list(read(SHARED / "corpus" / "evtx"))
    for tree in TREES:
        counts, examples = compare(tree, events)
        print(f"\n{tree.relative_to(SHARED)}")
        for key in sorted(counts):
            print(f"  {key:<40}{counts[key]:>8}")
        print("\n".join(examples))
        for kind in ("real", "witness"):
            failed |= counts[f"{kind} decision = formula"] != counts[f"{kind} events"]
            failed |= counts[f"{kind} own RuleName = formula"] != counts[f"{kind} own RuleName checked"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
