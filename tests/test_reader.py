"""The reader: every encoding Sysmon reads, element text as Sysmon reads it, hostile input refused."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import sysmon_rules as sr
from conftest import SHARED
from sysmon_rules.errors import ConfigSyntaxError
from sysmon_rules.xml.reader import parse_document
from sysmon_rules.xml.source import decode_config

ENCODING_FILES = sorted(p.name for p in (SHARED / "conformance" / "compile").glob("*.xml")
                        if p.name.startswith(("utf8-", "utf16-", "iso8859-"))) if SHARED else []

# Sysmon's own DetectEncoding expectations (conformance/compile/README.md): declared, 16-bit, BOM.
PROBE = {
    "iso8859-nobom-iso8859enc.xml": ("ISO-8859-1", False, False),
    "iso8859-utf8bom-iso8859enc.xml": ("ISO-8859-1", False, True),
    "utf16-nobom-noenc-ws.xml": ("UTF-16LE", True, False),
    "utf16-nobom-noenc.xml": ("UTF-16LE", True, False),
    "utf16-nobom-utf16enc.xml": ("UTF-16LE", True, False),
    "utf16-utf16bom-noenc-ws.xml": (None, True, True),
    "utf16-utf16bom-noenc.xml": (None, True, True),
    "utf16-utf16bom-utf16enc.xml": ("UTF-16LE", True, True),
    "utf8-nobom-noenc-ws.xml": (None, False, False),
    "utf8-nobom-noenc.xml": (None, False, False),
    "utf8-nobom-utf8enc.xml": ("UTF-8", False, False),
    "utf8-utf8bom-noenc.xml": (None, False, True),
    "utf8-utf8bom-utf8enc.xml": ("UTF-8", False, True),
}


def test_all_thirteen_encoding_files_are_covered() -> None:
    assert sorted(PROBE) == ENCODING_FILES or SHARED is None


@pytest.mark.parametrize("name", ENCODING_FILES)
def test_encoding_probe_matches_sysmon(shared_dir: Path, name: str) -> None:
    decoded = decode_config((shared_dir / "conformance" / "compile" / name).read_bytes())
    declared, is_16bit, has_bom = PROBE[name]
    assert (decoded.declared_encoding, decoded.is_16bit, decoded.has_bom) == (declared, is_16bit, has_bom)


@pytest.mark.parametrize("name", ENCODING_FILES)
def test_encoding_file_loads_to_the_same_model_as_its_utf8_twin(shared_dir: Path, name: str) -> None:
    folder = shared_dir / "conformance" / "compile"
    data = (folder / name).read_bytes()
    if name.startswith("iso8859"):
        # The file's bytes are UTF-8 but it declares ISO-8859-1, and Sysmon believes the declaration
        # (its blob holds "Ë\x86", not "ˆ"); the twin is that Latin-1 reading written as UTF-8.
        twin = data.removeprefix(b"\xef\xbb\xbf").decode("latin-1").replace("ISO-8859-1", "UTF-8").encode()
    else:
        twin = (folder / "utf8-nobom-noenc.xml").read_bytes()
    assert sr.load(data) == sr.load(twin)


def test_text_is_kept_raw_and_chunks_joined() -> None:
    config = sr.loads(b'<Sysmon schemaversion="4.90"><EventFiltering><ProcessCreate onmatch="include">'
                      b"<Image>  a\r\nb<!-- c --><![CDATA[&d]]>&amp;e </Image>"
                      b"</ProcessCreate></EventFiltering></Sysmon>")
    event = config.filtering[0]
    assert isinstance(event, sr.EventRules)
    flt = event.items[0]
    assert isinstance(flt, sr.Filter)
    assert flt.value == "  a\nb&d&e "


def test_locations_point_at_start_tags(tmp_path: Path) -> None:
    path = tmp_path / "c.xml"
    path.write_text('<Sysmon schemaversion="4.90">\n  <EventFiltering>\n    <ProcessCreate onmatch="include">'
                    "<Image>x</Image><Image>y</Image>\n", encoding="utf-8")
    path.write_text(path.read_text() + "    </ProcessCreate>\n  </EventFiltering>\n</Sysmon>\n")
    config = sr.load(path)
    event = config.filtering[0]
    assert isinstance(event, sr.EventRules)
    assert (event.location.line, event.location.column) == (3, 5)
    assert [(i.location.line, i.location.column) for i in event.items] == [(3, 38), (3, 54)]
    assert event.location.path == str(path)


BOMB = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<Sysmon schemaversion="4.90">&lol9;</Sysmon>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE Sysmon [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<Sysmon schemaversion="4.90"><DriverName>&x;</DriverName></Sysmon>"""

