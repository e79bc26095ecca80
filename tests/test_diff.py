"""The diff on real configs (shared/corpus): verdicts, witnesses re-checked, every input form,
replay of real events, the CLI's formats and exit codes, and bad input."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner

import sysmon_rules
from sysmon_rules.blob.compile import compile_config
from sysmon_rules.blob.dump import dump_text
from sysmon_rules.blob.regfile import render_reg
from sysmon_rules.cli import main
from sysmon_rules.diffing import ConfigDiff, diff
from sysmon_rules.engine import Evaluator
from sysmon_rules.errors import SysmonRulesError
from test_engine_corpus import corpus_events

SWIFT = "corpus/configs/swiftonsecurity/sysmonconfig-export.xml"
NEXTRON = "corpus/configs/nextron/sysmonconfig-export.xml"
MODULAR_HEAD = "corpus/configs/sysmon-modular/sysmonconfig.xml"
MODULAR_OLD = "corpus/sysmon-modular-a9ff298/sysmonconfig.xml"


@cache
def _diff(shared: Path, old: str, new: str, *, replay: bool = False) -> ConfigDiff:
    return diff(shared / old, shared / new, events=corpus_events() if replay else None)


def _recheck(result: ConfigDiff, old: Path, new: Path) -> int:
    """Every witness decided again by evaluators built afresh from the two XML files."""
    a, b = Evaluator(sysmon_rules.load(old)), Evaluator(sysmon_rules.load(new))
    for change in result.witnesses:
        assert change.witness is not None
        event = change.witness.event
        da, db = a.decide(event), b.decide(event)
        assert (da.decision, da.rule_name) != (db.decision, db.rule_name), change.description
        assert (da.decision, db.decision) == tuple(d.decision for d in change.witness.decisions)
    return len(result.witnesses)


def test_sysmon_modular_head_against_a9ff298(shared_dir: Path) -> None:
    result = _diff(shared_dir, MODULAR_OLD, MODULAR_HEAD)
    assert (result.verdict, result.exit_code) == ("equivalent", 0)
    assert result.compared == ("decisions", "rule names")


def test_sysmon_modular_default_against_excludes_only(shared_dir: Path) -> None:
    old = shared_dir / MODULAR_OLD
    new = shared_dir / "corpus/sysmon-modular-a9ff298/sysmonconfig-excludes-only.xml"
    result = diff(old, new)
    assert result.verdict == "different"
    assert _recheck(result, old, new) >= 10


def test_swiftonsecurity_against_nextron(shared_dir: Path) -> None:
    result = _diff(shared_dir, SWIFT, NEXTRON, replay=True)
    assert (result.verdict, result.exit_code) == ("different", 1)
    assert _recheck(result, shared_dir / SWIFT, shared_dir / NEXTRON) > len(result.changes) // 2
    kinds = {c.kind for c in result.changes}
    assert {"filter-added", "filter-removed", "filter-renamed", "set-added"} <= kinds
    assert all(c.old_location or c.new_location for c in result.changes)


@pytest.mark.parametrize("name", [MODULAR_HEAD, SWIFT, NEXTRON])
def test_config_against_its_blob_and_reg(shared_dir: Path, tmp_path: Path, name: str) -> None:
    config = sysmon_rules.load(shared_dir / name)
    compiled = compile_config(config)
    (tmp_path / "rules.bin").write_bytes(compiled.data)
    (tmp_path / "rules.reg").write_bytes(render_reg(config, compiled.table, compiled.data).encode("utf-16"))
    (tmp_path / "rules.b64").write_text(__import__("base64").b64encode(compiled.data).decode(), "ascii")
    for other in ("rules.bin", "rules.reg", "rules.b64"):
        result = diff(shared_dir / name, tmp_path / other)
        assert (result.verdict, result.compared, result.changes) == ("equivalent", ("decisions", "rule names"), [])


@pytest.mark.parametrize("name", [MODULAR_HEAD, SWIFT])
def test_config_against_its_dump_text(shared_dir: Path, tmp_path: Path, name: str) -> None:
    (tmp_path / "sysmon-c.txt").write_text(dump_text(compile_config(sysmon_rules.load(shared_dir / name)).data))
    result = diff(shared_dir / name, tmp_path / "sysmon-c.txt")
    assert (result.verdict, result.compared) == ("equivalent", ("decisions",))  # RuleNames are not in the text
    assert any("does not print them" in u for u in result.unknowns)


def test_hidden_sets_are_unknown_not_changes(shared_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "host.txt").write_text(dump_text(compile_config(sysmon_rules.load(shared_dir / NEXTRON)).data))
    result = diff(shared_dir / NEXTRON, tmp_path / "host.txt")
    assert (result.verdict, result.exit_code) == ("unknown", 3)
    assert {c.kind for c in result.changes} == {"set-hidden"} and len(result.changes) == 3
    assert all(c.effect == "unknown" and c.witness is None for c in result.changes)


def test_replay_groups_real_events_by_change(shared_dir: Path) -> None:
    events = corpus_events()
    result = _diff(shared_dir, SWIFT, NEXTRON, replay=True)
    assert result.replay is not None
    a, b = Evaluator(sysmon_rules.load(shared_dir / SWIFT)), Evaluator(sysmon_rules.load(shared_dir / NEXTRON))
    changed = sum(1 for e in events if (a.decide(e).decision, a.decide(e).rule_name) !=
                  (b.decide(e).decision, b.decide(e).rule_name))
    assert result.replay.comparison.events == len(events)
    assert result.replay.changed == result.replay.comparison.changed == changed > 0
    ids = {c.id for c in result.changes}
    for group in result.replay.groups.values():
        assert set(group.changes) <= ids and group.examples
        for example in group.examples:
            assert (a.decide(example.event).decision, b.decide(example.event).decision) == \
                (example.old.decision, example.new.decision)


def test_ignore_rule_names_compares_decisions_only() -> None:
    old = sysmon_rules.loads(b'<Sysmon schemaversion="4.90"><EventFiltering><ProcessCreate onmatch="include">'
                             b'<Image name="a" condition="end with">\\x.exe</Image></ProcessCreate>'
                             b'</EventFiltering></Sysmon>')
    new = sysmon_rules.loads(b'<Sysmon schemaversion="4.90"><EventFiltering><ProcessCreate onmatch="include">'
                             b'<Image name="b" condition="end with">\\X.EXE</Image></ProcessCreate>'
                             b'</EventFiltering></Sysmon>')
    named = diff(old, new)
    assert named.verdict == "different" and [c.kind for c in named.changes] == ["filter-renamed"]
    assert diff(old, new, ignore_rule_names=True).verdict == "equivalent"


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["diff", *args])
    return result.exit_code, result.stdout, result.stderr


def test_markdown_fits_a_pull_request_comment(shared_dir: Path) -> None:
    comment = sysmon_rules.to_markdown(_diff(shared_dir, SWIFT, NEXTRON, replay=True))
    assert comment.startswith("### Sysmon config diff: **different**")
    assert "| # | change | witness / reason | old → new |" in comment and "**Replay:** 3" in comment
    # Behaviour changes (with witnesses) come first; moves and changes without effect are folded.
    behaviour, folded = comment.find("**Behaviour changes ("), comment.find("<details><summary>Moved or without")
    assert 0 < behaviour < folded and comment.count("<details>") == comment.count("</details>") == 1
    first_row = comment[behaviour:].splitlines()[4]
    assert "(EventID " in first_row and " → " in first_row  # a witness and its two decisions
    assert len(comment) < 65536  # GitHub's limit for a comment


def test_cli_formats_and_exit_codes(project_root: Path, tmp_path: Path) -> None:
    example = project_root / "examples" / "sysmonconfig.xml"
    edited = tmp_path / "edited.xml"
    edited.write_bytes(example.read_bytes().replace(b"onmatch=\"include\"", b"onmatch=\"exclude\"", 1))
    code, out, _ = _cli(str(example), str(example))
    assert code == 0 and "verdict: equivalent" in out
    code, out, _ = _cli(str(example), str(edited), "--format", "json")
    doc = json.loads(out)
    assert code == 1 and doc["verdict"] == "different"
    change = next(c for c in doc["changes"] if c["witness"] is not None)
    assert set(change["witness"]) == {"EventID", "fields"}
    assert set(change["old_decision"]) == {"decision", "rule_name"} and change["new_decision"]
    code, out, _ = _cli(str(example), str(edited), "--format", "markdown", "-o", str(tmp_path / "comment.md"))
    assert code == 1 and out == ""
    assert (tmp_path / "comment.md").read_text("utf-8").startswith("### Sysmon config diff: **different**")
    (tmp_path / "host.txt").write_text(dump_text(compile_config(sysmon_rules.load(example)).data))
    code, out, _ = _cli(str(example), str(tmp_path / "host.txt"), "--format", "json")
    assert json.loads(out)["compared"] == ["decisions"] and code in (0, 3)


def test_bad_input_is_one_line(shared_dir: Path, tmp_path: Path) -> None:
    blob = tmp_path / "rules.bin"
    blob.write_bytes(compile_config(sysmon_rules.load(shared_dir / SWIFT)).data)
    (tmp_path / "garbage.bin").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "cut.txt").write_text(dump_text(blob.read_bytes())[:3000])
    for other, place in (("garbage.bin", "garbage.bin: error["), ("cut.txt", "cut.txt:")):
        code, out, err = _cli(str(blob), str(tmp_path / other))
        assert code == 2 and out == "" and err.count("\n") == 1 and place in err, err
    with pytest.raises(SysmonRulesError, match="cut"):
        diff(blob, tmp_path / "cut.txt")
    assert _cli(str(blob))[0] == 2  # usage


def test_documented_github_actions_job_uses_real_options(project_root: Path) -> None:
    import re
    import shlex

    import yaml

    from sysmon_rules.cli.diff import command

    text = (project_root / "docs" / "diff.md").read_text("utf-8")
    block = re.search(r"```yaml\n(.*?)```", text, re.DOTALL)
    assert block is not None
    job = yaml.safe_load(block.group(1))
    trigger = job.get("on", job.get(True))  # YAML 1.1 reads a bare `on` key as true
    assert trigger["pull_request"]["paths"] and job["permissions"]["pull-requests"] == "write"
    script = "\n".join(step.get("run", "") for step in job["jobs"]["diff"]["steps"])
    calls = [shlex.split(line.split("||")[0]) for line in script.splitlines() if "sysmon-rules diff" in line]
    assert calls
    known = {opt for p in command.params for opt in p.opts}
    for call in calls:
        args = call[call.index("diff") + 1:]
        assert {a for a in args if a.startswith("-")} <= known


def test_cli_replays_event_files_and_counts_damage(project_root: Path, tmp_path: Path) -> None:
    example = project_root / "examples" / "sysmonconfig.xml"
    edited = tmp_path / "edited.xml"
    edited.write_bytes(example.read_bytes().replace(b'onmatch="include"', b'onmatch="exclude"', 1))
    events = tmp_path / "events.jsonl"
    good = json.dumps({"EventID": 1, "fields": {"Image": "C:\\Windows\\System32\\cmd.exe"}})
    events.write_text(good + "\n" + good[:20], "utf-8")  # a last line cut short: a damaged record
    code, out, _ = _cli(str(example), str(edited), "--events", str(events), "--format", "json")
    replay = json.loads(out)["replay"]
    assert code == 1 and replay["events"] == 1 and replay["skipped"] == 1
    code, out, err = _cli(str(example), str(edited), "--events", str(events), "--strict")
    assert code == 2 and out == "" and err.count("\n") == 1 and "events.jsonl" in err
