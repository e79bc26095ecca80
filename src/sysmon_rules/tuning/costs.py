"""What a proposal costs the detections: proven with the solver, never sampled.

A proposal is an exclude added to CONFIG (``patch``): the tuned config logs an event when CONFIG
logs it and the proposal does not match it. So a Sigma rule loses events exactly when some event
satisfies *the rule's detection* and *CONFIG logs it* and *the proposal matches it*, and a kept
RuleName loses events when some event CONFIG logs under that name matches the proposal. Each is a
formula over Sysmon fields (readiness' formulas: Sigma detection, CONFIG's "logged", the proposal's
set) handed to readiness' exhaustive case split:

- ``unsat`` is a proof that nothing is lost;
- ``sat`` gives field values, turned into an event and re-checked with the real evaluators (CONFIG
  logs it, under the kept name; the proposal matches it) and, for Sigma, pySigma's own condition:
  the witness;
- ``unknown`` (a test the solver cannot reason about, or its budget) is an *undecided* cost,
  reported with the reason and treated as a cost.

A RuleName is only reported when some filter named so matched (Sysmon sets it on every filter
match), so "logged under R" is "logged, and some filter named R matches" with the name re-checked
on the witness; when that re-check fails, the witness search of ``witness.find_event`` (the
proposal's conditions as field constraints) looks for a real one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sigma.exceptions import SigmaError

from ..engine import Evaluator
from ..engine.compiled import CFilter, CGroup
from ..engine.conditions import folded_value, list_tokens
from ..events import Event
from ..readiness import SigmaInput
from ..readiness.config import ConfigFormulas, item_formula
from ..readiness.detection import detection_formula
from ..readiness.fields import EVENT_ID
from ..readiness.formula import FALSE, Formula, Unsupported, conj, disj, substitute
from ..readiness.logsource import sysmon_source
from ..readiness.search import DEFAULT_BUDGET, Outcome, search
from ..readiness.sigmacheck import sigma_matches
from ..schema import newest
from ..witness import Constraint, find_event
from .fields import series
from .proposals import Proposal

LOSES, UNDECIDED = "loses", "undecided"


@dataclass(frozen=True)
class Cost:
    """A detection a proposal costs: a Sigma rule (``kind="sigma"``) or a kept RuleName."""

    kind: str
    name: str
    event_id: int
    status: str  # LOSES (with a witness) or UNDECIDED (with why)
    witness: dict[str, object] | None
    why: str
    rule_id: str = ""
    path: str = ""

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "name": self.name, "rule_id": self.rule_id, "path": self.path,
                "event_id": self.event_id, "status": self.status, "witness": self.witness, "why": self.why}


@dataclass(frozen=True)
class _Rule:
    item: SigmaInput
    event_ids: tuple[int, ...]
    trees: tuple[object, ...]


class Detections:
    """The detections to keep (Sigma rules, RuleNames) and CONFIG's formulas, built once."""

    def __init__(self, evaluator: Evaluator, sigma: Sequence[SigmaInput] = (), keep: Sequence[str] = (), *,
                 budget: int = DEFAULT_BUDGET) -> None:
        self.evaluator = evaluator
        self.formulas = ConfigFormulas(evaluator)
        self.schema = newest(evaluator.platform)
        self.keep = tuple(dict.fromkeys(keep))
        self.budget = budget
        self.rules: list[_Rule] = []
        self.not_checked: list[tuple[SigmaInput, str]] = []  # rules no proposal is checked against, and why
        for item in sigma:
            self._add(item)
        self._detection: dict[tuple[int, int], Formula | None] = {}

    def _add(self, item: SigmaInput) -> None:
        if item.rule is None:
            self.not_checked.append((item, item.error))
            return
        source = sysmon_source(item.rule.logsource)
        if source.platform != self.evaluator.platform:
            return  # not a rule about this platform's Sysmon events: nothing to lose
        try:
            trees = tuple(c.parsed for c in item.rule.detection.parsed_condition)
        except SigmaError as exc:
            self.not_checked.append((item, f"pySigma: {' '.join(str(exc).split())}"))
            return
        self.rules.append(_Rule(item, source.event_ids, trees))

    def detection(self, index: int, event_id: int) -> Formula | None:
        """Rule ``index``'s detection for ``event_id`` (None: it matches no such event or cannot be read)."""
        key = (index, event_id)
        if key not in self._detection:
            rule = self.rules[index]
            names = self.schema.events_by_id[event_id].field_names
            try:
                formula = substitute(disj([detection_formula(t, names) for t in rule.trees]),  # type: ignore[arg-type]
                                     EVENT_ID, str(event_id))
            except (Unsupported, SigmaError) as exc:
                if not any(i is rule.item for i, _ in self.not_checked):
                    self.not_checked.append((rule.item, str(exc)))
                formula = None
            self._detection[key] = None if formula == FALSE else formula
        return self._detection[key]

    def named(self, event_id: int, rule_name: str) -> Formula:
        """Some filter of CONFIG's sets for ``event_id`` named ``rule_name`` matches."""
        names = self.schema.events_by_id[event_id].field_names
        parts: list[Formula] = []
        for cset in self.formulas.rules(event_id).sets:
            for item in cset.items:
                for flt in item.filters if isinstance(item, CGroup) else (item,):
                    if isinstance(flt, CFilter) and flt.name == rule_name:
                        parts.append(item_formula(self.formulas, cset, flt, names))
        return disj(parts)

    def costs(self, proposal: Proposal, match: Evaluator, *, first: bool = False) -> list[Cost]:
        """Every detection ``proposal`` (whose matcher is ``match``, see ``patch.matcher``) costs;
        with ``first``, only the first found (enough to reject it), kept RuleNames tried first."""
        found: dict[tuple[str, str], Cost] = {}
        matching = ConfigFormulas(match)
        for event_id in series(proposal.event_id, self.evaluator.platform):
            if event_id not in self.schema.events_by_id:
                continue
            for pins in _pins(proposal):
                matched = _pinned(matching.rules(event_id).logged, pins)
                if matched == FALSE:
                    continue
                logged = _pinned(self.formulas.rules(event_id).logged, pins)
                for rule_name in self.keep:
                    _worst(found, self._name_cost(rule_name, event_id, pins, logged, matched, match, proposal))
                    if first and found:
                        return list(found.values())
                for index, rule in enumerate(self.rules):
                    if event_id in rule.event_ids:
                        _worst(found, self._sigma_cost(index, event_id, pins, logged, matched, match))
                        if first and found:
                            return list(found.values())
        return sorted(found.values(), key=lambda c: (c.kind, c.name, c.rule_id, c.path))

    def _sigma_cost(self, index: int, event_id: int, pins: dict[str, str], logged: Formula, matched: Formula,
                    match: Evaluator) -> Cost | None:
        detection = self.detection(index, event_id)
        if detection is None:
            return None
        detection = _pinned(detection, pins)
        if detection == FALSE or search(conj([detection, matched]), self.budget).status == "unsat":
            return None
        outcome = search(conj([detection, logged, matched]), self.budget)
        item = self.rules[index].item
        cost = _Found("sigma", item.title or item.id or item.path, event_id, item.id, item.path)
        if outcome.status == "unsat":
            return None
        if outcome.status == "unknown":
            return cost.undecided(f"cannot tell: {outcome.why}")
        event = Event(event_id, {**outcome.values, **pins})
        trees = self.rules[index].trees
        if (self.evaluator.decide(event).decision == "include" and match.decide(event).decision == "include"
                and any(sigma_matches(t, event_id, event.fields) for t in trees)):
            return cost.loses(event, "an event the rule matches that CONFIG logs and this exclude drops")
        return cost.undecided(f"internal: the solver's event {dict(event.fields)} failed its re-check")

    def _name_cost(self, rule_name: str, event_id: int, pins: dict[str, str], logged: Formula, matched: Formula,
                   match: Evaluator, proposal: Proposal) -> Cost | None:
        named = _pinned(self.named(event_id, rule_name), pins)
        if named == FALSE:
            return None
        outcome: Outcome = search(conj([logged, matched, named]), self.budget)
        if outcome.status == "unsat":
            return None
        cost = _Found("rule_name", rule_name, event_id)
        why = f"an event CONFIG logs as RuleName {rule_name!r} that this exclude drops"

        def kept(event: Event) -> bool:
            decision = self.evaluator.decide(event)
            return (decision.decision == "include" and decision.rule_name == rule_name
                    and match.decide(event).decision == "include")

        if outcome.status == "sat" and kept(event := Event(event_id, {**outcome.values, **pins})):
            return cost.loses(event, why)
        fields = {c.field: [Constraint.of(c.condition, c.value)] for c in proposal.conditions}
        witness = find_event(self.evaluator, event_id,
                             lambda d: d.decision == "include" and d.rule_name == rule_name, fields=fields)
        if witness is not None and kept(witness.event):
            return cost.loses(witness.event, why)
        return cost.undecided(f"cannot tell: {outcome.why or 'no witness found for the solver answer'}")


