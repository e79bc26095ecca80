"""`sysmon-rules compile / decompile / dump` from the outside: files, formats, exit codes."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from click.testing import CliRunner

from sysmon_rules.cli import main

BAD = ('<Sysmon schemaversion="4.90">\n<EventFiltering>\n  <ProcessCreate onmatch="include">'
       '<Image condition="begins with">x</Image></ProcessCreate></EventFiltering></Sysmon>')


def _pair(shared: Path, name: str) -> tuple[str, bytes]:
    xml = shared / "conformance" / "compile" / name
    return str(xml), xml.with_name(name + ".bin").read_bytes()


def test_compile_bin_matches_sysmon(shared_dir: Path, tmp_path: Path) -> None:
    xml, expected = _pair(shared_dir, "include_lsass_access.xml")
    out = tmp_path / "rules.bin"
    result = CliRunner().invoke(main, ["compile", xml, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[4:] == expected[4:]
    assert out.read_bytes()[:4] == bytes.fromhex("00001200")


def test_compile_text_formats(shared_dir: Path, tmp_path: Path) -> None:
    xml, expected = _pair(shared_dir, "include_lsass_access.xml")
    runner = CliRunner()
    for fmt in ("hex", "base64", "reg"):
        out = tmp_path / f"rules.{fmt}"
        assert runner.invoke(main, ["compile", xml, "-o", str(out), "--format", fmt]).exit_code == 0
    assert bytes.fromhex((tmp_path / "rules.hex").read_text())[4:] == expected[4:]
    assert base64.b64decode((tmp_path / "rules.base64").read_text())[4:] == expected[4:]
    reg = (tmp_path / "rules.reg").read_bytes()
    assert reg.startswith(b"\xff\xfe")  # regedit's UTF-16LE with BOM
    text = reg.decode("utf-16")
    assert text.startswith("Windows Registry Editor Version 5.00\r\n")
    assert "\\Services\\SysmonDrv\\Parameters]" in text and '"Rules"=hex:00,00,12,00,' in text
    assert max(len(line) for line in text.splitlines()) <= 80
    # and it reads back as the same blob
    result = runner.invoke(main, ["dump", str(tmp_path / "rules.reg"), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["rule_sets"][0]["rulename"] == "ProcessAccess"


def test_compile_reg_writes_options_the_config_sets(tmp_path: Path) -> None:
    config = tmp_path / "c.xml"
    config.write_text('<Sysmon schemaversion="4.90"><HashAlgorithms>md5,sha256</HashAlgorithms>'
                      "<ArchiveDirectory>Arch</ArchiveDirectory><EventFiltering>"
                      '<NetworkConnect onmatch="exclude"/><ImageLoad onmatch="include"/></EventFiltering></Sysmon>')
    out = tmp_path / "c.reg"
    assert CliRunner().invoke(main, ["compile", str(config), "-o", str(out), "--format", "reg"]).exit_code == 0
    text = out.read_bytes().decode("utf-16")
    # md5 = 2, sha256 = 3: ALGO_MULTIPLE | bit(2) | bit(3)
    assert '"HashingAlgorithm"=dword:80000006' in text
    assert '"Options"=dword:00000001' in text  # network on (exclude-nothing), image off (empty include)
    assert '"ArchiveDirectory"="Arch"' in text


def test_invalid_config_writes_nothing_and_exits_1(tmp_path: Path) -> None:
    config = tmp_path / "bad.xml"
    config.write_text(BAD)
    out = tmp_path / "out.bin"
    result = CliRunner().invoke(main, ["compile", str(config), "-o", str(out)])
    assert result.exit_code == 2
    assert not out.exists() and list(tmp_path.iterdir()) == [config]
    assert result.output.startswith(f"{config}:3:")  # path:line:column of the bad filter
    assert ": error[unknown-condition]: Unknown condition: begins with" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_binary_version_option(shared_dir: Path, tmp_path: Path) -> None:
    xml, expected = _pair(shared_dir, "include_lsass_access.xml")
    out = tmp_path / "r.bin"
    assert CliRunner().invoke(main, ["compile", xml, "-o", str(out), "--binary-version", "15.0"]).exit_code == 0
    assert out.read_bytes() == expected  # the unit-test blobs are stamped 15.0: all bytes equal
    bad = CliRunner().invoke(main, ["compile", xml, "-o", str(out), "--binary-version", "7.5"])
    assert bad.exit_code != 0


def test_decompile_stdin_and_file(shared_dir: Path, tmp_path: Path) -> None:
    _, blob = _pair(shared_dir, "reg-subrules.xml")
    runner = CliRunner()
    result = runner.invoke(main, ["decompile", "-"], input=blob)
    assert result.exit_code == 0
    assert "<RegistryEvent onmatch=\"include\">" in result.output
    out = tmp_path / "back.xml"
    assert runner.invoke(main, ["decompile", "-", "-o", str(out)], input=blob).exit_code == 0
    rebuilt = tmp_path / "again.bin"
    assert runner.invoke(main, ["compile", str(out), "-o", str(rebuilt)]).exit_code == 0
    assert rebuilt.read_bytes()[4:] == blob[4:]


def test_decompile_and_dump_reject_garbage_in_one_line(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x00\x12\x00" + b"\xff" * 40)
    for command in ("decompile", "dump"):
        result = CliRunner().invoke(main, [command, str(junk)])
        assert result.exit_code == 2
        assert result.output.startswith(f"{junk}: error[blob-format]: at byte ")
        assert len(result.output.splitlines()) == 1


def test_dump_text(shared_dir: Path, tmp_path: Path) -> None:
    _, blob = _pair(shared_dir, "include_lsass_access.xml")
    path = tmp_path / "b.bin"
    path.write_bytes(blob)
    result = CliRunner().invoke(main, ["dump", str(path)])
    assert result.exit_code == 0
    assert result.output.startswith("Current configuration:\n")  # the options header, as sysmon -c
    assert "\n\nRule configuration (version " in result.output
    assert " - ProcessAccess                      onmatch: include" in result.output
