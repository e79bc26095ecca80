"""Decoding Sysmon's blobs: every binary version, round trips, input forms, corrupt input."""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path

import pytest

from conftest import SHARED
from sysmon_rules import BlobFormatError, SourceError, from_blob, load, loads, to_blob, to_xml
from sysmon_rules.blob.decode import decode, decode_blob
from sysmon_rules.blob.dump import dump_json, dump_text
from sysmon_rules.blob.encode import encode_table
from sysmon_rules.blob.reconstruct import rebuild
from sysmon_rules.blob.textforms import read_blob
from sysmon_rules.schema import parse_version

COMPILE_DIR = SHARED / "conformance" / "compile" if SHARED else None
BLOBS = sorted(p.name for p in COMPILE_DIR.glob("*.xml.bin")) if COMPILE_DIR else []

_BASE = [1, 2, 3, 5, 6, 7, 8, 9, 10, 11]
# What each real registry blob holds: binary version word, format, event ids (all onmatch include).
VERSION_BLOBS: dict[str, tuple[int, str, list[int]]] = {
    "15.15": (0x120000, "18", [*_BASE, 12, 15, 17, 19, 22, 23, 24, 25, 26, 27, 28, 29]),
    "15.0": (0x120000, "18", [*_BASE, 12, 15, 17, 19, 22, 23, 24, 25, 26, 27, 28, 29]),
    "14.14": (0x110000, "18", [*_BASE, 12, 15, 17, 19, 22, 23, 24, 25, 26, 27, 28]),
    "14.0": (0x110000, "18", [*_BASE, 12, 15, 17, 19, 22, 23, 24, 25, 26, 27]),
    "13.34": (0x100000, "18", [*_BASE, 12, 15, 17, 19, 22, 23, 24, 25, 26]),
    "13.33": (0x100000, "18", [*_BASE, 12, 15, 17, 19, 22, 23, 24, 25, 26]),
    "13.31": (0x100000, "18", [*_BASE, 12, 15, 17, 19, 22, 23, 24, 25, 26]),
    "13.23": (0x0F0000, "18", [*_BASE, 12, 15, 17, 19, 22, 23, 24, 25, 26]),
    "13.10": (0x0E0000, "18", [*_BASE, 14, 15, 18, 21, 22, 23, 24, 25, 26]),
    "13.01": (0x0D0000, "18", [*_BASE, 14, 15, 18, 21, 22, 23, 24, 25]),
    "13.00": (0x0D0000, "18", [*_BASE, 14, 15, 18, 21, 22, 23, 24, 25]),
    "12.03": (0x0B0000, "18", [*_BASE, 14, 15, 18, 21, 22, 23, 24]),
    "12.01": (0x0B0000, "18", [*_BASE, 12, 13, 14, 15, 17, 18, 19, 20, 21, 22, 23, 24]),
    "12.0": (0x0B0000, "18", [*_BASE, 12, 13, 14, 15, 17, 18, 19, 20, 21, 22, 23, 24]),
    "11.0": (0x090014, "18", [*_BASE, 12, 13, 14, 15, 17, 18, 19, 20, 21, 22, 23]),
    "10.42": (0x090014, "18", [*_BASE, 12, 13, 14, 15, 17, 18, 19, 20, 21, 22]),
    "9.01": (0x080000, "8.00 (Sysmon 9.0x)", [*_BASE, 12, 13, 14, 15, 17, 18, 19, 20, 21]),
    "9.0": (0x080000, "8.00 (Sysmon 9.0x)", [*_BASE, 12, 13, 14, 15, 17, 18, 19, 20, 21]),
    "8.04": (0x080000, "8.00 (Sysmon 8.x)", [*_BASE, 12, 13, 14, 15, 17, 18, 19, 20, 21]),
    "7.01": (0x010001, "1.01", [*_BASE, 12, 13, 14, 15, 17, 18, 19, 20, 21]),
    "6.03": (0x010001, "1.01", [*_BASE, 12, 13, 14, 15, 17, 18]),
    "5.02": (0x010001, "1.01", [*_BASE, 12, 13, 14, 15]),
    "4.0": (0x010001, "1.01", [1, 2, 3, 5, 6, 7, 8, 9]),
    "3.21": (0x010001, "1.01", [1, 2, 3, 5, 6, 7, 8, 9]),
    "3.10": (0x010001, "1.01", [1, 2, 3, 5, 6, 7, 8]),
}


