"""Fleet-scale replay benchmark (issues 19 and 28): a table of measurements against named targets.

Rows: CLI start-up (``--help``, and imports + config of a replay) and end to end on 50k mixed JSON
lines (half real EVTX records, half built from sysmon-modular's own rule values:
``mixed_events.py``) with sysmon-modular's config, in-process ``decide`` and ``decide_batch``
decisions/s, EVTX read -> decisions against the raw ``evtx`` parser (the corpus x12 in one
process; reading the columns a replay reads, ``columns_read``), a Dask LocalCluster of 2
workers against one process on 1M events, and peak RSS of the CLI on 50k to 1M mixed JSON
lines from a file and from stdin. Each row prints wall time and CPU
time (user+sys) and the load average next to it: the machine may be shared, and a target missed
only under load shows as a CPU time that would meet it.

Run ``.venv/bin/python benchmarks/bench_fleet.py [--quick]`` (``--quick``: smaller inputs).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from bench_evaluate import CONFIG, EVTX, read_events
from mixed_events import mixed_lines

if TYPE_CHECKING:
    import pyarrow as pa

    from sysmon_rules.engine import Evaluator

CLI = Path(sys.executable).with_name("sysmon-rules")
TIME = "/usr/bin/time"


def load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def row(name: str, value: str, target: str, verdict: bool | None, note: str = "") -> None:
    mark = "-" if verdict is None else ("meets" if verdict else "MISSES")
    print(f"{name:<44} {value:>24}  {target:<22} {mark:<7} {note} [{load()}]", flush=True)


def timed(run: Callable[[], object]) -> tuple[float, float]:
    """(wall, cpu) seconds of one call in this process (cpu: user+sys, threads included)."""
    started, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - started, time.process_time() - cpu


def child(args: list[str]) -> tuple[float, float, int]:
    """(wall, user+sys, peak RSS KiB) of one command, through /usr/bin/time."""
    done = subprocess.run([TIME, "-f", "%e %U %S %M", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, check=True)
    wall, user, system, rss = done.stderr.strip().splitlines()[-1].split()
    return float(wall), float(user) + float(system), int(rss)


def best(runs: int, measure: Callable[[], tuple[float, ...]]) -> tuple[float, ...]:
    results = [measure() for _ in range(runs)]
    return min(results, key=lambda r: r[0])


def mixed_file(tmp: Path, lines: list[str], count: int) -> Path:
    """``count`` mixed JSON lines (``lines`` repeated), written once per count."""
    events = tmp / f"mixed{count}.jsonl"
    if not events.exists():
        with events.open("w", encoding="utf-8") as out:
            for start in range(0, count, len(lines)):
                out.write("\n".join(lines[:count - start]) + "\n")
    return events


def bench_cli(tmp: Path, lines: list[str], count: int) -> None:
    wall, cpu, _ = best(5, lambda: child([str(CLI), "--help"]))
    row("CLI --help", f"{wall:.3f} s (cpu {cpu:.3f})", "< 0.15 s", wall < 0.15)
    events = mixed_file(tmp, lines, count)
    command = [str(CLI), "evaluate", str(CONFIG), str(events), "--format", "jsonl"]
    wall, cpu, rss = best(3, lambda: child(command))
    row(f"CLI evaluate {count:,} mixed JSON lines -> jsonl", f"{wall:.2f} s (cpu {cpu:.2f})",
        "<= 0.65 s, cpu <= 0.9 s", wall <= 0.65 and cpu <= 0.9,
        f"{count / wall:,.0f} events/s (cpu {count / cpu:,.0f}/s); peak RSS {rss / 1024:.0f} MiB; C engine 1.27 s")
    bench_cli_stages(events)


# The CLI's stages one after the other in a fresh process (the CLI overlaps the reading with the
# imports and the config): where its time goes. Printed as "name wall cpu thread-cpu" lines
# (thread-cpu: this thread's part; in "read" the rest is the parsing threads', Arrow's C++).
_STAGES = """
import sys, time
def stage(name, run):
    wall, cpu, own = time.perf_counter(), time.process_time(), time.thread_time()
    result = run()
    print(name, time.perf_counter() - wall, time.process_time() - cpu, time.thread_time() - own, flush=True)
    return result
