"""Every fact of the embedded schema against Sysmon's own schema dumps in ../shared/reference."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import SHARED
from sysmon_rules.schema import CONDITIONS, all_versions, dtd_schema_for, parse_version, schema_for
from sysmon_rules.schema.printer import render, select


def _manifests(shared: Path) -> dict[str, ET.Element]:
    root = ET.parse(shared / "reference" / "sysmon-manifest.xml").getroot()
    return {m.attrib["schemaversion"]: m for m in root.findall("manifest")}


MANIFEST_VERSIONS = sorted(_manifests(SHARED)) if SHARED else []


def _differences(ours_version: str, reference: ET.Element) -> list[str]:
    ours = schema_for(ours_version)
    diffs: list[str] = []
    if ours.binary_version != reference.attrib["binaryversion"]:
        diffs.append(f"binaryversion {ours.binary_version} != {reference.attrib['binaryversion']}")
    filters = reference.find(".//filters")
    assert filters is not None
    if ",".join(ours.conditions) != filters.text or ours.default_condition != filters.attrib["default"]:
        diffs.append("filters differ")
    ref_options = [dict(o.attrib) for o in reference.iter("option")]
    our_options = [dict(o.attributes) for o in ours.options]
    if ref_options != our_options:
        diffs.append(f"options differ: {ref_options} != {our_options}")
    # Windows-only events (27-29) are not in SysmonCommon's manifest; compare the shared ones.
    ref_events = [(dict(e.attrib), [dict(d.attrib) for d in e.iter("data")]) for e in reference.iter("event")]
    our_events = [(dict(e.attributes), [dict(f.attributes) for f in e.fields])
                  for e in ours.events if e.target != "windows"]
    if ref_events != our_events:
        diffs.append("events differ: " + str([x for x in ref_events if x not in our_events])[:300])
    return diffs


@pytest.mark.parametrize("version", MANIFEST_VERSIONS)
def test_every_fact_matches_sysmoncommon_manifest(shared_dir: Path, version: str) -> None:
    assert _differences(version, _manifests(shared_dir)[version]) == []


@pytest.mark.parametrize("version", ["4.90", "4.91"])
def test_windows_schema_prints_exactly_like_sysmon_s(shared_dir: Path, version: str) -> None:
    expected = (shared_dir / "reference" / f"windows-sysmon-{version}.xml").read_text("utf-8")
    assert render(schema_for(version), "windows").rstrip("\n") == expected.rstrip("\n")


def test_windows_only_events_and_platform_tags() -> None:
    assert [e.id for e in schema_for("4.82", "windows").events if 26 < e.id < 255] == [27]
    assert [e.id for e in schema_for("4.83", "windows").events if 26 < e.id < 255] == [27, 28]
    assert [e.id for e in schema_for("4.90", "windows").events if 26 < e.id < 255] == [27, 28, 29]
    assert [e.id for e in schema_for("4.90", "linux").events if 26 < e.id < 255] == [100]
    assert schema_for("4.90").events_by_id[100].target == "linux"


def test_windows_only_versions_match_the_binary_version_of_real_blobs(shared_dir: Path) -> None:
    blobs = json.loads((shared_dir / "reference" / "sysmon-version-blobs.json").read_text("utf-8"))["versions"]
    for entry in blobs:
        data = bytes(json.loads(entry["byteRule"]) if isinstance(entry["byteRule"], str) else entry["byteRule"])
        version = int.from_bytes(data[:4], "little")
        schema = entry["schemaVersion"]
        if schema in {"4.82", "4.83", "4.90"}:
            assert schema_for(schema).binary_packed == version, entry["sysmonVersion"]


def test_condition_table_is_the_binary_14_order() -> None:
    assert CONDITIONS[:14] == tuple(schema_for("4.60").conditions[i] for i in
                                    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13])
    assert CONDITIONS[14:] == ("not begin with", "not end with")
    assert set(CONDITIONS) == set(schema_for("4.90").conditions)


@pytest.mark.parametrize(
    ("text", "packed"),
    [("4.90", 0x4005A), ("4.9", 0x4005A), ("4.1", 0x4000A), ("4.10", 0x4000A), ("4.5", 0x40032),
     (" 4.50", 0x40032), ("3.10", 0x3000A), ("0.5", None), ("abc", None), ("", None), ("-4.5", None)],
)
def test_version_parsing_follows_sysmon(text: str, packed: int | None) -> None:
    assert parse_version(text) == packed


def test_dtd_choice_follows_getdtdformat() -> None:
    assert dtd_schema_for(parse_version("4.91") or 0).version == "4.91"
    assert dtd_schema_for(parse_version("4.95") or 0).version == "4.90"  # above newest: the one below it
    assert dtd_schema_for(parse_version("4.35") or 0).version == "4.32"
    assert dtd_schema_for(parse_version("4.0") or 0).version == "4.0"
    with pytest.raises(ValueError, match=r"unsupported schema version 3\.40"):
        dtd_schema_for(parse_version("3.4") or 0)


def test_print_selection_matches_by_prefix_like_sysmon() -> None:
    assert [s.version for s in select("4.2")] == ["4.23"]
    assert select("9.9") == []
    assert len(select("all")) == len([s for s in all_versions() if "windows" in s.platforms])
