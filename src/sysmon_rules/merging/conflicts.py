"""What the union merge decides between modules, and what it reports: options, version, conflicts.

Options policy: with ``--template``, the template's options are the output's options and a module
setting one differently gets an ``option-overridden`` warning. Without one, the first module in
merge order that sets an option gives its value; a later module setting another value gets an
``option-conflict`` warning naming the first. Options are never in the rule blob, so this policy
cannot change which events are logged.

Schema version: the newest any module (or the template) needs (see :mod:`.modules`).

Conflicts reported as warnings: the same rule (field, condition, value and name, or the same
``<Rule>``) in sets of the same type, onmatch and relation of two modules; an include filter of
one module every match of which an exclude filter of another module drops (``include-shadowed``:
a filter of an ``or`` set, or the only item of its set, with a covering filter on the same field,
as the cover relation of ``engine.cover`` proves it).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ..engine.cover import covers
from ..errors import Diagnostic, Location
from ..model import Config, EventRules, Filter, Option, Rule, RuleGroup
from ..ruletable import RuleFilter
from ..schema import condition_index
from .modules import Module, newest
from .union import Section


def output_version(modules: Sequence[Module], template: Config | None) -> str:
    return newest([m.needs for m in modules] + ([template.schema_version] if template else []))


def merged_options(modules: Sequence[Module], template: Config | None) -> tuple[tuple[Option, ...], list[Diagnostic]]:
    """The output's options and the warnings the policy gives (see the module docstring)."""
    notes: list[Diagnostic] = []
    chosen: dict[str, Option] = {}
    if template is not None:
        chosen = {o.name: o for o in template.options}
    fixed = template is not None
    for module in modules:
        for option in module.config.options:
            first = chosen.get(option.name)
            if first is None and not fixed:
                chosen[option.name] = option
            elif first is None:
                notes.append(Diagnostic("option-overridden", "warning",
                                        f"<{option.name}> is not in the template: dropped", option.location))
            elif first.value != option.value:
                code, kept = ("option-overridden", "the template's") if fixed else ("option-conflict", "the first")
                notes.append(Diagnostic(code, "warning",
                                        f"<{option.name}>{option.value}</{option.name}> differs from "
                                        f"{first.value!r} set at {first.location}; {kept} is kept", option.location))
    return tuple(chosen.values()), notes


def _sets(section: Section) -> Iterator[tuple[str, EventRules]]:
    for node in section.nodes:
        if isinstance(node, RuleGroup):
            for ev in node.events:
                yield node.group_relation or "and", ev
        else:
            yield "and", node


def duplicate_rules(sections: Sequence[Section]) -> Iterator[Diagnostic]:
    """The same rule in sets of the same type, onmatch and relation of two modules."""
    seen: dict[tuple[str, str, str, Filter | Rule], Location] = {}
    for section in sections:
        if section.module is None:
            continue
        own: set[tuple[str, str, str, Filter | Rule]] = set()
        for rel, ev in _sets(section):
            for item in ev.items:
                key = (ev.element, ev.onmatch or "", rel, item)
                first = seen.get(key)
                if first is not None and key not in own and first.path != item.location.path:
                    yield Diagnostic("duplicate-rule", "warning",
                                     f"the same rule is in {first}", item.location)
                seen.setdefault(key, item.location)
                own.add(key)


def _as_rule_filter(flt: Filter) -> RuleFilter | None:
    index = condition_index(flt.condition)
    return None if index is None else RuleFilter(0, index, flt.value, flt.name or "")


def _deciding_filters(section: Section, onmatch: str) -> Iterator[tuple[str, Filter]]:
    """Filters of ``onmatch`` sets that match on their own: items of an or set or a lone item."""
    for rel, ev in _sets(section):
        if ev.onmatch != onmatch:
            continue
        for item in ev.items:
            if isinstance(item, Filter) and (rel == "or" or len(ev.items) == 1):
                yield ev.element, item


def shadowed_includes(sections: Sequence[Section]) -> Iterator[Diagnostic]:
    excludes: dict[tuple[str, str], list[tuple[int, Filter, RuleFilter]]] = {}
    for s, section in enumerate(sections):
        for element, flt in _deciding_filters(section, "exclude"):
            converted = _as_rule_filter(flt)
            if converted is not None:
                excludes.setdefault((element, flt.field), []).append((s, flt, converted))
    for s, section in enumerate(sections):
        for element, flt in _deciding_filters(section, "include"):
            mine = _as_rule_filter(flt)
            if mine is None:
                continue
            for t, other, theirs in excludes.get((element, flt.field), ()):
                if t != s and covers(theirs, mine):
                    yield Diagnostic("include-shadowed", "warning",
                                     f"every event this include filter matches is excluded by {other.location}",
                                     flt.location)
                    break


def conflicts(sections: Sequence[Section]) -> list[Diagnostic]:
    """Duplicate and shadowed rules among the modules' sections, given in merge order."""
    return [*duplicate_rules(sections), *shadowed_includes(sections)]

