"""`sysmon-rules coverage` from the outside: formats, the JSON object's shape, layers, exit codes."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from click.testing import CliRunner

from sysmon_rules.cli import main, run

CONFIG = textwrap.dedent("""\
    <Sysmon schemaversion="4.90"><EventFiltering>
      <RuleGroup groupRelation="or"><ProcessCreate onmatch="include">
        <Image name="technique_id=T1105,technique_name=Ingress Tool Transfer" condition="end with">\\wget.exe</Image>
        <ParentImage name="technique_id=T1218" condition="is">c:\\windows\\EXPLORER.exe</ParentImage>
      </ProcessCreate></RuleGroup>
      <RuleGroup groupRelation="or"><ProcessCreate onmatch="exclude">
        <ParentImage condition="is">C:\\Windows\\explorer.exe</ParentImage>
        <Image name="technique_id=T1059" condition="end with">\\cmd.exe</Image>
      </ProcessCreate></RuleGroup>
    </EventFiltering></Sysmon>
    """)
RULE = textwrap.dedent("""\
    title: Wget download
    id: 11111111-1111-4111-8111-111111111111
    author: Test Author
    tags: [attack.t1105]
    logsource: {product: windows, category: process_creation}
    detection:
        selection: {Image|endswith: '\\curl.exe'}
        condition: selection
    """)


def _files(tmp_path: Path) -> tuple[str, str]:
    (tmp_path / "c.xml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "r.yml").write_text(RULE, encoding="utf-8")
    return str(tmp_path / "c.xml"), str(tmp_path / "r.yml")


def test_json_has_the_documented_keys_and_a_summary(tmp_path: Path) -> None:
    config, rule = _files(tmp_path)
    out = tmp_path / "out.json"
    result = CliRunner().invoke(main, ["coverage", config, "--sigma", rule, "--format", "json", "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text("utf-8"))
    assert data["summary"]["dropped"] == 1 and data["summary"]["total"] == 1
    (entry,) = data["rules"]
    assert {"id", "title", "path", "status", "event_ids", "witnesses", "reasons"} <= set(entry)
    assert entry["status"] == "dropped" and entry["event_ids"] == [1]
    for witness in entry["witnesses"]:
        assert {"EventID", "fields", "decision", "rule_name"} <= set(witness)


def test_text_and_markdown_name_the_rule_author(tmp_path: Path) -> None:
    config, rule = _files(tmp_path)
    for fmt in ("text", "markdown"):
        result = CliRunner().invoke(main, ["coverage", config, "--sigma", rule, "--format", fmt])
        assert result.exit_code == 0 and "Test Author" in result.output


def test_navigator_layers(tmp_path: Path) -> None:
    config, rule = _files(tmp_path)
    result = CliRunner().invoke(main, ["coverage", config, "--sigma", rule, "--format", "navigator"])
    layer = json.loads(result.output)
    assert layer["domain"] == "enterprise-attack" and layer["versions"]["layer"] == "4.5"
    assert [t["techniqueID"] for t in layer["techniques"]] == ["T1105"]
    result = CliRunner().invoke(main, ["coverage", config, "--format", "navigator-config"])
    own = json.loads(result.output)
    # The exclude rule's T1059 never counts, nor T1218 (its events are all excluded); T1105 does.
    assert [t["techniqueID"] for t in own["techniques"]] == ["T1105"]


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, capsys: object) -> None:
    config, _ = _files(tmp_path)
    import pytest

    with pytest.raises(SystemExit) as exit_info:
        run(["coverage", config, "--sigma", str(tmp_path / "missing.yml")])
    assert exit_info.value.code == 2
    result = CliRunner().invoke(main, ["coverage", config])
    assert result.exit_code == 2 and "--sigma" in result.output
