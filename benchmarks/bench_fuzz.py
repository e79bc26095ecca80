"""Fuzz campaign over every input surface: inputs, outcomes, unexpected exceptions, hangs, memory.

Targets (issue 16): >= 100,000 inputs per surface, 0 unexpected exceptions, 0 hangs over 2 s,
peak RSS per worker bounded (each worker runs under a 1.5 GiB address-space limit). Inputs are
mutations of real seeds from ../shared (see sysmon_rules.fuzz); a finding is reproduced
from its surface and input index alone. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from sysmon_rules.fuzz.harness import HEADER, format_row, run_campaign
from sysmon_rules.fuzz.surfaces import SURFACES

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
TARGET_INPUTS = 100_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("surfaces", nargs="*", default=sorted(SURFACES))
    parser.add_argument("--inputs", type=int, default=int(os.environ.get("SYSMON_RULES_FUZZ_BENCH", TARGET_INPUTS)))
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    shared = SHARED if (SHARED / "fuzz").is_dir() else None
    print(f"fuzz campaign: {args.inputs:,} inputs per surface, {args.workers} workers, "
          f"seeds from {shared or 'built-in texts only'}; load average {os.getloadavg()[0]:.2f}")
    print(HEADER)
    missed = False
    memory = "/dev/shm" if Path("/dev/shm").is_dir() else None
    with tempfile.TemporaryDirectory(prefix="bench-fuzz-", dir=memory) as workdir:
        for surface in args.surfaces:
            report = run_campaign(surface, args.inputs, shared=shared, workdir=Path(workdir), workers=args.workers)
            print(format_row(report), flush=True)
            for signature, count in report.unexpected.most_common():
                print(f"    {count:,} x {signature} (first: input {report.examples[signature]})")
            if "hang" in report.examples:
                print(f"    first hang: input {report.examples['hang']}")
            missed |= bool(report.unexpected or report.hangs) or report.inputs < TARGET_INPUTS
    print(f"targets: >= {TARGET_INPUTS:,} inputs per surface, 0 unexpected, 0 hangs > 2 s: "
          + ("missed" if missed else "met"))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
