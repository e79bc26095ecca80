"""Collector benchmark: real .evtx files -> Event -> decision, end to end, in process on one core.

Run ``.venv/bin/python benchmarks/bench_collectors.py [--passes N]``. Each pass reads every file
of the evtx corpus through the ``evtx`` collector (auto-detected, as the CLI does) and decides each
Sysmon event with sysmon-modular's config; the same events are also read back from the xml and
jsonl shapes (exported once to a temporary folder). Prints events/s per stage.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from sysmon_rules import load
from sysmon_rules.collectors import read
from sysmon_rules.collectors.export import write_file
from sysmon_rules.engine import Evaluator

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CONFIG = SHARED / "corpus" / "configs" / "sysmon-modular" / "sysmonconfig.xml"
EVTX = SHARED / "corpus" / "evtx"


def _rate(label: str, inputs: list[Path], passes: int, evaluator: Evaluator | None) -> int:
    count = 0
    started = time.perf_counter()
    for _ in range(passes):
        for event in read(*inputs):
            if evaluator is not None:
                evaluator.decide(event)
            count += 1
    spent = time.perf_counter() - started
    print(f"{label:<40} {count:>9,} events {spent:>7.2f} s {count / spent:>10,.0f} events/s")
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--passes", type=int, default=5, help="times the whole corpus is read (3,241 events each)")
    args = parser.parse_args()
    if not CONFIG.exists() or not EVTX.exists():
        print("skipped: corpus not found")
        return 0
    evaluator = Evaluator(load(CONFIG))
    _rate("evtx: read only", [EVTX], args.passes, None)
    count = _rate("evtx -> decision (end to end)", [EVTX], args.passes, evaluator)
    events = list(read(EVTX))
    with tempfile.TemporaryDirectory() as tmp:
        for fmt, shape in (("wevtutil", "xml (wevtutil)"), ("nxlog", "jsonl (NXLog flat)"),
                           ("winlogbeat", "jsonl (Winlogbeat)"), ("canonical", "jsonl (canonical)")):
            label = f"{shape} -> decision"
            path = Path(tmp) / f"events.{fmt}"
            write_file(events, path, fmt)
            _rate(label, [path], args.passes, evaluator)
    return 0 if count == 3241 * args.passes else 1


if __name__ == "__main__":
    sys.exit(main())
