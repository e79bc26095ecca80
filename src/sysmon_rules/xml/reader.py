"""Read a Sysmon config (path or bytes) into the model, with a source location on every node.

Parsing is hardened: no DTD, no entity expansion, no network, a size limit; the file may not
carry a DOCTYPE of its own (Sysmon prepends one, so a second one fails there too). Element text
is read as the DTD-validating Sysmon (libxml2) read it: every text chunk of the element, comments
skipped, nothing trimmed, line ends normalised to LF.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from ..errors import ConfigSyntaxError, Location
from ..model import Config, EventRules, Filter, Option, Rule, RuleGroup
from .source import DecodedSource, decode_config, read_source

Element = etree._Element


@dataclass(frozen=True)
class ParsedDocument:
    """A parsed config: the decoded source, the element tree and each element's location."""

    source: DecodedSource
    root: Element
    locations: dict[Element, Location]

    def location(self, element: Element) -> Location:
        return self.locations.get(element, Location(self.source.path))


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
        strip_cdata=True,
    )


_TYPOGRAPHIC_QUOTES = re.compile("[\u201c\u201d\u201e\u2018\u2019\u201a\u2033\u00ab\u00bb]")


def _pasted_quotes(text: str, line: int | None) -> str:
    """A hint when the failing line holds a typographic quote: a config pasted from a web page or
    a document, where XML attributes need plain quotes."""
    lines = text.split("\n")
    found = _TYPOGRAPHIC_QUOTES.search(lines[line - 1]) if line and line <= len(lines) else None
    if found is None:
        return ""
    return (f" (the line has the typographic quote {found.group()!r} where XML needs \" or ': "
            "pasted from a web page or a document?)")


def parse_document(source: str | Path | bytes, *, path: str | None = None) -> ParsedDocument:
    """Decode and parse; raise ConfigSyntaxError naming path:line:column on malformed input."""
    data, path = read_source(source, path=path)
    decoded = decode_config(data, path)
    try:
        root = etree.fromstring(decoded.text, _parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if hasattr(exc, "position") else (exc.lineno or 0, exc.offset or 0)
        message = re.sub(r",? line \d+, column \d+$", "", (exc.msg or str(exc)).strip().split("\n")[0].strip())
        raise ConfigSyntaxError(f"malformed XML: {message}{_pasted_quotes(decoded.text, line)}",
                                Location(path, line or 0, column or 0)) from exc
    except ValueError as exc:  # e.g. lxml refusing a string it cannot take
        raise ConfigSyntaxError(f"malformed XML: {exc}", Location(path, 1, 1)) from exc
    tree = root.getroottree()
    if tree.docinfo.doctype:  # type: ignore[union-attr]
        raise ConfigSyntaxError(
            "the file has its own <!DOCTYPE>; Sysmon adds its own DTD and rejects a second one",
            Location(path, 1, 1),
        )
    return ParsedDocument(decoded, root, _locate(decoded.text, root, path))


def _locate(text: str, root: Element, path: str | None) -> dict[Element, Location]:
    """Line and column of every element's start tag (lxml gives lines only)."""
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    found: dict[Element, Location] = {}
    cursor = 0
    for element in root.iter(tag=etree.Element):
        line = min(int(getattr(element, "sourceline", None) or 1), len(line_starts))
        localname = str(etree.QName(element).localname)
        qname = f"{element.prefix}:{localname}" if element.prefix else localname
        start = max(cursor, line_starts[line - 1])
        match = re.compile("<" + re.escape(qname) + r"(?=[\s/>])").search(text, start)
        pos = match.start() if match else line_starts[line - 1]
        cursor = pos + 1
        at_line = bisect.bisect_right(line_starts, pos)
        found[element] = Location(path, at_line, pos - line_starts[at_line - 1] + 1, _node_path(element))
    return found


def _node_path(element: Element) -> str:
    parts = []
    node: Element | None = element
    while node is not None:
        parts.append(str(etree.QName(node).localname))
        node = node.getparent()
    return "/" + "/".join(reversed(parts))


def element_text(element: Element, *, first_chunk_only: bool = False) -> str:
    """The element's text as Sysmon reads it.

    DTD-validating Sysmon (libxml2) joins every text chunk directly inside the element, skipping
    comments. The newest open-source engine (pugixml) keeps only the first chunk that is not
    blank, so ``a<!-- c -->b`` reads as ``a`` there.
    """
    chunks = [element.text or ""]
    chunks += [child.tail or "" for child in element]
    if first_chunk_only:
        return next((c for c in chunks if c.strip()), "")
    return "".join(chunks)


def local_name(element: Element) -> str:
    return str(etree.QName(element).localname)


def child_elements(element: Element) -> list[Element]:
    return [c for c in element if isinstance(c.tag, str)]


def build_config(doc: ParsedDocument, *, dtd: bool = True) -> Config:
    """The model of a parsed document (structure as written; validation is separate).

    ``dtd=False`` reads element text as the newest, non-validating SysmonCommon engine does.
    """
    reader = _ModelReader(doc, first_chunk_only=not dtd)
    return reader.config()


class _ModelReader:
    def __init__(self, doc: ParsedDocument, *, first_chunk_only: bool) -> None:
        self.doc = doc
        self.first_chunk_only = first_chunk_only

    def text(self, element: Element) -> str:
        return element_text(element, first_chunk_only=self.first_chunk_only)

    def config(self) -> Config:
        root = self.doc.root
        if local_name(root) != "Sysmon":
            raise ConfigSyntaxError(
                f"the root element is <{local_name(root)}>; a Sysmon config starts with <Sysmon>",
                self.doc.location(root),
            )
        options: list[Option] = []
        filtering: list[RuleGroup | EventRules] = []
        for child in child_elements(root):
            name = local_name(child)
            if name == "EventFiltering":
                filtering.extend(self.filtering_node(node) for node in child_elements(child))
            else:
                options.append(Option(name, self.text(child), self.doc.location(child)))
        return Config(
            schema_version=root.get("schemaversion") or "",
            options=tuple(options),
            filtering=tuple(filtering),
            location=self.doc.location(root),
            source=self.doc.source.path,
        )

    def filtering_node(self, node: Element) -> RuleGroup | EventRules:
        if local_name(node) == "RuleGroup":
            return RuleGroup(
                events=tuple(self.event_rules(ev) for ev in child_elements(node)),
                group_relation=node.get("groupRelation"),
                name=node.get("name"),
                location=self.doc.location(node),
            )
        return self.event_rules(node)

    def event_rules(self, node: Element) -> EventRules:
        items: list[Filter | Rule] = []
        for child in child_elements(node):
            if local_name(child).lower() == "rule":  # Sysmon compares "rule" case-insensitively
                items.append(
                    Rule(
                        filters=tuple(self.filter(f) for f in child_elements(child)),
                        group_relation=child.get("groupRelation"),
                        name=child.get("name"),
                        location=self.doc.location(child),
                    )
                )
            else:
                items.append(self.filter(child))
        return EventRules(
            element=local_name(node),
            items=tuple(items),
            onmatch=node.get("onmatch"),
            default=node.get("default"),
            location=self.doc.location(node),
        )

    def filter(self, node: Element) -> Filter:
        return Filter(
            field=local_name(node),
            value=self.text(node),
            condition=node.get("condition"),
            name=node.get("name"),
            location=self.doc.location(node),
        )

