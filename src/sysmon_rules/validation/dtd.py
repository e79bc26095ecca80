"""The structural checks of the DTD Sysmon builds for a config's declared schema version.

Windows Sysmon prepends a DTD generated from the manifest of the declared version
(``manifest.tt:GetDtdFormat``) and rejects a file that does not validate: unknown elements or
attributes, enumerated values (``onmatch``, RuleGroup ``groupRelation``), a missing
``groupRelation`` on RuleGroup, text where only elements may stand, content in EMPTY options.
Field elements and conditions are CDATA to the DTD; the code checks them later (semantic.py).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from lxml import etree

from .. import hints
from ..errors import Diagnostic
from ..schema import SchemaVersion
from ..xml.reader import Element, ParsedDocument, child_elements, element_text, local_name

_ONMATCH = ("include", "exclude")
_RELATION = ("and", "or")


def _did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str | None:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in choices}
        if word.lower() in lowered:
            close = [lowered[word.lower()]]
    return f"did you mean <{close[0]}>?" if close else None


class DtdChecker:
    """Walks the element tree and yields a Diagnostic for each place the DTD rejects."""

    def __init__(self, doc: ParsedDocument, schema: SchemaVersion) -> None:
        self.doc = doc
        self.schema = schema
        self.options = schema.config_options
        self.events = schema.rule_elements
        self.fields_of = {
            name: tuple(dict.fromkeys(f.name for ev in series for f in ev.fields))
            for name, series in self.events.items()
        }
        self.all_fields = schema.all_field_names

    def _error(self, code: str, element: Element, message: str, hint: str | None = None) -> Diagnostic:
        return Diagnostic(code, "error", message, self.doc.location(element), hint)

    def check(self) -> Iterator[Diagnostic]:
        root = self.doc.root
        yield from self._attributes(root, {"schemaversion": None})
        allowed = ["EventFiltering", *self.options]
        yield from self._children(root, allowed, "Sysmon")
        for child in child_elements(root):
            name = local_name(child)
            if name == "EventFiltering":
                yield from self._event_filtering(child)
            elif name in self.options:
                yield from self._option(child, self.options[name].argument)

    def _attributes(self, element: Element, allowed: dict[str, tuple[str, ...] | None]) -> Iterator[Diagnostic]:
        owner = local_name(element)
        for attr, raw in element.attrib.items():
            name = str(etree.QName(attr).localname)
            value = raw if isinstance(raw, str) else raw.decode()
            if name not in allowed:
                hint = _did_you_mean(name, list(allowed))
                yield self._error("unknown-attribute", element,
                                  f"No declaration for attribute {name} of element {owner}",
                                  hint.replace("<", "").replace(">", "") if hint else None)
                continue
            choices = allowed[name]
            if choices is not None and value not in choices:
                yield self._error(
                    "attribute-value", element,
                    f'Value "{hints.shown(value)}" for attribute {name} of {owner} is not among the enumerated set '
                    f"({'|'.join(choices)})",
                    f"use {' or '.join(repr(c) for c in choices)} (lower case)",
                )

    def _children(self, element: Element, allowed: list[str], owner: str) -> Iterator[Diagnostic]:
        for child in child_elements(element):
            name = local_name(child)
            if name not in allowed:
                yield self._error(
                    "unexpected-element", child,
                    f"Element {owner} content does not follow the DTD, expecting "
                    f"({hints.expecting(allowed, name)})*, got ({name})",
                    hints.unexpected_element(name, allowed, self.schema),
                )
        yield from self._no_text(element, owner)

    def _no_text(self, element: Element, owner: str) -> Iterator[Diagnostic]:
        if element_text(element).strip():
            yield self._error("unexpected-text", element,
                              f"Element {owner} holds text, but only elements may stand inside it")

    def _option(self, element: Element, argument: str) -> Iterator[Diagnostic]:
        name = local_name(element)
        yield from self._attributes(element, {})
        if argument == "none":
            if len(element) or element.text:
                yield self._error("unexpected-content", element,
                                  f"Element {name} was declared EMPTY this one has content",
                                  f"write <{name} /> or leave it out")
        elif child_elements(element):
            yield self._error("unexpected-element", child_elements(element)[0],
                              f"Element {name} may hold only text")

    def _event_filtering(self, element: Element) -> Iterator[Diagnostic]:
        yield from self._attributes(element, {})
        yield from self._children(element, ["RuleGroup", *self.events], "EventFiltering")
        for child in child_elements(element):
            name = local_name(child)
            if name == "RuleGroup":
                yield from self._rule_group(child)
            elif name in self.events:
                yield from self._event(child)

    def _rule_group(self, element: Element) -> Iterator[Diagnostic]:
        yield from self._attributes(element, {"groupRelation": _RELATION, "name": None})
        if element.get("groupRelation") is None:
            yield self._error("missing-attribute", element,
                              "Element RuleGroup does not carry attribute groupRelation",
                              'add groupRelation="or" or groupRelation="and"')
        yield from self._children(element, list(self.events), "RuleGroup")
        for child in child_elements(element):
            if local_name(child) in self.events:
                yield from self._event(child)

    def _event(self, element: Element) -> Iterator[Diagnostic]:
        name = local_name(element)
        yield from self._attributes(element, {"onmatch": _ONMATCH, "default": _ONMATCH})
        fields = self.fields_of[name]
        yield from self._children(element, ["Rule", *fields], name)
        for child in child_elements(element):
            child_name = local_name(child)
            if child_name == "Rule":
                yield from self._attributes(child, {"groupRelation": None, "name": None})
                yield from self._children(child, list(self.all_fields), "Rule")
                for field in child_elements(child):
                    if local_name(field) in self.all_fields:
                        yield from self._field(field)
            elif child_name in fields:
                yield from self._field(child)

    def _field(self, element: Element) -> Iterator[Diagnostic]:
        yield from self._attributes(element, {"condition": None, "name": None})
        nested = child_elements(element)
        if nested:
            yield self._error("unexpected-element", nested[0],
                              f"Element {local_name(element)} may hold only text, got <{local_name(nested[0])}>")
