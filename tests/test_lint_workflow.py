"""Lint as a team keeps it in CI: baselines, suppression comments, targets, SARIF tracking, codes."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from sysmon_rules import load
from sysmon_rules.cli import main
from sysmon_rules.lint import RULES, lint_document, lint_file
from sysmon_rules.lint.versions import min_version

NEW_DEFECT = '<Image condition="end with">\\a.exe;\\b.exe</Image>'


def _modular(shared_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "sysmonconfig.xml"
    shutil.copyfile(shared_dir / "corpus" / "configs" / "sysmon-modular" / "sysmonconfig.xml", copy)
    return copy


def _insert_after_first(path: Path, anchor: str, text: str) -> None:
    data = path.read_text("utf-8-sig")
    at = data.index(anchor) + len(anchor)
    path.write_text(data[:at] + text + data[at:], "utf-8")


def test_baseline_of_sysmon_modular_passes_then_catches_a_new_defect(shared_dir: Path, tmp_path: Path) -> None:
    config, baseline = _modular(shared_dir, tmp_path), tmp_path / "baseline.json"
    run = CliRunner().invoke
    assert run(main, ["lint", "--fail-on", "warning", str(config)]).exit_code == 1  # it has warnings today
    made = run(main, ["lint", "--baseline", str(baseline), "--update-baseline", str(config)])
    assert made.exit_code == 0, made.output
    accepted = json.loads(baseline.read_text("utf-8"))["files"][config.as_posix()]
    assert len(accepted) == len(lint_file(config)) > 10
    assert run(main, ["lint", "--baseline", str(baseline), "--fail-on", "warning", str(config)]).exit_code == 0
    # Lines moving (a comment block added at the top of the rules) do not disturb the baseline ...
    _insert_after_first(config, "<EventFiltering>", "\n<!-- a\nb\nc -->\n")
    assert run(main, ["lint", "--baseline", str(baseline), "--fail-on", "warning", str(config)]).exit_code == 0
    # ... a new defect does, and only it is reported.
    _insert_after_first(config, '<ProcessCreate onmatch="include">', NEW_DEFECT)
    after = run(main, ["lint", "--baseline", str(baseline), "--fail-on", "warning", str(config)])
    assert after.exit_code == 1
    assert after.stdout.count("warning[") == 1 and "semicolon-in-single-value" in after.stdout
    assert f"({len(accepted)} in the baseline)" in after.stdout


def test_a_suppression_comment_silences_exactly_one_finding(shared_dir: Path, tmp_path: Path) -> None:
    config = _modular(shared_dir, tmp_path)
    before = lint_file(config)
    target = next(d for d in before if d.code == "short-contains")
    lines = config.read_text("utf-8-sig").split("\n")
    lines[target.location.line - 1] += f" <!-- sysmon-rules: ignore[{target.code}] -->"
    config.write_text("\n".join(lines), "utf-8")
    result = lint_document(config)
    assert result.suppressed == 1
    assert [str(d) for d in result.findings] == [str(d) for d in before if d != target]


def test_a_comment_before_the_element_and_one_that_silences_nothing() -> None:
    body = (b'<Sysmon schemaversion="4.90"><EventFiltering><RuleGroup groupRelation="or">\n'
            b'<ProcessCreate onmatch="exclude">\n'
            b'<!-- sysmon-rules: ignore[bypassable-exclude] -->\n'
            b'<Image condition="end with">\\a.exe</Image>\n'
            b'<Image condition="end with">\\b.exe</Image>\n'
            b'<!-- sysmon-rules: ignore[duplicate-filter] -->\n'
            b'<Image condition="end with">\\c.exe</Image>\n'
            b'</ProcessCreate></RuleGroup></EventFiltering></Sysmon>')
    result = lint_document(body)
    assert [(d.location.line, d.code) for d in result.findings] == [
        (5, "bypassable-exclude"), (6, "bad-suppression"), (7, "bypassable-exclude")]
    assert result.suppressed == 1


def test_fingerprints_survive_line_moves_and_tell_repeats_apart() -> None:
    body = ('<Sysmon schemaversion="4.90"><EventFiltering><RuleGroup groupRelation="or">{}'
            '<ProcessCreate onmatch="exclude"><Image condition="end with">\\a.exe</Image>'
            '<Image condition="end with">\\a.exe</Image></ProcessCreate></RuleGroup></EventFiltering></Sysmon>')
    first = lint_document(body.format("").encode())
    moved = lint_document(body.format("\n\n\n").encode())
    assert first.fingerprints == moved.fingerprints and len(set(first.fingerprints)) == len(first.fingerprints) == 3


@pytest.mark.parametrize(("target", "fires"), [("15", True), ("15.15", True), ("4.90", True), ("4.91", False)])
def test_target_sysmon_15_is_sysmon_15_not_schema_15(target: str, fires: bool) -> None:
    # DriverQueueSize came with schema 4.91, after Sysmon 15.15: "15" once meant schema 15.00 and passed.
    config = b'<Sysmon schemaversion="4.91"><DriverQueueSize>4096</DriverQueueSize><EventFiltering/></Sysmon>'
    found = [d for d in lint_file(config, target_sysmon=target) if d.code == "needs-newer-sysmon"]
    assert bool(found) == fires
    if fires:
        assert "<DriverQueueSize> needs schema 4.91" in found[0].message


def test_target_older_sysmon_rejects_blocking_events_and_new_conditions() -> None:
    config = (b'<Sysmon schemaversion="4.90"><EventFiltering><RuleGroup groupRelation="or">'
              b'<FileBlockExecutable onmatch="include"><TargetFilename condition="not end with">.txt'
              b'</TargetFilename></FileBlockExecutable></RuleGroup></EventFiltering></Sysmon>')
    messages = [d.message for d in lint_file(config, target_sysmon="13.33", select=["needs-newer-sysmon"])]
    assert any(m.startswith("<FileBlockExecutable> needs schema 4.82 (Sysmon 14.0)") for m in messages)
    assert not any("not end with" in m for m in messages)  # 4.70 has it, and 13.33 validates against 4.80
    # GetDtdFormat: Sysmon 14.0 (schema 4.82) validates a file declaring 4.90 against 4.81, which lacks
    # event 27; a file declaring 4.82 gets 4.82's own DTD.
    via = lint_file(config, target_sysmon="14.0", select=["needs-newer-sysmon"])
    assert via and "it validates this file against schema 4.81" in via[0].message
    exact = config.replace(b'"4.90"', b'"4.82"')
    assert lint_file(exact, target_sysmon="14.0", select=["needs-newer-sysmon"]) == []
    assert lint_file(exact, target_sysmon="15.15", select=["needs-newer-sysmon"]) == []


def test_min_version_is_the_first_release_whose_checks_pass(shared_dir: Path) -> None:
    modular = shared_dir / "corpus" / "configs" / "sysmon-modular" / "sysmonconfig.xml"
    found = min_version(load(modular))
    assert found.release is not None and found.release.sysmon == "15.0"  # event 29 FileExecutableDetected
    assert "FileExecutableDetected" in found.reason
    # The evaluator-side oracle: every release the table puts at or after it has no finding.
    for target in ("15.0", "15.15"):
        assert lint_file(modular, target_sysmon=target, select=["needs-newer-sysmon"]) == []
    assert lint_file(modular, target_sysmon="14.14", select=["needs-newer-sysmon"])
    out = CliRunner().invoke(main, ["lint", "--min-version", str(modular)])
    assert out.exit_code == 0 and "Sysmon 15.0 (schema 4.90) or later" in out.stdout


def test_bad_targets_and_codes_are_usage_errors_with_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "c.xml"
    path.write_bytes(b'<Sysmon schemaversion="4.90"><EventFiltering/></Sysmon>')
    bad_target = CliRunner().invoke(main, ["lint", "--target-sysmon", "sysmon15", str(path)])
    assert bad_target.exit_code == 2 and "neither a Sysmon version" in bad_target.output
    unknown = CliRunner().invoke(main, ["lint", "--target-sysmon", "16.1", str(path)])
    assert unknown.exit_code == 2 and "no Sysmon 16.x release is known" in unknown.output
    typo = CliRunner().invoke(main, ["lint", "--select", "shadowed-filtre", str(path)])
    assert typo.exit_code == 2 and "did you mean shadowed-filter?" in typo.output


def test_list_rules_text_and_json() -> None:
    from sysmon_rules.lint import VALIDATION_CODES

    text = CliRunner().invoke(main, ["lint", "--list-rules"])
    assert text.exit_code == 0 and len(text.stdout.splitlines()) == len(RULES) + len(VALIDATION_CODES)
    rows = json.loads(CliRunner().invoke(main, ["lint", "--list-rules", "--format", "json"]).stdout)
    assert [r["code"] for r in rows] == [*RULES, *VALIDATION_CODES] and all(r["summary"] for r in rows)
    assert all(r["help"] for r in rows[:len(RULES)]) and {r["family"] for r in rows[len(RULES):]} == {"invalid-config"}


def test_sarif_tracks_findings_across_commits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "configs").mkdir()
    Path("configs/c.xml").write_bytes(b'<Sysmon schemaversion="4.90"><EventFiltering><RuleGroup groupRelation="or">'
                                      b'<ProcessCreate onmatch="exclude"><Image condition="end with">\\u.exe</Image>'
                                      b'</ProcessCreate></RuleGroup></EventFiltering></Sysmon>')
    out = CliRunner().invoke(main, ["lint", "--format", "sarif", "configs/c.xml"])
    run = json.loads(out.stdout)["runs"][0]
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"] == tmp_path.resolve().as_uri() + "/"
    (result,) = run["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": "configs/c.xml",
                                                                               "uriBaseId": "SRCROOT"}
    assert len(result["partialFingerprints"]["sysmonRulesFinding/v1"]) == 32
    rule = run["tool"]["driver"]["rules"][result["ruleIndex"]]
    assert rule["helpUri"].endswith("lint-rules.md#bypassable-exclude-warning")


def test_pyproject_settings_are_defaults_the_command_line_overrides(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("c.xml").write_bytes(b'<Sysmon schemaversion="4.90"><EventFiltering><RuleGroup groupRelation="or">'
                              b'<ProcessCreate onmatch="exclude"><Image condition="end with">\\u.exe</Image>'
                              b'</ProcessCreate></RuleGroup></EventFiltering></Sysmon>')
    run = CliRunner().invoke
    Path("pyproject.toml").write_text('[tool.sysmon-rules.lint]\nfail-on = "warning"\nbaseline = "b.json"\n')
    assert run(main, ["lint", "--update-baseline", "c.xml"]).exit_code == 0 and Path("b.json").is_file()
    assert run(main, ["lint", "c.xml"]).exit_code == 0  # the baseline accepts the one warning
    Path("pyproject.toml").write_text('[tool.sysmon-rules.lint]\nfail-on = "warning"\n')
    assert run(main, ["lint", "c.xml"]).exit_code == 1
    assert run(main, ["lint", "--fail-on", "never", "c.xml"]).exit_code == 0
    Path("pyproject.toml").write_text('[tool.sysmon-rules.lint]\nfail_on = "warning"\n')
    bad = run(main, ["lint", "c.xml"])
    assert bad.exit_code == 1 and "unknown key(s) in [tool.sysmon-rules.lint]: fail_on" in str(bad.exception)


def test_unwritable_output_and_missing_or_broken_baseline_are_one_line_errors(tmp_path: Path) -> None:
    from sysmon_rules.cli import run

    path = tmp_path / "c.xml"
    path.write_bytes(b'<Sysmon schemaversion="4.90"><EventFiltering/></Sysmon>')
    (tmp_path / "broken.json").write_text("{", "utf-8")
    for args, message in ((["-o", str(tmp_path / "no" / "x.txt")], "cannot write"),
                          (["--baseline", str(tmp_path / "missing.json")], "baseline file not found"),
                          (["--baseline", str(tmp_path / "broken.json")], "not a sysmon-rules baseline")):
        with pytest.raises(SystemExit) as exit_info:
            run(["lint", *args, str(path)])
        assert exit_info.value.code == 2, message


def test_min_version_agrees_with_target_checks_on_every_corpus_config(shared_dir: Path) -> None:
    from sysmon_rules.schema.releases import RELEASES
    from sysmon_rules.validation import iter_errors
    from sysmon_rules.xml.reader import build_config, parse_document

    older = {r.sysmon: prev for prev, r in itertools.pairwise(RELEASES)}
    counted: dict[str, int] = {}
    for path in sorted((shared_dir / "corpus" / "configs").rglob("*.xml")):
        found = min_version(build_config(parse_document(path)))
        loads_today = not any(d.severity == "error" for d in iter_errors(path))
        if found.release is None:
            assert not loads_today, path  # Sysmon 15 loads it, so some release does
            continue
        counted[found.release.sysmon] = counted.get(found.release.sysmon, 0) + 1
        assert lint_file(path, target_sysmon=found.release.sysmon, select=["needs-newer-sysmon"]) == [], path
        before = older.get(found.release.sysmon)
        if before is not None and before.schema_packed >= 0x40000:
            assert lint_file(path, target_sysmon=before.sysmon, select=["needs-newer-sysmon"]), path
    assert sum(counted.values()) >= 401 - 3


def test_a_suppression_of_the_validator_family_silences_a_validator_finding() -> None:
    body = (b'<Sysmon schemaversion="4.90"><EventFiltering><ProcessCreate onmatch="include">\n'
            b'<!-- sysmon-rules: ignore[invalid-config] -->\n<Image condition="ends with">x</Image>\n'
            b'</ProcessCreate></EventFiltering></Sysmon>')
    silenced = lint_document(body)
    assert (silenced.findings, silenced.suppressed) == ([], 1)
    assert [d.code for d in lint_document(body.replace(b"ends with", b"end with")).findings] == ["bad-suppression"]
    assert lint_document(body.replace(b"ends with", b"end with"), select=["empty-value"]).findings == []
