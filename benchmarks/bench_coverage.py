"""Coverage benchmark against named targets, CPU time and peak RSS next to the load average.

Run ``.venv/bin/python benchmarks/bench_coverage.py``. Reads the SigmaHQ rules once (pySigma),
then measures, each in CPU seconds (user+sys of this process, unaffected by other processes
waiting for the CPU, unlike wall time):

- every Windows rule (rules/windows, rules-threat-hunting/windows, rules-emerging-threats)
  against sysmon-modular's default config: target < 5 s;
- every DNS rule against a config of 50,000 ``end with`` DnsQuery excludes (random domains,
  seeded): target < 10 s including loading and compiling the config, and every rule decided
  (none ``unsupported``);
- all rules against SwiftOnSecurity's and Nextron's export configs (statuses, for reference).
"""

from __future__ import annotations

import os
import random
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sysmon_rules as sr
from sysmon_rules.readiness import STATUSES, coverage, read_rules

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SYSMON_RULES_SHARED", ROOT.parent / "shared"))
SIGMA = SHARED / "corpus" / "sigma"
CONFIGS = SHARED / "corpus" / "configs"
WINDOWS_TARGET = 5.0
DNS_TARGET = 10.0
DNS_EXCLUDES = 50_000


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measured(step: Callable[[], Any]) -> tuple[Any, float]:
    started = cpu()
    result = step()
    return result, cpu() - started


def dns_config(count: int) -> str:
    rng = random.Random(20261207)
    words = ["cdn", "static", "img", "api", "edge", "telemetry", "update", "mail", "app", "files"]
    domains: set[str] = set()
    while len(domains) < count:
        domains.add(f".{rng.choice(words)}{rng.randrange(10 ** 6)}.{rng.choice(['com', 'net', 'org', 'io'])}")
    body = "".join(f'<QueryName condition="end with">{d}</QueryName>' for d in sorted(domains))
    return ('<Sysmon schemaversion="4.90"><EventFiltering><RuleGroup groupRelation="or"><DnsQuery onmatch="exclude">'
            f"{body}</DnsQuery></RuleGroup></EventFiltering></Sysmon>")


def row(name: str, report: Any, seconds: float, target: float | None) -> None:
    counts = report.summary
    verdict = "" if target is None else ("meets" if seconds < target else "misses") + f" < {target:.0f} s"
    print(f"{name:34} " + " ".join(f"{counts[s]:>8}" for s in STATUSES)
          + f" {seconds:>8.1f} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024:>8} "
          f"{os.getloadavg()[0]:>5.2f}  {verdict}")


def main() -> None:
    folders = [SIGMA / "rules" / "windows", SIGMA / "rules-threat-hunting" / "windows",
               SIGMA / "rules-emerging-threats"]
    windows, seconds = measured(lambda: read_rules(folders))
    print(f"read {len(windows)} Windows Sigma rules with pySigma: {seconds:.1f} s CPU")
    print(f"{'run':34} " + " ".join(f"{s[:8]:>8}" for s in STATUSES) + f" {'CPU s':>8} {'RSS MiB':>8} {'load':>5}")
    modular = sr.load(CONFIGS / "sysmon-modular" / "sysmonconfig.xml")
    report, seconds = measured(lambda: coverage(modular, windows, captures=False))
    row("Windows rules x sysmon-modular", report, seconds, WINDOWS_TARGET)

    dns = [r for r in windows if r.rule is not None and r.rule.logsource.category == "dns_query"]
    text = dns_config(DNS_EXCLUDES)
    report, seconds = measured(lambda: coverage(sr.loads(text), dns, captures=False))
    row(f"{len(dns)} DNS rules x {DNS_EXCLUDES:,} excludes", report, seconds, DNS_TARGET)
    undecided = report.summary["unsupported"]
    print(f"  DNS rules undecided: {undecided} ({'every rule decided' if not undecided else 'target missed'})")

    for name, path in (("SwiftOnSecurity (export)", CONFIGS / "swiftonsecurity" / "sysmonconfig-export.xml"),
                       ("Nextron (export)", CONFIGS / "nextron" / "sysmonconfig-export.xml")):
        report, seconds = measured(lambda path=path: coverage(path, windows, captures=False))  # type: ignore[misc]
        row(f"Windows rules x {name}", report, seconds, None)
    print(f"(finished {time.strftime('%H:%M:%S')})")


if __name__ == "__main__":
    main()
