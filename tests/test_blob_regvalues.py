"""A .reg export's values beside Rules: decompile keeps them as options, dump prints them as the
``Current configuration`` header of ``sysmon -c``."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import sysmon_rules as sr
from sysmon_rules.blob.regfile import hashing_flag
from sysmon_rules.blob.regvalues import hash_names
from sysmon_rules.cli import main

CONFIG = """<Sysmon schemaversion="4.90">
  <HashAlgorithms>md5,sha256,IMPHASH</HashAlgorithms>
  <ArchiveDirectory>SysmonArchive</ArchiveDirectory>
  <EventFiltering>
    <ProcessCreate onmatch="include"><Image condition="end with">\\cmd.exe</Image></ProcessCreate>
    <ImageLoad onmatch="include"><ImageLoaded condition="end with">.dll</ImageLoaded></ImageLoad>
  </EventFiltering>
</Sysmon>
"""


@pytest.mark.parametrize("value, names", [
    ("sha1", "SHA1"), ("md5,sha256", "MD5,SHA256"), ("*", "SHA1,MD5,SHA256,IMPHASH"),
    ("IMPHASH,sha1", "SHA1,IMPHASH"),
])
def test_hash_names_invert_the_flag_regfile_writes(value: str, names: str) -> None:
    flag = hashing_flag(value)
    assert flag is not None and hash_names(flag) == names
    assert hashing_flag(names) == flag


def test_decompile_of_our_reg_keeps_hash_algorithms_and_archive_directory(tmp_path: Path) -> None:
    config = tmp_path / "c.xml"
    config.write_text(CONFIG, "utf-8")
    reg = tmp_path / "c.reg"
    assert CliRunner().invoke(main, ["compile", str(config), "-o", str(reg), "--format", "reg"]).exit_code == 0
    result = CliRunner().invoke(main, ["decompile", str(reg)])
    assert result.exit_code == 0, result.output
    back = sr.loads(result.stdout)
    assert {o.name: o.value for o in back.options} == {"HashAlgorithms": "MD5,SHA256,IMPHASH",
                                                       "ArchiveDirectory": "SysmonArchive"}
    assert sr.to_blob(back) == sr.to_blob(sr.load(config))


def test_dump_prints_the_options_header(tmp_path: Path) -> None:
    config = tmp_path / "c.xml"
    config.write_text(CONFIG, "utf-8")
    reg, raw = tmp_path / "c.reg", tmp_path / "c.bin"
    for out, fmt in ((reg, "reg"), (raw, "bin")):
        assert CliRunner().invoke(main, ["compile", str(config), "-o", str(out), "--format", fmt]).exit_code == 0
    header = CliRunner().invoke(main, ["dump", str(reg)]).stdout.split("\n\n")[0].splitlines()
    assert header == ["Current configuration:",
                      " - Driver name:                   SysmonDrv",
                      " - HashingAlgorithms:             MD5,SHA256,IMPHASH",
                      " - Network connection:            disabled",
                      " - Archive Directory:             SysmonArchive",
                      " - Image loading:                 enabled"]
    # A raw blob holds only rules: what they imply is shown, the registry values are "-".
    header = CliRunner().invoke(main, ["dump", str(raw)]).stdout.split("\n\n")[0].splitlines()
    assert header[1:] == [" - HashingAlgorithms:             -", " - Network connection:            disabled",
                          " - Archive Directory:             -", " - Image loading:                 enabled"]
