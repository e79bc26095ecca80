"""Volume in the replay summary: per day/hour, event type, RuleName and host, and --budget.

Checked against brute-force counts over the evaluator's own per-event decisions (the oracle) on
generated events, and against the hosts and times the raw EVTX records hold in the corpus.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import sysmon_rules as sr
from sysmon_rules.cli import main
from sysmon_rules.collectors import read
from sysmon_rules.collectors.export import FORMATS, write_file
from sysmon_rules.events import Event, Origin
from sysmon_rules.replaying import Summary
from sysmon_rules.replaying.volume import UNKNOWN, hour_of
from test_collectors_evtx import corpus

MODULAR = "corpus/configs/sysmon-modular/sysmonconfig.xml"
CONFIG = sr.loads(r"""<Sysmon schemaversion="4.90"><EventFiltering>
  <RuleGroup name="" groupRelation="or">
    <ProcessCreate onmatch="include">
      <Image name="shell" condition="end with">\cmd.exe</Image>
      <Image name="ps" condition="end with">\powershell.exe</Image>
    </ProcessCreate>
  </RuleGroup>
  <RuleGroup name="" groupRelation="or">
    <NetworkConnect onmatch="exclude"><DestinationPort name="quiet">443</DestinationPort></NetworkConnect>
  </RuleGroup>
</EventFiltering></Sysmon>""")
IMAGES = [r"C:\Windows\System32\cmd.exe", r"C:\Windows\powershell.exe", r"C:\x.exe", ""]


def test_hour_of_reads_sysmon_and_iso_times_only() -> None:
    assert hour_of("2019-05-14 14:10:21.123") == "2019-05-14 14"
    assert hour_of("2019-05-14T14:10:21Z") == "2019-05-14 14"
    for bad in (None, "", "-", "2019-05-14", "14/05/2019 14:10", "2019-05-1x 14:10:21", "2019-05-14_14:10"):
        assert hour_of(bad) == UNKNOWN, bad


_events = st.lists(st.builds(
    lambda eid, image, port, day, hour, host: Event(
        eid, {"Image": image, **({"DestinationPort": port} if eid == 3 else {}),  # only 3 has a port
              **({"UtcTime": f"2024-03-{day:02d} {hour:02d}:00:00.000"} if day else {})},
        Origin("gen", computer=host)),
    st.sampled_from([1, 3, 5]), st.sampled_from(IMAGES), st.sampled_from(["443", "80"]),
    st.integers(0, 3), st.integers(0, 23), st.sampled_from(["WS1", "WS2", None])), max_size=60)


@settings(max_examples=60, deadline=None)
@given(_events, st.integers(0, 4))
def test_volume_equals_brute_force_counts_of_the_decisions(events: list[Event], budget: int) -> None:
    evaluator = sr.Evaluator(CONFIG)
    summary = Summary()
    decided = [(e, evaluator.decide(e)) for e in events]
    for event, decision in decided:
        summary.add(event, decision)
    doc = summary.volume.to_dict(budget=budget)

    def day(e: Event) -> str:
        return e.fields["UtcTime"][:10] if "UtcTime" in e.fields else UNKNOWN

    logged = [(e, d) for e, d in decided if d.decision == "include"]
    per_day = Counter(day(e) for e, _ in logged)
    assert {r["time"]: r["logged"] for r in doc["per_day"]} == {k: per_day[k] for k in {day(e) for e in events}}
    assert sum(r["events"] for r in doc["per_hour"]) == len(events)
    assert doc["unknown_host"] == sum(1 for e in events if e.origin and e.origin.computer is None)
    by_name = Counter(d.rule_name for _, d in logged)
    assert {r["rule_name"]: r["logged"] for r in doc["rule_names"] if r["logged"]} == dict(by_name)
    assert [r["logged"] for r in doc["rule_names"]] == sorted((r["logged"] for r in doc["rule_names"]), reverse=True)
    host_day_type = Counter((e.event_id, day(e), e.origin.computer if e.origin else None) for e, _ in logged)
    host_day_name = Counter((d.rule_name, day(e), e.origin.computer if e.origin else None)
                            for e, d in logged if d.rule_name)
    want = {("event_id", *k, n) for k, n in host_day_type.items() if n > budget}
    want |= {("rule_name", *k, n) for k, n in host_day_name.items() if n > budget}
    got = {(r["kind"], r[r["kind"]], r["day"], r["host"], r["logged"]) for r in doc["over_budget"]}
    assert got == want
    for row in doc["event_types"]:
        worst = max((n for (eid, _, _), n in host_day_type.items() if eid == row["event_id"]), default=0)
        assert (row["peak"] or {"logged": 0})["logged"] == worst


def test_every_collector_shape_carries_the_host(tmp_path: Path) -> None:
    events = [Event(1, {"Image": "C:\\a.exe", "UtcTime": "2024-01-02 03:04:05.678"}, Origin("x", 7, None, "WS-01")),
              Event(3, {"DestinationPort": "80"}, Origin("x", 8, None, "dc1.corp.example"))]
    for fmt in FORMATS:
        path = tmp_path / f"e.{fmt}"
        write_file(events, path, fmt)
        hosts = [e.origin.computer if e.origin else None for e in read(path)]
        assert hosts == ["WS-01", "dc1.corp.example"], fmt


def _raw_hosts_and_days(folder: Path) -> Counter[tuple[str, str]]:
    """(Computer, UtcTime day) of every Sysmon record, read from the parser's XML rendering."""
    from evtx import PyEvtxParser

    found: Counter[tuple[str, str]] = Counter()
    for path in sorted(folder.rglob("*.evtx")):
        for record in PyEvtxParser(str(path)).records():
            xml = record["data"]
            if "Name=\"Microsoft-Windows-Sysmon\"" not in xml:
                continue
            computer = re.search(r"<Computer>([^<]*)</Computer>", xml)
            utc = re.search(r"<Data Name=\"UtcTime\">(\d{4}-\d\d-\d\d)", xml)
            found[computer[1] if computer else "", utc[1] if utc else UNKNOWN] += 1
    return found


