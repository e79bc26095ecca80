"""The compiler against Sysmon's own bytes: the unit-test pairs and the real version blobs."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from conftest import SHARED
from sysmon_rules import ConfigValidationError, iter_errors, load, to_blob, to_xml
from sysmon_rules.blob.compile import compile_config
from sysmon_rules.blob.decode import decode
from sysmon_rules.model import Config, EventRules, Filter, Rule, RuleGroup
from sysmon_rules.schema import newest, schema_for

COMPILE_DIR = SHARED / "conformance" / "compile" if SHARED else None
PAIRS = (sorted(p.name for p in COMPILE_DIR.glob("*.xml") if p.with_name(p.name + ".bin").exists())
         if COMPILE_DIR else [])


def _versions(shared: Path) -> list[dict[str, object]]:
    return list(json.loads((shared / "reference" / "sysmon-version-blobs.json").read_text("utf-8"))["versions"])


def _blob(entry: dict[str, object]) -> bytes:
    raw = entry["byteRule"]
    assert isinstance(raw, list)
    return bytes(raw)


@pytest.mark.parametrize("name", PAIRS)
def test_compile_matches_sysmon_from_byte_4(shared_dir: Path, name: str) -> None:
    xml = shared_dir / "conformance" / "compile" / name
    expected = xml.with_name(name + ".bin").read_bytes()
    blob = to_blob(load(xml, sysmon_compatible=True))
    assert len(blob) == len(expected)
    assert blob[4:] == expected[4:]


@pytest.mark.parametrize("name", PAIRS)
def test_compiled_table_is_what_sysmons_blob_holds(shared_dir: Path, name: str) -> None:
    xml = shared_dir / "conformance" / "compile" / name
    compiled = compile_config(load(xml, sysmon_compatible=True))
    assert compiled.table.rule_sets == decode(xml.with_name(name + ".bin").read_bytes()).rule_sets
    table_only = compile_config(load(xml, sysmon_compatible=True), table_only=True)  # what lint builds
    assert table_only.table == compiled.table and table_only.data == b""
    for rule_set in compiled.table.rule_sets:
        assert rule_set.location is not None and rule_set.location.line > 0
        assert all(f.location is not None and f.location.line > 0 for f in rule_set.filters)


def test_the_compile_pairs_are_all_there() -> None:
    assert len(PAIRS) == 207 or SHARED is None


def _exclude_everything(schema_version: str) -> Config:
    """Every filterable element, no filters, onmatch include, each in an OR RuleGroup."""
    elements = schema_for(schema_version, "windows").rule_elements
    return Config(schema_version=schema_version, filtering=tuple(
        RuleGroup((EventRules(name, onmatch="include"),), group_relation="or") for name in elements))


def test_binary_18_version_blobs_byte_for_byte(shared_dir: Path) -> None:
    entries = [e for e in _versions(shared_dir) if _blob(e)[:4] == b"\x00\x00\x12\x00"]
    assert {e["sysmonVersion"] for e in entries} == {"15.0", "15.15"}
    for entry in entries:
        config = _exclude_everything(str(entry["schemaVersion"]))
        assert to_blob(config) == _blob(entry), entry["sysmonVersion"]


@pytest.mark.parametrize("sysmon", ["13.23", "13.31", "13.33", "13.34", "14.0", "14.14"])
def test_older_24_byte_formats_byte_for_byte(shared_dir: Path, sysmon: str) -> None:
    """Binary 15.0, 16 and 17 writers produce the 18 layout (version word included)."""
    entry = next(e for e in _versions(shared_dir) if e["sysmonVersion"] == sysmon)
    blob = _blob(entry)
    word = struct.unpack_from("<I", blob)[0]
    assert to_blob(_exclude_everything(str(entry["schemaVersion"])), binary_version=word) == blob


@pytest.mark.parametrize("sysmon", ["3.10", "3.21", "4.0"])
def test_binary_1_01_writer_byte_for_byte(shared_dir: Path, sysmon: str) -> None:
    """Sysmon 3.10-4.0: 16-byte header and events. These blobs hold no shared (Registry/Pipe/Wmi)
    elements, so the config that produced them is just their events in manifest order."""
    entry = next(e for e in _versions(shared_dir) if e["sysmonVersion"] == sysmon)
    blob = _blob(entry)
    names = {1: "ProcessCreate", 2: "FileCreateTime", 3: "NetworkConnect", 5: "ProcessTerminate", 6: "DriverLoad",
             7: "ImageLoad", 8: "CreateRemoteThread", 9: "RawAccessRead"}
    ids = [struct.unpack_from("<I", blob, offset)[0] for offset in range(16, len(blob), 16)]
    config = Config(schema_version=str(entry["schemaVersion"]),
                    filtering=tuple(EventRules(names[i], onmatch="include") for i in ids))
    assert to_blob(config, binary_version=0x00010001) == blob


def test_default_writer_version_is_18() -> None:
    blob = to_blob(_exclude_everything("4.90"))
    assert blob[:4] == bytes.fromhex("00001200")


def test_windows_only_events_follow_26_in_manifest_order(shared_dir: Path) -> None:
    entry = next(e for e in _versions(shared_dir) if e["sysmonVersion"] == "15.15")
    ids = [s.event_id for s in decode(_blob(entry)).rule_sets]
    assert ids[-4:] == [26, 27, 28, 29]
    config = Config(schema_version="4.90", filtering=(
        EventRules("FileExecutableDetected", onmatch="include"), EventRules("FileDeleteDetected", onmatch="include"),
        EventRules("ProcessCreate", onmatch="include")))
    assert [s.event_id for s in compile_config(config).table.rule_sets] == [1, 26, 29]


def _one(*items: Filter | Rule, element: str = "ProcessCreate") -> Config:
    return Config(schema_version="4.90", filtering=(EventRules(element, items=items, onmatch="include"),))


def test_unknown_condition_is_fatal() -> None:
    with pytest.raises(ConfigValidationError) as info:
        compile_config(_one(Filter("Image", "x", condition="ends with")))
    assert info.value.diagnostics[0].code == "unknown-condition"


def test_condition_names_fold_ascii_case_and_empty_means_is() -> None:
    table = compile_config(_one(Filter("Image", "a", condition="END WITH"), Filter("Image", "b", condition=""))).table
    assert [f.condition_name for f in table.rule_sets[0].filters] == ["end with", "is"]


def test_name_over_255_utf8_bytes_is_fatal_even_when_inherited() -> None:
    long_name = "é" * 128  # 256 UTF-8 bytes, 128 UTF-16 units
    with pytest.raises(ConfigValidationError) as info:
        compile_config(_one(Rule((Filter("Image", "x"),), name=long_name)))
    assert info.value.diagnostics[0].code == "name-too-long"
    compile_config(_one(Filter("Image", "x", name="é" * 127)))  # 254 bytes: fine


def test_aggregation_name_is_cut_to_127_units() -> None:
    table = compile_config(_one(Rule((Filter("Image", "x"),), name="n" * 200, group_relation="and"))).table
    (aggregation,) = table.rule_sets[0].aggregations
    assert aggregation.name == "n" * 127
    assert table.rule_sets[0].filters[0].name == "n" * 200  # the filter keeps the whole name


def test_incorrect_field_drops_the_element_and_later_ones_of_that_name() -> None:
    config = Config(schema_version="4.90", filtering=(
        EventRules("ProcessCreate", (Filter("Image", "a"),), onmatch="include"),
        EventRules("ProcessCreate", (Filter("NoSuchField", "b"),), onmatch="include"),
        EventRules("ProcessCreate", (Filter("Image", "c"),), onmatch="include"),
        EventRules("NetworkConnect", (Filter("Image", "d"),), onmatch="include"),
    ))
    compiled = compile_config(config)
    assert [(s.event_id, s.filters[0].value) for s in compiled.table.rule_sets] == [(1, "a"), (3, "d")]
    assert [w.code for w in compiled.warnings] == ["incorrect-field", "dropped-element"]


@pytest.mark.parametrize(("attributes", "code"), [
    ({}, "missing-onmatch"),
    ({"onmatch": "include", "default": "exclude"}, "onmatch-and-default"),  # xml.cpp: "pick only one"
])
def test_compiler_and_validator_give_the_same_findings(attributes: dict[str, str], code: str) -> None:
    element = EventRules("ProcessCreate", (Filter("Image", "a"),), **attributes)  # type: ignore[arg-type]
    config = Config(schema_version="4.90", filtering=(
        element, EventRules("ProcessCreate", (Filter("Image", "b"),), onmatch="include")))
    compiled = compile_config(config)
    assert [s.filters[0].value for s in compiled.table.rule_sets] == ["b"]  # Sysmon skips the element
    xml = to_xml(config).encode()
    relaxed = [d for d in iter_errors(xml, sysmon_compatible=True) if d.code == code]
    assert [(w.code, w.message) for w in compiled.warnings] == [(code, relaxed[0].message)]


def test_shared_element_takes_first_id_with_every_field() -> None:
    ids = [compile_config(_one(Filter(f, "x"), element="RegistryEvent")).table.rule_sets[0].event_id
           for f in ("TargetObject", "Details", "NewName")]
    assert ids == [12, 13, 14]


def test_missing_or_double_onmatch_skips_the_element() -> None:
    config = Config(schema_version="4.90", filtering=(
        EventRules("ProcessCreate", (Filter("Image", "a"),)),
        EventRules("ProcessCreate", (Filter("Image", "b"),), onmatch="include", default="include"),
        EventRules("ProcessCreate", (Filter("Image", "c"),), default="exclude"),
    ))
    sets = compile_config(config).table.rule_sets
    assert [(s.filters[0].value, s.onmatch) for s in sets] == [("c", "include")]  # default= maps directly


def test_combine_default_depends_on_schema_version() -> None:
    for version, combine in (("4.1", 0), ("4.10", 0), ("4.11", 1), ("4.22", 1)):
        config = Config(schema_version=version, filtering=(EventRules("ProcessCreate", onmatch="include"),))
        assert compile_config(config).table.rule_sets[0].combine == combine, version


def test_linux_platform_compiles_event_100() -> None:
    rulename = next(e.rulename for e in newest("linux").events if e.id == 100)
    config = Config(schema_version="4.90", filtering=(EventRules(str(rulename), onmatch="include"),))
    assert [s.event_id for s in compile_config(config, platform="linux").table.rule_sets] == [100]


def test_old_formats_say_what_they_cannot_store() -> None:
    config = Config(schema_version="4.22", filtering=(RuleGroup((EventRules("ProcessCreate", (
        Filter("Image", "a", name="n"), Rule((Filter("Image", "b"),), group_relation="and")), onmatch="include"),),
        group_relation="and"),))
    compiled = compile_config(config, binary_version=0x00010001)
    assert {w.code for w in compiled.warnings} == {"old-format"}
    assert len(compiled.warnings) == 3  # combine type, names, <Rule>
    (rule_set,) = compiled.table.rule_sets
    assert (rule_set.combine, rule_set.aggregations) == (0, ())
    assert [(f.value, f.name, f.aggregation_id) for f in rule_set.filters] == [("a", "", 0), ("b", "", 0)]
    assert decode(compiled.data).rule_sets == compiled.table.rule_sets


def test_undone_first_event_quirks_match_sysmon(shared_dir: Path) -> None:
    """reg-subrules: RegistryEvent tries id 12, meets Details, undoes the very first event (the
    buffer is freed) and succeeds as 13. Aggregation id 1 is spent, and the rebuilt header never
    gets FirstAggregationOffset because the builder's aggregation cursor survived the undo."""
    xml = shared_dir / "conformance" / "compile" / "reg-subrules.xml"
    sysmon = xml.with_name("reg-subrules.xml.bin").read_bytes()
    assert struct.unpack_from("<I", sysmon, 20)[0] == 0
    ours = compile_config(load(xml))
    assert struct.unpack_from("<I", ours.data, 20)[0] == 0
    (rule_set,) = ours.table.rule_sets
    assert rule_set.event_id == 13
    sysmon_ids = [a.id for a in decode(sysmon).rule_sets[0].aggregations]
    assert [a.id for a in rule_set.aggregations] == [2, 3, 4] == sysmon_ids
