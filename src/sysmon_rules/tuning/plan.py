"""The greedy plan: apply the cheapest proposals until every host-day is within the budget.

Each proposal comes with the logged rows it removes (exact: its matcher decided them, see
``patch.matcher``) and its detection costs. A step takes, among the proposals allowed (those
without a cost; with ``accept_cost`` the costly ones too, but only once no free one helps), the one
that brings the most events over the budget back under it (per host-day, what it removes there
beyond the budget counts, no more), ties to the fewer costs, the fewer events removed (the more
specific), then the earlier proposal. It stops when every host-day holds or no proposal helps.
Without a budget every allowed proposal is applied.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from .logged import HostDay

APPLIED, COSTLY, UNNEEDED, NO_GAIN = "applied", "costs detections", "not needed", "removes nothing more"


@dataclass
class Candidate:
    """A proposal as the plan sees it: the rows it removes and how many detections it costs."""

    rows: frozenset[int]
    costs: int
    status: str = ""


def counts(host_days: Sequence[HostDay], removed: set[int] | frozenset[int] = frozenset()) -> Counter[HostDay]:
    """Logged events per host-day, without the ``removed`` rows."""
    return Counter(hd for i, hd in enumerate(host_days) if i not in removed)


def _gain(rows: frozenset[int], removed: set[int], host_days: Sequence[HostDay], excess: Counter[HostDay]) -> int:
    fresh: Counter[HostDay] = Counter(host_days[i] for i in rows if i not in removed)
    return sum(min(n, excess[hd]) for hd, n in fresh.items())


def plan(candidates: Sequence[Candidate], host_days: Sequence[HostDay], budget: int | None, *,
         accept_cost: bool = False) -> list[int]:
    """The positions of the applied candidates, in the order applied; every candidate's ``status`` set."""
    removed: set[int] = set()
    applied: list[int] = []
    left = [i for i, c in enumerate(candidates)]
    for c in candidates:
        c.status = COSTLY if c.costs else UNNEEDED
    while left:
        logged = counts(host_days, removed)
        if budget is not None:
            excess = Counter({hd: n - budget for hd, n in logged.items() if n > budget})
            if not excess:
                break
        else:
            excess = Counter({hd: n for hd, n in logged.items()})  # no budget: every removal helps
        best: tuple[int, int, int, int] | None = None
        for free_first in (True, False):
            for i in left:
                c = candidates[i]
                if (c.costs > 0) == free_first or (c.costs and not accept_cost):
                    continue
                gain = _gain(c.rows, removed, host_days, excess)
                if gain > 0:
                    key = (-gain, c.costs, len(c.rows - removed), i)
                    best = key if best is None or key < best else best
            if best is not None:
                break
        if best is None:
            break
        chosen = best[3]
        candidates[chosen].status = APPLIED
        applied.append(chosen)
        removed |= candidates[chosen].rows
        left.remove(chosen)
    for i in left:
        c = candidates[i]
        if c.status == UNNEEDED and c.rows and c.rows <= removed:
            c.status = NO_GAIN
    return applied
