"""The greedy plan: apply the cheapest proposals until every host-day is within the budget.

Each proposal comes with the logged rows it removes (exact: its matcher decided them, see
``patch.matcher``) and its detection costs. A step takes, among the proposals allowed (those
without a cost; with ``accept_cost`` the costly ones too, but only once no free one helps), the one
that brings the most events over the budget back under it (per host-day, what it removes there
beyond the budget counts, no more), ties to the fewer costs, the fewer events removed (the more
specific), then the earlier proposal. Costs are proven only for the proposals a step considers,
best first, until a free one is found: one the plan never needed stays unproven. It stops when
every host-day holds or no proposal helps. Without a budget nothing is applied (see ``tune``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .logged import HostDay

APPLIED, COSTLY, UNNEEDED, NO_GAIN = "applied", "costs detections", "not needed", "removes nothing more"
PROPOSED = "proposed"  # without a budget: free of cost, not applied


@dataclass
class Candidate:
    """A proposal as the plan sees it: the rows it removes and how many detections it costs
    (None until the plan asks ``cost_of``: costs are proven only for proposals it considers)."""

    rows: frozenset[int]
    costs: int | None = None
    status: str = ""


def counts(host_days: Sequence[HostDay], removed: set[int] | frozenset[int] = frozenset()) -> Counter[HostDay]:
    """Logged events per host-day, without the ``removed`` rows."""
    return Counter(hd for i, hd in enumerate(host_days) if i not in removed)


def _gain(rows: frozenset[int], removed: set[int], host_days: Sequence[HostDay], excess: Counter[HostDay]) -> int:
    fresh: Counter[HostDay] = Counter(host_days[i] for i in rows if i not in removed)
    return sum(min(n, excess[hd]) for hd, n in fresh.items())


def plan(candidates: Sequence[Candidate], host_days: Sequence[HostDay], budget: int, *,
         accept_cost: bool = False, cost_of: Callable[[int], int] | None = None) -> list[int]:
    """The positions of the applied candidates, in the order applied; every candidate's ``status`` set.

    ``cost_of(i)`` proves candidate ``i``'s costs when the plan first needs them (default: its
    ``costs``); candidates are asked in the order of what they would bring, so the proofs stop at
    the first free one.
    """
    def cost(i: int) -> int:
        if candidates[i].costs is None:
            candidates[i].costs = cost_of(i) if cost_of is not None else 0
        return candidates[i].costs or 0

    removed: set[int] = set()
    applied: list[int] = []
    left = list(range(len(candidates)))
    while left:
        logged = counts(host_days, removed)
        excess = Counter({hd: n - budget for hd, n in logged.items() if n > budget})
        if not excess:
            break
        ranked = sorted((-g, len(candidates[i].rows - removed), i) for i in left
                        if (g := _gain(candidates[i].rows, removed, host_days, excess)) > 0)
        chosen = next((i for _, _, i in ranked if cost(i) == 0), None)
        if chosen is None and accept_cost and ranked:
            chosen = min(ranked, key=lambda k: (k[0], cost(k[2]), k[1], k[2]))[2]
        if chosen is None:
            break
        applied.append(chosen)
        removed |= candidates[chosen].rows
        left.remove(chosen)
    for i, c in enumerate(candidates):
        if i in applied:
            c.status = APPLIED
        elif c.costs:
            c.status = COSTLY
        elif c.rows and c.rows <= removed:
            c.status = NO_GAIN
        else:
            c.status = UNNEEDED
    return applied
