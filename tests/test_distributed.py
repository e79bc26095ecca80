"""Dask replay (``replay(..., scheduler=...)``) gives what the single-process replay gives, on a
LocalCluster of two in-process workers on loopback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import sysmon_rules as sr
from sysmon_rules.cli import main
from sysmon_rules.collectors.arrow import to_batch
from sysmon_rules.collectors.parquet import write_parquet
from sysmon_rules.errors import SysmonRulesError
from sysmon_rules.replaying import JsonLines, ParquetFile, parse_scheduler
from test_collectors_evtx import corpus

MODULAR = "corpus/configs/sysmon-modular/sysmonconfig.xml"
SWIFT = "corpus/configs/swiftonsecurity/sysmonconfig-export.xml"


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp", host="127.0.0.1",
                           dashboard_address=None)
    with Client(cluster) as dask_client:
        yield dask_client
    cluster.close()


@pytest.fixture(scope="module")
def inputs(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """A folder of EVTX files and a Parquet file of three row groups."""
    events, _ = corpus()
    path = tmp_path_factory.mktemp("dist") / "part.parquet"
    write_parquet(path, (to_batch(events[start:start + 400]) for start in (0, 400, 800)))
    return [str(shared_dir / "corpus" / "evtx" / "Credential Access"), str(path)]


def _cli(*args: str) -> str:
    result = CliRunner().invoke(main, ["evaluate", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_summary_equals_the_single_process_run(shared_dir: Path, client: Any, inputs: list[str]) -> None:
    config, other = str(shared_dir / MODULAR), str(shared_dir / SWIFT)
    single = json.loads(_cli(config, *inputs, "--compare", other, "--budget", "5", "--format", "json"))
    address = client.scheduler.address
    assert address.startswith("tcp://127.0.0.1:")
    spread = json.loads(_cli(config, *inputs, "--compare", other, "--budget", "5", "--format", "json",
                             "--scheduler", address))
    assert spread == single
    assert single["events"] > 1000 and single["compare"]["changed"] > 0


def test_jsonl_and_parquet_rows_equal_the_single_process_run(shared_dir: Path, client: Any, inputs: list[str],
                                                             tmp_path: Path) -> None:
    config = str(shared_dir / MODULAR)
    lines: list[str] = []
    done = sr.replay(config, inputs, scheduler=client, sink=JsonLines(lines.append))
    assert "".join(lines) == _cli(config, *inputs, "--format", "jsonl")
    assert done.partitions == len(list(Path(inputs[0]).rglob("*.evtx"))) + 3  # each file, each row group
    spread = tmp_path / "spread.parquet"
    sr.replay(config, inputs, scheduler=client, sink=ParquetFile(spread))
    single = tmp_path / "single.parquet"
    _cli(config, *inputs, "--format", "parquet", "-o", str(single))
    import pyarrow.parquet as pq

    assert pq.read_table(spread).to_pylist() == pq.read_table(single).to_pylist()


def test_scheduler_specs() -> None:
    assert parse_scheduler("local") == ("local", 2)
    assert parse_scheduler("local:3") == ("local", 3)
    assert parse_scheduler("tcp://10.0.0.5:8786") == ("tcp", 0)
    for bad in ("local:0", "local:x", "yarn", ""):
        with pytest.raises(SysmonRulesError, match="--scheduler"):
            parse_scheduler(bad)
    examples = Path(__file__).parents[1] / "examples"
    result = CliRunner().invoke(main, ["evaluate", str(examples / "sysmonconfig.xml"), str(examples / "events.jsonl"),
                                       "--scheduler", "local:x"])
    assert result.exit_code == 2 and "Invalid value for --scheduler: expected local or local:N" in result.output


@pytest.mark.skipif(not os.environ.get("SYSMON_RULES_PROCESS_CLUSTER"),
                    reason="starts worker processes (seconds): set SYSMON_RULES_PROCESS_CLUSTER=1, as make bench does")
def test_a_local_cluster_of_worker_processes(shared_dir: Path, tmp_path: Path) -> None:
    """The default scheduler: worker processes started (and stopped) by the replay itself."""
    events, _ = corpus()
    path = tmp_path / "few.parquet"
    write_parquet(path, [to_batch(events[:50])])
    done = sr.replay(shared_dir / MODULAR, [str(path)], scheduler="local:1")
    single = json.loads(_cli(str(shared_dir / MODULAR), str(path), "--format", "json"))
    assert (done.summary.events, done.summary.included) == (single["events"], single["included"])
    assert done.summary.events == 50 and done.partitions == 1


@pytest.mark.skipif(not os.environ.get("SYSMON_RULES_PROCESS_CLUSTER"),
                    reason="waits out the connect timeout (10 s): set SYSMON_RULES_PROCESS_CLUSTER=1")
def test_an_unreachable_scheduler_is_one_clear_error(shared_dir: Path, inputs: list[str]) -> None:
    with pytest.raises(SysmonRulesError, match=r"--scheduler tcp://127\.0\.0\.1:9: cannot reach the scheduler"):
        sr.replay(shared_dir / MODULAR, inputs, scheduler="tcp://127.0.0.1:9")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.skipif(not os.environ.get("SYSMON_RULES_PROCESS_CLUSTER"),
                    reason="starts a dask scheduler and worker (seconds): set SYSMON_RULES_PROCESS_CLUSTER=1")
def test_a_tcp_scheduler_started_on_localhost(shared_dir: Path, tmp_path: Path) -> None:
    """``--scheduler tcp://...``: a ``dask scheduler`` and a ``dask worker`` started as processes
    on loopback (as on a real cluster), JSON lines and EVTX replayed byte for byte as one process."""
    dask = Path(sys.executable).with_name("dask")
    if not dask.exists():
        pytest.skip("the dask command is not installed")
    events, _ = corpus()
    lines = tmp_path / "events.jsonl"
    lines.write_text("".join(json.dumps({"EventID": e.event_id, "fields": dict(e.fields)}) + "\n" for e in events),
                     encoding="utf-8")
    inputs = [str(lines), str(shared_dir / "corpus" / "evtx" / "Credential Access")]
    address = f"tcp://127.0.0.1:{_free_port()}"
    quiet: dict[str, Any] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen([str(dask), "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                                  "--no-dashboard"], **quiet)
    worker = subprocess.Popen([str(dask), "worker", address, "--host", "127.0.0.1", "--nthreads", "1",
                               "--no-dashboard", "--death-timeout", "60"], **quiet)
    try:
        from distributed import Client

        with Client(address, timeout="60s") as client:
            client.wait_for_workers(1, timeout=120)
        config = str(shared_dir / MODULAR)
        single = _cli(config, *inputs, "--format", "jsonl")
        assert _cli(config, *inputs, "--format", "jsonl", "--scheduler", address) == single
        assert single.count("\n") > len(events)
    finally:
        for process in (worker, scheduler):
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
