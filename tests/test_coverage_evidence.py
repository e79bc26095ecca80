"""Evidence mode on SigmaHQ's regression captures, checked against pySigma's own SQLite backend.

For every capture (EVTX beside the rule, found automatically) under each real-world config:
coverage's ``evidence`` says N events match the rule and K are logged. Independently, pySigma's
SQLite backend (with its Sysmon pipeline: log source -> EventID) turns the rule into SQL, which
runs over a table of the capture's events; the evaluator decides the rows it selects. N and K
must be the same, for every case.
"""

from __future__ import annotations

import re
import sqlite3
import warnings
from pathlib import Path

import pytest

import sysmon_rules as sr
from sigma_corpus import captures, rule_files
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


def _regexp(pattern: str, value: object) -> bool:
    return value is not None and re.search(pattern, str(value)) is not None


def _split_top(text: str) -> tuple[list[str], list[str]]:
    """``text`` cut at its top-level `` OR ``/`` AND `` (outside quotes and parentheses)."""
    parts, seps, depth, start, i, quoted = [], [], 0, 0, 0, False
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == "'":
                if text[i + 1:i + 2] == "'":
                    i += 1
                else:
                    quoted = False
        elif ch == "'":
            quoted = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0:
            for sep in (" OR ", " AND "):
                if text.startswith(sep, i):
                    parts.append(text[start:i])
                    seps.append(sep)
                    i += len(sep)
                    start = i
                    break
            else:
                i += 1
                continue
            continue
        i += 1
    parts.append(text[start:])
    return parts, seps


def balanced(text: str) -> str:
    """The same SQL expression with long OR chains nested as a balanced tree.

    SQLite parses ``a OR b OR c …`` one level deeper per item and refuses depths beyond 1000;
    rules listing a thousand values (e.g. package names) hit that. Regrouping changes nothing.
    """
    parts, seps = _split_top(text)
    if len(parts) == 1:
        stripped = text.strip()
        if stripped.startswith("(") and stripped.endswith(")") and len(_split_top(stripped[1:-1])[0]) > 1:
            return "(" + balanced(stripped[1:-1]) + ")"
        if stripped.startswith("NOT (") and stripped.endswith(")"):
            return "NOT (" + balanced(stripped[5:-1]) + ")"
        return text
    parts = [balanced(p) for p in parts]
    if set(seps) == {" OR "}:
        while len(parts) > 16:
            parts = ["(" + " OR ".join(parts[i:i + 16]) + ")" for i in range(0, len(parts), 16)]
        return " OR ".join(parts)
    return "".join(p + s for p, s in zip(parts, [*seps, ""], strict=True))


def sql_matches(rule_text: str, events: list[Event]) -> list[Event]:
    """The events pySigma's SQLite backend selects for the rule (Sigma strings compare case-insensitively)."""
    from sigma.collection import SigmaCollection

    backend = sqlite_backend.sqliteBackend(sysmon_pipelines.sysmon_pipeline())
    queries = backend.convert(SigmaCollection.from_yaml(rule_text))
    columns = sorted({name for e in events for name in e.fields} | {"EventID"})
    db = sqlite3.connect(":memory:")
    db.create_function("regexp", 2, _regexp)
    db.execute("CREATE TABLE events (row INTEGER, " + ", ".join(f'"{c}" TEXT COLLATE NOCASE' for c in columns) + ")")
    for i, event in enumerate(events):
        fields = text_fields(event.fields)
        db.execute(f"INSERT INTO events VALUES ({', '.join('?' * (len(columns) + 1))})",
                   [i, *(str(event.event_id) if c == "EventID" else fields.get(c) for c in columns)])
    rows: set[int] = set()
    for query in queries:
        head, where = query.split(" WHERE ", 1)
        # The backend names its table "<TABLE_NAME>" (1.x) or "logs" (2.x): ours is "events".
        head = re.sub(r"\bFROM \S+", "FROM events", head, count=1)
        sql = head.replace("SELECT *", "SELECT row", 1) + " WHERE " + balanced(where)
        while True:
            try:
                rows |= {r[0] for r in db.execute(sql)}
                break
            except sqlite3.OperationalError as exc:  # a field no event of the capture has: an empty column
                missing = re.fullmatch(r"no such column: (\S+)", str(exc))
                assert missing, (exc, sql)
                db.execute(f'ALTER TABLE events ADD COLUMN "{missing.group(1)}" TEXT COLLATE NOCASE')
    return [events[i] for i in sorted(rows)]


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
