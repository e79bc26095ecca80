"""`tune`: budgets met on the same events, volumes confirmed by an independent replay, detections
kept (SigmaHQ's regression captures replayed), patches that merge, validate and lint clean."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

import sysmon_rules as sr
from sigma_corpus import captures, rule_files
from sysmon_rules.cli import main
from sysmon_rules.collectors import read
from sysmon_rules.readiness import read_rules
from sysmon_rules.readiness.logsource import sysmon_source
from sysmon_rules.readiness.sigmacheck import sigma_matches
from sysmon_rules.tuning import TuneResult, parse_budget
from sysmon_rules.tuning.plan import Candidate, plan

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "sysmonconfig.xml"
EXAMPLE_EVENTS = ROOT / "examples" / "tune" / "events.jsonl"
NOISY = r"C:\Program Files\Contoso\Agent\agent.exe"


def _host_days(volume: dict[str, object]) -> Counter[tuple[str, str | None]]:
    """Logged per (day, host), read from a replay's volume view as `evaluate --format json` prints it."""
    rows = volume["hosts_logged"]
    assert isinstance(rows, list)
    return Counter({(d, r["host"]): n for r in rows for d, n in r["logged_per_day"].items() if n})


@dataclass(frozen=True)
class Corpus:
    config: str  # sysmon-modular's default config
    evtx: str
    captures: dict[str, list[Path]]  # Sigma rule id -> its regression captures
    rules: list[Path]  # the rules with a capture


@pytest.fixture(scope="module")
def corpus(shared_dir: Path) -> Corpus:
    sigma = shared_dir / "corpus" / "sigma"
    found = captures(sigma)
    return Corpus(str(shared_dir / "corpus" / "configs" / "sysmon-modular" / "sysmonconfig.xml"),
                  str(shared_dir / "corpus" / "evtx"), found, rule_files(sigma, set(found)))


def _noisy_events(path: Path, count: int = 3000) -> Path:
    """Thousands of one benign process's events: an agent's health check through cmd.exe, one host, one day."""
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            out.write(json.dumps({"EventID": 1, "Computer": "APP7", "fields": {
                "UtcTime": f"2024-05-02 {i * 24 // count:02d}:{i % 60:02d}:{i % 59:02d}.000",
                "Image": r"C:\Windows\System32\cmd.exe", "OriginalFileName": "Cmd.Exe",
                "Company": "Microsoft Corporation", "Product": "Microsoft® Windows® Operating System",
                "Description": "Windows Command Processor",
                "CommandLine": r'C:\Windows\system32\cmd.exe /c "C:\Program Files\Contoso\Agent\health.cmd"',
                "Hashes": "SHA256=9A7C58BD98D70631AA1473F7B57B426DB367D72429A5455B433A05EE251F3236,"
                          "IMPHASH=272245E2988E1E430500B852C4FB5E18",
                "ParentImage": NOISY, "ParentCommandLine": f'"{NOISY}" --service',
                "CurrentDirectory": "C:\\Windows\\system32\\",
                "User": r"NT AUTHORITY\SYSTEM", "IntegrityLevel": "System"}}) + "\n")
    return path


def _check_detections_kept(result: TuneResult, rules: list[Path], captures: dict[str, list[Path]]) -> int:
    """Every rule CONFIG logged on its regression capture is still logged by the tuned config, event
    for event, unless the result lists it as a cost with its witness. Returns the rules checked."""
    config = sr.load(result.config)
    old, new = sr.Evaluator(config), sr.Evaluator(result.merged.config)
    listed = {c.rule_id for p in result.proposals for c in p.costs}
    costs = {c.rule_id: c for c in result.costs}
    checked = 0
    for item in read_rules(rules):
        if item.rule is None or sysmon_source(item.rule.logsource).platform != "windows":
            continue
        trees = [c.parsed for c in item.rule.detection.parsed_condition]
        fired = [e for path in captures[item.id] for e in read(str(path))
                 if any(sigma_matches(t, e.event_id, e.fields) for t in trees)]
        logged = [e for e in fired if old.decide(e).decision == "include"]
        if not logged:
            continue
        checked += 1
        lost = [e for e in logged if new.decide(e).decision != "include"]
        if lost:
            assert item.id in costs, f"{item.title}: {len(lost)} event(s) lost without a listed cost"
            cost = costs[item.id]
            assert cost.status == "undecided" or cost.witness is not None
        if item.id in costs and costs[item.id].witness is not None:
            witness = costs[item.id].witness
            assert isinstance(witness, dict)
            event = sr.Event(int(str(witness["EventID"])), dict(witness["fields"]))  # type: ignore[call-overload]
            assert old.decide(event).decision == "include" and new.decide(event).decision == "exclude"
        assert item.id in listed or not lost
    return checked


