"""Evidence mode on SigmaHQ's regression captures, checked against pySigma's own SQLite backend.

For every capture (EVTX beside the rule, found automatically) under each real-world config:
coverage's ``evidence`` says N events match the rule and K are logged. Independently, pySigma's
SQLite backend (with its Sysmon pipeline: log source -> EventID) turns the rule into SQL, which
runs over a table of the capture's events; the evaluator decides the rows it selects. N and K
must be the same, for every case.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from sigma.rule import SigmaRule

import sysmon_rules as sr
from sigma_corpus import captures, rule_files
from sigma_sqlite import queries, selected
from sysmon_rules.collectors import CollectorWarning, read
from sysmon_rules.events import Event
from sysmon_rules.readiness import coverage, read_rules
from sysmon_rules.readiness.sigmacheck import text_fields

sqlite_backend = pytest.importorskip("sigma.backends.sqlite")
sysmon_pipelines = pytest.importorskip("sigma.pipelines.sysmon")

CONFIGS = ["sysmon-modular/sysmonconfig.xml", "sysmon-modular/sysmonconfig-with-filedelete.xml",
           "sysmon-modular/sysmonconfig-excludes-only.xml", "sysmon-modular/sysmonconfig-mde-augment.xml",
           "swiftonsecurity/sysmonconfig-export.xml", "nextron/sysmonconfig-export.xml",
           "nextron/sysmonconfig-trace.xml"]


def sql_matches(rule_text: str, events: list[Event]) -> list[Event]:
    """The events pySigma's SQLite backend selects for the rule (Sigma strings compare case-insensitively)."""
    from sigma.collection import SigmaCollection

    rows = [(e.event_id, text_fields(e.fields)) for e in events]
    found: set[int] = set()
    for rule in SigmaCollection.from_yaml(rule_text).rules:
        assert isinstance(rule, SigmaRule)
        found |= selected(queries(rule), rows)
    return [events[i] for i in sorted(found)]


@pytest.fixture(scope="module")
def regression(shared_dir: Path) -> tuple[dict[str, list[Path]], dict[str, Path], dict[str, list[Event]]]:
    sigma = shared_dir / "corpus" / "sigma"
    found = captures(sigma)
    files = {r.id: Path(r.path) for r in read_rules(rule_files(sigma, set(found)))}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CollectorWarning)
        events = {rid: [e for p in paths for e in read(str(p))] for rid, paths in found.items()}
    return found, files, events


@pytest.mark.parametrize("config_name", CONFIGS)
def test_evidence_agrees_with_pysigma_sqlite(shared_dir: Path, config_name: str, regression: tuple[
        dict[str, list[Path]], dict[str, Path], dict[str, list[Event]]]) -> None:
    found, files, events = regression
    assert len(found) == 136 and set(files) == set(found)
    config = sr.load(shared_dir / "corpus" / "configs" / config_name)
    evaluator = sr.Evaluator(config)
    report = {r.id: r for r in coverage(config, list(files.values())).rules}
    checked = 0
    for rule_id, path in files.items():
        result = report[rule_id]
        selected = sql_matches(path.read_text("utf-8"), events[rule_id]) if events[rule_id] else []
        if result.status == "not-applicable":  # Security, TaskScheduler, Defender, WMI-Activity captures
            assert result.evidence is None and not selected, rule_id
            continue
        assert selected, f"{rule_id}: pySigma's backend selects no event of the rule's own capture"
        logged = sum(evaluator.decide(e).decision == "include" for e in selected)
        assert result.evidence is not None, rule_id
        assert (result.evidence.events, result.evidence.logged) == (len(selected), logged), (rule_id, path)
        expected = "logged" if logged == len(selected) else "dropped" if logged == 0 else "partial"
        assert result.status == expected, rule_id
        assert sum(n for _, n in result.evidence.dropped_by) == len(selected) - logged
        checked += 1
    assert checked == 131
