"""End-to-end CLI benchmark: `sysmon-rules evaluate CONFIG EVENTS.jsonl --format jsonl`.

The real Sysmon events of the evtx corpus are converted once to canonical JSON lines, repeated to
N (default 100,000), and the installed command decides them in a subprocess (start-up, config
load, reading, deciding and writing included). Prints a table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_evaluate import CONFIG, EVTX, read_events

CLI = Path(sys.executable).with_name("sysmon-rules")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    if not CONFIG.exists() or not EVTX.exists():
        print("skipped: corpus not found")
        return 0
    real = read_events(EVTX)
    lines = [json.dumps({"EventID": e.event_id, "fields": dict(e.fields)}) for e in real]
    stream = (lines * (args.events // len(lines) + 1))[: args.events]
    with tempfile.TemporaryDirectory() as tmp:
        events = Path(tmp) / "events.jsonl"
        events.write_text("\n".join(stream) + "\n", encoding="utf-8")
        started = time.perf_counter()
        done = subprocess.run([str(CLI), "evaluate", str(CONFIG), str(events), "--format", "jsonl"],
                              check=True, capture_output=True)
        spent = time.perf_counter() - started
    written = done.stdout.count(b"\n")
    print(f"{'events in, decisions out':<32} {len(stream):>10,} / {written:,}")
    print(f"{'wall time (incl. start-up)':<32} {spent:>10.2f} s")
    print(f"{'events/s end to end (CLI)':<32} {len(stream) / spent:>10,.0f}")
    return 0 if written == len(stream) else 1


if __name__ == "__main__":
    sys.exit(main())