def _version_blobs(shared: Path) -> dict[str, tuple[str, bytes]]:
    data = json.loads((shared / "reference" / "sysmon-version-blobs.json").read_text("utf-8"))
    return {v["sysmonVersion"]: (v["schemaVersion"], bytes(v["byteRule"])) for v in data["versions"]}


@pytest.mark.parametrize("sysmon", sorted(VERSION_BLOBS))
def test_each_real_version_blob_decodes(shared_dir: Path, sysmon: str) -> None:
    schema_version, blob = _version_blobs(shared_dir)[sysmon]
    word, fmt, ids = VERSION_BLOBS[sysmon]
    decoded = decode_blob(blob)
    assert decoded.table.binary_version == word
    assert decoded.fmt.name == fmt
    assert decoded.table.schema_version == parse_version(schema_version)
    assert [s.event_id for s in decoded.table.rule_sets] == ids
    assert {s.onmatch for s in decoded.table.rule_sets} == {"include"}
    assert all(not s.filters for s in decoded.table.rule_sets)
    # Re-encoding the table through the same layout declaration gives Sysmon's bytes back.
    assert encode_table(decoded.table, fmt=decoded.fmt) == blob


def test_every_version_blob_is_listed(shared_dir: Path) -> None:
    assert set(_version_blobs(shared_dir)) == set(VERSION_BLOBS)


@pytest.mark.parametrize("name", BLOBS)
def test_from_blob_round_trip(shared_dir: Path, name: str) -> None:
    blob = (shared_dir / "conformance" / "compile" / name).read_bytes()
    assert to_blob(from_blob(blob))[4:] == blob[4:]


@pytest.mark.parametrize("name", BLOBS)
def test_round_trip_through_xml(shared_dir: Path, name: str) -> None:
    blob = (shared_dir / "conformance" / "compile" / name).read_bytes()
    config, notes = rebuild(decode_blob(blob))
    assert notes == []
    again = loads(to_xml(config, notes=notes))
    assert again == config
    assert to_blob(again)[4:] == blob[4:]


def test_input_forms_all_give_the_same_bytes(shared_dir: Path) -> None:
    blob = (shared_dir / "conformance" / "compile" / "include_all.xml.bin").read_bytes()
    hex_lines = ",".join(f"{b:02x}" for b in blob)
    reg = ("Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\x]\r\n"
           f'"Rules"=hex:{hex_lines[:75]}\\\r\n  {hex_lines[75:]}\r\n')
    assert read_blob(blob) == blob
    assert read_blob(reg.encode("utf-16")) == blob
    assert read_blob(blob.hex().encode()) == blob
    assert read_blob(base64.b64encode(blob) + b"\n") == blob
    assert read_blob(json.dumps(list(blob)).encode()) == blob


def test_dump_text_follows_sysmon_c() -> None:
    config = loads(b"""<Sysmon schemaversion="4.90"><EventFiltering>
<RuleGroup groupRelation="or"><ProcessCreate onmatch="include">
<Image condition="end with">\\cmd.exe</Image>
<Rule groupRelation="and" name="pair"><Image>a</Image><CommandLine condition="contains">b</CommandLine></Rule>
<Rule groupRelation="and"><User>c</User></Rule>
</ProcessCreate></RuleGroup>
<ProcessCreate onmatch="include"><Image>hidden</Image></ProcessCreate>
<ProcessCreate onmatch="exclude"><Image>shown</Image></ProcessCreate>
</EventFiltering></Sysmon>""")
    expected = (
        "Rule configuration (version 4.90):\n"
        " - ProcessCreate                      onmatch: include   combine rules using 'Or'\n"
        "\tImage                          filter: end with     value: '\\cmd.exe'\n"
        "\tCompound Rule pair   combine using And\n"
        "\t    Image                          filter: is           value: 'a'\n"
        "\t    CommandLine                    filter: contains     value: 'b'\n"
        "\tCompound Rule 0002   combine using And\n"
        "\t    User                           filter: is           value: 'c'\n"
        " - ProcessCreate                      onmatch: exclude   combine rules using 'And'\n"
        "\tImage                          filter: is           value: 'shown'\n"
    )
    blob = to_blob(config)
    assert dump_text(blob) == expected
    assert [s["filters"][0]["value"] for s in dump_json(blob)["rule_sets"]] == ["\\cmd.exe", "hidden", "shown"]


