"""`sysmon -c` text read back (blob/dumptext.py): every config of the conformance set and the corpus,
Windows and Linux, decided on real events; what the text loses; bad text."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner

import sysmon_rules
from sysmon_rules.blob.compile import compile_config
from sysmon_rules.blob.dump import dump_text, printed_sets
from sysmon_rules.blob.dumptext import DumpTextError, looks_like_dump, read_dump_text
from sysmon_rules.cli import main
from sysmon_rules.engine import Evaluator
from sysmon_rules.errors import SysmonRulesError
from sysmon_rules.ruletable import RuleSet, RuleTable
from sysmon_rules.schema import newest
from test_engine_corpus import corpus_events


def _configs(shared: Path) -> list[Path]:
    corpus = [p for p in sorted((shared / "corpus").rglob("*.xml")) if "sigma" not in p.parts]
    return sorted((shared / "conformance" / "compile").glob("*.xml")) + corpus


def _shape(rule_set: RuleSet) -> tuple[object, ...]:
    """What the text carries of a set: names and aggregation numbering aside."""
    groups: dict[int, int] = {}
    filters = tuple((f.field_id, f.condition, f.value, groups.setdefault(f.aggregation_id, len(groups))
                     if f.aggregation_id else 0) for f in rule_set.filters)
    combines = tuple(a.combine for a in sorted(rule_set.aggregations, key=lambda a: a.id)
                     if any(f.aggregation_id == a.id for f in rule_set.filters))
    return rule_set.event_id, rule_set.rule_default, rule_set.combine, filters, combines


@cache
def _compiled(path: Path, platform: str) -> RuleTable | None:
    try:
        return compile_config(sysmon_rules.load(path, platform=platform), platform=platform).table  # type: ignore[arg-type]
    except SysmonRulesError:
        return None  # configs Sysmon rejects have no dump


def test_every_config_reads_back_as_the_sets_sysmon_prints(shared_dir: Path) -> None:
    checked = hidden = 0
    for path in _configs(shared_dir):
        table = _compiled(path, "windows")
        if table is None:
            continue
        from sysmon_rules.blob.encode import encode_table

        back = read_dump_text(dump_text(encode_table(table))).table
        shown = [table.rule_sets[i] for i in printed_sets(table, newest("windows"))]
        assert [_shape(s) for s in back.rule_sets] == [_shape(s) for s in shown], path
        assert back.schema_version == table.schema_version
        checked += 1
        hidden += len(table.rule_sets) - len(shown)
    assert checked > 900
    assert hidden > 0  # the corpus has sets the text hides (the reason "hidden-sets" is an unknown)


def test_read_back_decides_every_real_event_as_the_config(shared_dir: Path) -> None:
    events = corpus_events()
    assert len(events) > 1000
    agreed = 0
    for path in _configs(shared_dir):
        table = _compiled(path, "windows")
        if table is None or len(printed_sets(table, newest("windows"))) != len(table.rule_sets):
            continue  # a hidden set is not in the text: covered by the structural test above
        from sysmon_rules.blob.encode import encode_table

        original, back = Evaluator(table), Evaluator(read_dump_text(dump_text(encode_table(table))).table)
        assert all(original.decide(e).decision == back.decide(e).decision for e in events), path
        agreed += 1
    assert agreed > 900


def test_linux_dump_reads_back_with_linux_tables(shared_dir: Path) -> None:
    from sysmon_rules.blob.encode import encode_table

    read = 0
    for path in sorted((shared_dir / "conformance" / "compile").glob("*.xml")):
        table = _compiled(path, "linux")
        if table is None or not table.rule_sets:
            continue
        text = dump_text(encode_table(table), platform="linux")
        back = read_dump_text(text, platform="linux").table
        shown = [table.rule_sets[i] for i in printed_sets(table, newest("linux"))]
        assert [_shape(s) for s in back.rule_sets] == [_shape(s) for s in shown], path
        read += 1
    assert read > 0


WINDOWS_OUTPUT = """System Monitor v15.15 - System activity monitor
Copyright (C) 2014-2024 Mark Russinovich and Thomas Garnier

Current configuration:
 - Service name:                  Sysmon64
 - Driver name:                   SysmonDrv
 - Config file:                   C:\\sysmon\\config.xml
 - HashingAlgorithms:             SHA256
 - Network connection:            enabled

Rule configuration (version 4.90):
 - ProcessCreate                      onmatch: include   combine rules using 'Or'
