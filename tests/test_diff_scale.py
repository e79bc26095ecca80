"""Issue 25 on real trees: sysmon-modular's build against the union of the same modules, folders of
modules, and the parts of the diff that keep a long run useful (reasons, time budget, Ctrl-C).

Timings are the benchmark's (benchmarks/bench_diff.py); here only what the answers say.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import sysmon_rules as sr
from sysmon_rules.cli import main
from sysmon_rules.diffing import ConfigDiff, diff
from sysmon_rules.diffing.decide import Decider

TREE = "corpus/sysmon-modular-a9ff298"


def _merged(shared: Path, sub: str = "") -> tuple[sr.Config, sr.Config]:
    tree = shared / TREE
    source = str(tree / sub) if sub else str(tree)
    script = str(tree / "Merge-SysmonXml.ps1")
    return (sr.merge([source], style="sysmon-modular", script=script).config,
            sr.merge([source], skip_invalid=True).config)


def _witnesses_hold(result: ConfigDiff, old: sr.Config, new: sr.Config, names: bool) -> None:
    a, b = sr.Evaluator(old), sr.Evaluator(new)
    shown = [c.witness for c in result.changes if c.witness is not None]
    shown += [v.witness for v in result.events if v.witness is not None]
    assert shown
    for witness in shown:
        da, db = a.decide(witness.event), b.decide(witness.event)
        assert (da.decision, da.rule_name if names else None) != (db.decision, db.rule_name if names else None)
        assert [(d.decision, d.rule_name) for d in witness.decisions] == \
            [(da.decision, da.rule_name), (db.decision, db.rule_name)]


@pytest.mark.parametrize("names", [True, False])
def test_build_against_union_is_decided_with_witnesses(shared_dir: Path, names: bool) -> None:
    build, union = _merged(shared_dir)
    result = diff(build, union, ignore_rule_names=not names)
    assert result.verdict == "different"
    assert all(v.status != "unknown" for v in result.events), [v.reason for v in result.events]
    _witnesses_hold(result, build, union, names)
    moved = [c for c in result.changes if c.kind == "filters-moved"]
    assert len(moved) > 100  # the union keeps each module's RuleGroup: filters moved, not removed
    assert not [c for c in result.changes if c.kind == "filter-removed" and c.effect == "unknown" and not c.reason]
    if not names:  # decisions only: a move between OR sets of one onmatch changes nothing
        assert all(c.effect == "none" for c in moved)
    assert all(c.reason for c in result.changes if c.effect == "unknown")


def test_a_folder_against_its_union(shared_dir: Path) -> None:
    build, union = _merged(shared_dir, "1_process_creation")
    result = diff(build, union)
    ids = {v.event_id: v for v in result.events}
    assert ids[1].status == "equivalent"  # the folder's own event: the same decisions and names
    assert all(v.status != "unknown" for v in result.events)


ORDERED = r'''<Sysmon schemaversion="4.90"><EventFiltering>
  <RuleGroup groupRelation="or"><ProcessCreate onmatch="include">
    <CommandLine condition="less than">{}</CommandLine>
  </ProcessCreate></RuleGroup>
</EventFiltering></Sysmon>'''


def test_every_unknown_has_its_reason() -> None:
    """A budget too small to search: the event id is unknown, with the budget and filters named."""
    old, new = sr.loads(ORDERED.format("m").encode()), sr.loads(ORDERED.format("n").encode())
    result = diff(old, new, time_budget=0.0)
    (unknown,) = [v for v in result.events if v.status == "unknown"]
    assert unknown.event_id == 1 and "time budget" in unknown.reason
    assert "proven equivalent on 26 of 27 event ids; ProcessCreate unknown" in result.reason
    assert all(c.reason for c in result.changes if c.effect == "unknown")
    decided = diff(old, new)  # without the budget: a witness between 'm' and 'n'
    assert decided.verdict == "different"
    (witness,) = [v.witness for v in decided.events if v.witness is not None]
    value = witness.event.fields["CommandLine"]
    assert "m" <= value < "n"


def test_ctrl_c_reports_what_was_decided(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = tmp_path / "old.xml", tmp_path / "new.xml"
    old.write_text(ORDERED.format("m"))
    new.write_text(ORDERED.format("n"))

    def interrupted(self: Decider, event_id: int) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr(Decider, "search", interrupted)
    result = diff(old, new)
    assert result.interrupted and result.verdict == "unknown"
    assert "interrupted" in result.events[0].reason
    run = CliRunner().invoke(main, ["diff", str(old), str(new), "--format", "json", "--no-progress"])
    assert run.exit_code == 130
    assert '"interrupted": true' in run.stdout and "interrupted" in run.stderr


def test_progress_lines_go_to_stderr(tmp_path: Path) -> None:
    old, new = tmp_path / "old.xml", tmp_path / "new.xml"
    old.write_text(ORDERED.format("m"))
    new.write_text(ORDERED.format("n"))
    run = CliRunner().invoke(main, ["diff", str(old), str(new), "--progress"])
    assert run.exit_code == 1
    assert "diff: 1/27 event ids decided (ProcessCreate: different" in run.stderr
    assert "event ids decided" not in run.stdout
