"""Config -> canonical, readable Sysmon XML that ``load`` reads back to an equal Config.

Values are written exactly: element text is never trimmed or re-indented (Sysmon keeps every
character), so a field's text sits on its tag's line; carriage returns and tabs that the XML
parser would otherwise normalise are written as character references. Characters XML cannot
carry at all are replaced by U+FFFD and a comment says so; so are facts a blob has that XML
cannot state (``notes``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from ..model import Config, EventRules, Filter, Option, Rule, RuleGroup

_INDENT = "  "
# Characters XML 1.0 cannot contain, even as references (lone surrogates cannot even be encoded).
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_TEXT_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"}
_ATTR_ESCAPES = {**_TEXT_ESCAPES, '"': "&quot;", "\t": "&#9;", "\n": "&#10;"}
_TEXT_RE = re.compile("[&<>\r]")
_ATTR_RE = re.compile('[&<>\r"\t\n]')


class Writer:
    """Lines of XML being written; counts the characters it had to replace (``replaced``).

    Shared by ``to_xml`` and the merge's union output, so both escape and indent alike.
    """

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.replaced = 0

    def clean(self, text: str) -> str:
        cleaned, count = XML_ILLEGAL.subn("\ufffd", text)
        self.replaced += count
        return cleaned

    def text(self, value: str) -> str:
        return _TEXT_RE.sub(lambda m: _TEXT_ESCAPES[m.group()], self.clean(value))

    def attrs(self, pairs: Iterable[tuple[str, str | None]]) -> str:
        return "".join(f' {key}="{_ATTR_RE.sub(lambda m: _ATTR_ESCAPES[m.group()], self.clean(value))}"'
                       for key, value in pairs if value is not None)

    def emit(self, depth: int, line: str) -> None:
        self.lines.append(_INDENT * depth + line)

    def option(self, option: Option) -> None:
        if option.value:
            self.emit(1, f"<{option.name}>{self.text(option.value)}</{option.name}>")
        else:
            self.emit(1, f"<{option.name} />")

    def filter(self, depth: int, flt: Filter) -> None:
        attrs = self.attrs((("condition", flt.condition), ("name", flt.name)))
        self.emit(depth, f"<{flt.field}{attrs}>{self.text(flt.value)}</{flt.field}>")

    def rule(self, depth: int, rule: Rule) -> None:
        attrs = self.attrs((("name", rule.name), ("groupRelation", rule.group_relation)))
        if not rule.filters:
            self.emit(depth, f"<Rule{attrs} />")
            return
        self.emit(depth, f"<Rule{attrs}>")
        for flt in rule.filters:
            self.filter(depth + 1, flt)
        self.emit(depth, "</Rule>")

    def event(self, depth: int, ev: EventRules) -> None:
        attrs = self.attrs((("onmatch", ev.onmatch), ("default", ev.default)))
        if not ev.items:
            self.emit(depth, f"<{ev.element}{attrs} />")
            return
        self.emit(depth, f"<{ev.element}{attrs}>")
        for item in ev.items:
            if isinstance(item, Rule):
                self.rule(depth + 1, item)
            else:
                self.filter(depth + 1, item)
        self.emit(depth, f"</{ev.element}>")

    def group(self, group: RuleGroup) -> None:
        attrs = self.attrs((("name", group.name), ("groupRelation", group.group_relation)))
        self.emit(2, f"<RuleGroup{attrs}>")
        for ev in group.events:
            self.event(3, ev)
        self.emit(2, "</RuleGroup>")


def comment(text: str) -> str:
    """An XML comment holding ``text`` (``--`` cannot occur inside one)."""
    safe = re.sub("-(?=-)", "- ", XML_ILLEGAL.sub("\ufffd", text))
    return f"<!-- {safe.rstrip('-')} -->"


def to_xml(config: Config, *, notes: Sequence[str] = ()) -> str:
    """The config as XML text (UTF-8 declared); ``notes`` become comments before ``<Sysmon>``."""
    writer = Writer()
    writer.emit(0, f'<Sysmon{writer.attrs([("schemaversion", config.schema_version)])}>')
    for option in config.options:
        writer.option(option)
    writer.emit(1, "<EventFiltering>" if config.filtering else "<EventFiltering />")
    for node in config.filtering:
        if isinstance(node, RuleGroup):
            writer.group(node)
        else:
            writer.event(2, node)
    if config.filtering:
        writer.emit(1, "</EventFiltering>")
    writer.emit(0, "</Sysmon>")
    head = ['<?xml version="1.0" encoding="UTF-8"?>']
    head += [comment(note) for note in notes]
    if writer.replaced:
        head.append(comment(f"{writer.replaced} character(s) XML cannot hold were replaced by U+FFFD"))
    return "\n".join(head + writer.lines) + "\n"
