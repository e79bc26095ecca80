"""`sysmon -c` text as people capture it (issue 24): each capture form of `dump`'s own output, for
every config of the corpus and every reference blob, on Windows and Linux, reads back as the same
rules through the one loader; one changed value reads as different; anything else is a one-line
error naming the line.

The forms are made here from `dump`'s output (never stored): Sysmon's banners (Windows
PrintBanner, Linux's "Sysmon v1.x - Monitors system events"), the host lines of "Current
configuration:", blank lines inside and around sections, no final newline, extra blank lines,
CRLF, UTF-16LE with a BOM as PowerShell 5.1's `>` writes, and tabs a terminal (8 columns) or a
Markdown page (4 columns) turned into spaces.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner

import sysmon_rules
from sysmon_rules.blob.compile import compile_config
from sysmon_rules.blob.dump import dump_text, printed_sets
from sysmon_rules.blob.dumptext import DumpTextError
from sysmon_rules.blob.encode import encode_table
from sysmon_rules.blob.layout import writer_schema
from sysmon_rules.blob.regvalues import options_header
from sysmon_rules.cli import main
from sysmon_rules.diffing import diff
from sysmon_rules.errors import SysmonRulesError
from sysmon_rules.rulesource import DUMP_TEXT, load_rules
from sysmon_rules.ruletable import RuleSet, RuleTable
from sysmon_rules.schema import newest

PLATFORMS = ("windows", "linux")

# As Windows Sysmon 15 and Sysmon for Linux print them (PrintBanner), before DumpConfiguration.
WINDOWS_BANNER = ("\n\nSystem Monitor v15.15 - System activity monitor\nBy Mark Russinovich and Thomas Garnier\n"
                  "Copyright (C) 2014-2024 Microsoft Corporation\n"
                  "Using libxml2. libxml2 is Copyright (C) 1998-2012 Daniel Veillard. All Rights Reserved.\n"
                  "Sysinternals - www.sysinternals.com\n\n")
LINUX_BANNER = ("\nSysmon v1.3.3 - Monitors system events\nSysinternals - www.sysinternals.com\n"
                "By Mark Russinovich, Thomas Garnier and Kevin Sheldrake\n"
                "Copyright (C) 2014-2024 Microsoft Corporation\n"
                "Licensed under MIT/GPLv2\nUsing libxml2. libxml2 is Copyright (C) 1998-2012 Daniel Veillard. "
                "All Rights Reserved.\n\n")
HOST_LINES = (" - Service name:                  Sysmon64\n - Driver name:                   SysmonDrv\n"
              " - Config file:                   C:\\Windows\\sysmon.xml\n"
              " - Config hash:                   "
              "SHA256=2BF6C8FE0B7B1F24E1C3C2C0D9B5E1B8E5D3F1A7C9B2D4E6F8A1B3C5D7E9F1A3\n")


def _with_host_lines(text: str) -> str:
    return text.replace("Current configuration:\n", "Current configuration:\n" + HOST_LINES, 1)


def _utf16(text: str) -> bytes:
    return ("\ufeff" + text.replace("\n", "\r\n")).encode("utf-16-le")  # PowerShell 5.1's `>`


def _all_at_once(text: str) -> bytes:
    spaced = "\n\n".join(line.expandtabs(8) + "  " for line in _with_host_lines(text).split("\n"))
    return _utf16(WINDOWS_BANNER + spaced.rstrip("\n "))


FORMS: dict[str, Callable[[str], bytes]] = {
    "as dumped": str.encode,
    "Windows banner and host lines": lambda t: (WINDOWS_BANNER + _with_host_lines(t)).encode(),
    "Linux banner": lambda t: (LINUX_BANNER + t).encode(),
    "blank lines inside and around sections": lambda t: ("\n" + "\n\n".join(t.split("\n")) + "\n\n").encode(),
    "no final newline": lambda t: t.rstrip("\n").encode(),
    "extra blank lines at the end": lambda t: (t + "\n\n\n").encode(),
    "CRLF": lambda t: t.replace("\n", "\r\n").encode(),
    "UTF-16LE with BOM": _utf16,
    "tabs as a terminal shows them": lambda t: t.expandtabs(8).encode(),
    "tabs as a Markdown page shows them": lambda t: t.replace("\t", "    ").encode(),
    "trailing spaces": lambda t: "".join(line + "   \n" for line in t.split("\n")[:-1]).encode(),
    "all at once": _all_at_once,
}


def _reference_blobs(shared: Path) -> Iterator[tuple[str, bytes]]:
    for path in sorted((shared / "conformance" / "compile").glob("*.bin")):
        yield path.name, path.read_bytes()
    versions = json.loads((shared / "reference" / "sysmon-version-blobs.json").read_text("utf-8"))["versions"]
    for entry in versions:
        yield f"Sysmon {entry['sysmonVersion']}", bytes(entry["byteRule"])


@cache
def _sources(shared: Path, platform: str) -> tuple[tuple[str, bytes], ...]:
    """(name, blob): every corpus config Sysmon of ``platform`` loads, compiled, and every reference blob."""
    found: list[tuple[str, bytes]] = []
    for path in sorted((shared / "corpus" / "configs").rglob("*.xml")):
        try:
            config = sysmon_rules.load(path, platform=platform)
            found.append((str(path), compile_config(config, platform=platform).data))
        except SysmonRulesError:
            continue  # a config this Sysmon rejects has no `sysmon -c`
    return (*found, *_reference_blobs(shared))


def _dump(blob: bytes, platform: str) -> tuple[RuleTable, str]:
    """The blob's table and what `sysmon-rules dump` prints for it (the options, then the rules)."""
    table = load_rules(blob, platform=platform).table
    return table, options_header(table, {}) + dump_text(blob, platform)  # type: ignore[arg-type]