def _pins(proposal: Proposal) -> list[dict[str, str]]:
    """The field values an event must have for the proposal to match it, one dict per choice.

    ``is`` fixes its field and ``is any`` gives a few choices (Sysmon's ``;`` tokens): put into
    the formulas (``substitute``), they leave the solver only the other fields, so a proof over
    a large config takes milliseconds instead of a search over every set of the event type.
    """
    choices: list[list[tuple[str, str]]] = [[]]
    for c in proposal.conditions:
        data = folded_value(c.value)
        values = [data] if c.condition == "is" else list_tokens(data) if c.condition == "is any" else None
        if values is not None:
            choices = [[*chosen, (c.field, v)] for chosen in choices for v in values]
    return [dict(chosen) for chosen in choices]


def _pinned(formula: Formula, pins: dict[str, str]) -> Formula:
    for name, value in pins.items():
        formula = substitute(formula, name, value)
    return formula


def _worst(found: dict[tuple[str, str], Cost], cost: Cost | None) -> None:
    """Keep one cost per detection: a proven loss over an undecided one, else the first."""
    if cost is None:
        return
    key = (cost.kind, cost.rule_id or cost.path or cost.name)
    if key not in found or (found[key].status == UNDECIDED and cost.status == LOSES):
        found[key] = cost


@dataclass(frozen=True)
class _Found:
    kind: str
    name: str
    event_id: int
    rule_id: str = ""
    path: str = ""

    def loses(self, event: Event, why: str) -> Cost:
        witness: dict[str, object] = {"EventID": event.event_id, "fields": dict(event.fields)}
        return Cost(self.kind, self.name, self.event_id, LOSES, witness, why, self.rule_id, self.path)

    def undecided(self, why: str) -> Cost:
        return Cost(self.kind, self.name, self.event_id, UNDECIDED, None, why, self.rule_id, self.path)
