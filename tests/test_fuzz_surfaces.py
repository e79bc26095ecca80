"""The fuzz harness, briefly: every input surface gives a result or a documented SysmonRulesError
within 2 s, on mutated real seeds, on raw bytes, and on every hostile-input reproducer of
``shared/fuzz``. ``SYSMON_RULES_FUZZ_INPUTS`` raises the count per surface (``make bench`` runs
the long campaign in benchmarks/bench_fuzz.py)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sysmon_rules.fuzz import harness as fuzz
from sysmon_rules.fuzz.surfaces import SURFACES, seeds_for

INPUTS = int(os.environ.get("SYSMON_RULES_FUZZ_INPUTS", "150"))
BRIEF = settings(max_examples=INPUTS, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
ACCEPTED = {"accepted", "documented"}

# Which surface reads each reproducer of shared/fuzz (by its name's prefix).
_PREFIX_SURFACE = {"config": "config", "blob": "blob", "evtx": "evtx", "gzip": "gzip", "jsonl": "jsonl",
                   "xmlev": "xml", "yaml": "yaml", "events": "jsonl", "sysmonconfig": "config"}


@pytest.fixture(scope="module")
def shared_fuzz(shared_dir: Path) -> Path:
    return shared_dir


@pytest.mark.parametrize("surface", sorted(SURFACES))
def test_mutated_seeds_give_a_result_or_a_documented_error(surface: str, shared_fuzz: Path,
                                                           tmp_path: Path) -> None:
    seeds = seeds_for(surface, shared_fuzz)

    @BRIEF
    @given(st.integers(0, 10**9))
    def check(index: int) -> None:
        result = fuzz.outcome(SURFACES[surface], fuzz.make_input(surface, seeds, index), tmp_path)
        assert result in ACCEPTED, f"{surface} input {index}: {result}"

    check()


@pytest.mark.parametrize("surface", sorted(SURFACES))
def test_raw_bytes_give_a_result_or_a_documented_error(surface: str, tmp_path: Path) -> None:
    @BRIEF
    @given(st.binary(max_size=4096))
    def check(data: bytes) -> None:
        assert fuzz.outcome(SURFACES[surface], data, tmp_path) in ACCEPTED

    check()


def test_every_reproducer_is_a_regression_case(shared_fuzz: Path, tmp_path: Path) -> None:
    reproducers = sorted(p for p in (shared_fuzz / "fuzz").iterdir() if p.name != "README.md")
    assert len(reproducers) >= 25
    for path in reproducers:
        surface = _PREFIX_SURFACE[path.name.split("_")[0].split(".")[0]]
        if path.name.startswith("blob") and "utf16" not in path.name:
            surface = "blob"
        started = time.perf_counter()
        result = fuzz.outcome(SURFACES[surface], path.read_bytes(), tmp_path)
        assert result in ACCEPTED, f"{path.name} via {surface}: {result}"
        assert time.perf_counter() - started < fuzz.HANG_SECONDS * 3, path.name


def test_the_harness_reports_crashes_and_hangs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(data: bytes, _workdir: Path) -> None:
        dict[bytes, int]()[data]

    def spin(_data: bytes, _workdir: Path) -> None:
        while True:
            pass

    assert fuzz.outcome(crash, b"x", tmp_path).startswith("KeyError at test_fuzz_surfaces.py:")
    monkeypatch.setattr(fuzz, "HANG_SECONDS", 0.2)
    assert fuzz.outcome(spin, b"", tmp_path) == "hang"


def test_inputs_are_the_same_on_every_run(shared_fuzz: Path) -> None:
    seeds = seeds_for("jsonl", shared_fuzz)
    assert [fuzz.make_input("jsonl", seeds, i) for i in range(20)] == [
        fuzz.make_input("jsonl", seeds, i) for i in range(20)]


def test_a_campaign_runs_in_memory_limited_workers(shared_fuzz: Path, tmp_path: Path) -> None:
    report = fuzz.run_campaign("blob", 60, shared=shared_fuzz, workdir=tmp_path, workers=2, chunk=30)
    assert report.inputs == 60 and report.accepted + report.documented == 60
    assert not report.unexpected and report.hangs == 0 and 0 < report.peak_rss_mb < fuzz.MEMORY_LIMIT / 2**20


# Inputs the harness found crashing, fixed since (surface, index): a zip member named "",
# an encrypted member, a multi-disk archive; YAML `!!int ''` and 4,000 nested "["; `sysmon -c`
# text declaring "version 0.30"; an onmatch value of newlines echoed into a DTD message.
FOUND = [("zip", 261), ("zip", 353), ("zip", 3884), ("yaml", 487243), ("yaml", 122), ("dumptext", 32287),
         ("config", 30793)]


@pytest.mark.parametrize("surface, index", FOUND)
def test_inputs_found_by_the_harness_stay_fixed(surface: str, index: int, shared_fuzz: Path, tmp_path: Path) -> None:
    data = fuzz.make_input(surface, seeds_for(surface, shared_fuzz), index)
    assert fuzz.outcome(SURFACES[surface], data, tmp_path) in ACCEPTED


@pytest.mark.skipif("SYSMON_RULES_FUZZ_INPUTS" not in os.environ,
                    reason="instrumenting takes about a minute: runs in make bench (SYSMON_RULES_FUZZ_INPUTS set)")
def test_atheris_runs_a_surface_coverage_guided(shared_fuzz: Path, tmp_path: Path) -> None:
    pytest.importorskip("atheris", reason="atheris (test extra) is not installed")
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "sysmon_rules.fuzz", "--atheris", "jsonl", "--shared",
                           str(shared_fuzz), "--", "-runs=500", "-max_len=4096"], capture_output=True, text=True,
                          cwd=tmp_path, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Done 500 runs" in done.stderr
