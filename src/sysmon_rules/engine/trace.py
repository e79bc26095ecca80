"""``Evaluator.explain``: the full walk of an event through its rule sets, recorded step by step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import Location
from ..events import Event
from ..schema import CONDITIONS
from .compiled import CFilter
from .conditions import FAILED, MATCH, NO_MATCH
from .decision import MANY_SETS_DROP, MATCH_REASON, NO_RULES, ONE_SET_DEFAULT, Decision
from .setwalk import walk_set

if TYPE_CHECKING:
    from .index import Plan

_STATUS = {MATCH: "match", NO_MATCH: "no match", FAILED: "failed"}


@dataclass(frozen=True, slots=True)
class Step:
    """One filter as the walk met it. ``status`` is match / no match / failed / skipped."""

    position: int  # index of the filter in its rule set
    field: str
    condition: str
    data: str  # the rule data as written in the blob
    name: str
    aggregation_id: int
    status: str
    value: str | None  # the folded event value tested (None: field not readable for this set)
    location: Location | None

    def __str__(self) -> str:
        where = f" @ {self.location}" if self.location else ""
        agg = f" [rule {self.aggregation_id}]" if self.aggregation_id else ""
        named = f" name={self.name!r}" if self.name else ""
        return (f"    #{self.position}{agg} {self.field} {self.condition} {self.data!r}{named}"
                f" vs {self.value!r}: {self.status}{where}")


@dataclass(frozen=True, slots=True)
class SetTrace:
    """One rule set tried: what it is, how it ended and the RuleName after it."""

    index: int  # position of the set in the blob
    event_id: int
    onmatch: str
    combine: str
    status: str
    rule_name: str | None
    steps: tuple[Step, ...]
    location: Location | None

    def render(self, *, steps: bool = True) -> str:
        """The set's line, then each step (or only the steps that matched or failed)."""
        where = f" @ {self.location}" if self.location else ""
        head = (f"  set {self.index} (event {self.event_id}, onmatch={self.onmatch}, {self.combine})"
                f"{where}: {self.status}, RuleName={self.rule_name!r}")
        shown = self.steps if steps else [s for s in self.steps if s.status in ("match", "failed")]
        return "\n".join([head, *map(str, shown)])

    def __str__(self) -> str:
        return self.render()


@dataclass(frozen=True, slots=True)
class Trace:
    """The whole walk for one event, in the order Sysmon tries the sets."""

    event_id: int
    reason: str
    decision: str
    rule_name: str | None
    sets: tuple[SetTrace, ...]

    @property
    def decided_by(self) -> SetTrace | None:
        """The set whose match decided, if one did (always the last one tried)."""
        return self.sets[-1] if self.sets and self.sets[-1].status == "match" else None

    @property
    def matched_filter(self) -> Step | None:
        """The last filter that matched in the deciding set (the one that completed the match)."""
        decided = self.decided_by
        return next((s for s in reversed(decided.steps) if s.status == "match"), None) if decided else None

    def summary(self) -> str:
        """Two or three lines: the decision, the set that decided it (or how many were tried) and
        the filter that matched; :meth:`render` has every set and filter."""
        lines = [f"event {self.event_id}: {self.decision} ({self.reason}), RuleName={self.rule_name!r}"]
        decided = self.decided_by
        if decided is None:
            lines.append(f"  no rule set matched ({len(self.sets)} tried)")
            return "\n".join(lines)
        where = f" @ {decided.location}" if decided.location else ""
        lines.append(f"  decided by set {decided.index} (onmatch={decided.onmatch}, {decided.combine}){where}"
                     f", after {len(self.sets) - 1} other set(s)")
        if self.matched_filter is not None:
            lines.append(str(self.matched_filter))
        return "\n".join(lines)

    def render(self, *, steps: bool = True) -> str:
        """Human-readable text; ``steps=False`` keeps only matching or failing filters."""
        lines = [f"event {self.event_id}: {self.decision} ({self.reason}), RuleName={self.rule_name!r}"]
        if not self.sets:
            lines.append("  no rule set was tried")
        lines += [s.render(steps=steps) for s in self.sets]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


def trace_event(event: Event, plan: Plan, values: dict[int, str], names: tuple[str, ...]) -> Decision:
    """Walk every set of ``plan`` with the exact walker, recording each filter.

    ``names`` is the event type's field table (for display only).
    """
    tried: list[SetTrace] = []
    name: str | None = None
    for k, cset in enumerate(plan.sets):
        set_trace, status, name = trace_set(plan, k, values, names, name)
        tried.append(set_trace)
        if status == MATCH:
            trace = Trace(event.event_id, MATCH_REASON, cset.on_match, name, tuple(tried))
            return Decision(cset.on_match, name, MATCH_REASON, cset.rule_set, trace, set_index=cset.rank)
    if not plan.sets:
        decision, reason = plan.default, NO_RULES
    elif len(plan.sets) == 1:
        decision, reason = plan.sets[0].on_default, ONE_SET_DEFAULT
    else:
        decision, reason = "exclude", MANY_SETS_DROP
    trace = Trace(event.event_id, reason, decision, None, tuple(tried))
    return Decision(decision, None, reason, None, trace)  # type: ignore[arg-type]


def trace_set(plan: Plan, k: int, values: dict[int, str], names: tuple[str, ...],
              name: str | None, *, matches_only: bool = False) -> tuple[SetTrace, int, str | None]:
    """Set ``k`` of ``plan`` walked with the exact walker, each filter recorded (``matches_only``:
    only those that matched); its status and the RuleName after it (``name``: the one before it)."""
    cset = plan.sets[k]
    valid = plan.valid[k]
    steps: list[Step] = []

    def record(flt: CFilter, status: int | None, value: str | None) -> None:
        if status == MATCH or not matches_only:
            steps.append(_step(flt, status, value if flt.field_id in valid else None, names))

    status, name = walk_set(cset, values, valid, name, record)
    rs = cset.rule_set
    return (SetTrace(cset.rank, rs.event_id, rs.onmatch, rs.combine_name, _STATUS[status], name, tuple(steps),
                     rs.location), status, name)


def _step(flt: CFilter, status: int | None, value: str | None, names: tuple[str, ...]) -> Step:
    field = names[flt.field_id] if flt.field_id < len(names) else f"field #{flt.field_id}"
    condition = CONDITIONS[flt.condition] if flt.condition < len(CONDITIONS) else f"condition {flt.condition}"
    src = flt.source
    return Step(flt.position, field, condition, src.value, src.name, src.aggregation_id,
                "skipped" if status is None else _STATUS[status], value, src.location)