def _check_merges_clean(result: TuneResult, tmp_path: Path) -> None:
    """The patch merges with `merge` into a config Sysmon loads, that lints without new findings,
    and that decides every event as the tuned config does."""
    patch = tmp_path / "patch.xml"
    patch.write_text(result.patch, encoding="utf-8")
    merged = sr.merge([result.config, str(patch)], template=result.config)
    loaded = sr.loads(merged.text)
    assert sr.to_blob(loaded) == sr.to_blob(result.merged.config)
    before = Counter(d.code for d in sr.lint_file(result.config))
    after = Counter(d.code for d in sr.lint_file(merged.data()))
    assert not after - before, f"new lint findings: {after - before}"


def _kept_and_clean(result: TuneResult, corpus: Corpus, tmp_path: Path) -> None:
    assert _check_detections_kept(result, corpus.rules, corpus.captures) > 20
    _check_merges_clean(result, tmp_path)


def test_corpus_budget_met_with_costs_listed(corpus: Corpus, tmp_path: Path) -> None:
    config, evtx = corpus.config, corpus.evtx
    before = _host_days(sr.replay(config, [evtx]).summary.volume.to_dict())
    budget = max(before.values()) // 2  # well below today's volume
    result = sr.tune(config, [evtx], budget=budget, sigma=corpus.rules, accept_cost=True)
    assert result.host_days_before == before
    assert result.budget_met and result.verified
    # `evaluate` on the tuned config confirms the volume
    tuned = tmp_path / "tuned.xml"
    tuned.write_bytes(result.merged.data())
    confirmed = _host_days(sr.replay(str(tuned), [evtx]).summary.volume.to_dict())
    assert confirmed == +result.host_days_after
    assert max(confirmed.values()) <= budget
    assert result.costs, "a budget this low on attack logs costs detections, and they are listed"
    assert all(c.witness is not None or c.status == "undecided" for c in result.costs)
    _kept_and_clean(result, corpus, tmp_path)
    # readiness' own "does B lose events of R that A logs" (without the proposals' values put in
    # first, so it often cannot tell): every rule it proves lost is a listed cost, and no rule it
    # proves kept is one
    from sysmon_rules.readiness import read_rules, rule_loses

    old, new = sr.Evaluator(sr.load(config)), sr.Evaluator(result.merged.config)
    losses = [rule_loses(old, new, item) for item in read_rules(corpus.rules)]
    costs = {c.rule_id for c in result.costs}
    assert {x.rule_id for x in losses if x.lost} <= costs
    assert not {x.rule_id for x in losses if x.lost is False} & costs


def test_corpus_without_accepting_costs_keeps_every_detection(corpus: Corpus, tmp_path: Path) -> None:
    result = sr.tune(corpus.config, [corpus.evtx], budget=150, sigma=corpus.rules)
    assert result.verified and not result.costs
    assert result.logged_after < result.logged_before
    rejected = [p for p in result.proposals if p.status == "costs detections"]
    assert rejected and all(c.witness is not None or c.status == "undecided" for p in rejected for c in p.costs)
    _kept_and_clean(result, corpus, tmp_path)


