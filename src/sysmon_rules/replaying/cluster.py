"""Replaying on a Dask cluster: the same result as one process, from many workers.

Inputs are split into partitions (a file, or a Parquet row group: see :mod:`.partitions`),
replayed on the workers and merged in input order, so the summary, the JSON lines and the Parquet
rows are those of a replay in one process. ``scheduler`` is ``"local"`` / ``"local:N"`` (a
LocalCluster of N one-thread worker processes on loopback), ``"tcp://HOST:PORT"`` (a running
``dask scheduler``), or a ``distributed.Client``. A worker that dies or disconnects gets its
partition sent to another; a config or input that fails raises there and here alike (the first
error stops the replay).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import SysmonRulesError
from .configs import load_evaluator, read_config
from .result import ReplayResult
from .sinks import JsonLines, ParquetFile, Sink
from .summary import Comparison

if TYPE_CHECKING:  # the engine and the partitions' code load when a replay on a cluster starts
    from ..engine import Evaluator
    from .partitions import Job, Partition, PartResult

DEFAULT_WORKERS = 2
CONNECT_TIMEOUT = "10s"  # a scheduler that does not answer by then is reported, not waited for


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


def replay_on_cluster(config: str | Path | Evaluator, sources: list[str | Path], *,
                      compare: str | Path | Evaluator | None, scheduler: Any, collector: str | None, strict: bool,
                      platform: str, environment: dict[str, str] | None, sysmon_compatible: bool,
                      sink: Sink | None, warn: Callable[[str], None],
                      progress: Callable[[int], None] | None) -> ReplayResult:
    """``replay(..., scheduler=...)``: configs travel as bytes (evaluators do not pickle), so they
    are given as paths. The warnings come to ``warn`` in input order, the rows to ``sink``."""
    if isinstance(scheduler, str):
        parse_scheduler(scheduler)  # a bad spec is told before any config is read
    if not isinstance(config, str | Path) or not (compare is None or isinstance(compare, str | Path)):
        raise SysmonRulesError("a replay on a cluster reads its configs from files: give paths, not evaluators")
    loading: dict[str, Any] = {"platform": platform, "environment": environment, "sysmon_compatible": sysmon_compatible}
    # A bad config fails here, once, not on every worker.
    data = read_config(config)
    evaluator = load_evaluator(config, data=data, **loading)
    other = read_config(compare) if compare is not None else None
    theirs = load_evaluator(compare, data=other, **loading) if compare is not None else None
    from .partitions import Job, environment_items, in_order, plan
    from .rows import empty, set_locations, with_decisions

    partitions, unread = plan([str(s) for s in sources], collector, strict)
    output = "parquet" if isinstance(sink, ParquetFile) else "jsonl" if isinstance(sink, JsonLines) else None
    job = Job(data, other, platform, environment_items(environment), strict, output, set_locations(evaluator),
              sysmon_compatible)
    done = ReplayResult(evaluator, theirs, comparison=Comparison() if theirs is not None else None, unread=unread,
                        config_name=str(config), compare_name=str(compare) if compare is not None else "",
                        partitions=len(partitions))
    tables: list[Any] = []  # the partitions' Parquet rows, in input order, until the file is written
    with _client(scheduler) as client:
        for result in in_order(_results(client, partitions, job)):
            _merge(done, result)
            for message in result.warnings:
                warn(message)
            if progress is not None:
                progress(result.summary.events)
            if isinstance(sink, JsonLines) and isinstance(result.rows, str):
                sink.write(result.rows)
            elif result.rows is not None:
                tables.append(result.rows)
    from ..collectors import require_events

    require_events(done.stats, sources)  # before the Parquet file is written: nothing checked, nothing left
    if isinstance(sink, ParquetFile):
        from ..collectors.parquet import write_parquet

        columns = with_decisions(*empty(evaluator, theirs)).schema
        write_parquet(sink.path, (b for t in tables for b in t.to_batches()), columns)
    return done


def _results(client: Any, partitions: list[Partition], job: Job) -> Iterator[PartResult]:
    from distributed import as_completed

    from .partitions import run_partition

    if not partitions:
        return
    job_future = client.scatter(job, broadcast=True)
    run = uuid.uuid4().hex  # task keys unique to this replay, whatever else the cluster runs
    futures = [client.submit(run_partition, p, job_future, key=f"sysmon-rules-{run}-{p.index}", pure=False)
               for p in partitions]
    for future in as_completed(futures):  # type: ignore[no-untyped-call]
        yield future.result()
        future.release()


def _merge(done: ReplayResult, result: PartResult) -> None:
    done.merge(ReplayResult(done.evaluator, done.other, result.summary, result.comparison, result.stats,
                            result.files, worker_cpu=result.cpu))


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
