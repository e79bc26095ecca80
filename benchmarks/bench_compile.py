"""Compile benchmark: sysmon-modular's full config, best of several runs (target < 0.5 s).

Run ``.venv/bin/python benchmarks/bench_compile.py``; prints a table, exits 1 over target.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from sysmon_rules import load
from sysmon_rules.blob.compile import compile_config
from sysmon_rules.blob.decode import decode_blob
from sysmon_rules.blob.reconstruct import rebuild

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT.parent / "shared" / "corpus" / "configs" / "sysmon-modular" / "sysmonconfig.xml"
TARGET_SECONDS = 0.5
RUNS = 5


def best_of(runs: int, action: object) -> float:
    assert callable(action)
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return min(timings)


def main() -> int:
    if not CONFIG.exists():
        print(f"skipped: {CONFIG} not found")
        return 0
    config = load(CONFIG)
    blob = compile_config(config).data
    rows = [
        ("load (parse + validate)", best_of(RUNS, lambda: load(CONFIG))),
        ("compile_config", best_of(RUNS, lambda: compile_config(config))),
        ("decode + rebuild", best_of(RUNS, lambda: rebuild(decode_blob(blob)))),
    ]
    filters = sum(len(s.filters) for s in compile_config(config).table.rule_sets)
    print(f"{CONFIG.name}: {len(blob):,} bytes, {filters:,} filters (best of {RUNS})")
    print(f"{'step':<26}{'seconds':>10}")
    for label, seconds in rows:
        print(f"{label:<26}{seconds:>10.4f}")
    compile_seconds = rows[1][1]
    verdict = "ok" if compile_seconds < TARGET_SECONDS else "SLOW"
    print(f"compile target < {TARGET_SECONDS} s: {verdict}")
    return 0 if compile_seconds < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
