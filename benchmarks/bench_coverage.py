"""Coverage benchmark: every SigmaHQ rule of the corpus against three community configs.

Run ``.venv/bin/python benchmarks/bench_coverage.py``. Reads the rules once (pySigma), then runs
``coverage`` against sysmon-modular's default, SwiftOnSecurity's and Nextron's export configs;
prints the statuses (counted over every rule, and over the Sysmon-relevant ones, i.e. all but
not-applicable) and the time of each run next to the load average. Target: all rules against
sysmon-modular's config in under 60 s on a 2-core machine.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from sysmon_rules.readiness import STATUSES, coverage, read_rules

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SIGMA = SHARED / "corpus" / "sigma"
CONFIGS = {
    "sysmon-modular (default)": SHARED / "corpus" / "configs" / "sysmon-modular" / "sysmonconfig.xml",
    "SwiftOnSecurity (export)": SHARED / "corpus" / "configs" / "swiftonsecurity" / "sysmonconfig-export.xml",
    "Nextron (export)": SHARED / "corpus" / "configs" / "nextron" / "sysmonconfig-export.xml",
}
TARGET_SECONDS = 60.0


def main() -> None:
    started = time.perf_counter()
    rules = read_rules([SIGMA / "rules", SIGMA / "rules-threat-hunting", SIGMA / "rules-emerging-threats"])
    read_seconds = time.perf_counter() - started
    print(f"read {len(rules)} Sigma rules with pySigma in {read_seconds:.1f} s (load {os.getloadavg()[0]:.2f})")
    header = f"{'config':26} " + " ".join(f"{s:>14}" for s in STATUSES) + f" {'relevant':>9} {'seconds':>8} {'load':>5}"
    print(header)
    for name, path in CONFIGS.items():
        report = coverage(path, rules)
        counts = report.summary
        relevant = counts["total"] - counts["not-applicable"]
        print(f"{name:26} " + " ".join(f"{counts[s]:>14}" for s in STATUSES)
              + f" {relevant:>9} {report.seconds:>8.1f} {os.getloadavg()[0]:>5.2f}")
        if name.startswith("sysmon-modular"):
            total = report.seconds + read_seconds
            verdict = "meets" if total < TARGET_SECONDS else "misses"
            print(f"  sysmon-modular, reading included: {total:.1f} s, {verdict} the {TARGET_SECONDS:.0f} s target")


if __name__ == "__main__":
    main()
