"""A fuzz harness over every input surface: the only accepted outcomes are a result or a
documented :class:`~sysmon_rules.errors.SysmonRulesError`, within a time and a memory bound.

Each input is made deterministically from ``(surface, seed, index)`` by mutating a real seed
(examples, the hostile-input reproducers, Sysmon EVTX logs), so every finding is reproducible
from its index alone. :func:`run_campaign` runs inputs in worker processes under an address-space
limit and reports inputs, outcomes, unexpected exceptions, hangs and peak memory::

    python -m sysmon_rules.fuzz [SURFACE...] --inputs 100000 --shared ../shared
    python -m sysmon_rules.fuzz --atheris jsonl -- -runs=100000   # coverage-guided

The tests (``tests/test_fuzz_surfaces.py``) run a few hundred inputs per surface through the same
surfaces with hypothesis; ``make bench`` runs the long campaign (benchmarks/bench_fuzz.py).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import signal
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from ..errors import SysmonRulesError
from .mutate import mutate
from .surfaces import SURFACES, seeds_for

HANG_SECONDS = 2.0
MEMORY_LIMIT = 1536 << 20  # address space per worker: a blow-up is a MemoryError, not an OOM kill
# Arrow's default allocator (mimalloc) reserves about 1 GiB of address space on its first batch,
# memory it does not use: under the limit above every later read of a config failed with a
# MemoryError. The system allocator maps what is used, so the limit bounds real memory. (Read
# when pyarrow is first imported, which the surfaces do lazily, after this module.)
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")


class Hang(BaseException):
    """Raised by the per-input alarm (a BaseException, so no ``except Exception`` swallows it)."""


@dataclass
class Report:
    """What a campaign found on one surface."""

    surface: str
    inputs: int = 0
    accepted: int = 0
    documented: int = 0
    unexpected: Counter[str] = field(default_factory=Counter)  # "Type at file:line" -> count
    hangs: int = 0
    peak_rss_mb: float = 0.0
    seconds: float = 0.0
    examples: dict[str, int] = field(default_factory=dict)  # signature -> first input index

    def merge(self, other: Report) -> None:
        self.inputs += other.inputs
        self.accepted += other.accepted
        self.documented += other.documented
        self.unexpected.update(other.unexpected)
        self.hangs += other.hangs
        self.peak_rss_mb = max(self.peak_rss_mb, other.peak_rss_mb)
        for signature, index in other.examples.items():
            self.examples.setdefault(signature, index)


def signature(exc: BaseException) -> str:
    """``Type at module.py:line`` of the innermost frame: one name per crash class."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = f"{Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}" if tb is not None else "?"
    return f"{type(exc).__name__} at {where}"


def outcome(run: Callable[[bytes, Path], None], data: bytes, workdir: Path) -> str:
    """``"accepted"``, ``"documented"``, ``"hang"`` or the signature of an unexpected exception."""

    def alarm(_signum: int, _frame: FrameType | None) -> None:
        raise Hang

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run(data, workdir)
        return "accepted"
    except SysmonRulesError as exc:  # documented, and one line (a newline would split the error)
        return "documented" if "\n" not in str(exc) else f"multi-line {signature(exc)}"
    except Hang:
        return "hang"
    except Exception as exc:  # the finding itself: anything else is a crash class
        return signature(exc)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def make_input(surface: str, seeds: list[bytes], index: int) -> bytes:
    """Input ``index`` of ``surface``: a mutation of one seed, the same on every run."""
    return mutate(seeds, surface, index)


def run_range(surface: str, shared: str | None, start: int, stop: int, workdir: str) -> Report:
    """Inputs ``start..stop`` of one surface in this process (a campaign's unit of work)."""
    seeds = seeds_for(surface, Path(shared) if shared else None)
    run = SURFACES[surface]
    report = Report(surface)
    Path(workdir).mkdir(parents=True, exist_ok=True)
    outcome(run, seeds[0], Path(workdir))  # warm-up, not counted: a new process parses the schemas once
    for index in range(start, stop):
        result = outcome(run, make_input(surface, seeds, index), Path(workdir))
        report.inputs += 1
        if result == "accepted":
            report.accepted += 1
        elif result == "documented":
            report.documented += 1
        elif result == "hang":
            report.hangs += 1
            report.examples.setdefault("hang", index)
        else:
            report.unexpected[result] += 1
            report.examples.setdefault(result, index)
    report.peak_rss_mb = peak_rss_kb() / 1024
    return report