def test_noisy_benign_process_is_cut_without_cost(corpus: Corpus, tmp_path: Path) -> None:
    config, evtx = corpus.config, corpus.evtx
    noisy = _noisy_events(tmp_path / "noisy.jsonl")
    before = _host_days(sr.replay(config, [evtx, str(noisy)]).summary.volume.to_dict())
    assert before["2024-05-02", "APP7"] == 3000  # sysmon-modular logs every cmd.exe
    result = sr.tune(config, [evtx, str(noisy)], budget=250, sigma=corpus.rules)
    assert result.budget_met and result.verified and not result.costs
    assert result.host_days_after.get(("2024-05-02", "APP7"), 0) == 0
    applied = result.applied
    assert len(applied) == 1 and applied[0].removes == 3000
    conditions = {c.field: (c.condition, c.value) for c in applied[0].proposal.conditions}
    assert conditions["Image"] == ("is", r"C:\Windows\System32\cmd.exe")
    assert conditions["ParentImage"] == ("is", NOISY)
    # every other host-day logs what it logged before
    assert all(result.host_days_after[hd] == n for hd, n in before.items() if hd[1] != "APP7")
    _kept_and_clean(result, corpus, tmp_path)


def test_output_is_deterministic(corpus: Corpus) -> None:
    config, evtx = corpus.config, corpus.evtx
    runs = [sr.tune(config, [evtx], budget=100, accept_cost=True) for _ in range(2)]
    assert runs[0].patch == runs[1].patch
    assert runs[0].merged.data() == runs[1].merged.data()
    assert json.dumps(runs[0].to_dict(), sort_keys=True) == json.dumps(runs[1].to_dict(), sort_keys=True)


def test_keep_rule_name_is_a_proven_cost() -> None:
    name = "technique_id=T1059.003,technique_name=Windows Command Shell"
    result = sr.tune(EXAMPLE, [EXAMPLE_EVENTS], budget=50, keep=[name])
    assert not result.budget_met and not result.applied
    costs = [c for p in result.proposals for c in p.costs]
    assert costs and all(c.kind == "rule_name" and c.name == name and c.status == "loses" for c in costs)
    old = sr.Evaluator(sr.load(EXAMPLE))
    for p in result.proposals:
        witness = p.costs[0].witness
        assert witness is not None
        event = sr.Event(1, dict(witness["fields"]))  # type: ignore[call-overload]
        assert (old.decide(event).decision, old.decide(event).rule_name) == ("include", name)
    # a RuleName no proposal touches costs nothing
    kept = sr.tune(EXAMPLE, [EXAMPLE_EVENTS], budget=50, keep=["technique_id=T1059.001,technique_name=PowerShell"])
    assert kept.budget_met and not kept.costs


def test_unknown_rule_name_is_an_error() -> None:
    with pytest.raises(sr.SysmonRulesError, match="no filter or <Rule> of the config has this RuleName"):
        sr.tune(EXAMPLE, [EXAMPLE_EVENTS], budget=50, keep=["no such name"])


LONE_EXCLUDE = r"""<Sysmon schemaversion="4.90"><EventFiltering>
  <RuleGroup name="" groupRelation="or">
    <NetworkConnect onmatch="exclude">
      <Image condition="is">C:\Windows\System32\svchost.exe</Image>
    </NetworkConnect>
  </RuleGroup>
</EventFiltering></Sysmon>
"""


@pytest.mark.parametrize("event_id", [3, 5])
def test_exclude_keeps_sysmon_meaning_for_lone_exclude_sets_and_defaults(tmp_path: Path, event_id: int) -> None:
    """A lone exclude set (3 here) or no set with a logging default (5): the patch adds an exclude
    beside it, and every other event stays logged (a bare second exclude set would drop them)."""
    config = tmp_path / "config.xml"
    config.write_text(LONE_EXCLUDE, encoding="utf-8")
    events = tmp_path / "events.jsonl"
    with events.open("w", encoding="utf-8") as out:
        for i in range(200):
            out.write(json.dumps({"EventID": event_id, "Computer": "H1", "fields": {
                "UtcTime": f"2024-01-01 10:{i % 60:02d}:00.000", "Image": r"C:\Tools\poller.exe",
                "DestinationHostname": "status.example.com", "DestinationIp": "10.0.0.5"}}) + "\n")
        for image in (r"C:\Windows\explorer.exe", r"C:\Users\a\evil.exe", r"C:\Windows\System32\svchost.exe"):
            out.write(json.dumps({"EventID": event_id, "Computer": "H1", "fields": {
                "UtcTime": "2024-01-01 11:00:00.000", "Image": image, "DestinationIp": "10.0.0.9"}}) + "\n")
    result = sr.tune(config, [events], budget=10)
    assert result.budget_met and result.verified
    logged_before = 203 if event_id == 5 else 202
    assert (result.logged_before, result.logged_after) == (logged_before, logged_before - 200)
    tuned = sr.Evaluator(result.merged.config)
    assert tuned.decide(sr.Event(event_id, {"Image": r"C:\Users\a\evil.exe"})).decision == "include"


