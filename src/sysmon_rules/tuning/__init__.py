"""Tuning a config's noise to a budget, with proof of what the detections keep.

``tune(config, events, budget=N)`` replays ``events`` through ``config`` (as ``evaluate`` does),
groups what it logs by what a person can exclude on (``groups``), proposes the most specific
exclude for the noisiest groups (``proposals``), measures each on the events by replay and proves
what each costs the detections given (Sigma rules, RuleNames; ``costs``), applies the cheapest until
every host-day holds the budget (``plan``), and writes the result as a module ``merge`` accepts and
as the merged config (``patch``), replayed again to confirm the volume. See docs/tune.md.
"""

from __future__ import annotations

import dataclasses
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ..diffing import diff
from ..engine import Evaluator
from ..errors import Location, SysmonRulesError
from ..replaying import replay
from ..ruletable import RuleSet
from ..schema.model import Platform
from ..validation import load
from .costs import Cost, Detections
from .fields import series
from .groups import Group, GroupKey, process_column, volume_groups
from .logged import EVENT_ID, RULE_NAME, RULE_SET, HostDay, Logged, read_logged
from .patch import PATCH_NAME, matcher, patch_text, tuned
from .plan import COSTLY, PROPOSED, Candidate, counts, plan
from .proposals import Condition, Proposal, propose
from .result import ProposalResult, TuneResult

__all__ = ["Condition", "Cost", "Group", "Proposal", "ProposalResult", "TuneResult", "parse_budget", "tune"]

MAX_PROPOSALS = 40  # groups a proposal is made for, noisiest over the budget first
SPLITS, SPLIT_SHARE = 3, 0.1  # a heterogeneous group is also split by its 3 top values of >= 10% each


def parse_budget(text: str | int) -> int:
    """``500``, ``"500"`` or ``"500/host/day"`` -> 500; anything else is an error."""
    if isinstance(text, int):
        value = text
    else:
        number = text.strip().removesuffix("/host/day")
        if not number.isdigit():
            raise SysmonRulesError(f"budget {text!r}: expected N or N/host/day (logged events per host per day)")
        value = int(number)
    if value < 0:
        raise SysmonRulesError(f"budget {text!r}: must be 0 or more")
    return value


def _row_groups(logged: Logged) -> list[GroupKey]:
    table = logged.table
    return list(zip(table.column(EVENT_ID).to_pylist(), table.column(RULE_SET).to_pylist(),
                    table.column(RULE_NAME).to_pylist(), process_column(table).to_pylist(), strict=True))


def _chosen_groups(groups: list[Group], logged: Logged, budget: int | None, limit: int) -> list[Group]:
    """The groups to propose for: most events on host-days over the budget first, then most events."""
    host_days = logged.host_days()
    per_day = counts(host_days)
    over = {hd for hd, n in per_day.items() if budget is not None and n > budget}
    weight: dict[GroupKey, int] = {}
    for key, hd in zip(_row_groups(logged), host_days, strict=True):
        if hd in over:
            weight[key] = weight.get(key, 0) + 1
    ranked = sorted(enumerate(groups), key=lambda ig: (-weight.get(ig[1].key, 0), ig[0]))
    return [g for _, g in ranked if budget is None or weight.get(g.key, 0)][:limit]


def _equal(column: pa.ChunkedArray | pa.Array, value: object) -> pa.Array:
    """Row mask: ``column`` equals ``value`` (None: is null)."""
    if value is None:
        return pc.is_null(column)
    return pc.fill_null(pc.equal(column, pa.scalar(value, column.type)), False)


def _narrower(group: Group, logged: Logged, rule_sets: Sequence[RuleSet], platform: Platform) -> list[Group]:
    """For a group whose first dominant field has several values: the group split by its most
    frequent values of that field (each at least ``SPLIT_SHARE`` of it), whose narrower excludes
    may keep what the whole group's would cost (a build agent's shells, not an admin's)."""
    if not group.values:
        return []
    name, counts = group.values[0]
    if len(counts) < 2:
        return []
    table = logged.table
    same = [_equal(table.column(EVENT_ID), group.event_id), _equal(table.column(RULE_SET), group.rule_set),
            _equal(table.column(RULE_NAME), group.rule_name), _equal(process_column(table), group.image)]
    mask = pc.and_(pc.and_(same[0], same[1]), pc.and_(same[2], same[3]))
    found = []
    for value, events in counts[:SPLITS]:
        if value is None or events < SPLIT_SHARE * group.events:
            continue
        part = table.filter(pc.and_(mask, _equal(table.column(name), value)))
        found += [dataclasses.replace(sub, share=sub.events / table.num_rows)
                  for sub in volume_groups(part, rule_sets, platform)]
    return found


