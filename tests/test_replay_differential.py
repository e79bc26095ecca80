"""The CLI, the library's ``replay()`` and the Dask path give the same results, byte for byte.

Over the EVTX corpus and the examples, with and without a second config: `evaluate --format
json` is ``ReplayResult.to_dict()``, `--format jsonl` is the JsonLines sink's text, `--format
parquet` is the Parquet sink's file, and a replay on a cluster returns the same. Each side is
computed here, none is a recorded output.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import sysmon_rules as sr
from sysmon_rules.cli import main
from sysmon_rules.replaying import JsonLines, ParquetFile, load_evaluator

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CONFIG = str(EXAMPLES / "sysmonconfig.xml")
MODULAR = "corpus/configs/sysmon-modular/sysmonconfig.xml"


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    pytest.importorskip("distributed")
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp", host="127.0.0.1",
                           dashboard_address=None)
    with Client(cluster) as dask_client:
        yield dask_client
    cluster.close()


def _cli(*args: str) -> bytes:
    result = CliRunner().invoke(main, ["evaluate", *args])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


@pytest.fixture(params=["examples", "evtx corpus"])
def sources(request: pytest.FixtureRequest, shared_dir: Path) -> list[str]:
    if request.param == "examples":
        return [str(EXAMPLES / "events.jsonl")]
    folder = shared_dir / "corpus" / "evtx"
    if not folder.is_dir():
        pytest.skip("the EVTX corpus is not there")
    return [str(folder)]


@pytest.mark.parametrize("compared", [False, True])
def test_cli_library_and_dask_give_the_same_json(shared_dir: Path, sources: list[str], compared: bool,
                                                 client: Any) -> None:
    other = str(shared_dir / MODULAR) if compared else None
    options = ["--compare", other, "--budget", "3"] if other else []
    cli = _cli(CONFIG, *sources, *options, "--format", "json")
    here = sr.replay(CONFIG, sources, compare=other, warn=lambda message: None)
    spread = sr.replay(CONFIG, sources, compare=other, scheduler=client, warn=lambda message: None)
    budget = 3 if other else None
    assert cli == (json.dumps(here.to_dict(budget=budget), indent=2, ensure_ascii=False) + "\n").encode()
    assert spread.to_dict(budget=budget) == here.to_dict(budget=budget)
    assert here.summary.events > 0 and (not compared or here.comparison is not None)


def test_cli_library_and_dask_give_the_same_rows(shared_dir: Path, sources: list[str], client: Any,
                                                 tmp_path: Path) -> None:
    other = str(shared_dir / MODULAR)
    cli = _cli(CONFIG, *sources, "--compare", other, "--format", "jsonl")
    lines: list[str] = []
    sr.replay(CONFIG, sources, compare=other, sink=JsonLines(lines.append), warn=lambda message: None)
    spread: list[str] = []
    sr.replay(CONFIG, sources, compare=other, sink=JsonLines(spread.append), scheduler=client,
              warn=lambda message: None)
    assert cli == "".join(lines).encode() == "".join(spread).encode()
    assert cli.count(b"\n") > 0

    files = {name: tmp_path / f"{name}.parquet" for name in ("cli", "library", "dask")}
    _cli(CONFIG, *sources, "--compare", other, "--format", "parquet", "-o", str(files["cli"]))
    sr.replay(CONFIG, sources, compare=other, sink=ParquetFile(files["library"]), warn=lambda message: None)
    sr.replay(CONFIG, sources, compare=other, sink=ParquetFile(files["dask"]), scheduler=client,
              warn=lambda message: None)
    assert files["cli"].read_bytes() == files["library"].read_bytes()
    import pyarrow.parquet as pq

    # On a cluster the rows come in a batch per partition: the same rows, other row groups.
    assert pq.read_table(files["dask"]).to_pylist() == pq.read_table(files["cli"]).to_pylist()


def test_event_by_event_and_in_batches_count_the_same(sources: list[str]) -> None:
    """``explain`` decides each event alone (Evaluator.explain); the batches decide columns."""
    traces: list[str] = []
    alone = sr.replay(CONFIG, sources, explain="full", sink=sr.Traces(traces.append), warn=lambda message: None)
    batched = sr.replay(CONFIG, sources, warn=lambda message: None)
    assert alone.to_dict(budget=1) == batched.to_dict(budget=1)
    assert len(traces) == batched.summary.events and alone.summary.matched


def test_the_html_report_replays_as_the_cli_does(shared_dir: Path, sources: list[str]) -> None:
    from sysmon_rules.htmlreport.replay import replay

    other = str(shared_dir / MODULAR)
    page = replay(load_evaluator(CONFIG), sources, other=load_evaluator(other), other_name=other, budget=3,
                  warn=lambda message: None)
    assert json.dumps(page, indent=2, ensure_ascii=False).encode() + b"\n" == _cli(
        CONFIG, *sources, "--compare", other, "--budget", "3", "--format", "json")


def test_replays_of_parts_merge_into_the_replay_of_the_whole(shared_dir: Path) -> None:
    files = sorted(str(p) for p in (shared_dir / "corpus" / "evtx").rglob("*.evtx"))[:8]
    if len(files) < 8:
        pytest.skip("the EVTX corpus is not there")
    other = str(shared_dir / MODULAR)
    whole = sr.replay(CONFIG, files, compare=other, warn=lambda message: None)
    merged = sr.replay(CONFIG, files[:3], compare=other, warn=lambda message: None)
    merged.merge(sr.replay(CONFIG, files[3:], compare=other, warn=lambda message: None))
    assert merged.to_dict(budget=2) == whole.to_dict(budget=2)
    assert whole.summary.events > 0 and whole.comparison is not None and whole.comparison.changed > 0
