"""A decompiled blob whose schema version word makes its XML unloadable says so in a note.

The XML declares the version the blob holds (faithful to the bytes); when that is no version
Sysmon accepts, or its DTD lacks an element the rules use, a note says why it will not load.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

import sysmon_rules as sr

VERSION_AT = 12  # the config's schema version word in the blob header (binary 15 and 18)
CONFIG = ('<Sysmon schemaversion="4.90"><EventFiltering><ProcessCreate onmatch="include"><Image condition="is">x'
          '</Image></ProcessCreate><FileBlockShredding onmatch="include"><Image condition="is">y</Image>'
          '</FileBlockShredding></EventFiltering></Sysmon>')


def _with_version(blob: bytes, word: int) -> bytes:
    assert struct.unpack_from("<I", blob, VERSION_AT)[0] == (4 << 16) | 90
    return blob[:VERSION_AT] + struct.pack("<I", word) + blob[VERSION_AT + 4:]


def _blob() -> bytes:
    return bytes(sr.to_blob(sr.loads(CONFIG)))


@pytest.mark.parametrize("word, note", [
    (0x00000008, "0x00000008 reads as 0.08, which is no schema version Sysmon accepts"),
    (0x00010000, "the blob declares schema 1.00, which Sysmon refuses (Incorrect or unsupported schema version"),
    ((4 << 16) | 30, "schema 4.30, which the blob declares, has no <FileBlockShredding>"),
])
def test_an_unloadable_version_is_named_in_a_note(word: int, note: str) -> None:
    decompiled = sr.decompile(_with_version(_blob(), word))
    assert any(note in n for n in decompiled.notes), decompiled.notes
    with pytest.raises(sr.ConfigValidationError):
        sr.loads(decompiled.to_xml())


def test_a_loadable_version_has_no_such_note() -> None:
    decompiled = sr.decompile(_with_version(_blob(), (4 << 16) | 91))
    assert not any("will not load" in n for n in decompiled.notes)
    sr.loads(decompiled.to_xml())


def test_whenever_the_xml_of_a_real_blob_will_not_load_for_its_version_a_note_says_so(shared_dir: Path) -> None:
    blobs = sorted((shared_dir / "conformance" / "compile").glob("*.bin"))[:40]
    checked = 0
    for path in blobs:
        data = path.read_bytes()
        if len(data) < 16 or struct.unpack_from("<I", data, VERSION_AT)[0] >> 16 != 4:  # a 4.x version word
            continue
        for word in (0, 8, 0x00010000, 0x00030000, (4 << 16) | 30, (4 << 16) | 91, 0xFFFFFFFF):
            changed = data[:VERSION_AT] + struct.pack("<I", word) + data[VERSION_AT + 4:]
            try:
                decompiled = sr.decompile(changed)
            except sr.BlobFormatError:
                continue
            try:
                sr.loads(decompiled.to_xml())
            except sr.ConfigValidationError as exc:
                if any(d.code in ("schema-version", "unexpected-element", "unknown-element")
                       for d in exc.diagnostics):
                    assert any("will not load" in n for n in decompiled.notes), (path.name, word, str(exc))
            checked += 1
    assert checked > 50
