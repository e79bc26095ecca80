"""The one rule-source loader (rulesource.load_rules): every form a user holds rules in reads as the
same rule table, Evaluator(bytes) reads what it reads, and what holds no rules is one SourceError."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

import sysmon_rules
from sysmon_rules import rulesource
from sysmon_rules.blob.compile import compile_config
from sysmon_rules.blob.dump import dump_text
from sysmon_rules.blob.encode import encode_table
from sysmon_rules.blob.regfile import render_reg
from sysmon_rules.engine import Evaluator
from sysmon_rules.errors import BlobFormatError, ConfigValidationError, FileAccessError, SourceError
from sysmon_rules.rulesource import BLOB, DUMP_TEXT, XML, load_rules

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "sysmonconfig.xml"


def _forms(config_path: Path) -> dict[str, tuple[str, bytes]]:
    """Each form of one config's rules, as the tools that make them write it."""
    config = sysmon_rules.load(config_path)
    compiled = compile_config(config)
    blob = compiled.data
    reg_query = ("\r\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\SysmonDrv\\Parameters\r\n"
                 f"    Rules    REG_BINARY    {blob.hex().upper()}\r\n\r\n")
    return {
        "xml": (XML, config_path.read_bytes()),
        "raw blob": (BLOB, blob),
        ".reg export (regedit: UTF-16LE, BOM)": (BLOB, render_reg(config, compiled.table, blob).encode("utf-16")),
        "reg query output": (BLOB, reg_query.encode()),
        "hex": (BLOB, blob.hex().encode() + b"\n"),
        "base64": (BLOB, base64.encodebytes(blob)),
        "byte list": (BLOB, json.dumps(list(blob)).encode()),
    }


def test_every_form_reads_as_the_compiled_table(shared_dir: Path) -> None:
    checked = 0
    for path in [EXAMPLE, shared_dir / "corpus/configs/sysmon-modular/sysmonconfig.xml",
                 shared_dir / "conformance/compile/include_lsass_access.xml"]:
        expected = encode_table(compile_config(sysmon_rules.load(path)).table)
        for form, (kind, data) in _forms(path).items():
            rules = load_rules(data, label=f"{path.name} as {form}")
            assert rules.kind == kind, form
            assert encode_table(rules.table) == expected, (path, form)
            assert encode_table(Evaluator(data).table) == expected, (path, form)  # Evaluator(bytes) reads the same
            checked += 1
    assert checked == 21


def test_decompile_reads_what_a_host_holds() -> None:
    config = sysmon_rules.load(EXAMPLE)
    compiled = compile_config(config)
    for form, (kind, data) in _forms(EXAMPLE).items():
        if kind != BLOB:
            continue
        back = sysmon_rules.decompile(data)
        assert sysmon_rules.to_blob(back.config) == compiled.data, form
    reg = render_reg(config, compiled.table, compiled.data).encode("utf-16")
    hashing = config.option("HashAlgorithms")
    assert hashing is not None and sysmon_rules.from_blob(reg).option("HashAlgorithms") is not None


def test_a_path_names_every_location(tmp_path: Path) -> None:
    rules = load_rules(EXAMPLE)
    assert rules.label == str(EXAMPLE) and rules.config is not None
    assert all(str(s.location).startswith(str(EXAMPLE)) for s in rules.table.rule_sets)
    bad = tmp_path / "bad.xml"
    bad.write_text('<Sysmon schemaversion="4.90"><EventFiltering><ProcessCreate onmatch="include">'
                   '<Image condition="no such">x</Image></ProcessCreate></EventFiltering></Sysmon>', "utf-8")
    with pytest.raises(ConfigValidationError) as info:
        load_rules(bad)
    assert str(info.value.location).startswith(f"{bad}:1:")


def test_a_capture_keeps_what_it_cannot_say_and_decompiles() -> None:
    blob = compile_config(sysmon_rules.load(EXAMPLE)).data
    rules = load_rules(dump_text(blob).encode(), label="host.txt")
    assert rules.kind == DUMP_TEXT and "rule-names" in rules.unknowns and rules.notes
    config, notes = rules.as_config()
    assert any("cannot carry: filter RuleNames" in n for n in notes)
    assert Evaluator(config).table.rule_sets  # the text's rules, as XML that loads again


@pytest.mark.parametrize(("data", "what"), [
    (b"", "empty: no rules in it"),
    (b"\xef\xbb\xbf \r\n\t", "empty: no rules in it"),
    (b"ElfFile\x00" + bytes(100), "this is an EVTX event log"),
    (b'{"EventID": 1}', "this is JSON, not a rule blob"),
    (b"# my notes\nnothing to see\n", "text starting '# my notes'"),
    (b"Sysmon is not installed on this computer\n", "text starting 'Sysmon is not installed"),
])
def test_what_holds_no_rules_is_one_source_error(data: bytes, what: str) -> None:
    with pytest.raises(SourceError) as info:
        load_rules(data, label="input.bin")
    message = str(info.value)
    assert message.startswith("input.bin: ") and what in message and "\n" not in message
    assert info.value.code == "source"


def test_one_size_limit_for_every_form(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(rulesource, "MAX_RULES_INPUT", 1000)
    for data in (EXAMPLE.read_bytes(), bytes(1001), b"00" * 600):
        with pytest.raises(SourceError, match="more than 0 MiB: too large to be an XML config"):
            load_rules(data)
    path = tmp_path / "big.xml"
    path.write_bytes(EXAMPLE.read_bytes())
    with pytest.raises(SourceError, match=f"^{path}: more than"):
        load_rules(path)


def test_errors_of_a_form_keep_their_kind_and_name_the_source(tmp_path: Path) -> None:
    with pytest.raises(BlobFormatError) as blob:
        load_rules(b"\x00\x00\x12\x00" + b"\xff" * 40, label="rules.bin")
    assert str(blob.value).startswith("rules.bin: at byte ")
    with pytest.raises(FileAccessError):
        load_rules(tmp_path / "missing.xml")
    with pytest.raises(SourceError, match="this is an XML config, not a rule blob"):
        load_rules(EXAMPLE, blob_only=True)


def test_evaluator_of_no_bytes_applies_the_defaults() -> None:
    assert Evaluator(b"").table.rule_sets == ()


def test_one_source_error_for_merge_and_diff() -> None:
    from sysmon_rules.diffing import SourceError as DiffSourceError
    from sysmon_rules.merging.sources import SourceError as MergeSourceError

    assert DiffSourceError is MergeSourceError is SourceError is sysmon_rules.SourceError