def _shape(rule_set: RuleSet, platform: str = "windows") -> tuple[object, ...]:
    """What the text carries of a set: its event type's name (which id of a series, such as
    RegistryEvent's 12-14, is read from the fields; a set without filters names none), filter
    RuleNames and aggregation numbering aside."""
    groups: dict[int, int] = {}
    filters = tuple((f.field_id, f.condition, f.value, groups.setdefault(f.aggregation_id, len(groups))
                     if f.aggregation_id else 0) for f in rule_set.filters)
    combines = tuple(a.combine for a in sorted(rule_set.aggregations, key=lambda a: a.id)
                     if any(f.aggregation_id == a.id for f in rule_set.filters))
    event = newest(platform).events_by_id[rule_set.event_id]  # type: ignore[arg-type]
    return event.rulename, rule_set.rule_default, rule_set.combine, filters, combines


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_capture_form_reads_back_as_the_rules_sysmon_prints(shared_dir: Path, platform: str) -> None:
    counts: Counter[str] = Counter()
    for name, blob in _sources(shared_dir, platform):
        table, text = _dump(blob, platform)
        schema = writer_schema(table.binary_version, platform, table.schema_version)  # type: ignore[arg-type]
        shown = [_shape(table.rule_sets[i], platform) for i in printed_sets(table, schema)]
        plain = load_rules(text.encode(), platform=platform)
        assert plain.kind == DUMP_TEXT, name
        assert [_shape(s, platform) for s in plain.table.rule_sets] == shown, name
        expected = encode_table(plain.table)
        for form, make in FORMS.items():
            read = load_rules(make(text), platform=platform, label=f"{name} ({form})")
            assert encode_table(read.table) == expected, (name, form)
            assert read.unknowns == plain.unknowns, (name, form)
            counts[form] += 1
        counts["hidden sets"] += len(table.rule_sets) - len(shown)
    print(platform, dict(counts))
    assert len(set(counts[form] for form in FORMS)) == 1
    assert counts["as dumped"] > (500 if platform == "windows" else 300)
    assert counts["hidden sets"] > 0  # the reason a capture cannot be compared in full


@pytest.mark.parametrize("platform", PLATFORMS)
def test_diff_answers_on_what_the_capture_shows_and_sees_one_changed_value(shared_dir: Path, platform: str) -> None:
    verdicts: Counter[str] = Counter()
    for name, blob in _sources(shared_dir, platform):
        table, text = _dump(blob, platform)
        captured = _all_at_once(text)
        result = diff(table, captured, platform=platform)  # type: ignore[arg-type]
        missing = len(table.rule_sets) - len(load_rules(captured, platform=platform).table.rule_sets)
        if missing:
            assert (result.verdict, result.reason) == ("unknown", (
                f"equivalent on everything the text shows; {missing} set(s) that `sysmon -c` does not print "
                "cannot be compared (read the registry value Rules for a complete check)")), name
        else:
            assert result.verdict == "equivalent", (name, result.reason)
        verdicts[f"{result.verdict}, {missing} not shown" if missing else result.verdict] += 1
        if "value: '" not in text:
            verdicts["no filter to change"] += 1
            continue
        changed = _all_at_once(re.sub(r"value: '(.*)'", "value: 'sysmon-rules changed value'", text, count=1))
        values = [[f.value for f in s.filters] for s in load_rules(captured, platform=platform).table.rule_sets]
        back = [[f.value for f in s.filters] for s in load_rules(changed, platform=platform).table.rule_sets]
        assert sum(a != b for x, y in zip(values, back, strict=True) for a, b in zip(x, y, strict=True)) == 1, name
        other = diff(table, changed, platform=platform)  # type: ignore[arg-type]
        # Never an all-clear where the change shows. Where it cannot — a set that never matches
        # either way (an AND of two "is" values of one field; an AND with "excludes all" of
        # nothing) — the diff may prove it ("equivalent") or say "unknown".
        if other.verdict == "equivalent":
            assert _never_matches(load_rules(changed, platform=platform).table), (name, other.reason)
        else:
            assert other.verdict in ("different", "unknown"), (name, other.reason)
        verdicts[f"one changed value: {other.verdict}"] += 1
    print(platform, dict(verdicts))
    assert verdicts["one changed value: different"] > (500 if platform == "windows" else 300)
    assert verdicts["one changed value: unknown"] + verdicts["one changed value: equivalent"] <= 2


