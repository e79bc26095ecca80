"""Config snippets that would log what a rule needs, each re-checked by running coverage again.

Two kinds, chosen by why a dropped witness was dropped:

- no include set matched: an include set whose filters *cover* the detection (every matching
  event satisfies one of them), the fewest filters found among the detection's conjuncts;
- an exclude filter or ``<Rule>`` matched: that exclude narrowed to leave the rule's events alone,
  ``<Rule groupRelation="and">`` of the filter and the negation of each covering filter.

The snippet is applied to the config model (the include appended, the exclude replaced where it
stands), and the rule is assessed again against the changed config; up to three rounds, for
rules dropped for several reasons. The status after the last round is reported with the snippet.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..engine import Evaluator
from ..engine.compiled import CGroup
from ..errors import Location
from ..model import Config, EventRules, Filter, Rule, RuleGroup
from ..schema import newest
from ..xml.writer import to_xml
from .config import ConfigFormulas, item_formula
from .detection import detection_formula
from .fields import EVENT_ID
from .formula import And, Atom, Const, Formula, Or, conj, disj, substitute
from .result import RuleCoverage
from .rules import SigmaInput
from .search import search

ROUNDS = 3
_MAX_NARROWED = 200  # exclude items narrowed in one round
_POSITIVE = {"eq": "is", "prefix": "begin with", "suffix": "end with", "contains": "contains"}
_NEGATIVE = {"eq": "is not", "prefix": "not begin with", "suffix": "not end with", "contains": "excludes"}


@dataclass(frozen=True, slots=True)
class Suggestion:
    snippet: str
    status: str  # the rule's status with every snippet applied
    config: Config  # the config with every snippet applied
    typical: tuple[int, int] | None = None  # the rule's typical events (built, logged) with the snippets


def typical_logged(result: RuleCoverage) -> bool:
    """Are the rule's typical events all logged (proven for ``logged``, counted otherwise)?"""
    return result.status == "logged" or (result.typical is not None and result.typical[0] == result.typical[1])


def cover(formula: Formula) -> list[Atom] | None:
    """Positive atoms whose OR every solution of ``formula`` satisfies (the fewest found), or None."""
    if isinstance(formula, Atom):
        if formula.negated:
            return None
        if formula.kind in _POSITIVE:
            return [formula]
        if formula.kind == "glob" and isinstance(formula.value, tuple):
            literals = [p for p in formula.value if not p.startswith("\0")]
            return [Atom(formula.field, "contains", max(literals, key=len))] if literals else None
        return None
    if isinstance(formula, Or):
        parts = [cover(f) for f in formula.items]
        return None if any(p is None for p in parts) else [a for p in parts for a in p or ()]
    if isinstance(formula, And):
        options = [c for c in (cover(f) for f in formula.items) if c]
        return min(options, key=len) if options else None
    return None


def suggest(evaluator: Evaluator, config: Config, item: SigmaInput, result: RuleCoverage,
            assess: object) -> Suggestion | None:
    """A snippet for a rule whose typical events are not all logged, re-checked; None when none can be built.

    Rounds go on (up to ``ROUNDS``) until the rule is logged or all its typical events are.
    """
    snippets: list[str] = []
    current, status, current_evaluator = config, result, evaluator
    for _ in range(ROUNDS):
        if status.status not in ("partial", "dropped-in-practice", "dropped") or typical_logged(status):
            break
        step = _one_step(current, current_evaluator, item, status)
        if step is None:
            break
        snippet, current = step
        snippets.append(snippet)
        current_evaluator = Evaluator(current, environment=evaluator.environment, platform=evaluator.platform)
        status = assess(current_evaluator, item)  # type: ignore[operator]
    if not snippets:
        return None
    return Suggestion("\n".join(snippets), status.status, current, status.typical)


def _one_step(config: Config, evaluator: Evaluator, item: SigmaInput,
              result: RuleCoverage) -> tuple[str, Config] | None:
    for witness in result.witnesses:
        if witness.decision != "exclude" or not witness.why:
            continue
        detection = _detection(item, witness.event_id)
        atoms = cover(detection) if detection is not None else None
        if not atoms or detection is None:
            return None
        if not witness.why.removeprefix("typical event ").startswith("dropped by "):
            return _include(config, item, witness.event_id, atoms)
        # Every exclude item some matching event meets is narrowed in this one round.
        places = _culprits(evaluator, witness.event_id, detection) or [witness.why.rsplit(" at ", 1)[-1]]
        snippets: list[str] = []
        for place in places[:_MAX_NARROWED]:
            step = _narrow(config, place, atoms)
            if step is not None:
                snippets.append(step[0])
                config = step[1]
        return ("\n".join(snippets), config) if snippets else None
    return None


