"""`sysmon-rules evaluate CONFIG EVENTS.jsonl --format jsonl` against Sysmon's own decisions."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import sysmon_rules as sr
from conftest import SHARED
from sysmon_rules.cli import main


def _cases() -> list[dict[str, object]]:
    if SHARED is None:
        return []
    lines = (SHARED / "conformance" / "evaluate" / "cases.jsonl").read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines]


def _write_case(tmp_path: Path, case: dict[str, object]) -> tuple[Path, Path]:
    config = tmp_path / "config.xml"
    config.write_text(str(case["config_xml"]), encoding="utf-8")
    events = tmp_path / "events.jsonl"
    with events.open("w", encoding="utf-8") as out:
        for ev in case["events"]:  # type: ignore[attr-defined]
            out.write(json.dumps({"EventID": ev["event_id"], "fields": ev["fields"]}) + "\n")
    return config, events


@pytest.mark.parametrize("case", _cases(), ids=[str(c["id"]) for c in _cases()])
def test_cli_gives_sysmons_decision_per_line(tmp_path: Path, case: dict[str, object]) -> None:
    config, events = _write_case(tmp_path, case)
    args = ["evaluate", str(config), str(events), "--format", "jsonl"]
    for name, value in dict(case.get("environment") or {}).items():  # type: ignore[call-overload]
        args += ["--env", f"{name}={value}"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    got = [json.loads(line) for line in result.stdout.splitlines()]
    want = [(ev["expected"], ev["expected_rule_name"] or None) for ev in case["events"]]  # type: ignore[attr-defined]
    assert [(g["decision"], g["rule_name"]) for g in got] == want
    assert [g["line"] for g in got] == list(range(1, len(want) + 1))


def test_malformed_line_is_named_skipped_and_an_error_under_strict(tmp_path: Path) -> None:
    config = tmp_path / "c.xml"
    config.write_text('<Sysmon schemaversion="4.90"><EventFiltering/></Sysmon>', encoding="utf-8")
    events = tmp_path / "e.jsonl"
    events.write_text('{"EventID": 1, "fields": {}}\n\n{"EventID": 1, "fields": {"Image": 3}}\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["evaluate", str(config), str(events), "--format", "jsonl"])
    assert result.exit_code == 0
    assert f"warning: {events}:3: damaged record skipped" in result.stderr
    assert len(result.stdout.splitlines()) == 1
    result = CliRunner().invoke(main, ["evaluate", str(config), str(events), "--strict"])
    assert result.exit_code == 1
    assert isinstance(result.exception, sr.SysmonRulesError)
    assert f"{events}:3:" in str(result.exception)
    broken = tmp_path / "b.jsonl"
    broken.write_text("{not json\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["evaluate", str(config), str(broken), "--strict"])
    assert f"{broken}:1: damaged record: not JSON" in str(result.exception)


def test_blob_config_stdin_gzip_and_explain(tmp_path: Path, project_root: Path) -> None:
    config = sr.load(project_root / "examples" / "sysmonconfig.xml")
    blob = tmp_path / "rules.bin"
    blob.write_bytes(sr.to_blob(config))
    lines = (project_root / "examples" / "events.jsonl").read_bytes()
    packed = tmp_path / "events.jsonl.gz"
    packed.write_bytes(gzip.compress(lines))
    evaluator = sr.Evaluator(config)
    want = []
    for line in lines.decode().splitlines():
        record = json.loads(line)
        d = evaluator.decide(sr.Event(record["EventID"], record["fields"]))
        want.append([d.decision, d.rule_name])
    for args, stdin in (([str(blob), str(packed)], None), ([str(blob), "-"], lines)):
        result = CliRunner().invoke(main, ["evaluate", *args, "--format", "jsonl", "--explain"], input=stdin)
        assert result.exit_code == 0, result.output
        got = [json.loads(line) for line in result.stdout.splitlines()]
        assert [[g["decision"], g["rule_name"]] for g in got] == want
        assert all(g["explanation"].startswith("event ") for g in got)
