"""Hostile-input leftovers: how fast 32 MB configs are refused, and memory of a long-lived process.

Targets (issue 24 point 7):
- a 32 MB config that is refused (no tag, NUL bytes, a 32 MB declaration, over the size limit)
  is refused in under 0.25 s of CPU (it took over 2 s);
- a process deciding many distinct configs (3,000 distinct ``contains`` filters each, about
  1 MB of compiled matcher apiece) stays within a bound: RSS after the last config is within
  25 MB of RSS after the first 40 (with count-bounded caches it grew 0.9 MB per config, to past
  1 GB in the fuzzer's workers).
Prints CPU seconds and RSS per row, and the load average; exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import string
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import sysmon_rules as sr
from sysmon_rules.engine import index

REFUSAL_CPU = 0.25
RSS_GROWTH_MB = 25.0


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


def _refusals(folder: Path) -> list[tuple[str, Callable[[], object]]]:
    size = 32_000_000
    over = folder / "over.xml"
    over.write_bytes(b'<Sysmon schemaversion="4.90"><EventFiltering>' + b" " * (33 << 20) + b"</EventFiltering>"
                     b"</Sysmon>")
    texts = {"no tag": b"x" * size, "NUL bytes": bytes(size),
             "32 MB declaration": b'<?xml version="1.0"' + b" " * size + b"?><Sysmon/>"}
    cases: list[tuple[str, Callable[[], object]]] = [(name, lambda d=data: sr.loads(d)) for name, data in texts.items()]
    return [*cases, ("over the limit (file)", lambda: sr.load(over))]


def _config(rng: random.Random, filters: int) -> str:
    words = {"".join(rng.choices(string.ascii_lowercase, k=rng.randint(8, 30))) for _ in range(filters)}
    return ('<Sysmon schemaversion="4.90"><EventFiltering><RuleGroup groupRelation="or">'
            '<ProcessCreate onmatch="include">'
            + "".join(f'<CommandLine condition="contains">{w}</CommandLine>' for w in words)
            + "</ProcessCreate></RuleGroup></EventFiltering></Sysmon>")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--configs", type=int, default=120)
    parser.add_argument("--filters", type=int, default=3000)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}")
    missed = False
    sr.loads(b'<Sysmon schemaversion="4.90"/>')  # the schemas parsed once, not in the first row
    print(f"{'refused input':<26} {'CPU s':>7} {'target':>7}  error")
    with tempfile.TemporaryDirectory() as folder:
        for name, run in _refusals(Path(folder)):
            started = _cpu()
            try:
                run()
                message = "accepted?"
            except sr.SysmonRulesError as exc:
                message = str(exc)[-60:]
            spent = _cpu() - started
            missed |= spent > REFUSAL_CPU or message == "accepted?"
            print(f"{name:<26} {spent:>7.3f} {REFUSAL_CPU:>7.2f}  ...{message}")
    rng = random.Random(7)
    event = sr.Event(1, {"CommandLine": "cmd /c whoami"})
    print(f"\n{'configs decided':>15} {'RSS MB':>8} {'matcher entries':>16} {'estimated MiB':>14} {'CPU s':>7}")
    started, after_first = _cpu(), 0.0
    for count in range(1, args.configs + 1):
        sr.Evaluator(sr.loads(_config(rng, args.filters))).decide(event)
        if count % 40 == 0 or count == args.configs:
            rss = _rss_mb()
            after_first = after_first or rss
            print(f"{count:>15} {rss:>8.0f} {len(index._matcher):>16} {index._matcher.cost / 2**20:>14.1f} "
                  f"{_cpu() - started:>7.1f}")
    growth = _rss_mb() - after_first
    missed |= growth > RSS_GROWTH_MB
    print(f"RSS growth after the first 40 configs: {growth:.1f} MB (target <= {RSS_GROWTH_MB:.0f} MB)")
    print("targets: " + ("missed" if missed else "met"))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
