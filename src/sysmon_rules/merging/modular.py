"""``--style sysmon-modular``: the upstream ``Merge-AllSysmonXml`` build, step for step, in Python.

What the script does (and this module repeats on the same DOM operations):

1. Each module is loaded as an ``XmlDocument`` and its comments removed.
2. The modules are folded pairwise, ``doc = Merge-SysmonXml(doc, module)``; each step starts
   from a fresh copy of the template. For every event type of the script's ``$Rules`` list, in
   that order, every ``//RuleGroup/<Type>`` of the accumulated document and then of the module is
   cloned; its ``onmatch`` (``include`` when missing) picks a bucket; for ``include`` and then
   ``exclude`` each clone's children are appended to the template's first
   ``//RuleGroup/<Type>[@onmatch=...]``, or, when the template has none, the clone goes into a new
   ``<RuleGroup groupRelation="or">`` at the end of ``EventFiltering``.
3. At least two modules are required ("At least 2 sysmon configs expected").

:func:`meaning_changes` lists what that does to each module's meaning, with file:line.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from lxml import etree

from ..errors import Diagnostic, Location, Severity, SysmonRulesError
from ..schema import newest as newest_schema
from .dotnet import ORIGIN_LINE, Element, load_module, mark_origin, parse_text, write_indented
from .psscript import ModularScript

_BUCKETS = ("include", "exclude")


@dataclass(frozen=True, slots=True)
class ModularBuild:
    """The merged document as upstream writes it, and which module each output line came from."""

    text: str
    origins: dict[int, tuple[int, int]]
    changes: tuple[Diagnostic, ...] = ()


def _elements(doc: Element, query: str) -> list[Element]:
    found = doc.xpath(query)
    return [n for n in found if isinstance(n, etree._Element)] if isinstance(found, list) else []


def _first_set(doc: Element, key: str, onmatch: str) -> Element | None:
    found = _elements(doc, f"//RuleGroup/{key}[@onmatch = '{onmatch}']")
    return found[0] if found else None


def _rule_sets(doc: Element, keys: Sequence[str]) -> dict[str, list[Element]]:
    """``$doc.SelectNodes("//RuleGroup/$Key")`` for every key at once, each in document order."""
    found: dict[str, list[Element]] = {key: [] for key in keys}
    for node in doc.iter(etree.Element):
        parent = node.getparent()
        if node.tag in found and parent is not None and parent.tag == "RuleGroup":
            found[str(node.tag)].append(node)
    return found


def taken(doc: Element, keys: Sequence[str]) -> list[Element]:
    """The event elements the build takes from a document (``//RuleGroup/<Key>``), in document order."""
    found = {id(n) for nodes in _rule_sets(doc, keys).values() for n in nodes}
    return [n for n in doc.iter(etree.Element) if id(n) in found]


def _append_children(target: Element, rule: Element) -> None:
    """``foreach($child in $rule.ChildNodes) { $existing.AppendChild(ImportNode($child)) }``."""
    if rule.text:  # a text node is a child node too
        last = target[-1] if len(target) else None
        if last is None:
            target.text = (target.text or "") + rule.text
        else:
            last.tail = (last.tail or "") + rule.text
    for child in list(rule):
        target.append(child)


def _template_sets(doc: Element) -> dict[tuple[str, str], Element]:
    """The first ``//RuleGroup/<Key>[@onmatch=...]`` of a fresh template, for every key and onmatch."""
    first: dict[tuple[str, str], Element] = {}
    for node in doc.iter(etree.Element):
        parent = node.getparent()
        if parent is not None and parent.tag == "RuleGroup" and node.get("onmatch") is not None:
            first.setdefault((str(node.tag), str(node.get("onmatch"))), node)
    return first


def merge_pair(source: Element, diff: Element, template: Element, keys: Sequence[str]) -> Element:
    """One ``Merge-SysmonXml -Source -Diff`` call: a fresh template filled from both documents.

    Both inputs are discarded after the call, so their nodes are moved instead of cloned. The
    template's first set of each key and onmatch is found once; an appended node holding a
    RuleGroup of its own could become an earlier match, and then the XPath query is used again.
    """
    new = copy.deepcopy(template.getroottree()).getroot()  # with the comments around <Sysmon>
    roots = _elements(new, "//Sysmon/EventFiltering")
    if not roots:
        raise SysmonRulesError("the template has no /Sysmon/EventFiltering element")
    filtering = roots[0]
    first = _template_sets(new)
    nested = False
    found = [_rule_sets(source, keys), _rule_sets(diff, keys)]
    for key in keys:
        buckets: dict[str, list[Element]] = {b: [] for b in _BUCKETS}
        for rule in (*found[0][key], *found[1][key]):
            onmatch = (rule.get("onmatch") or "include").lower()
            if onmatch in buckets:  # PowerShell hashtable keys ignore case; other values are never read
                buckets[onmatch].append(rule)
        for onmatch in _BUCKETS:
            rules = buckets[onmatch]
            existing = (_first_set(new, key, onmatch) if nested else first.get((key, onmatch))) if rules else None
            for rule in rules:
                nested = nested or any(True for _ in rule.iter("RuleGroup"))
                if existing is not None:
                    _append_children(existing, rule)
                    continue
                group = etree.SubElement(filtering, "RuleGroup", groupRelation="or")
                group.append(rule)
                if rule.get("onmatch") == onmatch:
                    existing = rule  # SelectSingleNode finds the new group from now on
    return new


def build(modules: Sequence[str], script: ModularScript, template: str, *,
          annotate: bool = False) -> ModularBuild:
    """Merge ``modules`` (paths, in build order) with the script's ``template``."""
    if len(modules) < 2:
        where = Location(modules[0]) if modules else Location()
        raise SysmonRulesError("At least 2 sysmon configs expected (Merge-AllSysmonXml refuses fewer)", where)
    base = parse_text(script.template(template), Location(script.path, script.template_lines[template]))
    docs = []
    for index, path in enumerate(modules):
        doc = load_module(path)
        mark_origin(doc, index)
        docs.append(doc)
    merged = docs[0]
    for doc in docs[1:]:
        merged = merge_pair(merged, doc, base, script.event_keys)
    text, origins = write_indented(merged, list(modules) if annotate else None)
    where = Location(script.path, script.template_lines[template])
    return ModularBuild(text, origins, tuple(template_changes(merged, script.event_keys, where)))


def template_changes(merged: Element, keys: Sequence[str], template: Location) -> Iterator[Diagnostic]:
    """Types whose exclude modules mean "log the rest" but whose template include set stays empty.

    Sysmon drops what matches neither of two sets, so there the rest is dropped instead.
    """
    for key in keys:
        includes = _elements(merged, f"//RuleGroup/{key}[@onmatch = 'include']")
        excludes = _elements(merged, f"//RuleGroup/{key}[@onmatch = 'exclude']")
        if includes and not any(len(i) for i in includes) and any(len(e) for e in excludes):
            line = template.line + max(_line(includes[0]), 1) - 1
            yield Diagnostic("template-drops-rest", "warning",
                             f"the template's <{key} onmatch=\"include\"> stays empty, so what the exclude "
                             f"modules of {key} leave is dropped, not logged", Location(template.path, line))


# -- what the build changes -----------------------------------------------------------------------

def _where(path: str, node: Element) -> Location:
    line = str(node.get(ORIGIN_LINE) or "")
    return Location(path, int(line) if line.isdigit() else _line(node))


def _line(node: Element) -> int:
    line = node.sourceline
    return line if isinstance(line, int) else 0


def _local(node: Element) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def meaning_changes(path: str, doc: Element, script: ModularScript, template_version: str) -> Iterator[Diagnostic]:
    """Every place where the upstream merge changes what module ``path`` means."""
    keys = set(script.event_keys)
    options = {o.name for o in newest_schema().options}
    for node in doc:
        name = _local(node)
        if name in options:
            yield Diagnostic("options-dropped", "warning",
                             f"<{name}> is dropped: the template's options are used", _where(path, node))
        elif name and name != "EventFiltering":
            yield Diagnostic("misplaced-rules", "warning",
                             f"<{name}> is neither an option nor EventFiltering, so Sysmon rejects this module; "
                             "the merge still takes the RuleGroups inside it", _where(path, node))
    version = doc.get("schemaversion")
    if version is not None and version != template_version:
        yield Diagnostic("schemaversion-dropped", "info",
                         f"schemaversion {version} is replaced by the template's {template_version}",
                         _where(path, doc))
    for event in doc.iter(etree.Element):
        parent = event.getparent()
        if parent is None or _local(parent) not in ("EventFiltering", "RuleGroup") or _local(event) == "RuleGroup":
            continue
        yield from _event_changes(path, event, parent, keys)


def _event_changes(path: str, event: Element, parent: Element, keys: set[str]) -> Iterator[Diagnostic]:
    name = _local(event)
    where = _where(path, event)
    items = [c for c in event if isinstance(c.tag, str)]
    if _local(parent) != "RuleGroup":
        yield Diagnostic("filters-dropped", "warning",
                         f"<{name}> outside a RuleGroup is dropped with its {len(items)} filter(s)", where)
        return
    if name not in keys:
        yield Diagnostic("event-dropped", "warning",
                         f"<{name}> is not in the script's event list: dropped with {len(items)} filter(s)", where)
        return
    onmatch = event.get("onmatch")
    if not onmatch:
        yield Diagnostic("onmatch-defaulted", "warning", f"<{name}> has no onmatch: merged as include", where)
    elif onmatch.lower() not in _BUCKETS:
        yield Diagnostic("event-dropped", "warning", f"<{name} onmatch={onmatch!r}> is dropped", where)
        return
    relation = (parent.get("groupRelation") or "").lower()
    if relation != "or" and len(items) > 1:
        yield Diagnostic("relation-widened", "warning",
                         f"RuleGroup groupRelation={parent.get('groupRelation')!r}: its {len(items)} "
                         f"filters of <{name}> become alternatives (or)", _where(path, parent))
    group_name = parent.get("name")
    if group_name:
        unnamed = [c for c in items if not c.get("name") and not (_local(c) == "Rule" and _has_names(c))]
        if unnamed:  # the RuleName of an event an exclude set drops is never seen
            severity: Severity = "info" if onmatch and onmatch.lower() == "exclude" else "warning"
            yield Diagnostic("name-dropped", severity,
                             f"RuleGroup name {group_name!r} is dropped: {len(unnamed)} filter(s) of <{name}> "
                             "report another RuleName or none", _where(path, parent))


def _has_names(rule: Element) -> bool:
    return all(c.get("name") for c in rule if isinstance(c.tag, str))
