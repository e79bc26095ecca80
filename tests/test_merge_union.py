"""``merge --style union`` is exact: the merged config decides as the formula over the modules' own
decisions says (sysmon_rules.merging.oracle), checked by the evaluator on random module sets and on
the real sysmon-modular trees with every real event and witnesses drawn for each module.

Heavy variants: SYSMON_RULES_MERGE_FULL=1 replays every real event and draws witnesses for every
module of both trees (``make bench`` runs it).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import sysmon_rules as sr
from sysmon_rules.collectors import read
from sysmon_rules.merging import merge
from sysmon_rules.merging.modules import load_module
from sysmon_rules.merging.oracle import UnionOracle
from sysmon_rules.schema import field_types
from sysmon_rules.testing import strategies as sst

FULL = bool(os.environ.get("SYSMON_RULES_MERGE_FULL"))
TREES = ("corpus/sysmon-modular-a9ff298", "corpus/configs/sysmon-modular")

# Few fields and short values, so random events hit random rules often.
FIELDS = {"ProcessCreate": ("Image", "CommandLine", "User"), "RegistryEvent": ("TargetObject", "Details", "EventType"),
          "DnsQuery": ("QueryName", "Image")}
IDS = {"ProcessCreate": (1,), "RegistryEvent": (12, 13, 14), "DnsQuery": (22,)}
VALUES = st.sampled_from(["a", "b", "ab", "ba", "abc", "c"])
CONDITIONS = st.sampled_from(["is", "contains", "begin with", "end with", "is not", "excludes", "contains any"])
NAMES = st.one_of(st.none(), st.sampled_from(["n1", "n2", "n3"]))


def _attr(key: str, value: str | None) -> str:
    return f' {key}="{value}"' if value is not None else ""


@st.composite
def _filter(draw: st.DrawFn, element: str) -> str:
    field = draw(st.sampled_from(FIELDS[element]))
    return (f"<{field}{_attr('condition', draw(CONDITIONS))}{_attr('name', draw(NAMES))}>"
            f"{draw(VALUES)}</{field}>")


@st.composite
def _item(draw: st.DrawFn, element: str) -> str:
    if draw(st.integers(0, 3)):
        return draw(_filter(element))
    relation = draw(st.sampled_from([None, "and", "or"]))
    inner = "".join(draw(st.lists(_filter(element), min_size=1, max_size=3)))
    return f"<Rule{_attr('name', draw(NAMES))}{_attr('groupRelation', relation)}>{inner}</Rule>"


@st.composite
def module_xml(draw: st.DrawFn) -> str:
    """A module: RuleGroups (named or not, and/or) and bare event elements, Rule groups, empty sets."""
    version = draw(st.sampled_from(["4.10", "4.22", "4.50", "4.90"]))  # 4.10: bare elements default to or
    nodes = []
    for _ in range(draw(st.integers(1, 3))):
        element = draw(st.sampled_from(sorted(FIELDS)))
        items = "".join(draw(st.lists(_item(element), max_size=3)))
        event = f'<{element} onmatch="{draw(st.sampled_from(["include", "exclude"]))}">{items}</{element}>'
        if draw(st.booleans()):
            relation = draw(st.sampled_from(["and", "or"]))
            nodes.append(f"<RuleGroup{_attr('name', draw(NAMES))} groupRelation=\"{relation}\">{event}</RuleGroup>")
        else:
            nodes.append(event)
    return f'<Sysmon schemaversion="{version}"><EventFiltering>{"".join(nodes)}</EventFiltering></Sysmon>'


@st.composite
def small_events(draw: st.DrawFn) -> sr.Event:
    element = draw(st.sampled_from(sorted(FIELDS)))
    event_id = draw(st.sampled_from(IDS[element]))
    # the element's fields that this id's events carry (a RegistryEvent set filters Details, which
    # only event 13 has: Event refuses it for 12 and 14)
    names = [name for name in FIELDS[element] if name in field_types(event_id)]
    fields = draw(st.dictionaries(st.sampled_from(names), st.text("abc", max_size=4), max_size=3)) if names else {}
    return sr.Event(event_id, fields)


def _as_needed(module_path: str) -> sr.Config:
    """A module as the union reads it: at the schema version its content needs."""
    module, _ = load_module(module_path)
    return replace(module.config, schema_version=module.needs)


def _assert_agrees(merged: sr.Evaluator, oracle: UnionOracle, event: sr.Event) -> bool:
    """The merged decision is the formula's; the RuleName too when the deciding set names it itself."""
    expected = oracle.expect(event)
    got = merged.decide(event)
    assert got.decision == expected.decision, (event, expected, got)
    if expected.decision == "include" and expected.name_is_own:
        assert got.rule_name == expected.rule_name, (event, expected, got)
        return True
    return False