HOSTILE = {
    "truncated": (b'<Sysmon schemaversion="4.90"><EventFiltering><ProcessCreate onmatch="incl', "malformed XML"),
    "garbage": (bytes(range(256)) * 4, ""),
    "xml bomb": (BOMB, "DOCTYPE"),
    "external entity": (XXE, "DOCTYPE"),
    "undefined entity": (b'<Sysmon schemaversion="4.90"><DriverName>&x;</DriverName></Sysmon>', "malformed XML"),
    "bad utf-8": (b'<Sysmon schemaversion="4.90"><DriverName>\xff\xfe\xfd</DriverName></Sysmon>', "UTF-8"),
    "utf-16 big endian": ("<Sysmon/>".encode("utf-16-be").join([b"\xfe\xff", b""]), "big-endian"),
    "unknown encoding": (b'<?xml version="1.0" encoding="koi8-r"?><Sysmon schemaversion="4.90"/>', "koi8-r"),
    "empty": (b"", "empty"),
    "not sysmon": (b"<Config/>", "<Sysmon>"),
    # 32 MB, under the size limit: refused without a loop over its characters
    "32 MB without a tag": (b"x" * 32_000_000, "has no '<'"),
    "32 MB of NUL": (bytes(32_000_000), "has no '<'"),
    "32 MB declaration": (b'<?xml version="1.0"' + b" " * 32_000_000 + b"?><Sysmon/>", "malformed XML"),
}


def test_a_declaration_over_many_lines_keeps_the_line_numbers() -> None:
    data = b'<?xml version="1.0"\n\n encoding="utf-8" ?>\n<Sysmon schemaversion="4.90">\n  <Nope/>\n</Sysmon>'
    with pytest.raises(sr.ConfigValidationError, match=r"<config>:5:\d+: error"):
        sr.loads(data)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_input_is_one_clear_error(name: str) -> None:
    data, needle = HOSTILE[name]
    started = time.perf_counter()
    with pytest.raises(sr.SysmonRulesError) as caught:
        sr.loads(data)
    message = str(caught.value)
    assert "\n" not in message and needle in message
    assert time.perf_counter() - started < 5  # a guard against hangs, not a performance claim


def test_huge_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    with path.open("wb") as out:
        out.write(b'<Sysmon schemaversion="4.90"><DriverName>')
        out.truncate(100 * 1024 * 1024)
    with pytest.raises(sr.ConfigSyntaxError, match="MB"):
        sr.load(path)


def test_missing_file_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    with pytest.raises(sr.FileAccessError, match=r"nope\.xml: cannot read the file") as caught:
        sr.load(tmp_path / "nope.xml")
    assert not isinstance(caught.value, sr.ConfigSyntaxError)


def test_input_file_is_never_modified(shared_dir: Path) -> None:
    path = shared_dir / "corpus" / "configs" / "swiftonsecurity" / "sysmonconfig-export.xml"
    before = path.read_bytes()
    sr.load(path)
    assert path.read_bytes() == before


def test_newest_engine_reads_only_the_first_text_chunk() -> None:
    data = (b'<Sysmon schemaversion="4.90"><EventFiltering><ProcessCreate onmatch="include">'
            b"<Image>a<!-- c -->b</Image><CommandLine> <!-- c -->x</CommandLine></ProcessCreate>"
            b"</EventFiltering></Sysmon>")

    def values(config: sr.Config) -> list[str]:
        event = config.filtering[0]
        assert isinstance(event, sr.EventRules)
        return [f.value for f in event.items if isinstance(f, sr.Filter)]

    assert values(sr.loads(data)) == ["ab", " x"]
    assert values(sr.loads(data, dtd=False)) == ["a", "x"]


@pytest.mark.parametrize(("blank", "ok"), [(2000, True), (2100, False)])
def test_leading_white_space_limit_of_sysmons_first_read(blank: int, ok: bool) -> None:
    data = b" " * blank + b'<Sysmon schemaversion="4.90"/>'
    if ok:
        sr.loads(data)
    else:
        with pytest.raises(sr.ConfigSyntaxError, match="Too much white space"):
            sr.loads(data)


def test_typographic_quotes_pasted_from_a_page_are_named(project_root: Path) -> None:
    text = (project_root / "examples" / "sysmonconfig.xml").read_text("utf-8")
    pasted = text.replace('condition="end with"', "condition=\u201cend with\u201d", 1)
    line = pasted[:pasted.index("\u201c")].count("\n") + 1
    with pytest.raises(ConfigSyntaxError) as info:
        parse_document(pasted.encode("utf-8"), path="pasted.xml")
    assert info.value.location.path == "pasted.xml" and info.value.location.line == line
    assert "typographic quote '\u201c'" in info.value.message and "pasted from a web page" in info.value.message
    with pytest.raises(ConfigSyntaxError) as plain:  # another syntax error says nothing of quotes
        parse_document(text.replace("</ProcessCreate>", "</ProcessCreat>", 1).encode("utf-8"), path="x.xml")
    assert "typographic" not in plain.value.message
