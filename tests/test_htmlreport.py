"""The HTML report without a browser: what each section shows, against independent sources.

Numbers are checked against `sysmon-rules evaluate --format json` of the same inputs (its own
event loop), lint findings against `lint_file`, rule-set counts against the XML read by hand.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import lxml.html
import pytest
import yaml
from click.testing import CliRunner

import sysmon_rules
from conftest import SHARED
from sysmon_rules.cli import main, run
from sysmon_rules.htmlreport import collect
from sysmon_rules.htmlreport.page import renderer_script
from sysmon_rules.lint import lint_file

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "sysmonconfig.xml"
EXAMPLE_EVENTS = ROOT / "examples" / "events.jsonl"
MODULAR = "corpus/configs/sysmon-modular/sysmonconfig.xml"
SWIFT = "corpus/configs/swiftonsecurity/sysmonconfig-export.xml"
SIGMA = ("corpus/sigma/rules/windows/pipe_created", "corpus/sigma/rules/windows/dns_query")
MAX_BYTES = 5_000_000


def resolve(doc: Any, pointer: str) -> Any:
    """The value at a JSON Pointer (RFC 6901)."""
    for raw in pointer.split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


def shown(text: str) -> int:
    return int(text.strip().replace(",", "").replace("\u2212", "-"))


def evaluate_json(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["evaluate", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def write_report(tmp: Path, *args: str) -> Path:
    out = tmp / "report.html"
    result = CliRunner().invoke(main, ["report", *args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def corpus_page(out_dir: Path) -> tuple[Path, dict[str, Any]]:
    """The corpus report (sysmon-modular vs SwiftOnSecurity over every EVTX, two folders of Sigma rules)
    and evaluate's JSON of the same replay."""
    assert SHARED is not None
    config, other, evtx = str(SHARED / MODULAR), str(SHARED / SWIFT), str(SHARED / "corpus" / "evtx")
    sigma = [arg for path in SIGMA for arg in ("--sigma", str(SHARED / path))]
    page = write_report(out_dir, config, "--events", evtx, "--compare", other, "--budget", "50", *sigma)
    return page, evaluate_json(config, evtx, "--compare", other, "--budget", "50")


@cache
def corpus_coverage() -> dict[str, Any]:
    """The readiness of the SIGMA rules under sysmon-modular, straight from the coverage library."""
    from sysmon_rules.readiness import coverage

    assert SHARED is not None
    return coverage(SHARED / MODULAR, [str(SHARED / p) for p in SIGMA]).to_dict()