def _never_matches(table: RuleTable) -> bool:
    """The table's first filter with the changed value sits in an AND <Rule> with another "is"
    of its field and another value: no value equals both, so the <Rule> never matches."""
    for rule_set in table.rule_sets:
        for flt in rule_set.filters:
            if flt.value != "sysmon-rules changed value":
                continue
            agg = rule_set.aggregation(flt.aggregation_id) if flt.aggregation_id else None
            return agg is not None and agg.combine == 1 and flt.condition == 0 and any(
                o.aggregation_id == flt.aggregation_id and o.field_id == flt.field_id and o.condition == 0 and
                o.value.lower() != flt.value.lower() for o in rule_set.filters)
    return False


def test_reg_query_output_reads_as_the_blob(shared_dir: Path) -> None:
    blob = (shared_dir / "conformance" / "compile" / "include_lsass_access.xml.bin").read_bytes()
    text = ("\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\SysmonDrv\\Parameters\n"
            "    HashingAlgorithm    REG_DWORD    0x80000003\n"
            f"    Rules    REG_BINARY    {blob.hex().upper()}\n    ArchiveDirectory    REG_SZ    Sysmon\n\n")
    read = load_rules(_utf16(text))
    assert read.blob == blob and read.values["HashingAlgorithm"] == 0x80000003
    assert read.as_config()[0].option("HashAlgorithms").value == "SHA1,MD5"  # type: ignore[union-attr]


@pytest.mark.parametrize(("text", "line", "what"), [
    (WINDOWS_BANNER + "PS C:\\> sysmon64 -c\nRule configuration (version 4.90):\n", 9, "PS C:\\\\> sysmon64 -c"),
    ("Rule configuration (version 4.90):\n - ProcessCreate   onmatch: include   combine rules using 'Or'\n"
     "    Image     filter: is   value: 'x'\n      Image    filter: is   value: 'y'\n", 4, "Image"),
    ("Rule configuration (version 4.90):\n - ProcessCreate   onmatch: include   combine rules using 'Or'\n"
     "\tImage     filter: is   value: 'x'\nsome note\n", 4, "some note"),
    ("Rule configuration (version 4.90):\n - ProcessCreate   onmatch: include   combine rules using 'Or'\n"
     "\tImage     filter: is   value: 'x", 3, "cut?"),
    ("Current configuration:\n - ProcessCreate   onmatch: include   combine rules using 'Or'\n"
     "Rule configuration (version 4.90):\n", 2, "ProcessCreate"),
    ("Current configuration:\n - Service name:   Sysmon64\n\nFailed to open rules configuration with last ruleError 5\n"
     "Rule configuration (version 4.90):\n", 4, "Failed to open"),
])
def test_anything_else_is_one_line_naming_the_line(text: str, line: int, what: str) -> None:
    with pytest.raises(DumpTextError) as info:
        load_rules(_utf16(text), label="capture.txt")
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"capture.txt:{line}:") and what in message, message


def _with_hidden_set(shared: Path) -> tuple[Path, bytes]:
    for path, blob in _sources(shared, "windows"):
        if not path.endswith(".xml"):
            continue
        if load_rules(blob).hidden_sets:
            return Path(path), blob
    raise AssertionError("no corpus config has a set `sysmon -c` does not print")


def test_dump_names_the_sets_it_leaves_out_and_prints_them_on_request(shared_dir: Path, tmp_path: Path) -> None:
    path, blob = _with_hidden_set(shared_dir)
    source = tmp_path / "rules.bin"
    source.write_bytes(blob)
    table = load_rules(blob).table
    hidden = load_rules(blob).hidden_sets
    done = CliRunner().invoke(main, ["dump", str(source)])
    assert done.exit_code == 0, done.stderr
    assert done.stdout == options_header(table, {}) + dump_text(blob)  # what `sysmon -c` prints, nothing more
    assert done.stderr.count("\n") == 1 and f"does not print {len(hidden)} rule set(s)" in done.stderr
    assert all(f"set {i + 1} (" in done.stderr for i in hidden) and "--every-set" in done.stderr
    every = CliRunner().invoke(main, ["dump", "--every-set", str(source)])
    assert every.exit_code == 0
    back = load_rules(every.stdout.encode()).table
    assert [_shape(s) for s in back.rule_sets] == [_shape(s) for s in table.rule_sets], path


def test_diff_of_a_config_and_its_capture_says_what_it_could_compare(shared_dir: Path, tmp_path: Path) -> None:
    path, blob = _with_hidden_set(shared_dir)
    hidden = len(load_rules(blob).hidden_sets)
    capture = tmp_path / "host-sysmon-c.txt"
    capture.write_bytes(_all_at_once(_dump(blob, "windows")[1]))
    done = CliRunner().invoke(main, ["diff", str(path), str(capture)])
    assert done.exit_code == 3, done.output
    assert (f"verdict: unknown: equivalent on everything the text shows; {hidden} set(s) that `sysmon -c` does not "
            "print cannot be compared (read the registry value Rules for a complete check)\n") in done.stdout