def test_plan_prefers_free_then_costly_only_when_accepted() -> None:
    host_days = [("d", "h")] * 10
    candidates = [Candidate(frozenset(range(8)), costs=1), Candidate(frozenset(range(3)), costs=0)]
    assert plan(candidates, host_days, 5) == [1]
    assert [c.status for c in candidates] == ["costs detections", "applied"]
    candidates = [Candidate(frozenset(range(8)), costs=1), Candidate(frozenset(range(3)), costs=0)]
    assert plan(candidates, host_days, 5, accept_cost=True) == [1, 0]


@pytest.mark.parametrize(("text", "value"), [("500", 500), ("500/host/day", 500), (7, 7)])
def test_parse_budget(text: str | int, value: int) -> None:
    assert parse_budget(text) == value


def test_cli_writes_patch_full_config_and_diff(tmp_path: Path) -> None:
    patch, full, diff = tmp_path / "patch.xml", tmp_path / "full.xml", tmp_path / "diff.md"
    runner = CliRunner()
    done = runner.invoke(main, ["tune", str(EXAMPLE), "--events", str(EXAMPLE_EVENTS), "--budget", "50/host/day",
                                "--sigma", str(ROOT / "examples/tune/sigma/proc_creation_cmd_whoami.yml"),
                                "-o", str(patch), "--diff", str(diff), "--format", "json"])
    assert done.exit_code == 0, done.output
    doc = json.loads(done.stdout)
    assert doc["budget_met"] and doc["logged_after"] == 7
    assert patch.read_text("utf-8") == sr.tune(EXAMPLE, [EXAMPLE_EVENTS], budget=50, sigma=[
        ROOT / "examples/tune/sigma/proc_creation_cmd_whoami.yml"]).patch
    shown = diff.read_text("utf-8")  # the PR comment: the added exclude with its witness event
    assert "agent.worker.exe" in shown and "→ exclude" in shown
    merged = runner.invoke(main, ["merge", str(EXAMPLE), str(patch), "--template", str(EXAMPLE), "-o", str(full)])
    assert merged.exit_code == 0, merged.output
    evaluated = runner.invoke(main, ["evaluate", str(full), str(EXAMPLE_EVENTS), "--format", "json"])
    assert evaluated.exit_code == 0 and json.loads(evaluated.stdout)["included"] == 7
    done = runner.invoke(main, ["tune", str(EXAMPLE), "--events", str(EXAMPLE_EVENTS), "--budget", "50",
                                "--full", "-o", str(full)])
    assert done.exit_code == 0 and sr.load(full).schema_version == "4.90"


def test_cli_patch_on_stdout_sends_the_summary_aside() -> None:
    """`-o -` pipes the patch into the next command: the summary must not be mixed into it."""
    for fmt in ("summary", "json"):
        done = CliRunner().invoke(main, ["tune", str(EXAMPLE), "--events", str(EXAMPLE_EVENTS), "--budget", "50",
                                         "-o", "-", "--format", fmt])
        assert done.exit_code == 0, done.output
        assert done.stdout == sr.tune(EXAMPLE, [EXAMPLE_EVENTS], budget=50).patch
        assert "budget" in done.stderr


