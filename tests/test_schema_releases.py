"""The release table agrees with the real blobs of 25 Sysmon releases and with the schema files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sysmon_rules.errors import SchemaVersionError
from sysmon_rules.schema import format_version, parse_version, registry
from sysmon_rules.schema.releases import RELEASES, first_release, release_label, resolve_target


def _blobs(shared_dir: Path) -> list[dict[str, object]]:
    data = json.loads((shared_dir / "reference" / "sysmon-version-blobs.json").read_text("utf-8"))
    return list(data["versions"])


def test_every_release_blob_is_a_row_with_its_schema_and_binary_version(shared_dir: Path) -> None:
    rows = {r.sysmon: r for r in RELEASES}
    blobs = _blobs(shared_dir)
    assert len(blobs) == 25
    for entry in blobs:
        row = rows[str(entry["sysmonVersion"])]
        header = bytes(entry["byteRule"][:4])  # type: ignore[index]
        binary = format_version(int.from_bytes(header[2:4], "little") << 16 | int.from_bytes(header[:2], "little"))
        assert (row.source, row.schema_packed, row.binary) == (
            "blob", parse_version(str(entry["schemaVersion"])), binary), row
    assert sum(r.source == "blob" for r in RELEASES) == len(blobs)


def test_binary_versions_agree_with_the_schema_files() -> None:
    # From schema 4.0 on (the configs the DTD loader reads) the manifest's binaryversion is what
    # the release writes; schema 2.0's manifest says 1.0 where Sysmon 3.10 wrote 1.01.
    schemas = {s.packed: s for s in registry()}
    checked = 0
    for row in RELEASES:
        schema = schemas.get(row.schema_packed)
        if schema is not None and row.schema_packed >= 0x40000:
            assert format_version(schema.binary_packed) == row.binary, row
            checked += 1
    assert checked >= 20


def test_rows_are_in_release_order_and_schemas_never_go_back() -> None:
    assert [r.packed for r in RELEASES] == sorted(r.packed for r in RELEASES)
    assert [r.schema_packed for r in RELEASES] == sorted(r.schema_packed for r in RELEASES)


@pytest.mark.parametrize(("text", "schema"), [
    ("15.15", "4.90"), ("15", "4.90"), ("15.0", "4.90"), ("14.0", "4.82"), ("14", "4.82"), ("14.1", "4.83"),
    ("13.33", "4.81"), ("13.30", "4.70"), ("15.20", "4.90"), ("4.50", "4.50"), ("4.5", "4.50"), ("4.91", "4.91"),
])
def test_target_is_a_sysmon_or_a_schema_version(text: str, schema: str) -> None:
    assert resolve_target(text).schema == schema


@pytest.mark.parametrize("text", ["sysmon15", "4.55", "16.0", "2.5", "", "4.5.0", "-1"])
def test_anything_else_is_an_error(text: str) -> None:
    with pytest.raises(SchemaVersionError, match="--target-sysmon"):
        resolve_target(text)


def test_first_release_of_a_schema() -> None:
    first = first_release(0x4003C)  # 4.60: FileDeleteDetected
    assert first is not None and first.sysmon == "13.10"
    assert release_label(0x4003C) == "schema 4.60 (Sysmon 13.10)"
    assert first_release(0x4005B) is None and release_label(0x4005B) == "schema 4.91"
