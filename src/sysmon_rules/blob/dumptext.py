"""``sysmon -c`` text -> RuleTable: the inverse of ``dump.dump_text``, with what the text loses.

The grammar is ``grammars/dump.lark``. The text is a lossy view of the blob, so the reader
returns, next to the table, the list of facts the text cannot carry (:data:`UNKNOWNS`): filter
RuleNames are never printed, compound rule names are cut to 32 characters, a rule set right after
one of the same event type and onmatch is hidden, filters and events the printing build did not
know are skipped, an unknown condition prints as ``is``, and the binary version is not shown.
Everything else is rebuilt as the compiler would build it: an event type of a series (the three
``RegistryEvent`` ids) gets the first id whose field table has every printed field.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedInput

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


@functools.cache
def _parser() -> Lark:
    grammar = resources.files("sysmon_rules.grammars").joinpath("dump.lark").read_text("utf-8")
    return Lark(grammar, parser="lalr", propagate_positions=True)


def looks_like_dump(text: str) -> bool:
    """Is this plausibly ``sysmon -c`` output (rules section or "No rules installed")?"""
    head = text[:1_000_000]
    return bool(re.search(r"^Rule configuration \((binary )?version [0-9.]+\):", head, re.MULTILINE)) or \
        bool(re.search(r"^No rules installed\s*$", head, re.MULTILINE))


def read_dump_text(text: str, *, platform: Platform = "windows", path: str | None = None) -> DumpText:
    """The rule table of ``sysmon -c`` output; DumpTextError (one line, with the place) if it is not."""
    text = text.lstrip("\ufeff")
    if text and not text.endswith("\n"):
        line = text.count("\n") + 1
        raise DumpTextError("the text ends in the middle of a line: cut?", Location(path, line, 1))
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        raise DumpTextError(f"not a line `sysmon -c` prints: {_line_of(text, exc.line)!r}",
                            Location(path, exc.line, exc.column)) from None
    except LarkError as exc:  # pragma: no cover - lark raises UnexpectedInput for bad text
        raise DumpTextError(f"not `sysmon -c` text: {exc}", Location(path)) from None
    return _Builder(platform, path).build(tree)


def blob_from_text(data: bytes, *, platform: Platform = "windows", path: str | None = None
                   ) -> tuple[bytes, list[str]] | None:
    """The blob ``sysmon -c`` output in ``data`` describes and notes on what it lost; None if not dump text."""
    from .encode import encode_table
    from .textforms import as_text

    text = as_text(data)
    if not looks_like_dump(text):
        return None
    reading = read_dump_text(text, platform=platform, path=path)
    notes = [f"read from `sysmon -c` text, which cannot carry: {n}" for n in reading.describe_unknowns()]
    return encode_table(reading.table), notes


def _line_of(text: str, line: int) -> str:
    lines = text.splitlines()
    return lines[line - 1][:80] if 0 < line <= len(lines) else ""


class _Builder:
    def __init__(self, platform: Platform, path: str | None) -> None:
        self.platform = platform
        self.path = path
        self.schema: SchemaVersion = writer_schema(BINARY_18, platform)
        self.unknowns: list[str] = list(_ALWAYS)
        # The printer's "current aggregation" survives from set to set.
        self.current = Aggregation(0, "", COMBINE_OR)
        self.next_id = 1

    def build(self, tree: Tree[Token]) -> DumpText:
        body = tree.children[-1]
        assert isinstance(body, Tree)
        if body.data == "no_rules":
            return DumpText(RuleTable(BINARY_18, 0, ()), tuple(self.unknowns), self.platform)
        header, *sets = body.children
        assert isinstance(header, Tree)
        binary, version = _header(header, self.path)
        rule_sets = tuple(self.rule_set(s) for s in sets if isinstance(s, Tree))
        table = RuleTable(binary, version, rule_sets)
        return DumpText(table, tuple(dict.fromkeys(self.unknowns)), self.platform)

    def error(self, message: str, token: Token) -> DumpTextError:
        return DumpTextError(message, Location(self.path, token.line or 0, token.column or 0))

    def rule_set(self, node: Tree[Token]) -> RuleSet:
        name, onmatch, combine, *items = node.children
        assert isinstance(name, Token) and isinstance(onmatch, Token) and isinstance(combine, Token)
        if str(onmatch) not in _DEFAULTS:
            raise self.error(f"rule set of {name} has no onmatch ({onmatch})", onmatch)
        trees = [i for i in items if isinstance(i, Tree)]
        fields = [str(t.children[-3]) for t in trees if t.data == "filter"]
        event = self.event_type(name, fields)
        filters: list[RuleFilter] = []
        aggregations: dict[int, Aggregation] = {}
        for item in trees:
            if item.data == "compound":
                aggregation = self.compound(item)
                aggregations[aggregation.id] = aggregation
            else:
                filters.append(self.filter(item, event, aggregations))
        return RuleSet(event.id, _DEFAULTS[str(onmatch)], _COMBINES[str(combine)], tuple(filters),
                       tuple(aggregations.values()), Location(self.path, name.line or 0, 1))

    def event_type(self, name: Token, fields: list[str]) -> EventType:
        series = [e for e in self.schema.events if e.rulename == str(name)]
        if not series:
            raise self.error(f"{name} is not an event type of Sysmon's newest {self.platform} schema", name)
        # As the compiler chooses: the first id of the series that has every field.
        for event in series:
            if all(f in event.field_index for f in fields):
                return event
        missing = next(f for f in fields if f not in series[-1].field_index)
        raise self.error(f"{missing} is not a field of {name}", name)

    def compound(self, node: Tree[Token]) -> Aggregation:
        label, combine = node.children
        assert isinstance(label, Token) and isinstance(combine, Token)
        text = str(label)
        if _NUMBERED.fullmatch(text):
            self.unknowns.append("numbered-names")
            ident, name = int(text), ""
        else:
            ident, name = self.next_id, text
            if len(text) == _CUT:
                self.unknowns.append("cut-names")
        self.next_id = max(self.next_id, ident) + 1
        self.current = Aggregation(ident, name, _COMBINES[str(combine)])
        return self.current

    def filter(self, node: Tree[Token], event: EventType, aggregations: dict[int, Aggregation]) -> RuleFilter:
        *indent, field, condition, value = node.children
        assert isinstance(field, Token) and isinstance(condition, Token) and isinstance(value, Token)
        aggregation = self.current.id if indent else 0
        if indent and aggregation not in aggregations:
            # Its compound line was printed in an earlier set (the same aggregation id).
            aggregations[aggregation] = self.current
        return RuleFilter(event.field_index[str(field)], CONDITIONS.index(str(condition)), str(value)[:-1], "",
                          aggregation, Location(self.path, field.line or 0, field.column or 0))


def _header(node: Tree[Token], path: str | None = None) -> tuple[int, int]:
    tokens = [t for t in node.children if isinstance(t, Token)]
    version = next(t for t in tokens if t.type == "VERSION")
    major, minor = (int(p) for p in str(version).split("."))
    if any(t.type == "BINARY" for t in tokens):  # writers before 1.01 print their binary version
        return version_word(major, minor), 0
    packed = parse_version(str(version))
    if packed is None:  # found by the fuzz harness: "version 0.30" ended in a ValueError
        raise DumpTextError(f"no Sysmon schema has version {version}", Location(path, version.line or 0,
                                                                               version.column or 0))
    return BINARY_18, packed


__all__ = ["UNKNOWNS", "DumpText", "DumpTextError", "blob_from_text", "looks_like_dump", "read_dump_text"]
