"""Tune benchmark: `sysmon_rules.tune` on the EVTX corpus with sysmon-modular's config.

Each scenario runs in a fresh interpreter (imports, pySigma's rule parsing and the config's load
included) and reports CPU seconds (user+sys), wall seconds and peak RSS, against the target of
30 s on the corpus. Scenarios: a budget half of today's busiest host-day with costs accepted, a
budget kept without costs, 3,000 events of one benign process added, and every Windows Sigma rule
of the corpus instead of those with a regression capture. Quote the table with the load average.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SYSMON_RULES_SHARED", ROOT.parent / "shared"))
CONFIG = SHARED / "corpus" / "configs" / "sysmon-modular" / "sysmonconfig.xml"
EVTX = SHARED / "corpus" / "evtx"
SIGMA = SHARED / "corpus" / "sigma"
TARGET_SECONDS = 30.0
SCENARIOS = {
    "budget 100, capture rules, accept costs": {"budget": 100, "rules": "captures", "accept": True, "noisy": False},
    "budget 150, capture rules": {"budget": 150, "rules": "captures", "accept": False, "noisy": False},
    "+3,000 noisy events, budget 250": {"budget": 250, "rules": "captures", "accept": False, "noisy": True},
    "budget 150, all Windows rules": {"budget": 150, "rules": "windows", "accept": False, "noisy": False},
}


def _one(name: str) -> None:
    """Run one scenario in this process and print its figures as JSON."""
    import time

    sys.path.insert(0, str(ROOT / "tests"))
    from sigma_corpus import captures, rule_files
    from sysmon_rules import tune
    from test_tune import _noisy_events

    spec = SCENARIOS[name]
    started = time.perf_counter()
    rules = rule_files(SIGMA, set(captures(SIGMA))) if spec["rules"] == "captures" else [SIGMA / "rules" / "windows"]
    with tempfile.TemporaryDirectory() as folder:
        sources = [str(EVTX)] + ([str(_noisy_events(Path(folder) / "noisy.jsonl"))] if spec["noisy"] else [])
        result = tune(CONFIG, sources, budget=int(str(spec["budget"])), sigma=rules, accept_cost=bool(spec["accept"]))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"wall": time.perf_counter() - started, "cpu": usage.ru_utime + usage.ru_stime,
                      "rss": usage.ru_maxrss / 1024, "met": result.budget_met, "verified": result.verified,
                      "before": result.logged_before, "after": result.logged_after, "rules": result.sigma_checked,
                      "proposals": len(result.proposals), "applied": len(result.applied),
                      "costs": len(result.costs)}))


def main() -> int:
    if not EVTX.exists():
        print("skipped: corpus not found (set SYSMON_RULES_SHARED)")
        return 0
    print(f"load average: {os.getloadavg()[0]:.2f}")
    print(f"{'scenario':<42} {'cpu s':>7} {'wall s':>7} {'MiB':>6} {'rules':>6} {'logged':>12} {'prop':>5} "
          f"{'applied':>7} {'costs':>5} met")
    worst = 0.0
    for name in SCENARIOS:
        done = subprocess.run([sys.executable, __file__, name], capture_output=True, text=True, check=True, cwd=ROOT)
        r = json.loads(done.stdout.strip().splitlines()[-1])
        worst = max(worst, r["cpu"])
        print(f"{name:<42} {r['cpu']:>7.2f} {r['wall']:>7.2f} {r['rss']:>6.0f} {r['rules']:>6} "
              f"{r['before']:>5} -> {r['after']:>4} {r['proposals']:>5} {r['applied']:>7} {r['costs']:>5} "
              f"{r['met']}{'' if r['verified'] else ' (NOT verified)'}")
    print(f"{'slowest scenario (CPU) vs target':<42} {worst:>7.2f} s / {TARGET_SECONDS:.0f} s")
    return 0 if worst <= TARGET_SECONDS else 1


if __name__ == "__main__":
    if len(sys.argv) > 1:
        _one(sys.argv[1])
        sys.exit(0)
    sys.exit(main())
