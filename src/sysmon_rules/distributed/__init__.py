"""Fleet-scale replay on a Dask cluster: the same report as one process, from many workers.

>>> from sysmon_rules import distributed                                  # doctest: +SKIP
>>> done = distributed.evaluate("sysmonconfig.xml", ["logs/"], scheduler="local:2")  # doctest: +SKIP
>>> done.summary.included, done.stats.skipped                             # doctest: +SKIP

Inputs are split into partitions (a file, or a Parquet row group: see ``partitions``), replayed
on the workers and merged in input order, so the summary, the JSON lines and the Parquet rows are
those of ``sysmon-rules evaluate`` in one process. ``scheduler`` is ``"local"`` / ``"local:N"``
(a LocalCluster of N one-thread worker processes on loopback), ``"tcp://HOST:PORT"`` (a running
``dask scheduler``), or a ``distributed.Client``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..collectors import ReadStats
from ..engine import Evaluator
from ..errors import SysmonRulesError
from ..report import Comparison, Summary
from .partitions import Job, Partition, PartResult, environment_items, in_order, plan, run_partition

__all__ = ["Replay", "evaluate", "parse_scheduler"]

# A worker that dies or disconnects gets its partition sent to another; a config or input that
# fails raises there and here alike (the first error stops the replay).
DEFAULT_WORKERS = 2
CONNECT_TIMEOUT = "10s"  # a scheduler that does not answer by then is reported, not waited for


@dataclass
class Replay:
    """A distributed replay's result: the shape of the single-process one (summary, reading)."""

    evaluator: Evaluator
    other: Evaluator | None = None  # the --compare config's
    summary: Summary = field(default_factory=Summary)
    comparison: Comparison | None = None
    stats: ReadStats = field(default_factory=ReadStats)
    files: list[tuple[str, str]] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)
    partitions: int = 0
    worker_cpu: float = 0.0  # CPU seconds the workers spent on the partitions, added up


def parse_scheduler(spec: str) -> tuple[str, int]:
    """``("local", N)`` or ``("tcp", 0)`` for a ``--scheduler`` value; anything else is an error."""
    if spec == "local" or spec.startswith("local:"):
        count = spec.partition(":")[2] or str(DEFAULT_WORKERS)
        if not count.isdigit() or int(count) < 1:
            raise SysmonRulesError(f"--scheduler {spec!r}: expected local or local:N with N >= 1")
        return "local", int(count)
    if spec.startswith(("tcp://", "tls://", "ws://", "wss://", "inproc://")):
        return "tcp", 0
    raise SysmonRulesError(f"--scheduler {spec!r}: expected local, local:N or tcp://HOST:PORT")


def evaluate(config: str | Path, sources: list[str] | tuple[str, ...], *, compare: str | Path | None = None,
             scheduler: Any = None, collector: str | None = None, strict: bool = False,
             platform: str = "windows", environment: dict[str, str] | None = None,
             output: str | None = None, write: Callable[[str | Any], None] | None = None,
             warn: Callable[[str], None] | None = None, sysmon_compatible: bool = False) -> Replay:
    """Replay ``sources`` through ``config`` (and ``compare``) on a Dask cluster.

    ``output`` is None (counts only), ``"jsonl"`` or ``"parquet"``; ``write`` then receives each
    partition's rows in input order (a string of JSON lines, or a ``pyarrow.Table``). ``warn``
    receives the damaged-record warnings, in input order.
    """
    from ..replay import evaluator_from, set_locations
    from ..rulesource import read_rules_input

    data = read_rules_input(config)  # the loader's one size limit, checked before anything is sent out
    other = read_rules_input(compare) if compare is not None else None
    loading: dict[str, Any] = {"platform": platform, "environment": environment, "sysmon_compatible": sysmon_compatible}
    evaluator = evaluator_from(data, path=str(config), **loading)
    # A bad config fails here, once, not on every worker.
    theirs = evaluator_from(other, path=str(compare), **loading) if other else None
    partitions, unread = plan(list(sources), collector, strict)
    job = Job(data, other, platform, environment_items(environment), strict, output, set_locations(evaluator),
              sysmon_compatible)
    done = Replay(evaluator, theirs, comparison=Comparison() if other is not None else None, unread=unread,
                  partitions=len(partitions))
    with _client(scheduler) as client:
        for result in in_order(_results(client, partitions, job)):
            _merge(done, result)
            for message in result.warnings:
                (warn or _ignore)(message)
            if write is not None and result.rows is not None:
                write(result.rows)
    return done


def _ignore(message: str) -> None:
    return None


def _results(client: Any, partitions: list[Partition], job: Job) -> Iterator[PartResult]:
    from distributed import as_completed

    if not partitions:
        return
    job_future = client.scatter(job, broadcast=True)
    run = uuid.uuid4().hex  # task keys unique to this replay, whatever else the cluster runs
    futures = [client.submit(run_partition, p, job_future, key=f"sysmon-rules-{run}-{p.index}", pure=False)
               for p in partitions]
    for future in as_completed(futures):  # type: ignore[no-untyped-call]
        yield future.result()
        future.release()


def _merge(done: Replay, result: PartResult) -> None:
    summary = done.summary
    part = result.summary
    summary.events += part.events
    for event_id, counts in part.by_id.items():
        summary.by_id.setdefault(event_id, type(counts)()).update(counts)
    summary.rule_names.update(part.rule_names)
    for name, counts in part.name_decisions.items():
        summary.name_decisions.setdefault(name, type(counts)()).update(counts)
    rule_sets = done.evaluator.table.rule_sets
    summary.matched.update(id(rule_sets[i]) for i in result.matched_sets)
    summary.volume.merge(part.volume)
    if done.comparison is not None and result.comparison is not None:
        _merge_comparison(done.comparison, result.comparison)
    done.stats.add(result.stats)
    done.worker_cpu += result.cpu
    for entry in result.files:
        if not done.files or done.files[-1] != entry:  # row groups of one file: one entry
            done.files.append(entry)


def _merge_comparison(total: Comparison, part: Comparison) -> None:
    total.events += part.events
    total.changed += part.changed
    for event_id, counts in part.by_id.items():
        total.by_id.setdefault(event_id, type(counts)()).update(counts)
    total.names_a.update(part.names_a)
    total.names_b.update(part.names_b)
    total.volume.merge(part.volume)


class _client:
    """The Dask client for a scheduler spec, closed (with its LocalCluster) when done."""

    def __init__(self, scheduler: Any) -> None:
        self.scheduler = scheduler if scheduler is not None else "local"
        self.owned: list[Any] = []

    def __enter__(self) -> Any:
        if not isinstance(self.scheduler, str):
            return self.scheduler  # a Client the caller manages
        from distributed import Client, LocalCluster

        kind, workers = parse_scheduler(self.scheduler)
        if kind == "local":
            cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None)
            self.owned.append(cluster)
            client = Client(cluster)  # type: ignore[no-untyped-call]
        else:
            try:
                client = Client(self.scheduler, timeout=CONNECT_TIMEOUT)  # type: ignore[no-untyped-call]
            except (OSError, TimeoutError) as exc:
                raise SysmonRulesError(f"--scheduler {self.scheduler}: cannot reach the scheduler ({exc})") from None
        self.owned.insert(0, client)
        return client

    def __exit__(self, *exc: object) -> None:
        for thing in self.owned:
            thing.close()