def test_cli_bad_inputs(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(main, ["tune", str(EXAMPLE), "--events", str(EXAMPLE_EVENTS), "--budget", "lots"])
    assert bad.exit_code == 2 and "--budget" in bad.output
    missing = subprocess.run([sys.executable, "-c", "from sysmon_rules.cli import run; run()", "tune",
                              str(tmp_path / "nope.xml"), "--events", str(EXAMPLE_EVENTS)],
                             capture_output=True, text=True, check=False)
    assert missing.returncode == 2
    assert missing.stderr == f"{tmp_path / 'nope.xml'}: error[no-input]: no such file or folder\n"
    unknown = runner.invoke(main, ["tune", str(EXAMPLE), "--events", str(EXAMPLE_EVENTS), "--keep", "x"])
    assert unknown.exit_code == 2 and "x" in unknown.stderr
    not_met = runner.invoke(main, ["tune", str(EXAMPLE), "--events", str(EXAMPLE_EVENTS), "--budget", "50",
                                   "--sigma", str(ROOT / "examples" / "tune" / "sigma"), "-o", str(tmp_path / "p.xml")])
    assert not_met.exit_code == 1 and "not met" in not_met.stderr and (tmp_path / "p.xml").exists()
    usage = runner.invoke(main, ["tune", str(EXAMPLE), "--events", str(EXAMPLE_EVENTS), "--full"])
    assert usage.exit_code == 2


def test_html_report_tune_section_shows_the_tune_document(tmp_path: Path) -> None:
    """Every number of the tune section is the `tune --format json` document's, at its pointer."""
    import lxml.html

    page = tmp_path / "report.html"
    sigma = str(ROOT / "examples" / "tune" / "sigma")
    done = CliRunner().invoke(main, ["report", str(EXAMPLE), "--events", str(EXAMPLE_EVENTS), "--sigma", sigma,
                                     "--tune", "50", "--accept-cost", "-o", str(page)])
    assert done.exit_code == 0, done.output
    doc = json.loads(json.dumps(sr.tune(EXAMPLE, [EXAMPLE_EVENTS], budget=50, sigma=[sigma], accept_cost=True)
                                .to_dict()))
    tree = lxml.html.fromstring(page.read_bytes())
    cells = tree.xpath("//*[@data-tune]")
    pointers = {c.get("data-tune") for c in cells}
    for cell in cells:
        value: object = doc
        for part in cell.get("data-tune").split("/")[1:]:
            value = value[int(part)] if isinstance(value, list) else value[part]  # type: ignore[index]
        assert int(cell.text_content().replace(",", "")) == value
    assert {"/logged_before", "/logged_after", "/peak_after", "/budget"} <= pointers
    assert {f"/host_days/{i}/after" for i in range(len(doc["host_days"]))} <= pointers
    assert {f"/proposals/{i}/removes" for i in range(len(doc["proposals"]))} <= pointers
    assert "Shell Started By A Build Agent" in page.read_text("utf-8")  # the accepted cost, with its witness
    assert tree.xpath("//section[@id='tune']")


def test_without_budget_nothing_is_applied_and_every_proposal_is_costed() -> None:
    result = sr.tune(EXAMPLE, [EXAMPLE_EVENTS], sigma=[ROOT / "examples" / "tune" / "sigma"])
    assert result.logged_after == result.logged_before == 127 and not result.applied
    assert result.proposals and all(p.checked for p in result.proposals)
    statuses = {p.proposal.text: (p.status, {c.name for c in p.costs}) for p in result.proposals}
    build_agent = next(t for t in statuses if "Agent.Worker.exe\" and CommandLine" in t)
    assert statuses[build_agent] == ("costs detections", {"Shell Started By A Build Agent"})
    powershell = next(t for t in statuses if "powershell.exe" in t)
    assert statuses[powershell] == ("proposed", set())


@pytest.mark.parametrize("accept_cost", [False, True])
def test_costs_agree_with_readiness_rule_loses(accept_cost: bool) -> None:
    """Readiness' own check of "does config B lose events of rule R that A logs", run on CONFIG and
    the tuned config, names exactly the rules the tune reports as accepted costs."""
    from sysmon_rules.readiness import read_rules, rule_loses

    sigma = ROOT / "examples" / "tune" / "sigma"
    result = sr.tune(EXAMPLE, [EXAMPLE_EVENTS], budget=50, sigma=[sigma], accept_cost=accept_cost)
    old, new = sr.Evaluator(sr.load(EXAMPLE)), sr.Evaluator(result.merged.config)
    lost = {item.id for item in read_rules([sigma]) if rule_loses(old, new, item).lost}
    assert lost == {c.rule_id for c in result.costs}
    assert bool(lost) == accept_cost
