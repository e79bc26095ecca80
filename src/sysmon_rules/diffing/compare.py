"""``diff(old, new)``: the structural changes, their behaviour, and a verdict that is a proof.

The verdict is "equivalent" only when every event id has the same normal form on both sides
(``normal``), "different" when some change has a witness event the two evaluators decide
differently, and "unknown" otherwise — never equivalence without a proof. What a side cannot
carry (``sysmon -c`` text has no filter RuleNames and hides some sets) is compared as unknown:
RuleNames are then left out of the comparison, and the sets of the other side the text would
hide become "set-hidden" changes of unknown effect.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..blob.dump import printed_sets
from ..blob.dumptext import UNKNOWNS
from ..collectors import require_events
from ..engine import Evaluator
from ..engine.compiled import CGroup
from ..ruletable import COMBINE_OR, RuleTable
from ..schema import newest
from ..schema.model import Platform
from .attribution import Charger, EventInput, Replay, event_source, replay
from .behaviour import event_ids_of, find_witness, prove_inert, quick_witness
from .decide import EQUAL, UNDECIDED, Decider, EventVerdict, event_name
from .flat import Entry
from .normal import filtered_event_ids
from .sources import DUMP_TEXT, Side, Source, load_side
from .structure import BEHAVIOUR, NONE, UNKNOWN, Change, describe_filter, structural_changes

EQUIVALENT, DIFFERENT = "equivalent", "different"
EXIT_CODES = {EQUIVALENT: 0, DIFFERENT: 1, UNKNOWN: 3}
_PATH_SEARCH_ITEMS = 60  # per side: plans bigger than this get no per-change path search
_PATH_SEARCH_SECONDS = 1.0  # all per-change path searches of one diff together
_QUICK_SECONDS = 3.0  # all witnesses built from changes' own filters, together


@dataclass
class ConfigDiff:
    """The result of :func:`diff`; ``to_dict()`` is the stable JSON form (docs/diff.md), and
    ``diffing.render`` writes it as text or Markdown."""

    old: Side
    new: Side
    verdict: str
    reason: str
    compared: tuple[str, ...]
    unknowns: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    replay: Replay | None = None
    skipped_events: int = 0
    events: list[EventVerdict] = field(default_factory=list)  # per event id: proven, witness, or why not
    interrupted: bool = False  # Ctrl-C stopped the deciding: what is here was decided before
    platform: str = "windows"

    @property
    def exit_code(self) -> int:
        """0 equivalent, 1 different, 3 unknown (2 is the CLI's usage/input error)."""
        return EXIT_CODES[self.verdict]

    @property
    def witnesses(self) -> list[Change]:
        return [c for c in self.changes if c.witness is not None]

    def to_dict(self) -> dict[str, object]:
        effects = [c.effect for c in self.changes]
        return {
            "verdict": self.verdict, "reason": self.reason, "compared": list(self.compared),
            "unknowns": self.unknowns,
            "old": {"source": self.old.label, "kind": self.old.kind, "rule_sets": len(self.old.table.rule_sets)},
            "new": {"source": self.new.label, "kind": self.new.kind, "rule_sets": len(self.new.table.rule_sets)},
            "summary": {"changes": len(effects), "behaviour": effects.count("behaviour"),
                        "none": effects.count("none"), "unknown": effects.count("unknown"),
                        "witnesses": len(self.witnesses)},
            "proven_event_ids": sum(1 for v in self.events if v.status == EQUAL),
            "events": [v.to_dict(self.platform) for v in self.events],
            "interrupted": self.interrupted,
            "changes": [c.to_dict() for c in self.changes],
            "replay": self.replay.to_dict() if self.replay is not None else None,
        }


def _project(side: Side, other: Side, platform: Platform) -> tuple[RuleTable, list[int]]:
    """``side``'s table as ``sysmon -c`` text would show it, when ``other`` is such text."""
    if other.kind != DUMP_TEXT or side.kind == DUMP_TEXT:
        return side.table, []
    shown = printed_sets(side.table, newest(platform))
    hidden = [i for i in range(len(side.table.rule_sets)) if i not in set(shown)]
    kept = tuple(side.table.rule_sets[i] for i in shown)
    return RuleTable(side.table.binary_version, side.table.schema_version, kept), hidden


def _hidden_changes(side: Side, hidden: list[int], is_old: bool, platform: str) -> list[Change]:
    changes = []
    for index in hidden:
        rule_set = side.table.rule_sets[index]
        event = newest(platform).events_by_id.get(rule_set.event_id)  # type: ignore[arg-type]
        why = "after a set of the same type" if event is not None else \
            f"(event {rule_set.event_id} is not a {platform} event)"
        name = (event.rulename or event.name) if event is not None else str(rule_set.event_id)
        change = Change("set-hidden", name, rule_set.event_id, rule_set.onmatch,
                        f"{name} onmatch={rule_set.onmatch}: rule set ({len(rule_set.filters)} filters) "
                        f"that `sysmon -c` does not print {why}; unknown on the text side")
        if is_old:
            change.old_location = rule_set.location
        else:
            change.new_location = rule_set.location
        changes.append(change)
    return changes


def _unknowns(side: Side) -> list[str]:
    return [f"{side.label} ({side.kind}): {UNKNOWNS[code]}" for code in side.unknowns]


def diff(old: Source, new: Source, *, events: EventInput | None = None, ignore_rule_names: bool = False,
         platform: Platform = "windows", strict: bool = False,
         warn: Callable[[str], None] | None = None, time_budget: float | None = None,
         progress: Callable[[str], None] | None = None) -> ConfigDiff:
    """Compare two configs in any form (path, bytes, Config, RuleTable) by what they do to events.

    ``strict``: a damaged record in ``events`` files is an error instead of skipped and counted;
    ``warn`` receives the message for each one skipped (default: a ``CollectorWarning``).
    ``time_budget`` (seconds): event ids not decided by then are "unknown" (reason: the budget);
    ``progress`` receives one line per event id decided. Ctrl-C (``KeyboardInterrupt``) while
    deciding stops there: the result holds what was decided, ``interrupted`` is True.
    """
    started = time.monotonic()
    deadline = started + time_budget if time_budget is not None else None
    a, b = load_side(old, platform=platform), load_side(new, platform=platform)
    names = not ignore_rule_names and a.has_rule_names and b.has_rule_names
    compared = ("decisions", "rule names") if names else ("decisions",)
    old_table, old_hidden = _project(a, b, platform)
    new_table, new_hidden = _project(b, a, platform)
    # Proofs read the plans only: no lookup index until an event has to be decided.
    old_ev, new_ev = Evaluator(old_table, platform=platform, index=False), \
        Evaluator(new_table, platform=platform, index=False)
    changes = structural_changes(old_table, new_table, platform, names=names)
    changes += _hidden_changes(a, old_hidden, True, platform) + _hidden_changes(b, new_hidden, False, platform)
    for k, change in enumerate(changes, 1):
        change.id = k
    decider = Decider(old_ev, new_ev, names=names, deadline=deadline)
    verdicts, interrupted = _decide_events(decider, platform, deadline, progress, started)
    old_ev, new_ev = decider.old, decider.new
    try:  # after Ctrl-C only the cheap proofs run: no more searching
        _behaviour(changes, decider, verdicts, deadline=time.monotonic() if interrupted else deadline)
    except KeyboardInterrupt:  # what was decided stays; the rest is unknown, and says so
        interrupted = True
        for change in changes:
            if change.effect == UNKNOWN and not change.reason:
                change.reason = "interrupted (Ctrl-C) before this change was looked at"
    verdict, reason = _verdict(changes, verdicts, len(old_hidden) + len(new_hidden), platform)
    result = ConfigDiff(a, b, verdict, reason, compared, _unknowns(a) + _unknowns(b), changes,
                        events=verdicts, interrupted=interrupted, platform=platform)
    if events is not None:
        source, stream = event_source(events, strict=strict, warn=warn)
        result.replay = replay(old_ev, new_ev, source, changes, ignore_rule_names=not names)
        if stream is not None:  # logs named but no Sysmon event in them: the replay checked nothing
            require_events(stream.stats, stream.inputs)
        result.skipped_events = result.replay.skipped = stream.stats.skipped if stream is not None else 0
    return result


def _decide_events(decider: Decider, platform: str, deadline: float | None,
                   progress: Callable[[str], None] | None, started: float) -> tuple[list[EventVerdict], bool]:
    """Every event id: proofs first (plans only), then, with indexed evaluators, the searches."""
    ids = filtered_event_ids(platform)
    proven = {e: decider.prove(e) for e in ids}
    if not all(proven.values()):
        decider.old = Evaluator(decider.old.table, platform=decider.old.platform)
        decider.new = Evaluator(decider.new.table, platform=decider.new.platform)
    verdicts: list[EventVerdict] = []
    interrupted = False
    for k, event_id in enumerate(ids, 1):
        verdict = proven[event_id]
        if verdict is None and (interrupted or (deadline is not None and time.monotonic() > deadline)):
            why = "interrupted (Ctrl-C) before this event id was decided" if interrupted else \
                "the time budget ran out before this event id was decided"
            verdict = EventVerdict(event_id, UNDECIDED, reason=why)
        if verdict is None:
            try:
                verdict = decider.search(event_id)
            except KeyboardInterrupt:
                interrupted = True
                verdicts.append(EventVerdict(event_id, UNDECIDED, reason="interrupted (Ctrl-C) while deciding"))
                continue
        verdicts.append(verdict)
        if progress is not None:
            progress(f"diff: {k}/{len(ids)} event ids decided ({event_name(event_id, platform)}: "
                     f"{verdict.status}, {time.monotonic() - started:.1f} s)")
    return verdicts, interrupted


def _behaviour(changes: list[Change], decider: Decider, verdicts: list[EventVerdict], *,
               deadline: float | None) -> None:
    """Each change's effect: proven none, shown by a witness, or unknown with its reason."""
    old, new, names = decider.old, decider.new, decider.names
    by_id = {v.event_id: v for v in verdicts}
    for change in changes:
        if change.kind == "set-hidden":
            change.reason = "the `sysmon -c` text does not show whether this set is on the host"
            continue
        if _covered(change, decider):  # the most telling proof: the filter that covers it, named
            continue
        slot = [by_id[e] for e in event_ids_of(old, change.event_id) if e in by_id]
        if slot and all(v.status == EQUAL for v in slot):
            change.effect = NONE
            change.proof = f"{'moved: ' if 'moved' in change.kind else ''}{event_name(change.event_id, old.platform)}" \
                f" decides every event alike on both sides ({slot[0].proof})"
            continue
        if prove_inert(change, old, new, ignore_rule_names=not names, plans_differ=True) or \
                _moved_alike(change, decider):
            continue
    charge = _attribute(changes, decider, verdicts)
    proven = frozenset(v.event_id for v in verdicts if v.status == EQUAL)
    known = {v.event_id: v.witness for v in verdicts if v.witness is not None}
    # Where RuleNames differ, say whether the decisions alone are proven the same.
    names_aside = Decider(old, new, names=False) if names else None
    alike = {v.event_id for v in verdicts if v.status != EQUAL and names_aside is not None and
             names_aside.prove(v.event_id) is not None}
    # The path search of one change grows with the sets before it: only for small plans, and
    # for a few seconds in all (the event ids are decided already; this only attributes).
    search_until = time.process_time() + _PATH_SEARCH_SECONDS
    quick_until = time.process_time() + _QUICK_SECONDS
    for change in changes:
        if change.effect != UNKNOWN or change.kind == "set-hidden":
            continue
        spent, late = time.process_time(), deadline is not None and time.monotonic() > deadline
        if spent < quick_until and not late and quick_witness(change, decider, charge, proven, known):
            continue
        if _small(old, new, change.event_id) and time.process_time() < search_until and not late and \
                find_witness(change, old, new, ignore_rule_names=not names):
            continue
        change.reason = _change_reason(change, old, by_id, alike)


def _small(old: Evaluator, new: Evaluator, event_id: int) -> bool:
    """Plans small enough for the path search of one change (it grows with the sets before it)."""
    return all(sum(len(s.items) for s in e.plan(event_id).sets) <= _PATH_SEARCH_ITEMS for e in (old, new))


def _covered(change: Change, decider: Decider) -> bool:
    """An added or removed filter that a filter of its own side covers (it never decides there)."""
    if change.kind not in ("filter-added", "filter-removed"):
        return False
    side, set_index, filter_index = (1, change.new_set, change.new_filter) if change.kind == "filter-added" \
        else (0, change.old_set, change.old_filter)
    evaluator = decider.old if side == 0 else decider.new
    covering: list[str] = []
    for event_id in event_ids_of(evaluator, change.event_id):
        if set_index not in {s.rank for s in evaluator.plan(event_id).sets}:
            continue
        flat = decider.flat(side, event_id)
        if flat is None:
            return False
        # (a plain filter only: an AND <Rule> that gains or loses a filter is another entry)
        hit = next((cover for entry, cover in flat.dropped if entry.rank == set_index and
                    [f.position for f in entry.filters] == [filter_index]), None)
        if hit is None:
            if any(e.rank == set_index and any(f.position == filter_index for f in e.filters) for e in flat.entries):
                return False
            continue  # (this event id cannot read the filter's field: it never matches there)
        covering.append(_describe_entry(evaluator, hit))
    if not covering:
        return False
    kind = "dead behind" if change.kind == "filter-added" else "was dead behind"
    change.effect, change.proof = NONE, f"{kind} {covering[0]}: every event it matches, that filter matches " \
        "first (or decides alike)"
    return True


def _moved_alike(change: Change, decider: Decider) -> bool:
    """Names aside, a filter moved between two OR sets of one onmatch decides what it decided:
    "some include (exclude) filter matches" does not depend on which set holds it."""
    if change.kind != "filters-moved" or decider.names or change.old_set is None or change.new_set is None:
        return False
    sets = (decider.old.table.rule_sets[change.old_set], decider.new.table.rule_sets[change.new_set])
    plain = all(s.combine == COMBINE_OR and s.onmatch == sets[0].onmatch for s in sets)
    wanted = (change.old_set, change.new_set)
    for side, evaluator in enumerate((decider.old, decider.new)):
        for event_id in event_ids_of(evaluator, change.event_id):
            for cset in evaluator.plan(event_id).sets:  # no filter that fails (it ends its set's walk)
                if cset.rank == wanted[side]:
                    plain = plain and all(f.test is not None for item in cset.items
                                          for f in (item.filters if isinstance(item, CGroup) else (item,)))
    if plain:
        change.effect, change.proof = NONE, "moved between rule sets of the same onmatch: with names ignored " \
            "a decision depends only on whether some filter of that onmatch matches"
    return plain


def _describe_entry(evaluator: Evaluator, entry: Entry) -> str:
    rule_set = evaluator.table.rule_sets[entry.rank]
    flt = entry.filters[0].source
    where = f" at {flt.location}" if flt.location is not None else ""
    return f"{describe_filter(rule_set, flt, evaluator.platform)} (onmatch={rule_set.onmatch}){where}"


def _attribute(changes: list[Change], decider: Decider, verdicts: list[EventVerdict]) -> Charger:
    """Give each event id's witness to the changes that, alone, already decide it differently
    (old config plus only that change, ``isolate``), among those of the sets that decided it."""
    charge = Charger(decider.old, decider.new, changes, decider.names)
    by_number = {c.id: c for c in changes}
    for verdict in verdicts:
        w = verdict.witness
        if w is None:
            continue
        old, new = w.decisions
        ids = [i for i in charge.candidates(w.event, old, new) if by_number[i].effect == UNKNOWN]
        confirmed = [i for i in ids if charge.alone_differs(i, w.event, old)]
        if not confirmed:  # a change whose alone-config cannot be built: the one pair of sets deciding
            sets = (charge.old_sets.get(id(old.rule_set)), charge.new_sets.get(id(new.rule_set)))
            confirmed = [i for i in ids if charge.alone.get((i, w.event.event_id)) is None and
                         (by_number[i].old_set, by_number[i].new_set) == sets][:1]
        for i in confirmed:
            change = by_number[i]
            if change.witness is None:
                change.witness, change.effect = w, BEHAVIOUR
    return charge


def _change_reason(change: Change, old: Evaluator, by_id: dict[int, EventVerdict], alike: set[int]) -> str:
    slot = [by_id[e] for e in event_ids_of(old, change.event_id) if e in by_id]
    if slot and all(v.status == EQUAL or v.event_id in alike for v in slot):
        return f"{event_name(change.event_id, old.platform)} includes and excludes the same events on both sides " \
            "(proven, names aside); whether this change alters a RuleName reported was not decided"
    unknown = next((v for v in slot if v.status == UNDECIDED), None)
    if unknown is not None:
        return f"{event_name(unknown.event_id, old.platform)} (event {unknown.event_id}) undecided: {unknown.reason}"
    different = next((v for v in slot if v.status == DIFFERENT), None)
    if different is not None:
        return f"{event_name(different.event_id, old.platform)} decides differently (another change's witness), " \
            "but no event was found that this change alone decides differently, nor a proof that none exists"
    return "no witness and no proof for this change"


def _verdict(changes: list[Change], verdicts: list[EventVerdict], hidden: int, platform: str) -> tuple[str, str]:
    equal = [v for v in verdicts if v.status == EQUAL]
    shown = f"proven equivalent on {len(equal)} of {len(verdicts)} event ids"
    undecided = [v for v in verdicts if v.status == UNDECIDED]
    if undecided:
        first = undecided[0]
        shown += f"; {event_name(first.event_id, platform)} unknown: {first.reason}"
        if len(undecided) > 1:
            shown += f" (and {len(undecided) - 1} more event id(s) unknown)"
    if len(equal) == len(verdicts) and not hidden:
        return EQUIVALENT, f"every event id decides alike in both configs ({shown})"
    if len(equal) == len(verdicts):  # the text's answer: all it shows is the same, what it does not show is not known
        return UNKNOWN, (f"equivalent on everything the text shows; {hidden} set(s) that `sysmon -c` does not print "
                         "cannot be compared (read the registry value Rules for a complete check)")
    witnessed = [c for c in changes if c.witness is not None]
    differing = [v for v in verdicts if v.status == DIFFERENT]
    if witnessed or differing:
        return DIFFERENT, f"{len(witnessed)} change(s) shown by witness events the evaluator decides " \
            f"differently; {shown}"
    if hidden:
        return UNKNOWN, f"rule sets `sysmon -c` text does not print may or may not be on the host; {shown}"
    return UNKNOWN, shown


__all__ = ["DIFFERENT", "EQUIVALENT", "EXIT_CODES", "ConfigDiff", "diff"]
