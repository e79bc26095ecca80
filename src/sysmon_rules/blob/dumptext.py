"""``sysmon -c`` text -> RuleTable: the inverse of ``dump.dump_text``, with what the text loses.

Read line by line, as people capture it: the banner (Windows "System Monitor v15.x", Linux "Sysmon
v1.x - Monitors system events", the "Sysinternals", "By", "Copyright", "Licensed", "Using
libxml2/pugixml" lines), the command line with its prompt first when a terminal was copied (``PS
C:\\> .\\Sysmon64.exe -c``, ``$ sudo sysmon -c``), the "Current configuration:" block
(``CONFIG_FMT`` lines such as ``" - Service name:"``, ``" - Config hash:"``), blank lines
anywhere, CRLF, no final newline, trailing spaces, and tabs a terminal or a Markdown page turned
into spaces (the filter lines' indent is then read from the text itself: a filter of a compound
rule is 4 columns deeper than the compound line). Any other line is an error naming it.

The text is a lossy view of the blob, so the reader returns, next to the table, the list of facts
the text cannot carry (:data:`UNKNOWNS`): filter RuleNames are never printed, compound rule names
are cut to 32 characters, a rule set right after one of the same event type and onmatch is hidden,
filters and events the printing build did not know are skipped, an unknown condition prints as
``is``, and the binary version is not shown. Everything else is rebuilt as the compiler would
build it: an event type of a series (the three ``RegistryEvent`` ids) gets the first id whose
field table has every printed field.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from ..errors import Location, SysmonRulesError
from ..ruletable import (
    COMBINE_AND,
    COMBINE_OR,
    RULE_DEFAULT_EXCLUDE,
    RULE_DEFAULT_INCLUDE,
    Aggregation,
    RuleFilter,
    RuleSet,
    RuleTable,
)
from ..schema import CONDITIONS, EventType, SchemaVersion, parse_version
from ..schema.model import Platform
from .layout import BINARY_18, version_word, writer_schema

_COMBINES = {"Or": COMBINE_OR, "And": COMBINE_AND, "Unknown": 2}
_DEFAULTS = {"include": RULE_DEFAULT_EXCLUDE, "exclude": RULE_DEFAULT_INCLUDE}
_NUMBERED = re.compile(r"\d{4,}")
_CUT = 32  # "%.32s": the compound rule names the text shows
_INDENT = 4  # "\t    ": a filter of a compound rule

# What ``sysmon -c`` text cannot carry, by code (the diff treats these as unknown, not as changes).
UNKNOWNS: dict[str, str] = {
    "rule-names": "filter RuleNames: `sysmon -c` does not print them",
    "hidden-sets": "a rule set right after one of the same event type and onmatch is not printed; "
                   "none is assumed",
    "unknown-fields": "filters on fields (and sets of events) the printing Sysmon did not know are not "
                      "printed; none is assumed",
    "binary-version": "the binary format version is not printed: read as binary 18",
    "unknown-conditions": "a condition the printing Sysmon did not know prints as 'is'",
    "cut-names": "compound rule names are cut to 32 characters",
    "numbered-names": "a compound rule shown as a 4-digit number may be unnamed or named so",
}
_ALWAYS = ("rule-names", "hidden-sets", "unknown-fields", "binary-version", "unknown-conditions")

_HEADER = re.compile(r"Rule configuration \((?P<binary>binary )?version (?P<version>[0-9]+\.[0-9]+)\):")
_NO_RULES = "No rules installed"
# What Sysmon prints before the rules (PrintBanner, then DumpConfiguration's CONFIG_FMT lines).
_PREAMBLE = re.compile(r"""(?:
    (?:System\ Monitor|Sysmon)\ v[0-9][0-9.]*\ -\ .+
  | Sysinternals(?:\ -\ www\.sysinternals\.com)?
  | By\ Mark\ Russinovich.*
  | Copyright\ \([Cc]\)\ .+
  | Licensed\ under\ .+
  | Using\ (?:libxml2|pugixml)\b.*
  | Current\ configuration:
  | -\ (?![^:]*\ onmatch:)[A-Za-z][A-Za-z ]*:(?:\s.*)?   # CONFIG_FMT " - Name:", never a rule set line
)""", re.VERBOSE)
# The command a terminal shows before its output (prompt and all), when a copy starts there.
_COMMAND = re.compile(r"(?:.*[>$#%] *)?(?:sudo +)?(?:\S*[\\/])?(?i:sysmon(?:64a?)?(?:\.exe)?) +-c")
_SET = re.compile(r"-\s+(?P<name>\S+)\s+onmatch:\s+(?P<onmatch>\S+)\s+combine rules using '(?P<combine>[^']*)'")
_COMPOUND = re.compile(r"Compound Rule (?P<label>.+)   combine using (?P<combine>Or|And|Unknown)")
_CONDITION = "|".join(re.escape(c) for c in sorted(set(CONDITIONS), key=len, reverse=True))
# A value is printed between quotes as it is (no escaping), so it runs to the last quote on its line.
_FILTER = re.compile(rf"(?P<field>\S+) +filter: (?P<condition>{_CONDITION}) +value: '(?P<value>.*)'")


class DumpTextError(SysmonRulesError):
    """Text that is not (or not all of) what ``sysmon -c`` prints."""


@dataclass(frozen=True)
class DumpText:
    """The rule table ``sysmon -c`` text describes and the codes of what it could not say."""

    table: RuleTable
    unknowns: tuple[str, ...]
    platform: Platform = "windows"

    def describe_unknowns(self) -> list[str]:
        return [UNKNOWNS[code] for code in self.unknowns]


def looks_like_dump(text: str) -> bool:
    """Is this plausibly ``sysmon -c`` output (rules section or "No rules installed")?"""
    head = text[:1_000_000]
    return bool(re.search(r"^[ \t]*Rule configuration \((binary )?version [0-9.]+\):", head, re.MULTILINE)) or \
        bool(re.search(r"^[ \t]*No rules installed[ \t]*\r?$", head, re.MULTILINE))


def read_dump_text(text: str, *, platform: Platform = "windows", path: str | None = None) -> DumpText:
    """The rule table of ``sysmon -c`` output; DumpTextError (one line, with the place) if it is not."""
    return _Reader(text.removeprefix("\ufeff"), platform, path).read()


def blob_from_text(data: bytes, *, platform: Platform = "windows", path: str | None = None
                   ) -> tuple[bytes, list[str]] | None:
    """The blob ``sysmon -c`` output in ``data`` describes and notes on what it lost; None if not dump text."""
    from .encode import encode_table
    from .textforms import as_text

    text = as_text(data)
    if not looks_like_dump(text):
        return None
    reading = read_dump_text(text, platform=platform, path=path)
    return encode_table(reading.table), lost_notes(reading)


def lost_notes(reading: DumpText) -> list[str]:
    """The notes a decompiled config carries for what the text could not say."""
    return [f"read from `sysmon -c` text, which cannot carry: {n}" for n in reading.describe_unknowns()]


@dataclass(frozen=True)
class _Line:
    number: int
    text: str  # without the line end and trailing blanks
    indent: str  # the leading blanks


class _Reader:
    def __init__(self, text: str, platform: Platform, path: str | None) -> None:
        # "\n" only: a value may hold any other line-breaking character str.splitlines() splits on.
        raw = text.split("\n")
        self.cut = not text.endswith("\n")  # no final newline: copy-paste, or a cut text
        self.last = len(raw) if self.cut else len(raw) - 1
        self.lines = []
        for number, line in enumerate(raw[:self.last], 1):
            body = line.rstrip(" \t\r")
            stripped = body.lstrip(" \t")
            self.lines.append(_Line(number, stripped, body[:len(body) - len(stripped)]))
        self.path = path
        self.builder = _Builder(platform, path)

    def error(self, line: _Line, message: str | None = None) -> DumpTextError:
        text = message or f"not a line `sysmon -c` prints: {line.text[:80]!r}"
        if self.cut and line.number == self.last:
            text += " (the text ends in the middle of this line: cut?)"
        return DumpTextError(text, Location(self.path, line.number, len(line.indent) + 1))

    def read(self) -> DumpText:
        lines = iter(self.lines)
        first = True
        for line in lines:
            if not line.text or _PREAMBLE.fullmatch(line.text) or (first and _COMMAND.fullmatch(line.text)):
                first = first and not line.text
                continue
            if line.text == _NO_RULES:
                for rest in lines:
                    if rest.text:
                        raise self.error(rest)
                return self.builder.no_rules()
            header = _HEADER.fullmatch(line.text)
            if header is None:
                raise self.error(line)
            return self.builder.rules(self.builder.header(header, line), self.rule_lines(list(lines)))
        last = self.lines[-1] if self.lines else _Line(1, "", "")
        raise self.error(last, "no \"Rule configuration\" line: not `sysmon -c` output, or cut before its rules")

    def rule_lines(self, lines: list[_Line]) -> list[tuple[_Line, str, re.Match[str]]]:
        """Each non-blank line after the header as (line, kind, match), kind one of set, compound,
        filter, member (a filter of a compound rule)."""
        width = _item_width(lines)
        found: list[tuple[_Line, str, re.Match[str]]] = []
        for line in lines:
            if not line.text:
                continue
            match = _SET.fullmatch(line.text)
            if match is not None and "\t" not in line.indent:
                found.append((line, "set", match))
                continue
            deeper = _is_member(line.indent, width)
            if deeper is None:
                raise self.error(line)
            match = _COMPOUND.fullmatch(line.text)
            if match is not None and not deeper:
                found.append((line, "compound", match))
                continue
            match = _FILTER.fullmatch(line.text)
            if match is None:
                raise self.error(line)
            if not found:
                raise self.error(line, "a filter line before any rule set line")
            found.append((line, "member" if deeper else "filter", match))
        return found


def _item_width(lines: list[_Line]) -> int:
    """The indent of compound and plain filter lines when tabs became spaces: the smallest one."""
    widths = [len(line.indent) for line in lines if line.text and line.indent and "\t" not in line.indent
              and not _SET.fullmatch(line.text)]
    return min(widths, default=0)


def _is_member(indent: str, width: int) -> bool | None:
    """Whether a line so indented is a filter of a compound rule; None for no indent Sysmon prints."""
    if indent.startswith("\t"):  # as printed: "\t" or "\t    "
        rest = indent[1:]
        return None if rest not in ("", " " * _INDENT) else bool(rest)
    if not indent or "\t" in indent:
        return None
    if len(indent) == width:
        return False
    return True if len(indent) == width + _INDENT else None


class _Builder:
    def __init__(self, platform: Platform, path: str | None) -> None:
        self.platform = platform
        self.path = path
        self.schema: SchemaVersion = writer_schema(BINARY_18, platform)
        self.unknowns: list[str] = list(_ALWAYS)
        # The printer's "current aggregation" survives from set to set.
        self.current = Aggregation(0, "", COMBINE_OR)
        self.next_id = 1

    def no_rules(self) -> DumpText:
        return DumpText(RuleTable(BINARY_18, 0, ()), tuple(self.unknowns), self.platform)

    def header(self, match: re.Match[str], line: _Line) -> tuple[int, int]:
        version = match.group("version")
        major, minor = (int(p) for p in version.split("."))
        if match.group("binary"):  # writers before 1.01 print their binary version
            return version_word(major, minor), 0
        packed = parse_version(version)
        if packed is None:  # found by the fuzz harness: "version 0.30" ended in a ValueError
            raise DumpTextError(f"no Sysmon schema has version {version}",
                                Location(self.path, line.number, len(line.indent) + match.start("version") + 1))
        return BINARY_18, packed

    def rules(self, versions: tuple[int, int], items: list[tuple[_Line, str, re.Match[str]]]) -> DumpText:
        starts = [k for k, item in enumerate(items) if item[1] == "set"] + [len(items)]
        rule_sets = tuple(self.rule_set(items[a], items[a + 1:b]) for a, b in itertools.pairwise(starts))
        table = RuleTable(versions[0], versions[1], rule_sets)
        return DumpText(table, tuple(dict.fromkeys(self.unknowns)), self.platform)

    def error(self, message: str, line: _Line, column: int = 0) -> DumpTextError:
        return DumpTextError(message, Location(self.path, line.number, len(line.indent) + column + 1))

    def rule_set(self, head: tuple[_Line, str, re.Match[str]], items: list[tuple[_Line, str, re.Match[str]]]
                 ) -> RuleSet:
        line, _, match = head
        name, onmatch, combine = match.group("name", "onmatch", "combine")
        if onmatch not in _DEFAULTS:
            raise self.error(f"rule set of {name} has no onmatch ({onmatch})", line, match.start("onmatch"))
        if combine not in _COMBINES:
            raise self.error(f"rule set of {name} combines with {combine!r}, not Or, And or Unknown", line,
                             match.start("combine"))
        fields = [m.group("field") for _, kind, m in items if kind != "compound"]
        event = self.event_type(name, fields, line)
        filters: list[RuleFilter] = []
        aggregations: dict[int, Aggregation] = {}
        for item_line, kind, item in items:
            if kind == "compound":
                aggregation = self.compound(item)
                aggregations[aggregation.id] = aggregation
            else:
                filters.append(self.filter(item_line, item, kind == "member", event, aggregations))
        return RuleSet(event.id, _DEFAULTS[onmatch], _COMBINES[combine], tuple(filters),
                       tuple(aggregations.values()), Location(self.path, line.number, 1))

    def event_type(self, name: str, fields: list[str], line: _Line) -> EventType:
        series = [e for e in self.schema.events if e.rulename == name]
        if not series:
            raise self.error(f"{name} is not an event type of Sysmon's newest {self.platform} schema", line, 2)
        # As the compiler chooses: the first id of the series that has every field.
        for event in series:
            if all(f in event.field_index for f in fields):
                return event
        missing = next(f for f in fields if f not in series[-1].field_index)
        raise self.error(f"{missing} is not a field of {name}", line, 2)

    def compound(self, match: re.Match[str]) -> Aggregation:
        text = match.group("label")
        if _NUMBERED.fullmatch(text):
            self.unknowns.append("numbered-names")
            ident, name = int(text), ""
        else:
            ident, name = self.next_id, text
            if len(text) == _CUT:
                self.unknowns.append("cut-names")
        self.next_id = max(self.next_id, ident) + 1
        self.current = Aggregation(ident, name, _COMBINES[match.group("combine")])
        return self.current

    def filter(self, line: _Line, match: re.Match[str], member: bool, event: EventType,
               aggregations: dict[int, Aggregation]) -> RuleFilter:
        aggregation = self.current.id if member else 0
        if member and aggregation not in aggregations:
            if not aggregation:
                raise self.error("a filter of a compound rule before any compound rule line", line)
            # Its compound line was printed in an earlier set (the same aggregation id).
            aggregations[aggregation] = self.current
        return RuleFilter(event.field_index[match.group("field")], CONDITIONS.index(match.group("condition")),
                          match.group("value"), "", aggregation, Location(self.path, line.number, len(line.indent) + 1))


__all__ = ["UNKNOWNS", "DumpText", "DumpTextError", "blob_from_text", "looks_like_dump", "lost_notes",
           "read_dump_text"]