@settings(max_examples=int(os.environ.get("SYSMON_RULES_MERGE_EXAMPLES", "50")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
# sst.configs at 4.90: at 4.22 it can draw a ClipboardChange with Path, which Sysmon's walk rejects.
@given(st.lists(st.one_of(module_xml(), sst.configs("4.90", max_events=2).map(sr.to_xml)), min_size=1, max_size=4),
       st.lists(small_events(), min_size=1, max_size=8), st.data())
def test_union_decides_as_the_formula_over_the_modules(texts: list[str], events: list[sr.Event],
                                                       data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for i, text in enumerate(texts):
            path = Path(folder) / f"m{i}.xml"
            path.write_text(text, "utf-8")
            try:
                load_module(path)
            except sr.SysmonRulesError:
                assume(False)
            paths.append(path)
        result = merge(paths)
        modules = [_as_needed(p) for p in result.modules]
    merged = sr.Evaluator(result.config)
    oracle = UnionOracle(modules)
    witness_of = data.draw(st.sampled_from(modules))
    witnesses = [data.draw(sst.events_matching(witness_of))] if sst.rules_of(witness_of) else []
    for event in [*events, *witnesses]:
        _assert_agrees(merged, oracle, event)


def test_two_exclude_sets_get_a_catch_all_include_set(tmp_path: Path, project_root: Path) -> None:
    result = merge([project_root / "examples" / "modules"])
    evaluator = sr.Evaluator(result.config)
    # DnsQuery: two exclude modules, no include module: what neither excludes is logged ...
    assert evaluator.decide(sr.Event(22, {"QueryName": "example.org"})).decision == "include"
    assert evaluator.decide(sr.Event(22, {"QueryName": "x.windowsupdate.com"})).decision == "exclude"
    # ... which the two sets side by side would not do (Sysmon drops it: two sets, no match).
    naive = sr.loads(result.text.replace("<RuleName condition=\"is\">-</RuleName>", ""))
    assert sr.Evaluator(naive).decide(sr.Event(22, {"QueryName": "example.org"})).decision == "exclude"
    # ProcessCreate: the include module names what it logs; the AND exclude keeps its relation.
    shell = {"Image": "C:\\Windows\\System32\\cmd.exe", "ParentImage": "C:\\x.exe"}
    assert evaluator.decide(sr.Event(1, shell)) == sr.Decision("include", "shells")
    agent = {**shell, "ParentImage": "C:\\Program Files\\Backup\\agent.exe", "User": "NT AUTHORITY\\SYSTEM"}
    assert evaluator.decide(sr.Event(1, agent)).decision == "exclude"
    assert evaluator.decide(sr.Event(1, {**agent, "User": "alice"})).decision == "include"


def test_output_is_deterministic_and_names_each_module(project_root: Path) -> None:
    first = merge([project_root / "examples" / "modules"]).data()
    assert first == merge([project_root / "examples" / "modules"]).data()
    for module in (project_root / "examples" / "modules").glob("*.xml"):
        assert f"<!-- module: examples/modules/{module.name} -->".encode() in first or \
            f"module: {module.as_posix()}".encode() in first


@pytest.fixture(scope="module", params=TREES)
def real_tree(request: pytest.FixtureRequest, shared_dir: Path) -> tuple[sr.Evaluator, UnionOracle, list[sr.Config]]:
    """The union of a real tree (the one module Sysmon rejects skipped) and its oracle."""
    result = merge([shared_dir / request.param], skip_invalid=True)
    modules = [_as_needed(p) for p in result.modules]
    return sr.Evaluator(result.config), UnionOracle(modules), modules


def test_union_of_the_real_trees_replays_every_real_event(
        shared_dir: Path, real_tree: tuple[sr.Evaluator, UnionOracle, list[sr.Config]]) -> None:
    merged, oracle, _ = real_tree
    events = list(read(shared_dir / "corpus" / "evtx"))
    sample = events if FULL else events[::10]
    named = sum(_assert_agrees(merged, oracle, event) for event in sample)
    assert len(sample) >= (3000 if FULL else 300) and named > len(sample) // 4


def test_union_of_the_real_trees_on_witnesses_of_each_module(
        real_tree: tuple[sr.Evaluator, UnionOracle, list[sr.Config]]) -> None:
    merged, oracle, modules = real_tree

    @settings(max_examples=5 if FULL else 2, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def witnesses(module: sr.Config, data: st.DataObject) -> None:
        _assert_agrees(merged, oracle, data.draw(sst.events_matching(module)))

    for module in modules if FULL else modules[::25]:
        if sst.rules_of(module):
            witnesses(module)  # type: ignore[call-arg]


def test_a_module_sysmon_rejects_can_be_skipped_and_is_counted(shared_dir: Path) -> None:
    tree = shared_dir / TREES[0]
    with pytest.raises(sr.ConfigValidationError, match=r"include_cve_2021_40444\.xml:2:2"):
        merge([tree])
    result = merge([tree], skip_invalid=True)
    skipped = [d for d in result.diagnostics if d.code == "module-skipped"]
    assert [d.location.path for d in skipped] == [str(tree / "11_file_create" / "include_cve_2021_40444.xml")]
    raised = {d.location.path.rsplit("/", 1)[-1] for d in result.diagnostics if d.code == "schema-raised"}
    assert raised == {"include_html_smuggling.xml", "exclude_microsoft_prefetch.xml"}
    assert result.config.schema_version == "4.90"


def _module(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text(f'<Sysmon schemaversion="4.90"><EventFiltering>{body}</EventFiltering></Sysmon>', "utf-8")
    return path


def _options_dword(config: sr.Config) -> str:
    from sysmon_rules.blob.compile import compile_config
    from sysmon_rules.blob.regfile import render_reg

    compiled = compile_config(config)
    text = render_reg(config, compiled.table, compiled.data)
    return next(line for line in text.splitlines() if line.startswith('"Options"'))


def test_an_include_nothing_module_does_not_switch_image_loads_off(tmp_path: Path) -> None:
    # Sysmon's post-pass: ImageLoad is on unless its LAST rule set is an empty onmatch="include".
    rules = _module(tmp_path, "a.xml", '<RuleGroup groupRelation="or"><ImageLoad onmatch="include">'
                                       '<ImageLoaded condition="end with">x.dll</ImageLoaded></ImageLoad></RuleGroup>')
    nothing = _module(tmp_path, "b.xml", '<RuleGroup groupRelation="or"><ImageLoad onmatch="include" /></RuleGroup>')
    for order in ([rules, nothing], [nothing, rules]):
        result = merge(order)
        assert _options_dword(result.config) == '"Options"=dword:00000002'
        assert any(d.code == "empty-set-dropped" for d in result.diagnostics)
    alone = merge([nothing])  # include nothing, and nothing else: the event stays off
    assert _options_dword(alone.config) == '"Options"=dword:00000000'


def test_option_policy_and_conflicts_are_reported(tmp_path: Path) -> None:
    def module(name: str, options: str, body: str) -> Path:
        path = tmp_path / name
        path.write_text(f'<Sysmon schemaversion="4.90">{options}<EventFiltering>{body}</EventFiltering></Sysmon>',
                        "utf-8")
        return path

    include = ('<RuleGroup groupRelation="or"><ProcessCreate onmatch="include">'
               '<Image condition="end with">\\cmd.exe</Image></ProcessCreate></RuleGroup>')
    exclude = ('<RuleGroup groupRelation="or"><ProcessCreate onmatch="exclude">'
               '<Image condition="contains">cmd</Image></ProcessCreate></RuleGroup>')
    a = module("a.xml", "<HashAlgorithms>md5</HashAlgorithms>", include)
    b = module("b.xml", "<HashAlgorithms>sha256</HashAlgorithms>", include)
    c = module("c.xml", "", exclude)
    result = merge([a, b, c])
    codes = {(d.code, Path(d.location.path or "").name) for d in result.diagnostics}
    assert codes == {("option-conflict", "b.xml"), ("duplicate-rule", "b.xml"),
                     ("include-shadowed", "a.xml"), ("include-shadowed", "b.xml")}
    assert result.config.option("HashAlgorithms").value == "md5"  # type: ignore[union-attr]
    template = module("t.xml", "<HashAlgorithms>sha1</HashAlgorithms>", "")
    fixed = merge([a, b], template=str(template))
    assert fixed.config.option("HashAlgorithms").value == "sha1"  # type: ignore[union-attr]
    assert sorted(d.code for d in fixed.diagnostics if d.code.startswith("option")) == ["option-overridden"] * 2


def test_a_merged_union_sysmon_rejects_names_the_module_of_the_failing_line() -> None:
    from sysmon_rules.merging import _in_module

    text = ('<Sysmon schemaversion="4.90"><EventFiltering>\n<!-- module: m/a.xml -->\n<RuleGroup groupRelation="or">'
            '<ProcessCreate onmatch="include"><Image condition="ends with">x</Image></ProcessCreate></RuleGroup>\n'
            "</EventFiltering></Sysmon>\n")
    error = _in_module(text, "windows")
    assert error.location.path == "m/a.xml"
    assert "line 3" in error.message and "Unknown condition: ends with" in error.message
