"""`sysmon-rules lint`: SARIF 2.1.0 as code scanning requires it, JSON, text, exit codes; the corpus."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from click.testing import CliRunner

from sysmon_rules.cli import main
from sysmon_rules.lint import RULES, VALIDATION_CODES, VALIDATION_FAMILY, lint_file

BAD = ('<Sysmon schemaversion="4.90"><EventFiltering><RuleGroup name="" groupRelation="or">\n'
       '<ProcessCreate onmatch="exclude"><Image condition="end with">\\updater.exe</Image></ProcessCreate>\n'
       '</RuleGroup></EventFiltering></Sysmon>')


def _file(tmp_path: Path, text: str = BAD) -> str:
    path = tmp_path / "config.xml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_sarif_has_what_github_code_scanning_requires(tmp_path: Path) -> None:
    # SARIF 2.1.0 (OASIS) and GitHub's "SARIF support for code scanning": version, $schema, runs[].tool.
    # driver.name and rules (id, shortDescription, help), results with ruleId, level, message.text and a
    # physicalLocation with artifactLocation.uri and region.startLine/startColumn (1-based).
    out = tmp_path / "lint.sarif"
    result = CliRunner().invoke(main, ["lint", "--format", "sarif", "-o", str(out), _file(tmp_path)])
    assert result.exit_code == 0  # a warning only; the default --fail-on is error
    sarif = json.loads(out.read_text("utf-8"))
    assert sarif["version"] == "2.1.0" and sarif["$schema"].endswith("sarif-2.1.0.json")
    driver = sarif["runs"][0]["tool"]["driver"]
    assert driver["name"] == "sysmon-rules"
    ids = [r["id"] for r in driver["rules"]]
    assert sorted(ids) == sorted((set(RULES) - {VALIDATION_FAMILY}) | set(VALIDATION_CODES))
    assert len(set(ids)) == len(ids)
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["help"]["text"]
        assert rule["defaultConfiguration"]["level"] in {"error", "warning", "note"}
    (finding,) = sarif["runs"][0]["results"]
    assert finding["ruleId"] == "bypassable-exclude" and ids[finding["ruleIndex"]] == finding["ruleId"]
    assert finding["level"] == "warning" and "updater.exe" in finding["message"]["text"]
    physical = finding["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"].endswith("config.xml")
    assert physical["region"] == {"startLine": 2, "startColumn": 34}


def test_text_json_and_exit_codes(tmp_path: Path) -> None:
    path = _file(tmp_path)
    text = CliRunner().invoke(main, ["lint", path, "--fail-on", "warning"])
    assert text.exit_code == 1
    assert text.stdout.startswith(f"{path}:2:34: warning[bypassable-exclude]: ")
    assert CliRunner().invoke(main, ["lint", path, "--fail-on", "never"]).exit_code == 0
    assert CliRunner().invoke(main, ["lint", path, "--ignore", "bypassable-exclude",
                                     "--fail-on", "warning"]).exit_code == 0
    report = json.loads(CliRunner().invoke(main, ["lint", path, "--format", "json"]).stdout)
    assert report[0]["findings"][0]["code"] == "bypassable-exclude"
    assert CliRunner().invoke(main, ["lint", path, "--select", "no-such-code"]).exit_code == 2
    broken = CliRunner().invoke(main, ["lint", _file(tmp_path, "<Sysmon")])
    assert broken.exit_code == 1 and ": error[xml-syntax]: malformed XML" in broken.stdout


def test_corpus_lints_without_a_crash(shared_dir: Path) -> None:
    counts: Counter[str] = Counter()
    files = sorted((shared_dir / "corpus" / "configs").rglob("*.xml"))
    for path in files:
        counts.update(d.code for d in lint_file(path))
    assert len(files) == 404
    # The three files Sysmon rejects are reported as invalid (under the validator's codes), and nothing else is.
    assert sum(counts[code] for code in VALIDATION_CODES) == 3
    assert set(counts) <= set(RULES) | set(VALIDATION_CODES)


def test_docs_show_every_rule_with_the_tested_examples(project_root: Path) -> None:
    import re

    from test_lint_rules import CASES

    doc = (project_root / "docs" / "lint-rules.md").read_text("utf-8")
    assert [m for m in re.findall(r"^## `([a-z-]+)`", doc, re.M)] == list(RULES)
    for code, rule in RULES.items():  # each heading's paragraph is the catalog's summary and help
        assert f"## `{code}` ({rule.severity})\n\n**{rule.summary}.** {rule.help}\n" in doc, code
    for bad, good in CASES.values():
        for xml in (bad, good):
            inner = re.search(r"<EventFiltering>(.*)</EventFiltering>", xml.decode(), re.S)
            assert inner is not None
            first = re.search(r"<(?!RuleGroup)[A-Za-z]+[^>]*>", inner.group(1))
            assert first is not None and first.group() in doc


def test_pre_commit_hook_runs_the_lint_command(project_root: Path) -> None:
    hook = (project_root / ".pre-commit-hooks.yaml").read_text("utf-8")
    assert "id: sysmon-rules-lint" in hook and "entry: sysmon-rules lint" in hook


def test_sarif_rule_id_is_the_validators_own_code(tmp_path: Path) -> None:
    bad = _file(tmp_path, BAD.replace('condition="end with"', 'condition="ends with"'))
    result = CliRunner().invoke(main, ["lint", "--format", "sarif", bad])
    assert result.exit_code == 1
    run = json.loads(result.stdout)["runs"][0]
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    (finding,) = [r for r in run["results"] if r["level"] == "error"]
    assert finding["ruleId"] == "unknown-condition" == ids[finding["ruleIndex"]]
    assert CliRunner().invoke(main, ["lint", "--ignore", "invalid-config", bad]).exit_code == 0
