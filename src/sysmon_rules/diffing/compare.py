"""``diff(old, new)``: the structural changes, their behaviour, and a verdict that is a proof.

The verdict is "equivalent" only when every event id has the same normal form on both sides
(``normal``), "different" when some change has a witness event the two evaluators decide
differently, and "unknown" otherwise — never equivalence without a proof. What a side cannot
carry (``sysmon -c`` text has no filter RuleNames and hides some sets) is compared as unknown:
RuleNames are then left out of the comparison, and the sets of the other side the text would
hide become "set-hidden" changes of unknown effect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..blob.dump import printed_sets
from ..blob.dumptext import UNKNOWNS
from ..engine import Evaluator
from ..ruletable import RuleTable
from ..schema import newest
from ..schema.model import Platform
from ..witness import distinguish
from .attribution import EventInput, Replay, event_source, replay
from .behaviour import event_ids_of, find_witness, prove_inert
from .normal import filtered_event_ids, same_plan
from .sources import DUMP_TEXT, Side, Source, load_side
from .structure import BEHAVIOUR, NONE, UNKNOWN, Change, structural_changes

EQUIVALENT, DIFFERENT = "equivalent", "different"
EXIT_CODES = {EQUIVALENT: 0, DIFFERENT: 1, UNKNOWN: 3}


@dataclass
class ConfigDiff:
    """The result of :func:`diff`; ``as_dict()`` is the stable JSON form (docs/diff.md)."""

    old: Side
    new: Side
    verdict: str
    reason: str
    compared: tuple[str, ...]
    unknowns: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    replay: Replay | None = None
    skipped_events: int = 0

    @property
    def exit_code(self) -> int:
        """0 equivalent, 1 different, 3 unknown (2 is the CLI's usage/input error)."""
        return EXIT_CODES[self.verdict]

    @property
    def witnesses(self) -> list[Change]:
        return [c for c in self.changes if c.witness is not None]

    def as_dict(self) -> dict[str, object]:
        from .render import as_dict

        return as_dict(self)

    def to_text(self) -> str:
        from .render import to_text

        return to_text(self)

    def to_markdown(self) -> str:
        from .render import to_markdown

        return to_markdown(self)


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
         warn: Callable[[str], None] | None = None) -> ConfigDiff:
    """Compare two configs in any form (path, bytes, Config, RuleTable) by what they do to events.

    ``strict``: a damaged record in ``events`` files is an error instead of skipped and counted;
    ``warn`` receives the message for each one skipped (default: a ``CollectorWarning``).
    """
    a, b = load_side(old, platform=platform), load_side(new, platform=platform)
    names = not ignore_rule_names and a.has_rule_names and b.has_rule_names
    compared = ("decisions", "rule names") if names else ("decisions",)
    old_table, old_hidden = _project(a, b, platform)
    new_table, new_hidden = _project(b, a, platform)
    old_ev, new_ev = Evaluator(old_table, platform=platform), Evaluator(new_table, platform=platform)
    changes = structural_changes(old_table, new_table, platform, names=names)
    changes += _hidden_changes(a, old_hidden, True, platform) + _hidden_changes(b, new_hidden, False, platform)
    for k, change in enumerate(changes, 1):
        change.id = k
    proven = all(same_plan(old_ev, new_ev, e, names=names) for e in filtered_event_ids(platform))
    _behaviour(changes, old_ev, new_ev, proven=proven, names=names)
    verdict, reason = _verdict(changes, proven, len(old_hidden) + len(new_hidden))
    result = ConfigDiff(a, b, verdict, reason, compared, _unknowns(a) + _unknowns(b), changes)
    if events is not None:
        source, stream = event_source(events, strict=strict, warn=warn)
        result.replay = replay(old_ev, new_ev, source, changes, ignore_rule_names=not names)
        result.skipped_events = stream.stats.skipped if stream is not None else 0
    return result


def _behaviour(changes: list[Change], old: Evaluator, new: Evaluator, *, proven: bool, names: bool) -> None:
    if proven:
        for change in changes:
            if change.kind != "set-hidden":
                change.effect, change.proof = NONE, "the configs are proven equivalent"
        return
    for change in changes:
        if change.kind == "set-hidden":
            continue
        if not find_witness(change, old, new, ignore_rule_names=not names):
            prove_inert(change, old, new, ignore_rule_names=not names)
    if not any(c.witness is not None for c in changes):
        _search_all(changes, old, new, names=names)


def _search_all(changes: list[Change], old: Evaluator, new: Evaluator, *, names: bool) -> None:
    """No change's own paths showed a difference: try every path of the event ids that differ."""
    for event_id in filtered_event_ids(old.platform):
        if same_plan(old, new, event_id, names=names):
            continue
        witness = distinguish(old, new, event_id, ignore_rule_names=not names)
        if witness is None:
            continue
        slot = set(event_ids_of(old, event_id))
        change = next((c for c in changes if c.event_id in slot and c.effect == UNKNOWN), None)
        if change is not None:
            change.witness, change.effect = witness, BEHAVIOUR
            change.proof = "found by searching every path of this event type"
            return


def _verdict(changes: list[Change], proven: bool, hidden: int) -> tuple[str, str]:
    if proven and not hidden:
        return EQUIVALENT, "every event id has the same normal form in both configs"
    if proven:  # the text's answer: all it shows is the same, what it does not show is not known
        return UNKNOWN, (f"equivalent on everything the text shows; {hidden} set(s) that `sysmon -c` does not print "
                         "cannot be compared (read the registry value Rules for a complete check)")
    witnessed = [c for c in changes if c.witness is not None]
    if witnessed:
        return DIFFERENT, f"{len(witnessed)} change(s) shown by witness events the evaluator decides differently"
    if hidden:
        return UNKNOWN, "rule sets `sysmon -c` text does not print may or may not be on the host"
    unknown = sum(1 for c in changes if c.effect == UNKNOWN)
    return UNKNOWN, f"no witness found and no proof for {unknown} change(s)"


__all__ = ["DIFFERENT", "EQUIVALENT", "EXIT_CODES", "ConfigDiff", "diff"]
