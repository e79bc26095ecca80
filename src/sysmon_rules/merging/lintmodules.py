"""Lint a module tree as its build merges it: ``lint_modules(tree)``.

sysmon-modular's build (``Merge-SysmonXml.ps1``, repeated in :mod:`.modular`) takes every
``//RuleGroup/<Type>`` of a module, wherever it stands, into its template, and writes the
template's options and ``schemaversion``; the module's own declaration, its options and anything
outside a RuleGroup are dropped. So each module is linted as that: its RuleGroups under
``<EventFiltering>``, judged at the build's schema version. Content newer than the module's own
declaration is ``module-schema-too-old`` (a warning: the build accepts it) instead of the DTD
error Sysmon gives the file alone, and each place where the build changes what the module means
(:func:`.modular.meaning_changes`) is ``merged-differently``. A pre-commit hook on the tree then
errors only on what the build itself would load wrongly.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path

from lxml import etree

from ..errors import Diagnostic, Location, SourceError, SysmonRulesError
from ..lint import LintResult, lint_document, lint_parsed
from ..lint.baseline import digest
from ..lint.finding import finding
from ..xml.reader import Element, ParsedDocument, build_config, parse_document
from . import psscript
from .modular import meaning_changes, taken
from .sources import discover, is_checkout

_SCHEMA = re.compile(r"<Sysmon\b[^>]*\bschemaversion\s*=\s*[\"']([^\"']+)[\"']")
_BUILD = "sysmonconfig.xml"  # a committed build: its template's version when the tree has no script
_MERGED = "merged-differently"


def build_script(tree: str | Path) -> psscript.ModularScript:
    """The tree's build: its ``Merge-SysmonXml.ps1``, or else what its committed ``sysmonconfig.xml``
    shows of the template (see :func:`.psscript.script_from_build`)."""
    folder = Path(tree)
    if not is_checkout(folder):
        raise SourceError("not a module tree: no [0-9]*/*.xml in this folder", Location(str(folder)))
    script = folder / psscript.SCRIPT_NAME
    if script.is_file():
        return psscript.read_script(script)
    if (folder / _BUILD).is_file():
        return psscript.script_from_build(folder / _BUILD)
    raise SourceError(f"no {psscript.SCRIPT_NAME} or {_BUILD} in the tree to read its build from",
                      Location(str(folder)))


def build_schema(script: psscript.ModularScript) -> str:
    """The schemaversion the build writes: its general template's."""
    found = _SCHEMA.search(script.template(psscript.GENERAL))
    if found is None:
        raise SourceError("the build's template declares no schemaversion", Location(script.path))
    return found.group(1)


def _local(node: Element) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def as_built(doc: ParsedDocument, event_keys: Sequence[str]) -> None:
    """Rearrange the parsed module, in place, into what the build takes from it (``modular.taken``):
    the RuleGroups of those event elements, under one ``<EventFiltering>``, as the template's
    RuleGroup they land in (``groupRelation="or"``, no name), without onmatch merged as include;
    every other element of ``<Sysmon>`` (options, misplaced wrappers), of ``<EventFiltering>`` and
    of those RuleGroups goes. Elements keep their locations, so findings point into the module."""
    root = doc.root
    events = [e for e in taken(root, event_keys) if (e.get("onmatch") or "include").lower() in ("include", "exclude")]
    groups: list[Element] = []  # every taken element's parent is a RuleGroup (that is how it is found)
    for event in events:
        parent = event.getparent()
        if parent is not None and all(parent is not g for g in groups):
            groups.append(parent)
    filtering = next((c for c in root if _local(c) == "EventFiltering"), None)
    if filtering is None:
        filtering = etree.SubElement(root, "EventFiltering")
    for group in groups:
        if group.getparent() is not filtering:
            filtering.append(group)
        if "name" in group.attrib:
            del group.attrib["name"]
        group.set("groupRelation", "or")
    for event in events:
        event.set("onmatch", (event.get("onmatch") or "include").lower())
    keep = {id(n) for n in (filtering, *groups, *events)}
    for parent in (root, filtering, *groups):
        for child in list(parent):
            if isinstance(child.tag, str) and id(child) not in keep:
                parent.remove(child)


def _changes(path: str, doc: ParsedDocument, script: psscript.ModularScript, version: str) -> Iterator[Diagnostic]:
    """The build's changes to the module's meaning (not its schemaversion: ``module-schema-too-old``)."""
    for change in meaning_changes(path, doc.root, script, version):
        if change.severity != "info":
            yield finding(_MERGED, f"{change.message} (in the tree's build: {change.code})",
                          Location(path, change.location.line, change.location.column))


def lint_module(path: str | Path, script: psscript.ModularScript, *, select: Collection[str] = (),
                ignore: Collection[str] = (), target_sysmon: str | None = None) -> LintResult:
    """One module, linted as ``script``'s build merges it."""
    version = build_schema(script)
    try:
        doc = parse_document(path)
        declared = build_config(doc)
    except SysmonRulesError:  # not a config at all: its one error, as lint reports it
        return lint_document(path, select=select, ignore=ignore)
    merged = list(_changes(str(path), doc, script, version))
    as_built(doc, script.event_keys)
    result = lint_parsed(doc, select=select, ignore=ignore, target_sysmon=target_sysmon, build_schema=version,
                         declared=declared)
    wanted = _MERGED in (set(select) or {_MERGED}) and _MERGED not in set(ignore)
    if not wanted or not merged:
        return result
    found = sorted([*result.findings, *merged], key=lambda d: (d.location.line, d.location.column, d.code))
    prints = dict(zip(map(id, result.findings), result.fingerprints, strict=True))
    return LintResult(found, [prints.get(id(d)) or digest(f"{d.code}|{d.message}") for d in found], result.suppressed)


def lint_modules(tree: str | Path, *, select: Collection[str] = (), ignore: Collection[str] = (),
                 target_sysmon: str | None = None) -> dict[str, LintResult]:
    """Every module of the tree (in the build's order), linted as the tree's build merges it."""
    script = build_script(tree)
    return {str(path): lint_module(path, script, select=select, ignore=ignore, target_sysmon=target_sysmon)
            for path in discover([tree])}