def _detection(item: SigmaInput, event_id: int) -> Formula | None:
    event_type = newest().events_by_id.get(event_id)
    if item.rule is None or event_type is None:
        return None
    trees = [c.parsed for c in item.rule.detection.parsed_condition]
    formula = substitute(disj([detection_formula(t, event_type.field_names) for t in trees]),
                         EVENT_ID, str(event_id))
    return None if isinstance(formula, Const) else formula


def _culprits(evaluator: Evaluator, event_id: int, detection: Formula) -> list[str]:
    """``path:line:column`` of each exclude filter or <Rule> that some matching event meets."""
    formulas = ConfigFormulas(evaluator)
    names = formulas.schema.events_by_id[event_id].field_names
    places = []
    for cset in formulas.rules(event_id).sets:
        if cset.on_match != "exclude":
            continue
        for node in cset.items:
            if search(conj([detection, item_formula(formulas, cset, node, names)]), 500).status == "sat":
                first = node.filters[0] if isinstance(node, CGroup) else node
                if first.source.location is not None:
                    places.append(str(first.source.location))
    return places


def _include(config: Config, item: SigmaInput, event_id: int, atoms: list[Atom]) -> tuple[str, Config] | None:
    event_type = newest().events_by_id[event_id]
    if event_type.rulename is None:
        return None
    name = _rule_name(item)
    filters = tuple(Filter(a.field, str(a.value), _POSITIVE[a.kind], name) for a in _unique(atoms))
    group = RuleGroup((EventRules(event_type.rulename, filters, "include"),), "or", "")
    changed = dataclasses.replace(config, filtering=(*config.filtering, group))
    what = " or ".join(f"{a.field} {_POSITIVE[a.kind]} '{a.value}'" for a in _unique(atoms))
    also = f"<!-- also logs every {event_type.rulename} event with {what}, matching the rule or not -->\n"
    return also + _fragment(group, config.schema_version), changed


def _narrow(config: Config, where: str, atoms: list[Atom]) -> tuple[str, Config] | None:
    negations = tuple(Filter(a.field, str(a.value), _NEGATIVE[a.kind]) for a in _unique(atoms))
    changed, replaced = _replace_at(config, where, negations)
    if replaced is None:
        return None
    snippet = f"<!-- replace the exclude at {where} with: -->\n" + _fragment_rule(replaced, config.schema_version)
    return snippet, changed


def _replace_at(config: Config, where: str, negations: tuple[Filter, ...]) -> tuple[Config, Rule | None]:
    found: list[Rule] = []

    def visit_event(event: EventRules, combine_or: bool) -> EventRules:
        items: list[Filter | Rule] = []
        for node in event.items:
            if isinstance(node, Filter) and _at(node.location, where) and combine_or and not found:
                node = Rule((dataclasses.replace(node, name=None), *negations), "and", node.name)
                found.append(node)
            elif isinstance(node, Rule) and (node.group_relation or "").lower() == "and" and not found \
                    and any(_at(f.location, where) for f in node.filters):
                node = dataclasses.replace(node, filters=(*node.filters, *negations))
                found.append(node)
            items.append(node)
        return dataclasses.replace(event, items=tuple(items))

    nodes: list[RuleGroup | EventRules] = []
    for node in config.filtering:
        if isinstance(node, RuleGroup):
            combine_or = (node.group_relation or "").lower() == "or"
            nodes.append(dataclasses.replace(node, events=tuple(visit_event(e, combine_or) for e in node.events)))
        else:
            nodes.append(visit_event(node, False))
    return dataclasses.replace(config, filtering=tuple(nodes)), (found[0] if found else None)


def _at(location: Location, where: str) -> bool:
    return bool(location.line) and where.endswith(f":{location.line}:{location.column}")


def _unique(atoms: list[Atom]) -> list[Atom]:
    return list(dict.fromkeys(atoms))


def _rule_name(item: SigmaInput) -> str:
    techniques = [t.split(".", 1)[1].upper() for t in item.tags if t.lower().startswith("attack.t")]
    head = f"technique_id={techniques[0]}," if techniques else ""
    return (head + f"sigma={item.title}")[:200]


def _fragment(group: RuleGroup, version: str) -> str:
    """The snippet as the project's writer prints it (one escaping, one layout)."""
    text = to_xml(Config(version, (), (group,)))
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if "<EventFiltering>" in line) + 1
    end = next(i for i, line in enumerate(lines) if "</EventFiltering>" in line)
    return "\n".join(line[4:] for line in lines[start:end])


def _fragment_rule(rule: Rule, version: str) -> str:
    inside = _fragment(RuleGroup((EventRules("ProcessCreate", (rule,), "exclude"),), "or", ""), version)
    lines = inside.splitlines()[2:-2]  # drop the RuleGroup and event element around the <Rule>
    return "\n".join(line[4:] for line in lines)
