"""XML read and written as .NET's ``XmlDocument`` and ``XmlTextWriter`` do in Merge-SysmonXml.ps1.

``[xml]`` / ``XmlDocument.Load`` keep no whitespace-only text (``PreserveWhitespace`` is off) and
the script removes every comment of a module (unless ``-PreserveComments``). ``-AsString`` then
writes the document with ``XmlTextWriter`` in ``Indented`` formatting: two spaces a level, each
element and comment on its own line, except inside an element holding text (mixed content),
empty elements as ``<x />``, attributes in document order with double quotes. ``Out-File`` ends
the text with a newline.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lxml import etree

from ..errors import ConfigSyntaxError, Location

Element = etree._Element
_INDENT = "  "
# Private attributes tracking where a copied element came from; never written out.
ORIGIN = "{urn:x-sysmon-rules:merge}module"
ORIGIN_LINE = "{urn:x-sysmon-rules:merge}line"


def _parser(*, keep_comments: bool) -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                           remove_comments=not keep_comments, remove_pis=True)


def parse_text(text: str, where: Location, *, keep_comments: bool = True) -> Element:
    """Parse XML text (a template) as ``[xml]$text`` does; ConfigSyntaxError naming ``where``."""
    try:
        root = etree.fromstring(text.encode("utf-8"), _parser(keep_comments=keep_comments))
    except etree.XMLSyntaxError as exc:
        line = where.line + max((exc.lineno or 1) - 1, 0)
        raise ConfigSyntaxError(f"malformed XML: {exc.msg}", Location(where.path, line)) from exc
    drop_blank_text(root)
    for sibling in [*root.itersiblings(preceding=True), *root.itersiblings()]:
        sibling.tail = None
    return root


def load_module(path: str | Path) -> Element:
    """A module as ``XmlDocument.Load`` then comment stripping leave it; ConfigSyntaxError if not XML."""
    where = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigSyntaxError(f"cannot read module: {exc.strerror or exc}", Location(where)) from exc
    try:
        root = etree.fromstring(data, _parser(keep_comments=False))
    except etree.XMLSyntaxError as exc:
        line, column = exc.position
        raise ConfigSyntaxError(f"malformed XML: {exc.msg}", Location(where, line, column)) from exc
    drop_blank_text(root)
    return root


def mark_origin(root: Element, index: int) -> None:
    """Tag every element of a module with its index and source line (see :data:`ORIGIN`)."""
    for node in root.iter(etree.Element):
        node.set(ORIGIN, str(index))
        node.set(ORIGIN_LINE, str(node.sourceline or 0))


def drop_blank_text(root: Element) -> None:
    """Remove whitespace-only text and tails, as XmlDocument without PreserveWhitespace does."""
    for node in root.iter():
        if node.text is not None and not node.text.strip(" \t\r\n"):
            node.text = None
        if node.tail is not None and not node.tail.strip(" \t\r\n"):
            node.tail = None


def _escape(text: str, *, attribute: bool = False) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;") if attribute else text


class _IndentedWriter:
    def __init__(self, labels: Sequence[str] | None) -> None:
        self.out: list[str] = []
        self.line = 1
        self.origins: dict[int, tuple[int, int]] = {}  # output line -> (module index, its line)
        self.labels = labels

    def newline(self, depth: int) -> None:
        if self.out:
            self.out.append("\n" + _INDENT * depth)
            self.line += 1

    def text(self, text: str, *, attribute: bool = False) -> str:
        self.line += text.count("\n")
        return _escape(text, attribute=attribute)

    def node(self, node: Element, depth: int, mixed: bool, previous: Element | None = None) -> None:
        starts_module = previous is None or previous.get(ORIGIN) != node.get(ORIGIN)
        if self.labels is not None and not mixed and ORIGIN in node.attrib and starts_module:
            self.newline(depth)
            self.out.append(f"<!-- module: {self.labels[int(node.attrib[ORIGIN])]} -->")
        if not mixed:
            self.newline(depth)
        if isinstance(node, etree._Comment):
            self.out.append(f"<!--{node.text or ''}-->")
        else:
            self.element(node, depth, mixed)
        if node.tail:
            self.out.append(self.text(node.tail))

    def element(self, node: Element, depth: int, mixed: bool) -> None:
        if ORIGIN in node.attrib:
            self.origins[self.line] = (int(node.attrib[ORIGIN]), int(node.get(ORIGIN_LINE) or 0))
        attrs = "".join(f' {k!s}="{self.text(str(v), attribute=True)}"' for k, v in node.attrib.items()
                        if not str(k).startswith("{"))
        tag = str(node.tag)
        children = list(node)
        if not children and node.text is None:
            self.out.append(f"<{tag}{attrs} />")
            return
        self.out.append(f"<{tag}{attrs}>")
        inner_mixed = mixed or node.text is not None or any(c.tail for c in children)
        if node.text is not None:
            self.out.append(self.text(node.text))
        previous: Element | None = None
        for child in children:
            self.node(child, depth + 1, inner_mixed, previous)
            previous = child
        if children and not inner_mixed:
            self.newline(depth)
        self.out.append(f"</{tag}>")


def write_indented(root: Element, labels: Sequence[str] | None = None) -> tuple[str, dict[int, tuple[int, int]]]:
    """The document of ``root`` as ``-AsString | Out-File`` writes it; output line -> (module, line).

    Elements carrying :data:`ORIGIN` (the index of the module they were copied from) are mapped;
    with ``labels`` (one per module index) a comment naming the module precedes each run of
    elements from one module, which upstream does not write.
    """
    writer = _IndentedWriter(labels)
    for node in [*reversed(list(root.itersiblings(preceding=True))), root, *root.itersiblings()]:
        writer.node(node, 0, False)
    return "".join(writer.out) + "\n", writer.origins
