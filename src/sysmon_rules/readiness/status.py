"""Per Sigma rule and event id: can a matching event be logged, can one be dropped? Then a status.

Two searches per event id: detection AND logged, detection AND NOT logged. ``logged`` needs the
second to be impossible (proven by the exhaustive case split, see ``search``); ``dropped`` needs
the first to be impossible; ``partial`` needs a witness of each. Every witness is replayed through
the evaluator (decision, RuleName) and through the independent Sigma check before it counts; an
answer the search could not give, or a witness that fails its re-check, makes the rule
``unsupported`` with the reason, never a guess.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from sigma.exceptions import SigmaError

from ..engine import Decision, Evaluator
from ..events import Event
from ..schema import newest
from ..schema.model import Platform
from ..witness.domains import field_domain, realize
from .config import ConfigFormulas, item_formula
from .detection import detection_formula, fieldrefs
from .explain import partial_statements, why_decided
from .fields import EVENT_ID
from .fieldsolve import FieldCache
from .formula import FALSE, Atom, Formula, Unsupported, atoms, conj, disj, substitute
from .logsource import sysmon_source
from .result import RuleCoverage, Witness
from .rules import SigmaInput
from .search import DEFAULT_BUDGET, Outcome, search
from .sigmacheck import sigma_matches
from .typical import typical_events

_EXPLAINED = 3  # dropped typical events whose deciding filter is looked up (reasons show 3)
MORE_DROPPED = 2  # extra dropped witnesses per event id, each dropped by a different exclude
_MORE_TRIES = 40  # exclude items tried for them


@dataclass
class _Verdicts:
    logged: list[Witness] = field(default_factory=list)
    dropped: list[Witness] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    proofs: list[str] = field(default_factory=list)
    event_ids: list[int] = field(default_factory=list)
    never_logged: int = 0  # event ids where no matching event can be logged
    always_logged: int = 0  # event ids where every matching event is logged
    detections: dict[int, Formula] = field(default_factory=dict)


class Assessor:
    """Assesses Sigma rules against one config (its evaluator and formulas, built once)."""

    def __init__(self, evaluator: Evaluator, budget: int = DEFAULT_BUDGET) -> None:
        self.evaluator = evaluator
        self.formulas = ConfigFormulas(evaluator)
        self.schema = newest(evaluator.platform)
        self.budget = budget
        self.cache = FieldCache()  # field answers shared by every search against this config
        self._refs: dict[int, list[tuple[str, str, bool]]] = {}  # the rule being assessed: its references by id
        self._items: dict[tuple[int, int], Formula] = {}  # exclude items (kept alive by self.formulas)
        self._last: tuple[tuple[int, tuple[tuple[str, str], ...]], Decision] | None = None

    def assess(self, item: SigmaInput) -> RuleCoverage:
        if item.rule is None:
            return _result(item, "unsupported", reasons=[item.error])
        source = sysmon_source(item.rule.logsource)
        if source.platform is None:
            return _result(item, "not-applicable", reasons=[source.why_not])
        if source.platform != self.evaluator.platform:
            return _result(item, "not-applicable", source.event_ids, [
                f"a Sysmon for {source.platform.title()} rule; the config is read for {self.evaluator.platform}"])
        self._refs = {}
        try:
            trees: list[object] = [c.parsed for c in item.rule.detection.parsed_condition]
            verdicts = self._verdicts(trees, source.event_ids)
        except Unsupported as exc:
            return _result(item, "unsupported", source.event_ids, [str(exc)])
        except SigmaError as exc:
            return _result(item, "unsupported", source.event_ids, [f"pySigma: {' '.join(str(exc).split())}"])
        result = _conclude(item, verdicts)
        return self._graded(result, verdicts, trees) if result.status == "partial" else result

    def _graded(self, result: RuleCoverage, verdicts: _Verdicts, trees: list[object]) -> RuleCoverage:
        """A partial rule graded: what decides (named filters), and what happens to its typical events."""
        logged: list[Witness] = []
        dropped: list[Witness] = []
        for event_id in verdicts.event_ids:
            names = self.schema.events_by_id[event_id].field_names
            for event in typical_events(event_id, names, verdicts.detections[event_id], trees):
                decision = self.evaluator.decide(event)
                into = logged if decision.decision == "include" else dropped
                # Explaining costs a trace of the walk: only for the events a reason will show.
                explained = _EXPLAINED if into is dropped else 1
                why = self._why(event, decision) if len(into) < explained else ""
                into.append(Witness(event_id, dict(event.fields), decision.decision, decision.rule_name, why))
        grade, statements = partial_statements([*verdicts.logged, *logged[:1]], [*verdicts.dropped, *dropped])
        total = len(logged) + len(dropped)
        counted = (total, len(logged))
        summary = f"typical events: {len(logged)} of {total} logged"
        shown = [replace_why(w, "typical event " + w.why) for w in [*dropped[:2], *logged[:1]]]
        if total and 2 * len(logged) < total:  # most typical events are dropped
            whys = list(dict.fromkeys(w.why for w in dropped if w.why))[:3]
            return dataclasses.replace(result, status="dropped-in-practice", grade=grade, typical=counted,
                                       reasons=(summary, *whys, *statements, *result.reasons),
                                       witnesses=(*shown, *result.witnesses))
        return dataclasses.replace(result, grade=grade, typical=counted,
                                   reasons=(*statements, summary, *result.reasons),
                                   witnesses=(*shown[-1:], *shown[:1], *result.witnesses))

    def _verdicts(self, trees: list[object], event_ids: tuple[int, ...]) -> _Verdicts:
        verdicts = _Verdicts()
        missing_everywhere: set[str] | None = None
        for event_id in event_ids:
            event_type = self.schema.events_by_id.get(event_id)
            if event_type is None:
                continue
            missing: set[str] = set()
            detection = substitute(disj([detection_formula(t, event_type.field_names, missing)  # type: ignore[arg-type]
                                         for t in trees]), EVENT_ID, str(event_id))
            detection = conj([detection, *enumerations(event_id, detection, self.evaluator.platform)])
            missing_everywhere = missing if missing_everywhere is None else missing_everywhere & missing
            if detection == FALSE:
                continue
            verdicts.event_ids.append(event_id)
            verdicts.detections[event_id] = detection
            self._one_id(event_id, detection, trees, verdicts)
        if not verdicts.event_ids:
            if missing_everywhere:
                raise Unsupported(f"field {', '.join(sorted(missing_everywhere))} is not in Sysmon's event "
                                  f"{'/'.join(map(str, event_ids))}")
            raise Unsupported("the detection matches no Sysmon event of its log source")
        return verdicts

    def _one_id(self, event_id: int, detection: Formula, trees: list[object], verdicts: _Verdicts) -> None:
        rules = self.formulas.rules(event_id)
        logged = search(conj([detection, rules.logged]), self.budget, self.cache)
        dropped = search(conj([detection, rules.dropped]), self.budget, self.cache)
        if logged.status == "unsat" and dropped.status == "unsat":
            verdicts.event_ids.remove(event_id)  # no event of this id matches the detection
            return
        cases = ((logged, "include", verdicts.logged, rules.logged),
                 (dropped, "exclude", verdicts.dropped, rules.dropped))
        for outcome, want, bucket, decided in cases:
            if outcome.status == "sat":
                witness, problem = self._witness(event_id, outcome, want, trees, conj([detection, decided]))
                if witness is not None:
                    bucket.append(witness)
                else:
                    verdicts.unknown.append(f"event {event_id}: {problem}")
            elif outcome.status == "unknown":
                verdicts.unknown.append(f"event {event_id}: cannot tell whether a matching event is "
                                        f"{'logged' if want == 'include' else 'dropped'}: {outcome.why}")
        if dropped.status == "sat" and verdicts.dropped:
            self._more_dropped(event_id, detection, trees, verdicts)
        if dropped.status == "unsat":
            verdicts.always_logged += 1
            verdicts.proofs.append(f"event {event_id}: every matching event is logged ("
                                   + (rules.by_construction or "no case of the detection meets an exclude "
                                      "and each meets an include: exhaustive case split") + ")")
        if logged.status == "unsat":
            verdicts.never_logged += 1
            verdicts.proofs.append(f"event {event_id}: no matching event is logged ("
                                   + (rules.by_construction or "every case of the detection meets an exclude "
                                      "or no include: exhaustive case split") + ")")

    def _more_dropped(self, event_id: int, detection: Formula, trees: list[object], verdicts: _Verdicts) -> None:
        """Up to ``MORE_DROPPED`` more dropped witnesses, each by another exclude item (tried in order)."""
        names = self.schema.events_by_id[event_id].field_names
        seen = {w.why for w in verdicts.dropped}
        found = tried = 0
        for cset in self.formulas.rules(event_id).sets:
            if cset.on_match != "exclude":
                continue
            for node in cset.items:
                if found >= MORE_DROPPED or tried >= _MORE_TRIES:
                    return
                tried += 1
                item = self._items.get((event_id, id(node)))  # the config's own: built once per id
                if item is None:
                    item = self._items[event_id, id(node)] = item_formula(self.formulas, cset, node, names)
                asked = conj([detection, item])
                outcome = search(asked, 200, self.cache)
                if outcome.status != "sat":
                    continue
                witness, _ = self._witness(event_id, outcome, "exclude", trees, asked)
                if witness is not None and witness.why not in seen and self._in_domains(witness):
                    seen.add(witness.why)
                    verdicts.dropped.append(witness)
                    found += 1

    def _witness(self, event_id: int, outcome: Outcome, want: str, trees: list[object],
                 asked: Formula) -> tuple[Witness | None, str]:
        outcome = self._with_references(event_id, outcome, trees)
        realistic, complete = self._realistic(event_id, outcome)
        if not complete:
                # Asked again with the unrealistic fields held to their domains (a path from a drive, an
            # event type Sysmon writes for this id). An event Sysmon cannot write is no witness.
            held = domain_formulas(event_id, realistic.values, self.evaluator.platform)
            again = search(conj([*held, asked]), self.budget, self.cache) if held else Outcome("unknown")
            if again.status == "sat":
                retried, complete = self._realistic(event_id, self._with_references(event_id, again, trees))
                realistic = retried if complete else realistic
        if not complete:
            platform = self.evaluator.platform
            odd = {k: v for k, v in realistic.values.items() if v not in field_domain(event_id, k, platform)}
            return None, (f"event {event_id}: every matching event found that is "
                          f"{'logged' if want == 'include' else 'dropped'} holds a value Sysmon never writes ({odd})")
        outcome = realistic
        event = Event(event_id, dict(outcome.values))
        decision = self._decide(event_id, outcome.values)
        if decision.decision != want:
            return None, f"internal: witness {outcome.values} expected {want}, evaluator says {decision.decision}"
        if not any(sigma_matches(t, event_id, event.fields) for t in trees):
            return None, f"internal: witness {outcome.values} does not satisfy the Sigma detection"
        return Witness(event_id, dict(outcome.values), decision.decision, decision.rule_name,
                       self._why(event, decision)), ""

    def _in_domains(self, witness: Witness) -> bool:
        platform = self.evaluator.platform
        return all(v in field_domain(witness.event_id, k, platform) for k, v in witness.fields.items())

    def _realistic(self, event_id: int, outcome: Outcome) -> tuple[Outcome, bool]:
        """The solver's values moved into their fields' domains (a path under a folder, a whole IP…).

        Each value is replaced by one that meets every test the solved case put on its field, so
        the case (and the decision) holds; the caller re-checks the whole event anyway. The flag
        says whether every value found a place in its domain; a replacement that would change the
        decision or RuleName is not made.
        """
        by_field: dict[str, list[Atom]] = {}
        for atom in outcome.atoms:
            by_field.setdefault(atom.field, []).append(atom)
        values = dict(outcome.values)
        complete = True
        for name, value in outcome.values.items():
            tests = by_field.get(name, [])
            found = realize(event_id, name, value, lambda v, tests=tests: all(a.holds(v) for a in tests),  # type: ignore[misc]
                            self.evaluator.platform)
            if found is None:
                complete = False
            else:
                values[name] = found
        before = self._decide(event_id, outcome.values)
        after = self._decide(event_id, values)
        if (before.decision, before.rule_name) != (after.decision, after.rule_name):
            return outcome, False
        return Outcome(outcome.status, values, outcome.why, outcome.atoms), complete

    def _decide(self, event_id: int, values: dict[str, str]) -> Decision:
        """The evaluator's decision, the last one remembered: a witness is decided as the solver
        found it, realistic, and once more as the witness (usually the same values)."""
        key = (event_id, tuple(values.items()))
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        decision = self.evaluator.decide(Event(event_id, dict(values)))
        self._last = (key, decision)
        return decision

    def _why(self, event: Event, decision: Decision) -> str:
        return why_decided(self.evaluator, event, decision)

    def _with_references(self, event_id: int, outcome: Outcome, trees: list[object]) -> Outcome:
        refs = self._refs.get(event_id)
        if refs is None:
            names = newest().events_by_id[event_id].field_names
            refs = self._refs[event_id] = [r for t in trees for r in fieldrefs(t, names)]  # type: ignore[arg-type]
        return _with_references(outcome, refs)


def _with_references(outcome: Outcome, refs: list[tuple[str, str, bool]]) -> Outcome:
    """``outcome`` with each field reference of the rule made true: equal fields share a value,
    unequal ones get different values (the formula leaves references out; see detection_formula)."""
    if not refs:
        return outcome
    values = dict(outcome.values)
    for left, right, equal in refs:
        if equal:
            shared = values.get(right) or values.get(left) or "x"
            values[left] = values[right] = shared
        elif values.get(left, "-") == values.get(right, "-"):
            values[left] = values.get(left, "") + "q"
    # The tests on the touched fields still bind the value: the realization checks them.
    return Outcome(outcome.status, values, outcome.why, outcome.atoms)


def enumerations(event_id: int, formula: Formula, platform: Platform) -> list[Formula]:
    """For each enumerated field ``formula`` tests (EventType, Operation, …): one of the values Sysmon writes."""
    names = {a.field for a in atoms(formula)}
    out: list[Formula] = []
    for name in sorted(names):
        domain = field_domain(event_id, name, platform)
        if domain.kind == "enum":
            out.append(disj([Atom(name, "eq", v) for v in domain.values]))
    return out


def domain_formulas(event_id: int, values: dict[str, str], platform: Platform) -> list[Formula]:
    """Core tests that keep each out-of-domain field of ``values`` inside its domain, where there are such tests."""
    out: list[Formula] = []
    for name, value in values.items():
        domain = field_domain(event_id, name, platform)
        if value in domain:
            continue
        if domain.kind == "path":
            out.append(Atom(name, "prefix", "c:\\"))
        elif domain.kind in ("enum", "bool"):
            out.append(disj([Atom(name, "eq", v) for v in domain.values]))
    return out


def replace_why(witness: Witness, why: str) -> Witness:
    return dataclasses.replace(witness, why=why)


def _result(item: SigmaInput, status: str, event_ids: tuple[int, ...] = (), reasons: list[str] | None = None,
            witnesses: tuple[Witness, ...] = ()) -> RuleCoverage:
    return RuleCoverage(item.id, item.title, item.path, status, event_ids, witnesses,
                        tuple(dict.fromkeys(reasons or [])), item.tags, item.author)


def _conclude(item: SigmaInput, v: _Verdicts) -> RuleCoverage:
    ids = tuple(v.event_ids)
    witnesses = tuple(v.logged[:1] + v.dropped)
    if v.logged and v.dropped:
        status, reasons = "partial", [f"{w.why}" for w in v.dropped]
    elif not v.unknown and v.always_logged == len(ids):
        status, reasons = "logged", v.proofs
    elif not v.unknown and v.never_logged == len(ids):
        status, reasons = "dropped", v.proofs + [w.why for w in v.dropped]
    else:
        status, reasons = "unsupported", v.unknown + v.proofs
    return _result(item, status, ids, reasons, witnesses)
