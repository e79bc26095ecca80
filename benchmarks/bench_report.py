"""HTML report benchmark: `sysmon-rules report` over the whole EVTX corpus, as a user runs it.

sysmon-modular's config, every .evtx file of the corpus, ``--compare`` SwiftOnSecurity's export
config; the installed command in a subprocess (start-up, lint, replay through both configs,
plots and page included). Prints wall time, CPU time and page size against the targets
(< 30 s, < 5 MB) with the load average beside them, since the machine may be shared; then the
same with the opt-in ``--per-change`` (no target).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_evaluate import CONFIG, EVTX, SHARED

CLI = Path(sys.executable).with_name("sysmon-rules")
OTHER = SHARED / "corpus" / "configs" / "swiftonsecurity" / "sysmonconfig-export.xml"
TARGET_SECONDS = 30.0
TARGET_BYTES = 5_000_000


def _run(*extra: str) -> tuple[float, float, int]:
    """Wall and CPU seconds of one `sysmon-rules report` over the corpus, and the page's bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run([str(CLI), "report", str(CONFIG), "--events", str(EVTX), "--compare", str(OTHER),
                        "-o", str(page), *extra], check=True, capture_output=True)
        spent = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return spent, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), page.stat().st_size


def main() -> int:
    if not CONFIG.exists() or not EVTX.exists() or not OTHER.exists():
        print("skipped: corpus not found")
        return 0
    spent, cpu, size = _run()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{'report: corpus EVTX, modular vs SwiftOnSecurity':<50}")
    print(f"{'wall time (incl. start-up)':<32} {spent:>9.2f} s   target < {TARGET_SECONDS:.0f} s  "
          f"{_verdict(spent < TARGET_SECONDS)}")
    print(f"{'cpu time (user+sys)':<32} {cpu:>9.2f} s")
    print(f"{'page size':<32} {size / 1e6:>9.2f} MB  target < {TARGET_BYTES / 1e6:.0f} MB  "
          f"{_verdict(size < TARGET_BYTES)}")
    print(f"{'load average (1, 5, 15 min)':<32} {load:>9}")
    # --per-change diffs the two configs change by change: opt-in, no target (1,242 changes here).
    spent, cpu, size = _run("--per-change")
    print(f"{'with --per-change: wall / cpu':<32} {spent:>9.2f} s / {cpu:.2f} s, page {size / 1e6:.2f} MB")
    return 0


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


if __name__ == "__main__":
    sys.exit(main())
