"""Partitions of a replay and the task that replays one on a Dask worker.

A partition is one input file (EVTX, event XML, JSON lines) or one row group of a Parquet file.
The client plans them (recognising each file's format, as a single-process replay does); a
worker replays its partition with the same functions as a replay in one process (record batches,
``decide_batch``, grouped counts) and sends back only counters, warnings and, when an output
was asked for, that partition's rows. Configs travel as bytes and are compiled once per worker.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

import pyarrow as pa

from ..collectors import CollectorError, EventStream, ReadStats
from ..collectors.registry import expand
from ..engine import Evaluator
from .configs import evaluator_from
from .rows import columns_read, decided, jsonl, with_decisions
from .summary import Comparison, Summary


@dataclass(frozen=True)
class Partition:
    """One unit of work: an input, the collector that reads it, and a row group (Parquet)."""

    index: int
    source: str
    collector: str
    row_group: int | None = None


@dataclass(frozen=True)
class Job:
    """What every partition of one replay shares (configs as bytes: evaluators do not pickle)."""

    config: bytes
    compare: bytes | None
    platform: str
    environment: tuple[tuple[str, str], ...]
    strict: bool
    output: str | None  # None (counts only), "jsonl" or "parquet"
    locations: tuple[str | None, ...] = ()  # the rule sets' locations as the caller reads CONFIG (by path)
    sysmon_compatible: bool = False  # load the configs as Sysmon does (drop what it drops)


@dataclass
class PartResult:
    """A replayed partition: counters, what reading found, its rows."""

    partition: Partition
    summary: Summary
    comparison: Comparison | None
    stats: ReadStats
    files: list[tuple[str, str]]
    warnings: list[str] = field(default_factory=list)
    rows: str | pa.Table | None = None
    cpu: float = 0.0  # CPU seconds of the worker process while it ran the partition (one task at a time)


def plan(inputs: list[str], collector: str | None, strict: bool) -> tuple[list[Partition], list[str]]:
    """The partitions of ``inputs`` in reading order, and the files inside folders left unread."""
    from ..collectors.parquet import row_groups

    stream = EventStream(inputs, collector=collector, strict=strict)
    partitions: list[Partition] = []
    unread: list[str] = []
    for source, implicit in expand(inputs):
        if source.name == "-":
            raise CollectorError("-: standard input cannot be split among workers; give files")
        picked = stream.pick(source, implicit)
        if picked is None:
            unread.append(source.name)
        elif picked.name == "parquet":
            for group in range(row_groups(source)):
                partitions.append(Partition(len(partitions), source.name, picked.name, group))
        else:
            partitions.append(Partition(len(partitions), source.name, picked.name))
    return partitions, unread


@lru_cache(maxsize=4)
def _evaluator(data: bytes, platform: str, environment: tuple[tuple[str, str], ...],
               sysmon_compatible: bool) -> Evaluator:
    return evaluator_from(data, platform=platform, environment=dict(environment), sysmon_compatible=sysmon_compatible)


def run_partition(partition: Partition, job: Job) -> PartResult:
    """Replay one partition (on a worker): the single-process code path, on one input."""
    from ..collectors import get
    from ..collectors.parquet import ParquetCollector

    started = time.process_time()
    evaluator = _evaluator(job.config, job.platform, job.environment, job.sysmon_compatible)
    other = (_evaluator(job.compare, job.platform, job.environment, job.sysmon_compatible)
             if job.compare is not None else None)
    warnings: list[str] = []
    reader = (ParquetCollector(range(partition.row_group, partition.row_group + 1))
              if partition.row_group is not None else get(partition.collector))
    stream = EventStream([partition.source], collector=reader, strict=job.strict, warn=warnings.append,
                         columns=None if job.output == "parquet" else columns_read(evaluator, other))
    summary = Summary()
    comparison = Comparison() if other is not None else None
    parts: list[object] = []
    for batch, result, theirs in decided(stream.batches(), evaluator, summary, other, comparison):
        if job.output == "jsonl":
            parts.append(jsonl(batch, result, theirs, job.locations))
        elif job.output == "parquet":
            parts.append(with_decisions(batch, result, theirs))
    rows = _rows(job.output, parts)
    return PartResult(partition, summary, comparison, stream.stats, stream.files, warnings,
                      rows, time.process_time() - started)


def _rows(output: str | None, parts: list[object]) -> str | pa.Table | None:
    if output == "jsonl":
        return "".join(str(p) for p in parts)
    if output == "parquet":
        return pa.Table.from_batches(parts) if parts else None
    return None


def in_order(results: Iterator[PartResult]) -> Iterator[PartResult]:
    """Results as they complete, handed on in partition order (early ones wait, nothing more)."""
    waiting: dict[int, PartResult] = {}
    following = 0
    for result in results:
        waiting[result.partition.index] = result
        while following in waiting:
            yield waiting.pop(following)
            following += 1


def environment_items(environment: dict[str, str] | None) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((environment or {}).items()))