@pytest.fixture(scope="session")
def corpus_report(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """Made once per session: this module and the browser test read the same page."""
    return corpus_page(tmp_path_factory.mktemp("corpus-report"))


def test_every_number_from_the_replay_equals_evaluate_json(corpus_report: tuple[Path, dict[str, Any]]) -> None:
    page, doc = corpus_report
    tree = lxml.html.fromstring(page.read_bytes())
    cells = tree.xpath("//*[@data-json]")
    pointers = {c.get("data-json") for c in cells}
    for cell in cells:
        assert shown(cell.text_content()) == resolve(doc, cell.get("data-json")), cell.get("data-json")
    # The page shows every per-event-type count and every RuleName row, for both configs.
    for event_id in doc["by_event_id"]:
        assert f"/by_event_id/{event_id}/include" in pointers and f"/by_event_id/{event_id}/exclude" in pointers
    assert {f"/rule_names/{i}/events" for i in range(len(doc["rule_names"]))} <= pointers
    assert {f"/compare/rule_names/{i}/delta" for i in range(len(doc["compare"]["rule_names"]))} <= pointers
    assert {"/events", "/included", "/excluded", "/skipped", "/compare/changed"} <= pointers
    volume = doc["volume"]  # per day, per host, per RuleName and over budget (--budget 50)
    assert {f"/volume/per_day/{i}/logged" for i in range(len(volume["per_day"]))} <= pointers
    assert {f"/volume/hosts_logged/{i}/logged" for i in range(len(volume["hosts_logged"]))} <= pointers
    assert {f"/volume/rule_names/{i}/host_days_over_budget" for i in range(len(volume["rule_names"]))} <= pointers
    assert volume["over_budget"] and {f"/volume/over_budget/{i}/logged"
                                      for i in range(len(volume["over_budget"]))} <= pointers
    files = tree.xpath("//*[@data-json-count]")
    assert [shown(f.text_content()) for f in files] == [len(doc["files"])]


def test_plot_data_equals_evaluate_json(corpus_report: tuple[Path, dict[str, Any]]) -> None:
    page, doc = corpus_report
    tree = lxml.html.fromstring(page.read_bytes())
    specs = json.loads(tree.get_element_by_id("report-specs").text)
    element = tree.xpath("//div[@data-chart='decisions-by-event']")[0].get("id")
    rows = [r for data in specs[element]["datasets"].values() for r in data]
    per_id: dict[str, dict[str, int]] = {}
    for r in rows:
        per_id.setdefault(r["label"].split()[0], {})[r["decision"]] = r["count"]
    assert per_id == {k: {"logged": v["include"], "dropped": v["exclude"]} for k, v in doc["by_event_id"].items()}
    moves = tree.xpath("//div[@data-chart='rule-name-moves']")[0].get("id")
    bars = [(r["label"], r["delta"]) for data in specs[moves]["datasets"].values() for r in data]
    assert bars == [(r["rule_name"], r["delta"]) for r in doc["compare"]["rule_names"][:len(bars)]] and bars


def test_corpus_report_is_small_and_self_contained(corpus_report: tuple[Path, dict[str, Any]]) -> None:
    page, _ = corpus_report
    data = page.read_bytes()
    assert len(data) < MAX_BYTES
    tree = lxml.html.fromstring(data)
    assert not tree.xpath("//script[@src] | //link | //img[@src] | //iframe | //object")
    assert not [a for a in tree.xpath("//a/@href") if not a.startswith("#")]
    assert [s.get("id") for s in tree.xpath("//section")] == ["config", "replay", "compare", "readiness"]


def test_readiness_as_coverage_judges_it(corpus_report: tuple[Path, dict[str, Any]]) -> None:
    page, _ = corpus_report
    doc = corpus_coverage()
    tree = lxml.html.fromstring(page.read_bytes())
    counts = tree.xpath("//*[@data-coverage]")
    assert {c.get("data-coverage") for c in counts} == {f"/summary/{k}" for k in doc["summary"]}
    for cell in counts:
        assert shown(cell.text_content()) == resolve(doc, cell.get("data-coverage"))
    rows = tree.xpath("//section[@id='readiness']//table[.//th[.='Sigma rule']]/tbody/tr")
    shown_status = sorted((r[0].text_content(), r[1].text_content()) for r in rows)
    assert shown_status == sorted((r["title"] + Path(r["path"]).name, r["status"]) for r in doc["rules"])


def test_heatmap_names_every_technique_the_rule_files_tag(corpus_report: tuple[Path, dict[str, Any]]) -> None:
    page, _ = corpus_report
    assert SHARED is not None
    tagged = set()
    for folder in SIGMA:  # the Sigma files read here with yaml, not through coverage
        for rule_file in (SHARED / folder).rglob("*.yml"):
            for rule_tag in yaml.safe_load(rule_file.read_text("utf-8")).get("tags") or ():
                if re.fullmatch(r"attack\.t\d{4}(\.\d{3})?", rule_tag):
                    tagged.add(rule_tag[7:12].upper())
    tree = lxml.html.fromstring(page.read_bytes())
    specs = json.loads(tree.get_element_by_id("report-specs").text)
    element = tree.xpath("//div[@data-chart='attack-heatmap']")[0].get("id")
    tiles = [r for data in specs[element]["datasets"].values() for r in data]
    assert tagged and {t["technique"] for t in tiles} == tagged
    assert all(0 <= t["score"] <= 1 for t in tiles if t["score"] is not None)


def example_variant(folder: Path) -> Path:
    """The example config without its PowerShell include and with the updater exclude moved elsewhere:
    the example's PowerShell event (line 1) is newly dropped, the cmd.exe that Google Update starts
    (line 2) newly logged."""
    text = EXAMPLE.read_text("utf-8")
    variant = folder / "variant.xml"
    variant.write_text(text.replace(next(line for line in text.splitlines(True) if "powershell.exe" in line), "")
                       .replace(r"C:\Program Files (x86)\Google\Update\GoogleUpdate.exe", r"C:\Other\Updater.exe"))
    return variant


def per_change_page(folder: Path) -> Path:
    return write_report(folder, str(EXAMPLE), "--compare", str(example_variant(folder)), "--events",
                        str(EXAMPLE_EVENTS), "--per-change")


def test_per_change_as_diff_reports_it(tmp_path: Path) -> None:
    page = per_change_page(tmp_path)
    variant = tmp_path / "variant.xml"
    result = CliRunner().invoke(main, ["diff", str(EXAMPLE), str(variant), "--events", str(EXAMPLE_EVENTS),
                                       "--format", "json"])
    assert result.exit_code == 1, result.output  # behaviour differs
    doc = json.loads(result.stdout)
    tree = lxml.html.fromstring(page.read_bytes())
    cells = tree.xpath("//*[@data-diff]")
    assert len(cells) == 4 + 3 * len(doc["replay"]["groups"])
    for cell in cells:
        assert shown(cell.text_content()) == resolve(doc, cell.get("data-diff")), cell.get("data-diff")
    groups = doc["replay"]["groups"]
    examples = {(e["origin"].rsplit(":", 1)[1], g["newly_dropped"], g["newly_logged"])
                for g in groups for e in g["examples"]}
    assert examples == {("1", 1, 0), ("2", 0, 1)}
    replay = evaluate_json(str(EXAMPLE), str(EXAMPLE_EVENTS), "--compare", str(variant))["compare"]
    assert sum(g["newly_logged"] for g in groups) == sum(r["now_included"] for r in replay["by_event_id"])
    assert sum(g["newly_dropped"] for g in groups) == sum(r["now_excluded"] for r in replay["by_event_id"])


def test_a_rule_blob_reads_as_the_config_it_was_compiled_from(tmp_path: Path) -> None:
    blob = tmp_path / "rules.reg"  # what a host runs, as regedit exports it
    assert CliRunner().invoke(main, ["compile", str(EXAMPLE), "-o", str(blob), "--format", "reg"]).exit_code == 0
    xml, compiled = collect(EXAMPLE, compare=blob, events=[EXAMPLE_EVENTS]), collect(blob)
    assert compiled.config["kind"] == "rule blob" and compiled.config["lint"] == []
    for key in ("schema_version", "binary_version", "rule_sets", "filters", "event_types"):
        assert compiled.config[key] == xml.config[key], key
    assert xml.replay is not None and xml.replay["compare"]["changed"] == 0
    assert xml.replay["compare"]["rule_names"] == []


def test_lint_findings_are_listed_with_file_and_line(corpus_report: tuple[Path, dict[str, Any]]) -> None:
    page, _ = corpus_report
    assert SHARED is not None
    findings = lint_file(SHARED / MODULAR)
    assert findings  # sysmon-modular has known warnings (duplicates, bypassable excludes)
    tree = lxml.html.fromstring(page.read_bytes())
    listed = tree.xpath("//section[@id='config']//details//tbody/tr")
    assert [(r[0].text_content(), r[2].text_content()) for r in listed] == \
        [(f"{SHARED / MODULAR}:{d.location.line}:{d.location.column}", d.code) for d in findings]


def test_config_facts_of_the_example_as_its_xml_says() -> None:
    facts = collect(EXAMPLE).config
    rows = {r["event"]: r for r in facts["event_types"]}  # type: ignore[attr-defined]
    # ProcessCreate: include = 2 Image + a Rule of 2 filters; exclude = 1 ParentImage. NetworkConnect: 1 port.
    assert rows["ProcessCreate (1)"] == {"event_id": 1, "event": "ProcessCreate (1)", "include_sets": 1,
                                         "exclude_sets": 1, "include_filters": 4, "exclude_filters": 1}
    assert rows["NetworkConnect (3)"]["include_filters"] == 1 and len(rows) == 2
    assert [(o["name"], o["value"]) for o in facts["options"]] == [  # type: ignore[attr-defined]
        ("HashAlgorithms", "sha256,imphash"), ("CheckRevocation", "")]
    assert facts["schema_version"] == "4.90"


def test_sections_appear_only_with_their_inputs(tmp_path: Path) -> None:
    alone = lxml.html.fromstring(write_report(tmp_path, str(EXAMPLE)).read_bytes())
    assert [s.get("id") for s in alone.xpath("//section")] == ["config"]
    assert not alone.xpath("//*[@data-json]")
    replayed = lxml.html.fromstring(write_report(tmp_path, str(EXAMPLE), "--events", str(EXAMPLE_EVENTS))
                                    .read_bytes())
    assert [s.get("id") for s in replayed.xpath("//section")] == ["config", "replay"]
    compared = lxml.html.fromstring(write_report(tmp_path, str(EXAMPLE), "--compare", str(EXAMPLE)).read_bytes())
    assert [s.get("id") for s in compared.xpath("//section")] == ["config", "compare"]


def test_names_from_the_config_are_escaped(tmp_path: Path) -> None:
    hostile = '</script><img src=x onerror="alert(1)">'
    config = tmp_path / "hostile.xml"
    config.write_text('<Sysmon schemaversion="4.90"><EventFiltering><ProcessCreate onmatch="include">'
                      f'<Image name="{hostile.replace("<", "&lt;").replace(chr(34), "&quot;")}" '
                      'condition="end with">\\cmd.exe</Image></ProcessCreate></EventFiltering></Sysmon>')
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps({"EventID": 1, "fields": {"Image": r"C:\Windows\System32\cmd.exe"}}) + "\n")
    data = write_report(tmp_path, str(config), "--events", str(events)).read_text("utf-8")
    assert "<img" not in data.replace(renderer_script(), "")  # the renderer's own code mentions <img
    tree = lxml.html.fromstring(data)
    assert not tree.xpath("//img") and len(tree.xpath("//script")) == 2
    assert [td.text_content() for td in tree.xpath("//section[@id='replay']//td[contains(., 'onerror')]")] == \
        [hostile]  # as text, in the every-RuleName table


