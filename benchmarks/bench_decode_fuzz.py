"""Decoder fuzz benchmark: 20,000 mutated real blobs, the slowest case and what was raised.

Seeds are the conformance blobs; each case applies 1-6 random mutations (bit flips, 32-bit words
set to offsets/sizes/extremes, truncation, insertion) and decodes, dumps and rebuilds the result.
Prints the count of each outcome and the slowest case; exits 1 if anything but BlobFormatError
escaped (a bug), never because of speed.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

from sysmon_rules import BlobFormatError
from sysmon_rules.blob.decode import decode_blob
from sysmon_rules.blob.dump import dump_text
from sysmon_rules.blob.reconstruct import rebuild

COMPILE = Path(__file__).resolve().parent.parent.parent / "shared" / "conformance" / "compile"


def mutate(blob: bytes, rng: random.Random) -> bytes:
    buf = bytearray(blob)
    for _ in range(rng.randint(1, 6)):
        if not buf:
            break
        at = rng.randrange(len(buf))
        kind = rng.choice(("flip", "word", "cut", "insert"))
        if kind == "flip":
            buf[at] ^= 1 << rng.randrange(8)
        elif kind == "word" and at + 4 <= len(buf):
            word = rng.choice((0, 1, 24, len(buf), len(buf) + 4, 0xFFFFFFFF, at & ~7))
            buf[at:at + 4] = word.to_bytes(4, "little")
        elif kind == "cut":
            del buf[at:]
        else:
            buf[at:at] = rng.randbytes(rng.randint(1, 16))
    return bytes(buf)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    seeds = [p.read_bytes() for p in sorted(COMPILE.glob("*.xml.bin"))]
    if not seeds:
        print("skipped: ../shared/conformance/compile not found")
        return 0
    rng = random.Random(args.seed)
    outcomes: Counter[str] = Counter()
    slowest, slowest_case = 0.0, -1
    for case in range(args.cases):
        blob = mutate(rng.choice(seeds), rng)
        started = time.perf_counter()
        try:
            decoded = decode_blob(blob)
            dump_text(blob)
            rebuild(decoded)
            outcomes["decoded"] += 1
        except BlobFormatError:
            outcomes["BlobFormatError"] += 1
        except Exception as exc:  # a bug: report it, keep going
            outcomes[f"BUG {type(exc).__name__}"] += 1
        spent = time.perf_counter() - started
        if spent > slowest:
            slowest, slowest_case = spent, case
    for outcome, count in sorted(outcomes.items()):
        print(f"{outcome:<32} {count:>8,}")
    print(f"{'slowest case (s)':<32} {slowest:>8.3f}  (case {slowest_case}, seed {args.seed})")
    return 1 if any(k.startswith("BUG") for k in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