stage("imports", lambda: __import__("sysmon_rules.cli.evaluate") and __import__("sysmon_rules.replaying.rows"))
from sysmon_rules.collectors import EventStream
from sysmon_rules.replaying import Summary, load_evaluator
from sysmon_rules.replaying.rows import jsonl, set_locations
evaluator = stage("config", lambda: load_evaluator(sys.argv[1]))
from sysmon_rules.replaying.grouped import FIELDS_READ
columns = evaluator.batch_fields() | FIELDS_READ  # what replay() reads for a jsonl output
batches = stage("read", lambda: list(EventStream([sys.argv[2]], columns=columns).batches()))
stage("prepare_batches", lambda: list(evaluator.prepare_batches()))
results = stage("decide_batch", lambda: [evaluator.decide_batch(b) for b in batches])
summary = Summary()
stage("summary", lambda: [summary.add_batch(b, r) for b, r in zip(batches, results)])
stage("jsonl", lambda: [jsonl(b, r, None, set_locations(evaluator)) for b, r in zip(batches, results)])
"""


def bench_cli_stages(events: Path) -> None:
    """The stages with a compiled-config cache of their own: the first run fills it (cold), the
    rows are the second's (warm, as every run after the first on a config)."""
    env = {**os.environ, "SYSMON_RULES_CACHE_DIR": str(events.parent / "cache")}
    runs = [subprocess.run([sys.executable, "-c", _STAGES, str(CONFIG), str(events)], capture_output=True, text=True,
                           check=True, env=env).stdout for _ in range(2)]
    cold = {line.split()[0]: float(line.split()[2]) for line in runs[0].splitlines()}
    total = 0.0
    for line in runs[1].splitlines():
        name, wall, cpu, own = line.split()
        if name in ("imports", "config"):
            total += float(cpu)
        # The reading thread's share holds the GIL for its Python (what slows the deciding thread in
        # the CLI); the parsing threads' is Arrow's C++ without it.
        split = f"reading thread {float(own):.3f} s, parsing threads {float(cpu) - float(own):.3f} s cpu"
        row(f"  stage alone: {name}", f"{float(wall):.3f} s (cpu {float(cpu):.3f})", "-", None,
            split if name == "read" else "")
    row("  start-up: imports + config (cpu)", f"{total:.3f} s", "< 0.15 s", total < 0.15,
        "compiled-config cache warm")
    row("  start-up, first run: imports + config (cpu)", f"{cold['imports'] + cold['config']:.3f} s", "-", None,
        "caches cold: schema statements and compiled config built and written")