def test_library_and_command_make_the_same_page(tmp_path: Path) -> None:
    page = write_report(tmp_path, str(EXAMPLE), "--events", str(EXAMPLE_EVENTS)).read_text("utf-8")
    again = sysmon_rules.html_report(EXAMPLE, events=[EXAMPLE_EVENTS])

    def stable(html: str) -> str:  # the subtitle carries the time it was made
        return lxml.html.tostring(lxml.html.fromstring(html).get_element_by_id("config")).decode()

    assert stable(page) == stable(again)


@pytest.mark.parametrize(("args", "message"), [
    (["/no/such.xml"], "/no/such.xml: error[no-input]: no such file or folder"),
    ([str(EXAMPLE), "--events", "/no/such.evtx"], "/no/such.evtx: error[no-input]: no such file or folder"),
    ([str(EXAMPLE), "--compare", "/no/other.xml"], "/no/other.xml: error[no-input]: no such file or folder"),
    ([str(ROOT / "README.md")], "README.md: error[source]: not an XML config, a rule blob"),
])
def test_bad_input_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                               message: str) -> None:
    out = tmp_path / "report.html"
    with pytest.raises(SystemExit) as exit_info:
        run(["report", *args, "-o", str(out)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and message in err and err.count("\n") == 1, err
    assert not out.exists()


def test_an_unwritable_output_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run(["report", str(EXAMPLE), "-o", str(tmp_path / "no" / "report.html")])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1 and "report.html: error[file-access]" in err


def test_output_never_overwrites_an_input(tmp_path: Path) -> None:
    config = tmp_path / "config.xml"
    config.write_bytes(EXAMPLE.read_bytes())
    result = CliRunner().invoke(main, ["report", str(config), "-o", str(config)])
    assert result.exit_code == 2 and config.read_bytes() == EXAMPLE.read_bytes()