\tImage                          filter: end with     value: '\\it's.exe'
\tCompound Rule a rule name of exactly 32 chars!   combine using And
\t    Image                          filter: not begin with value: 'C:\\'
\t    CommandLine                    filter: contains any value: 'x;y'
 - RegistryEvent                      onmatch: exclude   combine rules using 'And'
\tDetails                        filter: is           value: 'DWORD (0x00000001)'
"""


def test_full_windows_output_with_preamble() -> None:
    assert looks_like_dump(WINDOWS_OUTPUT)
    reading = read_dump_text(WINDOWS_OUTPUT.replace("\n", "\r\n"))
    first, registry = reading.table.rule_sets
    assert first.filters[0].value == "\\it's.exe"  # a value runs to the last quote
    assert [f.aggregation_id for f in first.filters] == [0, 1, 1]
    assert first.aggregations[0].name == "a rule name of exactly 32 chars!"  # maybe cut: "cut-names"
    assert registry.event_id == 13  # Details is a field of id 13, not 12: the compiler's choice
    assert {"rule-names", "hidden-sets", "cut-names"} <= set(reading.unknowns)


@pytest.mark.parametrize("prompt", ["PS C:\\Windows\\system32> .\\Sysmon64.exe -c", "C:\\Tools>sysmon -c",
                                    "user@host:~$ sudo /opt/sysmon/sysmon -c", "# sysmon -c"])
def test_a_terminal_copy_with_its_command_line_reads(prompt: str) -> None:
    """Copied from a terminal: the prompt and the command come first; the rules are the same."""
    plain = read_dump_text(WINDOWS_OUTPUT)
    copied = f"{prompt}\n\n{WINDOWS_OUTPUT}"
    assert looks_like_dump(copied) and read_dump_text(copied).table == plain.table


def test_another_command_line_is_still_an_error() -> None:
    with pytest.raises(DumpTextError, match="not a line `sysmon -c` prints"):
        read_dump_text(f"PS C:\\> Get-Process\n{WINDOWS_OUTPUT}")


@pytest.mark.parametrize(("text", "where", "what"), [
    ("Rule configuration (version 4.90):\n - ProcessCreate                      onmatch: include   combine",
     ":2:", "ends in the middle of this line: cut?"),
    ("Rule configuration (version 4.90):\n - ProcessCreate    onmatch: include   combine rules using 'Or'\n"
     "\tImage    filter: is   value: 'x\n", ":3:", "not a line `sysmon -c` prints"),
    ("Rule configuration (version 4.90):\n - NoSuchEvent    onmatch: include   combine rules using 'Or'\n",
     ":2:", "not an event type"),
    ("Rule configuration (version 4.90):\n - ProcessCreate    onmatch: include   combine rules using 'Or'\n"
     "\tNoSuchField    filter: is   value: 'x'\n", ":2:", "NoSuchField is not a field of ProcessCreate"),
])
def test_bad_text_is_one_line_error_with_place(text: str, where: str, what: str) -> None:
    with pytest.raises(DumpTextError) as info:
        read_dump_text(text, path="host.txt")
    message = str(info.value)
    assert "\n" not in message and message.startswith("host.txt" + where) and what in message


def test_decompile_accepts_dump_text(shared_dir: Path, tmp_path: Path) -> None:
    config = sysmon_rules.load(shared_dir / "corpus/configs/sysmon-modular/sysmonconfig.xml")
    compiled = compile_config(config)
    source = tmp_path / "sysmon-c.txt"
    source.write_bytes(("\ufeff" + WINDOWS_OUTPUT.split("Rule configuration")[0] + dump_text(compiled.data))
                       .encode("utf-16-le"))  # as PowerShell's `>` saves it
    result = CliRunner().invoke(main, ["decompile", str(source)])
    assert result.exit_code == 0, result.output
    assert "cannot carry: filter RuleNames" in result.output
    again = Evaluator(sysmon_rules.loads(result.output.encode("utf-8")))
    original = Evaluator(config)
    assert all(original.decide(e).decision == again.decide(e).decision for e in corpus_events())
    cut = tmp_path / "cut.txt"
    cut.write_text(dump_text(compiled.data)[:5000], "utf-8")
    result = CliRunner().invoke(main, ["decompile", str(cut)])
    assert result.exit_code == 2 and result.output.count("\n") == 1 and "cut?" in result.output