def peak_rss_kb() -> int:
    """This process's own peak RSS. Linux's ru_maxrss keeps the parent's peak across fork and
    exec (a child of a 400 MB pytest reports 400 MB), so read the address space's VmHWM."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            return int(next(line.split()[1] for line in status if line.startswith("VmHWM")))
    except (OSError, StopIteration, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _work(args: tuple[str, str | None, int, int, str]) -> Report:
    return run_range(*args)


def run_campaign(surface: str, inputs: int, *, shared: Path | None, workdir: Path, workers: int = 2,
                 chunk: int = 500) -> Report:
    """``inputs`` inputs of ``surface`` over ``workers`` processes, each under MEMORY_LIMIT."""
    started = time.perf_counter()
    # Each chunk gets a folder of its own: commands write there (-o) and read back what earlier
    # inputs of the same chunk wrote, so two workers sharing one would make findings unrepeatable.
    jobs = [(surface, str(shared) if shared else None, start, min(start + chunk, inputs),
             str(workdir / f"{surface}-{start}")) for start in range(0, inputs, chunk)]
    total = Report(surface)
    # Import everything the surface uses here, once: forked workers inherit it, and a source file
    # edited while a long campaign runs cannot change what later workers run.
    outcome(SURFACES[surface], seeds_for(surface, shared)[0], workdir)
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_limit_memory, maxtasksperchild=20) as pool:
        for part in pool.imap_unordered(_work, jobs):
            total.merge(part)
    total.seconds = time.perf_counter() - started
    return total


def _atheris(surface: str, shared: Path | None, argv: list[str]) -> None:
    """libFuzzer via atheris (when installed): coverage-guided, stops at the first crash."""
    import tempfile

    import atheris  # type: ignore[import-untyped, import-not-found, unused-ignore]

    workdir = Path(tempfile.mkdtemp(prefix="sysmon-rules-atheris-"))
    run = SURFACES[surface]
    seeds = seeds_for(surface, shared)

    def one(data: bytes) -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                run(data if data else seeds[0], workdir)
        except SysmonRulesError:
            pass

    one(seeds[0])  # imports everything the surface uses, so that all of it is instrumented
    atheris.instrument_all()
    atheris.Setup([sys.argv[0], *argv], one)
    atheris.Fuzz()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sysmon_rules.fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("surfaces", nargs="*", default=sorted(SURFACES), help=f"of {', '.join(sorted(SURFACES))}")
    parser.add_argument("--inputs", type=int, default=10_000)
    parser.add_argument("--shared", type=Path, default=None, help="the shared/ folder (seeds and reproducers)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--atheris", action="store_true", help="coverage-guided with atheris; args after --")
    args, rest = parser.parse_known_args(argv)
    if args.atheris:
        _atheris(args.surfaces[0], args.shared, [a for a in rest if a != "--"])
        return 0
    import tempfile

    failed = False
    memory = "/dev/shm" if Path("/dev/shm").is_dir() else None  # inputs are files: keep them off the disk
    with tempfile.TemporaryDirectory(prefix="sysmon-rules-fuzz-", dir=memory) as workdir:
        for surface in args.surfaces:
            report = run_campaign(surface, args.inputs, shared=args.shared, workdir=Path(workdir),
                                  workers=args.workers)
            print(format_row(report), flush=True)
            for sig, count in report.unexpected.most_common():
                print(f"    {count} x {sig} (first: input {report.examples[sig]})")
            if "hang" in report.examples:
                print(f"    first hang: input {report.examples['hang']}")
            failed |= bool(report.unexpected or report.hangs)
    return 1 if failed else 0


HEADER = f"{'surface':<10} {'inputs':>8} {'accepted':>9} {'documented':>10} {'unexpected':>10} " \
         f"{'hangs>2s':>8} {'peak RSS':>9} {'inputs/s':>9}"


def format_row(report: Report) -> str:
    rate = report.inputs / report.seconds if report.seconds else 0.0
    return (f"{report.surface:<10} {report.inputs:>8,} {report.accepted:>9,} {report.documented:>10,} "
            f"{sum(report.unexpected.values()):>10,} {report.hangs:>8,} {report.peak_rss_mb:>7.0f}MB {rate:>9.0f}")

