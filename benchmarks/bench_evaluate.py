"""Evaluate benchmark: sysmon-modular's config over the real Sysmon events of the evtx corpus.

Run ``.venv/bin/python benchmarks/bench_evaluate.py [--events N] [--profile]``. The events are
read once (only provider Microsoft-Windows-Sysmon, EventData as strings), repeated to N (default
100,000) and decided in process on one core; prints a table (numbers, not a pass/fail).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

from sysmon_rules import load
from sysmon_rules.engine import Evaluator
from sysmon_rules.events import Event

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SYSMON_RULES_SHARED") or ROOT.parent / "shared")  # as the tests find it
CONFIG = SHARED / "corpus" / "configs" / "sysmon-modular" / "sysmonconfig.xml"
EVTX = SHARED / "corpus" / "evtx"
TARGET_PER_SECOND = 70_000
PROVIDER = "Microsoft-Windows-Sysmon"


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):  # an element with attributes: its text is under "#text"
        return _text(value.get("#text"))
    return str(value)


def read_events(folder: Path) -> list[Event]:
    """Every Sysmon record of every .evtx file under ``folder``."""
    from evtx import PyEvtxParser

    events: list[Event] = []
    for path in sorted(folder.rglob("*.evtx")):
        try:
            records = list(PyEvtxParser(str(path)).records_json())
        except (OSError, RuntimeError):
            continue
        for record in records:
            try:
                body = json.loads(record["data"])["Event"]
            except (KeyError, ValueError):
                continue
            system = body.get("System", {})
            provider = system.get("Provider", {}).get("#attributes", {}).get("Name")
            if provider != PROVIDER:
                continue
            event_id = int(_text(system.get("EventID")) or 0)
            data = body.get("EventData") or {}
            fields = {k: _text(v) for k, v in data.items() if not k.startswith("#")} if isinstance(data, dict) else {}
            events.append(Event(event_id, fields))
    return events


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="run under pyinstrument if installed")
    args = parser.parse_args()
    if not CONFIG.exists() or not EVTX.exists():
        print("skipped: corpus not found")
        return 0
    started = time.perf_counter()
    real = read_events(EVTX)
    read_s = time.perf_counter() - started
    if not real:
        print("skipped: no Sysmon events in the corpus")
        return 0
    stream = (real * (args.events // len(real) + 1))[: args.events]
    started = time.perf_counter()
    evaluator = Evaluator(load(CONFIG))
    build_s = time.perf_counter() - started
    for event in real:  # build every per-id plan before timing
        evaluator.decide(event)
    decide = evaluator.decide
    profiler = _profiler() if args.profile else None
    spent = float("inf")
    for _ in range(args.runs):  # best of several runs: the machine is shared
        started = time.perf_counter()
        decisions = [decide(e).decision for e in stream]
        spent = min(spent, time.perf_counter() - started)
    if profiler is not None:
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False))
    rate = len(stream) / spent
    ids = Counter(e.event_id for e in real)
    print(f"{'real Sysmon events read':<32} {len(real):>10,}  ({read_s:.1f} s, ids {dict(sorted(ids.items()))})")
    print(f"{'evaluator build (load+compile)':<32} {build_s:>10.3f} s")
    print(f"{'decisions':<32} {len(stream):>10,}  ({Counter(decisions)})")
    verdict = "meets" if rate >= TARGET_PER_SECOND else "BELOW"
    print(f"{'decisions/s (one core)':<32} {rate:>10,.0f}  ({verdict} target {TARGET_PER_SECOND:,})")
    return 0


def _profiler() -> object | None:
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("pyinstrument not installed; profiling skipped")
        return None
    profiler = Profiler()
    profiler.start()
    return profiler


if __name__ == "__main__":
    sys.exit(main())