def _corrupt(blob: bytes, offset: int, value: int) -> bytes:
    data = bytearray(blob)
    struct.pack_into("<I", data, offset, value)
    return bytes(data)


@pytest.fixture()
def real_blob(shared_dir: Path) -> bytes:
    return (shared_dir / "conformance" / "compile" / "include_lsass_access.xml.bin").read_bytes()


def test_corrupt_blobs_raise_blob_format_error(real_blob: bytes) -> None:
    first_event = struct.unpack_from("<I", real_blob, 16)[0]
    first_filter = struct.unpack_from("<I", real_blob, first_event + 20)[0]
    data_size = struct.unpack_from("<I", real_blob, first_filter + 524)[0]
    cases = {
        "truncated": real_blob[:30],
        "header only": real_blob[:24],
        "bad version": _corrupt(real_blob, 0, 0xDEADBEEF),
        "event past end": _corrupt(real_blob, 16, len(real_blob) + 8),
        "cycle": _corrupt(real_blob, first_event + 12, first_event),
        "lying RuleCount": _corrupt(real_blob, 4, 1000),
        "lying FilterCount": _corrupt(real_blob, first_event + 16, 1000),
        "unterminated": real_blob[: first_filter + 536 + data_size - 2] + b"x\0"
        + real_blob[first_filter + 536 + data_size:],
        "odd DataSize": _corrupt(real_blob, first_filter + 524, data_size + 1),
    }
    for label, data in cases.items():
        with pytest.raises(BlobFormatError) as info:
            decode(data)
        assert info.value.struct and info.value.offset >= 0, label


def test_empty_input_is_a_source_error() -> None:
    with pytest.raises(SourceError, match="empty: no rules in it"):  # the loader's one error for no rules
        from_blob(b"")


def test_load_reads_the_decompiled_xml_of_every_old_blob(shared_dir: Path) -> None:
    for sysmon, (_, blob) in _version_blobs(shared_dir).items():
        config, notes = rebuild(decode_blob(blob))
        text = to_xml(config, notes=notes)
        assert text.startswith("<?xml"), sysmon
        if VERSION_BLOBS[sysmon][1] != "18":
            assert "binary format" in text  # the old numbering is said, not hidden
        else:
            assert load(text.encode()) == config


def test_binary_1_0_has_an_8_byte_header_and_events_at_8() -> None:
    """The reference map's 1.0 layout (``NextRuleEvent``'s fallback offset); no real sample exists."""
    config = loads(b'<Sysmon schemaversion="4.90"><EventFiltering><ProcessCreate onmatch="exclude">'
                   b"<Image>x</Image></ProcessCreate><NetworkConnect onmatch=\"include\"/></EventFiltering></Sysmon>")
    blob = to_blob(config, binary_version=0x00010000)
    assert struct.unpack_from("<II", blob) == (0x00010000, 2)
    assert struct.unpack_from("<II", blob, 8)[:2] == (1, 0)  # first event right after RULE_REG
    decoded = decode_blob(blob)
    assert decoded.fmt.name == "1.0"
    assert [(s.event_id, s.onmatch, [f.value for f in s.filters]) for s in decoded.table.rule_sets] == [
        (1, "exclude", ["x"]), (3, "include", [])]