def bench_in_process(real: list[object], count: int) -> None:
    import pyarrow as pa

    from sysmon_rules import load as load_config
    from sysmon_rules.collectors.arrow import to_batch
    from sysmon_rules.engine import Evaluator

    evaluator = Evaluator(load_config(CONFIG))
    stream = (real * (count // len(real) + 1))[:count]
    for event in real:
        evaluator.decide(event)  # type: ignore[arg-type]
    wall, cpu = min(timed(lambda: [evaluator.decide(e) for e in stream[:100_000]]) for _ in range(2))  # type: ignore[arg-type]
    n = min(count, 100_000)
    row("decide() in process", f"{n / wall:,.0f}/s (cpu {n / cpu:,.0f})", "-", None)
    batch = to_batch(real)  # type: ignore[arg-type]
    table = pa.concat_tables([pa.Table.from_batches([batch])] * (count // len(real) + 1)).slice(0, count)
    table = table.unify_dictionaries().combine_chunks()
    evaluator.decide_batch(table.slice(0, 10_000))
    wall, cpu = min(timed(lambda: evaluator.decide_batch(table)) for _ in range(3))
    row(f"decide_batch() in process ({count:,} rows)", f"{count / wall:,.0f}/s (cpu {count / cpu:,.0f})",
        ">= 1,000,000/s", count / wall >= 1_000_000)


def bench_evtx(tmp: Path, copies: int) -> None:
    from evtx import PyEvtxParser

    from sysmon_rules import load as load_config
    from sysmon_rules.collectors import EventStream
    from sysmon_rules.engine import Evaluator
    from sysmon_rules.replaying.rows import columns_read

    files = sorted(EVTX.rglob("*.evtx"))

    def raw(paths: list[Path]) -> int:
        count = 0
        for path in paths:
            for _ in PyEvtxParser(str(path)).records_json():
                count += 1
        return count

    records = raw(files)
    evaluator = Evaluator(load_config(CONFIG))
    columns = columns_read(evaluator, None)  # what a replay reads of its batches

    def ours(inputs: list[Path], workers: int | None = None) -> None:
        for batch in EventStream(inputs, warn=lambda message: None, workers=workers, columns=columns).batches():
            evaluator.decide_batch(batch)

    ours([EVTX])
    raw_wall, raw_cpu = min(timed(lambda: raw(files)) for _ in range(3))
    our_wall, our_cpu = min(timed(lambda: ours([EVTX])) for _ in range(3))
    ratio = raw_wall / our_wall
    row(f"EVTX -> decisions vs raw evtx ({records:,} records)",
        f"{ratio:.0%} ({records / our_wall:,.0f}/s)", ">= 40% of raw", ratio >= 0.4,
        f"raw {records / raw_wall:,.0f}/s; cpu ratio {raw_cpu / our_cpu:.0%}; one process")
    batches = list(EventStream([EVTX], warn=lambda message: None, columns=columns).batches())
    read_wall, _ = min(timed(lambda: list(EventStream([EVTX], warn=lambda message: None, columns=columns).batches()))
                       for _ in range(3))
    decide_wall, _ = min(timed(lambda: [evaluator.decide_batch(b) for b in batches]) for _ in range(3))
    row("  of which: read -> batches / decide_batch", f"{read_wall * 1e3:.0f} ms / {decide_wall * 1e3:.0f} ms", "-",
        None, f"raw parser {raw_wall * 1e3:.0f} ms")
    floor_wall = min(timed(lambda: decoded(files, columns))[0] for _ in range(3))
    row("  of the read: parser + typed decoding", f"{floor_wall * 1e3:.0f} ms", "-", None,
        f"the rest ({(read_wall - floor_wall) * 1e3:.0f} ms): listing, sniffing, opening {len(files)} files, "
        "rows -> columns")
    bench_evtx_parallel(tmp, copies, raw, evaluator, columns)


def decoded(paths: list[Path], columns: frozenset[str]) -> None:
    """What reading EVTX cannot do without: the parser, and the decoding of its JSON text by the
    collector's typed decoder (the fields a replay reads)."""
    from evtx import PyEvtxParser

    from sysmon_rules.collectors.evtxfile import _decoder

    decode = _decoder(columns).decode
    for path in paths:
        for record in PyEvtxParser(str(path), number_of_threads=1).records_json():
            with contextlib.suppress(ValueError):  # another shape: the exact path's
                decode(record["data"])


def bench_evtx_parallel(tmp: Path, copies: int, raw: Callable[[list[Path]], int], evaluator: Evaluator,
                        columns: frozenset[str]) -> None:
    """The corpus copied ``copies`` times (above the size that reads on a worker per core): raw
    parser against one process and forked workers, each in a fresh process as the CLI runs; and
    in this process once more (imports, plans and caches already made: what a longer input
    approaches)."""
    import shutil

    from sysmon_rules.collectors import EventStream

    big = tmp / "evtx-copies"
    for copy in range(copies):
        shutil.copytree(EVTX, big / str(copy))
    files = sorted(big.rglob("*.evtx"))
    records = raw(files)
    raw_wall = min(timed(lambda: raw(files))[0] for _ in range(3))

    def read() -> list[pa.RecordBatch]:
        return list(EventStream([big], warn=lambda message: None, workers=1, columns=columns).batches())

    batches = read()
    [evaluator.decide_batch(b) for b in batches]
    read_wall, read_cpu = min(timed(read) for _ in range(3))
    decide_wall, decide_cpu = min(timed(lambda: [evaluator.decide_batch(b) for b in batches]) for _ in range(3))
    floor_wall = min(timed(lambda: decoded(files, columns))[0] for _ in range(3))
    row(f"  x{copies} in this process again", f"{raw_wall / (read_wall + decide_wall):.0%}", "-", None,
        f"read {read_wall:.2f} s (parser + typed decoding {floor_wall:.2f} s) + decide_batch {decide_wall:.2f} s "
        f"(cpu {read_cpu + decide_cpu:.2f} s); raw {raw_wall:.2f} s")
    script = ("import sys; from sysmon_rules import load; from sysmon_rules.collectors import EventStream;"
              "from sysmon_rules.engine import Evaluator; from sysmon_rules.replaying.rows import columns_read;"
              "e = Evaluator(load(sys.argv[1])); list(e.prepare_batches()); "
              "[e.decide_batch(b) for b in EventStream([sys.argv[2]], warn=print, "
              "workers=int(sys.argv[3]) or None, columns=columns_read(e, None)).batches()]")
    size = sum(p.stat().st_size for p in files) >> 20
    # start-up: imports, config, its plans (evaluate builds them while its first batch is read) and
    # one event (an empty folder is an error)
    tiny = tmp / "one.jsonl"
    tiny.write_text('{"EventID": 1, "fields": {"Image": "C:\\\\x.exe"}}\n', encoding="utf-8")
    start_up, _, _ = best(3, lambda: child([sys.executable, "-c", script, str(CONFIG), str(tiny), "1"]))
    for workers, label in (("1", "one process"), ("0", "workers by size")):
        command = [sys.executable, "-c", script, str(CONFIG), str(big), workers]
        wall, cpu, _ = best(3, partial(child, command))
        net = wall - start_up
        row(f"EVTX x{copies} ({size} MiB) -> decisions, {label}", f"{raw_wall / net:.0%} ({records / net:,.0f}/s)",
            ">= 40% of raw", raw_wall / net >= 0.4, f"{wall:.2f} s - {start_up:.2f} s start-up (cpu {cpu:.2f}); "
            f"raw {raw_wall:.2f} s")


def parquet_input(tmp: Path, real: list[object], count: int, name: str, group: int = 65_536) -> Path:
    """``count`` corpus events repeated, in row groups of ``group`` rows (the partitions)."""
    import pyarrow as pa

    from sysmon_rules.collectors.arrow import to_batch
    from sysmon_rules.collectors.parquet import write_parquet

    path = tmp / name
    batch = to_batch(real)  # type: ignore[arg-type]
    block = pa.Table.from_batches([batch] * (group // batch.num_rows + 1)).slice(0, group)
    block = block.unify_dictionaries().combine_chunks().to_batches()[0]
    write_parquet(path, (block.slice(0, min(group, count - start)) for start in range(0, count, group)))
    return path


def bench_dask(tmp: Path, real: list[object], count: int) -> None:
    from sysmon_rules import Evaluator, ReplayResult, replay
    from sysmon_rules import load as load_config

    path = parquet_input(tmp, real, count, "dask.parquet")
    evaluator = Evaluator(load_config(CONFIG))
    one_wall, one_cpu = timed(lambda: replay(evaluator, [path]))
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None)
    with Client(cluster) as client:
        replay(CONFIG, [str(path)], scheduler=client)  # workers warm (imports, config)
        runs: list[ReplayResult] = []
        two_wall, _ = timed(lambda: runs.append(replay(CONFIG, [str(path)], scheduler=client)))
    cluster.close()
    cost = two_wall / one_wall
    # With two idle cores the workers run side by side: the wall time would be about half their CPU.
    bound = (runs[0].worker_cpu / 2) / one_cpu
    row(f"Dask LocalCluster(2) vs one process ({count:,})", f"{cost:.2f}x ({two_wall:.2f} s / {one_wall:.2f} s)",
        "<= 1.15x", cost <= 1.15, f"cpu: one process {one_cpu:.2f} s, workers {runs[0].worker_cpu:.2f} s "
        f"(idle-machine bound {bound:.2f}x)")


def bench_memory(tmp: Path, lines: list[str], counts: tuple[int, ...]) -> None:
    """Peak RSS of the CLI replaying mixed JSON lines from a file and from stdin (a pipe)."""
    for way in ("file", "stdin"):
        results = []
        for count in counts:
            path = mixed_file(tmp, lines, count)
            if way == "file":
                _, _, rss = child([str(CLI), "evaluate", str(CONFIG), str(path), "--format", "jsonl"])
            else:
                _, _, rss = child(["sh", "-c", f'cat "{path}" | "{CLI}" evaluate "{CONFIG}" - --format jsonl'])
            results.append(rss)
        peak = max(results) / 1024
        row(f"peak RSS {'/'.join(f'{c // 1000}k' for c in counts)} mixed lines, {way}",
            "/".join(f"{r / 1024:.0f}" for r in results) + " MiB", "<= 150 MiB, flat", peak <= 150
            and results[-1] <= results[0] * 1.15, "largest within 15% of smallest")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smaller inputs (CI smoke run)")
    parser.add_argument("--only", choices=["cli", "in-process", "evtx", "dask", "memory"], default=None,
                        help="run one row group of the table")
    args = parser.parse_args()
    if not CONFIG.exists() or not EVTX.exists():
        print("skipped: corpus not found")
        return 0
    real = read_events(EVTX)
    lines = mixed_lines(CONFIG, real, 50_000)
    million = 100_000 if args.quick else 1_000_000
    sizes = (50_000, 200_000) if args.quick else (50_000, 250_000, 1_000_000)
    print(f"{'measurement':<44} {'result':>24}  {'target':<22} verdict  [load average, 2 cores]")
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        rows: dict[str, Callable[[], None]] = {
            "cli": lambda: bench_cli(tmp, lines, 50_000),
            "in-process": lambda: bench_in_process(real, million),
            "evtx": lambda: bench_evtx(tmp, 2 if args.quick else 12),
            "dask": lambda: bench_dask(tmp, real, million),
            "memory": lambda: bench_memory(tmp, lines, sizes),
        }
        for name, run in rows.items():
            if args.only in (None, name):
                run()
    print(f"(cpu = user+sys; this process's peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