def test_corpus_volume_per_host_and_day_matches_the_records(shared_dir: Path) -> None:
    evtx = shared_dir / "corpus" / "evtx"
    result = CliRunner().invoke(main, ["evaluate", str(shared_dir / MODULAR), str(evtx), "--format", "json",
                                       "--budget", "50"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    volume = doc["volume"]
    raw = _raw_hosts_and_days(evtx)
    hosts: Counter[str] = Counter()
    days: Counter[str] = Counter()
    for (host, day), n in raw.items():
        hosts[host] += n
        days[day] += n
    assert {r["host"]: r["events"] for r in volume["hosts_logged"]} == dict(hosts)
    assert volume["hosts"] == len(hosts) and volume["unknown_host"] == 0
    assert {r["time"]: r["events"] for r in volume["per_day"]} == dict(days)
    assert sum(r["logged"] for r in volume["per_day"]) == doc["included"]
    events, _ = corpus()
    evaluator = sr.Evaluator(sr.load(shared_dir / MODULAR))
    worst = Counter((e.event_id, e.fields.get("UtcTime", "")[:10], e.origin.computer if e.origin else None)
                    for e in events if evaluator.decide(e).decision == "include")
    assert {(r["event_id"], r["day"], r["host"]) for r in volume["over_budget"] if r["kind"] == "event_id"} == {
        k for k, n in worst.items() if n > 50}
    assert volume["over_budget"], "the corpus has host-days above 50 logged events"


def test_compare_reports_the_other_configs_volume(shared_dir: Path) -> None:
    evtx = shared_dir / "corpus" / "evtx" / "Credential Access"
    configs = shared_dir / "corpus" / "configs"
    result = CliRunner().invoke(main, ["evaluate", str(configs / "sysmon-modular/sysmonconfig.xml"), str(evtx),
                                       "--compare", str(configs / "swiftonsecurity/sysmonconfig-export.xml"),
                                       "--format", "json", "--budget", "5"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    theirs = doc["compare"]["volume"]
    included_b = sum(r["included_b"] for r in doc["compare"]["by_event_id"])
    assert sum(r["logged"] for r in theirs["per_day"]) == included_b
    assert theirs["budget"] == 5 and doc["volume"]["budget"] == 5


def test_summary_text_names_the_noisiest_and_the_budget(shared_dir: Path) -> None:
    evtx = shared_dir / "corpus" / "evtx" / "Credential Access"
    result = CliRunner().invoke(main, ["evaluate", str(shared_dir / MODULAR), str(evtx), "--budget", "20"])
    assert result.exit_code == 0, result.output
    assert "Noisiest by RuleName" in result.output and "Over budget (" in result.output
    bad = CliRunner().invoke(main, ["evaluate", str(shared_dir / MODULAR), str(evtx), "--budget", "-1"])
    assert bad.exit_code == 2