def _proposals(groups: Iterable[Group], logged: Logged, rule_sets: Sequence[RuleSet], platform: Platform
               ) -> list[tuple[Proposal, tuple[Group, ...]]]:
    """One proposal per group (and per narrower group), the same proposal once (with every group
    it came from)."""
    found: dict[Proposal, list[Group]] = {}
    for group in groups:
        for source in (group, *_narrower(group, logged, rule_sets, platform)):
            proposal = propose(source, platform)
            if proposal is not None:
                found.setdefault(proposal, []).append(source)
    return [(p, tuple(gs)) for p, gs in found.items()]


def host_day_counts(volume: dict[str, Any]) -> Counter[HostDay]:
    """Logged events per (day, host) of a volume view (``Volume.to_dict``'s ``hosts_logged``)."""
    return Counter({(day, row["host"]): n for row in volume["hosts_logged"] for day, n in row["logged_per_day"].items()
                    if n})


def _quiet(message: str) -> None:
    """The second replay reads the same events: what it would say, the first one said."""


Measured = tuple[Proposal, tuple[Group, ...], frozenset[int], Evaluator]  # with its groups, rows, matcher


def _measured(proposals: list[tuple[Proposal, tuple[Group, ...]]], logged: Logged, schema_version: str,
              platform: Platform) -> list[Measured]:
    """Each proposal with the logged rows it matches (its own evaluator decides them) and that evaluator."""
    event_ids = logged.table.column(EVENT_ID).to_pylist()
    made = []
    for proposal, sources in proposals:
        match = matcher(proposal, schema_version, platform)
        ids = set(series(proposal.event_id, platform))
        included = match.decide_batch(logged.table).column("decision").to_pylist()
        rows = frozenset(i for i, (d, e) in enumerate(zip(included, event_ids, strict=True))
                         if d == "include" and e in ids)
        made.append((proposal, sources, rows, match))
    return made


def _check_names(evaluator: Evaluator, keep: Sequence[str], path: str) -> None:
    names = {f.name for s in evaluator.table.rule_sets for f in s.filters} | {
        a.name for s in evaluator.table.rule_sets for a in s.aggregations}
    for name in keep:
        if name not in names:
            raise SysmonRulesError(f"--keep {name!r}: no filter or <Rule> of the config has this RuleName",
                                   Location(path))


def _notes(config: str, budget: int | None, applied: list[ProposalResult], total: int, checked: bool) -> list[str]:
    notes = [f"sysmon-rules tune: {len(applied)} exclude(s) for {Path(config).name}"
             + (f", budget {budget}/host/day" if budget is not None else "")
             + "; merge it with the config: sysmon-rules merge CONFIG THIS_FILE -o OUT"]
    for p in applied:
        share = f"{p.removes / total:.1%}" if total else "0%"
        costs = "; ".join(f"{c.kind} {c.name!r} ({c.status}: {c.witness or c.why})" for c in p.costs) or (
            "none (proven)" if checked else "not checked (no Sigma rules or RuleNames given)")
        notes.append(f"{p.id}: {p.proposal.element} exclude {p.proposal.text}: removes {p.removes} logged "
                     f"event(s) of the replayed logs ({share}); detection costs: {costs}")
    return notes


