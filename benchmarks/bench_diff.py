"""Diff benchmark: `sysmon_rules.diff` on real config pairs of the corpus, with and without replay.

For each pair: wall time, changes, witnesses (each re-checked by the diff), changes proven
without effect, unknown ones, against a target of 30 s per pair on one core. The heavy property
test runs here too (1,500 random configs with one mutation each, against brute force).
Prints a table; quote it with the `uptime` load average.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
PAIRS = [
    ("sysmon-modular a9ff298 -> HEAD", "sysmon-modular-a9ff298/sysmonconfig.xml",
     "configs/sysmon-modular/sysmonconfig.xml"),
    ("sysmon-modular default -> excludes-only", "sysmon-modular-a9ff298/sysmonconfig.xml",
     "sysmon-modular-a9ff298/sysmonconfig-excludes-only.xml"),
    ("SwiftOnSecurity -> Nextron export", "configs/swiftonsecurity/sysmonconfig-export.xml",
     "configs/nextron/sysmonconfig-export.xml"),
]
TARGET_SECONDS = 30.0


def _events() -> list[object]:
    sys.path.insert(0, str(ROOT / "tests"))
    from test_engine_corpus import corpus_events

    return list(corpus_events())


def main() -> int:
    if not CORPUS.exists():
        print("skipped: corpus not found")
        return 0
    from sysmon_rules.diffing import diff

    print(f"load average: {os.getloadavg()[0]:.2f}")
    print(f"{'pair':<42} {'replay':>6} {'s':>7} {'changes':>8} {'witness':>8} {'none':>5} {'unknown':>8} verdict")
    worst = 0.0
    for label, old, new in PAIRS:
        for replay in (False, True):
            started = time.perf_counter()
            result = diff(CORPUS / old, CORPUS / new, events=_events() if replay else None)
            spent = time.perf_counter() - started
            worst = max(worst, spent)
            s = result.to_dict()["summary"]
            assert isinstance(s, dict)
            print(f"{label:<42} {'yes' if replay else 'no':>6} {spent:>7.2f} {s['changes']:>8} {s['witnesses']:>8} "
                  f"{s['none']:>5} {s['unknown']:>8} {result.verdict}")
    print(f"{'slowest pair vs target':<42} {worst:>14.2f} s / {TARGET_SECONDS:.0f} s")
    env = {**os.environ, "SYSMON_RULES_DIFF_EXAMPLES": "1500"}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(ROOT / "tests" / "test_diff_properties.py")], env=env, cwd=ROOT, check=False)
    print(f"{'property test, 1,500 mutations':<42} {time.perf_counter() - started:>14.2f} s, exit {done.returncode}")
    return 0 if worst <= TARGET_SECONDS and done.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
