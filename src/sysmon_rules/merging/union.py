"""``--style union``: one config that means exactly what the modules mean together.

For each event type (rule element) some module has rule sets for, an event is logged when no
module has an include set for the type or some include set of some module matches it, and no
exclude set of any module matches it. Types no module mentions keep Sysmon's default.

How Sysmon's own rule-set semantics are made to say that (``rules.c:FilterEventRules``; see
docs/merge.md for the argument):

* Every module's RuleGroups and event elements are kept whole, in module order: relations,
  RuleGroup names, ``<Rule>`` groups, filter names and filters outside RuleGroups. Sysmon tries
  all exclude sets of a type before any include set, so an exclude set of any module drops the
  event and then any matching include set logs it: that is the formula while something matches.
* When nothing matches, Sysmon uses the one set's default if the type has exactly one set and
  drops the event if it has two or more. With an include set somewhere, dropping is the formula.
  With exclude sets only, two or more would drop what none excludes, so the merge adds one
  include set that matches every event of the type (``RuleName is -``: RuleName always reads
  ``-`` while rules run), tried after every exclude set.
* Empty sets never match. An empty include set elsewhere ("include nothing") is still an
  include module; it is dropped only when another include set of the type exists, and empty
  exclude sets only when another set of the type exists, so they neither add a set that changes
  the count nor, for ImageLoad/NetworkConnect/DnsQuery/ProcessAccess, become the type's last
  set, which Sysmon uses to switch the event off.
* Defaults that depend on the schema version are written out: a RuleGroup's relation (and an
  event element outside a RuleGroup whose default relation differs at the output's version is
  put into a RuleGroup with the module's relation); the legacy ``default=`` becomes ``onmatch``.

Order: Sysmon tries include sets from the bottom of the file up, so the output lists modules in
reverse merge order; when include sets of two modules match, the module first in merge order
names the event, as in sysmon-modular's build (one ``or`` set in merge order, first match wins).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..blob.compile import default_combine
from ..errors import Diagnostic, Location
from ..model import EventRules, Filter, Rule, RuleGroup
from ..ruletable import COMBINE_OR, combine_of
from ..schema import ascii_lower, pack_version
from .modules import Module

Node = RuleGroup | EventRules
CATCH_ALL = Filter("RuleName", "-", "is")
_OR, _AND = "or", "and"


@dataclass(frozen=True, slots=True)
class Section:
    """The nodes one module contributes (``module`` None: the merge's own catch-all sets)."""

    module: Module | None
    nodes: tuple[Node, ...]


def _onmatch(ev: EventRules) -> str | None:
    if ev.onmatch is not None:
        folded = ascii_lower(ev.onmatch)
    else:  # legacy default=: "include" logs by default, i.e. onmatch="exclude"
        folded = {"include": "exclude", "exclude": "include"}.get(ascii_lower(ev.default or ""), "")
    return folded if folded in ("include", "exclude") else None


def _explicit(ev: EventRules) -> EventRules:
    return replace(ev, onmatch=_onmatch(ev), default=None)


def normalise(module: Module, output_version: str) -> tuple[Node, ...]:
    """The module's EventFiltering children with every version-dependent default written out."""
    own_default = default_combine(pack_version(module.needs))
    out_default = default_combine(pack_version(output_version))
    nodes: list[Node] = []
    for node in module.config.filtering:
        if isinstance(node, RuleGroup):
            combine = combine_of(node.group_relation, own_default)
            events = tuple(_explicit(ev) for ev in node.events if _onmatch(ev))
            if events:
                nodes.append(replace(node, events=events, group_relation=_OR if combine == COMBINE_OR else _AND))
        elif _onmatch(node):
            ev = _explicit(node)
            if own_default == out_default:
                nodes.append(ev)
            else:
                nodes.append(RuleGroup((ev,), _OR if own_default == COMBINE_OR else _AND, location=node.location))
    return tuple(nodes)


def events_of(node: Node) -> tuple[EventRules, ...]:
    return node.events if isinstance(node, RuleGroup) else (node,)


def section_filters(sections: Sequence[Section]) -> list[Filter]:
    """Every filter of the sections in document order."""
    return [flt for section in sections for node in section.nodes for ev in events_of(node)
            for item in ev.items for flt in (item.filters if isinstance(item, Rule) else (item,))]


@dataclass(frozen=True, slots=True)
class _SetRef:
    section: int
    node: int
    event: int
    element: str
    onmatch: str
    empty: bool


def _set_refs(sections: Sequence[Section]) -> list[_SetRef]:
    return [_SetRef(s, n, e, ev.element, ev.onmatch or "", not ev.items)
            for s, section in enumerate(sections) for n, node in enumerate(section.nodes)
            for e, ev in enumerate(events_of(node))]


def _redundant_empty_sets(refs: list[_SetRef]) -> set[_SetRef]:
    """Empty sets that change nothing once the others are there (see the module docstring)."""
    drop: set[_SetRef] = set()
    for element in dict.fromkeys(r.element for r in refs):
        mine = [r for r in refs if r.element == element]
        includes = [r for r in mine if r.onmatch == "include"]
        full_includes = [r for r in includes if not r.empty]
        keep_empty_include = includes[0] if includes and not full_includes else None
        for r in mine:
            if not r.empty or r is keep_empty_include:
                continue
            others = [o for o in mine if o is not r and o not in drop]
            if r.onmatch == "include" or others:
                drop.add(r)
    return drop


def _without(sections: list[Section], drop: set[_SetRef]) -> list[Section]:
    gone = {(r.section, r.node, r.event) for r in drop}
    result = []
    for s, section in enumerate(sections):
        nodes: list[Node] = []
        for n, node in enumerate(section.nodes):
            kept = tuple(ev for e, ev in enumerate(events_of(node)) if (s, n, e) not in gone)
            if not kept:
                continue
            nodes.append(replace(node, events=kept) if isinstance(node, RuleGroup) else kept[0])
        result.append(Section(section.module, tuple(nodes)))
    return result


def catch_all_sets(sections: Sequence[Section]) -> tuple[Node, ...]:
    """One include-everything set per type that has two or more exclude sets and no include set."""
    refs = _set_refs(sections)
    nodes: list[Node] = []
    for element in dict.fromkeys(r.element for r in refs):
        mine = [r for r in refs if r.element == element]
        if not any(r.onmatch == "include" for r in mine) and len(mine) >= 2:
            nodes.append(RuleGroup((EventRules(element, (CATCH_ALL,), onmatch="include"),), _OR))
    return tuple(nodes)


def union_sections(modules: Sequence[Module], output_version: str) -> tuple[list[Section], list[Diagnostic]]:
    """The merged EventFiltering, as one section per module plus the merge's own catch-all sets."""
    sections = [Section(m, normalise(m, output_version)) for m in reversed(modules)]
    drop = _redundant_empty_sets(_set_refs(sections))
    notes = [Diagnostic("empty-set-dropped", "info",
                        f"empty <{r.element} onmatch=\"{r.onmatch}\"> dropped: another set of the type "
                        "makes it change nothing", _event_location(sections, r)) for r in drop]
    sections = _without(sections, drop)
    extra = catch_all_sets(sections)
    if extra:
        sections.append(Section(None, extra))
    return sections, sorted(notes, key=lambda d: (d.location.path or "", d.location.line))


def _event_location(sections: Sequence[Section], ref: _SetRef) -> Location:
    return events_of(sections[ref.section].nodes[ref.node])[ref.event].location