def tune(config: str | os.PathLike[str], events: Sequence[str | os.PathLike[str]], *, budget: int | str | None = None,
         sigma: Sequence[str | os.PathLike[str]] = (), keep: Sequence[str] = (), accept_cost: bool = False,
         platform: Platform = "windows", collector: str | None = None, strict: bool = False,
         warn: Callable[[str], None] | None = None, max_proposals: int = MAX_PROPOSALS,
         patch_name: str = PATCH_NAME) -> TuneResult:
    """Cut ``config``'s volume on ``events`` to ``budget`` logged events per host per day.

    ``sigma``: Sigma rule files or folders whose events must stay logged; ``keep``: RuleNames whose
    events must stay logged. A proposal that costs one is applied only with ``accept_cost``.
    Without ``budget`` nothing is applied: every proposal is listed with everything it would cost.
    ``patch_name``: how the merged config's comments name the patch file.
    """
    path = os.fspath(config)
    limit = parse_budget(budget) if budget is not None else None
    loaded = load(path, platform=platform)
    evaluator = Evaluator(loaded, platform=platform)
    _check_names(evaluator, keep, path)
    logged = read_logged(evaluator, [os.fspath(e) for e in events], collector=collector, strict=strict, warn=warn)
    host_days = logged.host_days()
    groups = volume_groups(logged.table, evaluator.table.rule_sets, platform)
    detections = None
    if sigma or keep:
        from ..readiness import read_rules  # pySigma loads only when Sigma rules are given

        detections = Detections(evaluator, read_rules([os.fspath(s) for s in sigma]) if sigma else [], keep)
    made = _measured(_proposals(_chosen_groups(groups, logged, limit, max_proposals), logged,
                                evaluator.table.rule_sets, platform), logged, loaded.schema_version, platform)
    proven: dict[int, tuple[Cost, ...]] = {}
    whole: set[int] = set()  # proposals whose every cost is proven, not only the first
    every_cost = accept_cost or limit is None

    def cost_of(i: int) -> int:
        """Without ``accept_cost`` one proven cost rejects a proposal; with it, the plan ranks
        costly proposals by how many detections they cost, so all are proven (and without a
        budget, the list says everything each proposal would cost)."""
        proposal, _, _, match = made[i]
        proven[i] = tuple(detections.costs(proposal, match, first=not every_cost)) if detections is not None else ()
        if every_cost:
            whole.add(i)
        return len(proven[i])

    candidates = [Candidate(rows) for _, _, rows, _ in made]
    if limit is not None:
        order = plan(candidates, host_days, limit, accept_cost=accept_cost, cost_of=cost_of)
    else:  # no budget: nothing to apply; every proposal with everything it would cost
        order = []
        for i, candidate in enumerate(candidates):
            candidate.status = COSTLY if cost_of(i) else PROPOSED
    for i in order:  # an applied proposal lists every cost it was accepted with
        if proven.get(i) and i not in whole and detections is not None:
            proven[i] = tuple(detections.costs(made[i][0], made[i][3]))
    position = {i: k for k, i in enumerate(order)}
    results = [ProposalResult(f"P{i + 1}", p, sources, len(rows), proven.get(i, ()), candidates[i].status,
                              position.get(i), i in proven or detections is None)
               for i, (p, sources, rows, _) in enumerate(made)]
    removed = frozenset().union(*(made[i][2] for i in order))
    applied = sorted((r for r in results if r.order is not None), key=lambda r: r.order or 0)
    patch = patch_text([r.proposal for r in applied], loaded.schema_version,
                       _notes(path, limit, applied, logged.table.num_rows, detections is not None))
    merged = tuned(path, patch, platform, patch_name)
    after = replay(Evaluator(merged.config, platform=platform), [os.fspath(e) for e in events], collector=collector,
                   strict=strict, platform=platform, warn=_quiet)
    before_volume = logged.replayed.summary.volume.to_dict(budget=limit)
    after_volume = after.summary.volume.to_dict(budget=limit)
    changes = diff(loaded, merged.config, platform=platform)
    not_checked = [{"rule": item.title or item.path, "path": item.path, "why": why}
                   for item, why in (detections.not_checked if detections is not None else [])]
    return TuneResult(
        path, tuple(os.fspath(e) for e in events), limit, accept_cost, logged.replayed.summary.events, groups, results,
        before_volume, after_volume, host_day_counts(before_volume), host_day_counts(after_volume),
        counts(host_days, removed), patch, merged,
        sigma_checked=len(detections.rules) if detections is not None else 0, not_checked=not_checked,
        kept_names=tuple(keep), skipped=logged.replayed.stats.skipped, diff=changes)
