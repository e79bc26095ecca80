"""What ``tune`` found and did: volume sources, proposals with their proof of cost, the plan's outcome."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..diffing import ConfigDiff
from ..merging import MergeResult
from .costs import Cost
from .groups import Group
from .logged import HostDay
from .proposals import Proposal

TOP_GROUPS = 25  # groups listed in the JSON and the table (the proposals cover the rest)


@dataclass(frozen=True)
class ProposalResult:
    """One proposal: the groups it was made for, what it removes on LOGS, its costs, its fate."""

    id: str
    proposal: Proposal
    groups: tuple[Group, ...]
    removes: int  # logged events of LOGS it matches, alone
    costs: tuple[Cost, ...]
    status: str
    order: int | None  # position in the plan when applied
    checked: bool = True  # its costs were proven (the plan proves them only for proposals it considers)

    @property
    def applied(self) -> bool:
        return self.order is not None

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, **self.proposal.to_dict(), "text": self.proposal.text,
                "groups": [{"event_id": g.event_id, "rule_name": g.rule_name, "image": g.image, "events": g.events}
                           for g in self.groups],
                "removes": self.removes, "status": self.status, "applied": self.applied, "order": self.order,
                "costs_checked": self.checked, "costs": [c.to_dict() for c in self.costs]}


@dataclass
class TuneResult:
    """The outcome of :func:`sysmon_rules.tune` (see docs/tune.md for the JSON keys)."""

    config: str
    sources: tuple[str, ...]
    budget: int | None
    accept_cost: bool
    events: int
    groups: list[Group]
    proposals: list[ProposalResult]
    before: dict[str, Any]  # the volume view (Volume.to_dict) under CONFIG
    after: dict[str, Any]  # the same, replayed under the tuned config
    host_days_before: Counter[HostDay]
    host_days_after: Counter[HostDay]
    predicted_after: Counter[HostDay]
    patch: str
    merged: MergeResult
    sigma_checked: int = 0
    not_checked: list[dict[str, str]] = field(default_factory=list)
    kept_names: tuple[str, ...] = ()
    skipped: int = 0
    diff: ConfigDiff | None = None  # CONFIG -> the tuned config, with witnesses (docs/diff.md)

    @property
    def logged_before(self) -> int:
        return sum(self.host_days_before.values())

    @property
    def logged_after(self) -> int:
        return sum(self.host_days_after.values())

    @property
    def budget_met(self) -> bool:
        return self.budget is None or all(n <= self.budget for n in self.host_days_after.values())

    @property
    def verified(self) -> bool:
        """The replay of the tuned config logs, per host-day, exactly what the plan predicted."""
        return +self.host_days_after == +self.predicted_after

    @property
    def applied(self) -> list[ProposalResult]:
        return sorted((p for p in self.proposals if p.order is not None), key=lambda p: p.order or 0)

    @property
    def costs(self) -> list[Cost]:
        """The detection costs of the applied proposals (accepted with ``accept_cost``)."""
        return [c for p in self.applied for c in p.costs]

    def event_type_rows(self) -> list[dict[str, object]]:
        """Per event id: logged before and after."""
        before = {int(str(r["event_id"])): int(str(r["logged"])) for r in self.before["event_types"]}
        after = {int(str(r["event_id"])): int(str(r["logged"])) for r in self.after["event_types"]}
        return [{"event_id": k, "before": before.get(k, 0), "after": after.get(k, 0)}
                for k in sorted(set(before) | set(after)) if before.get(k, 0) or after.get(k, 0)]

    def host_day_rows(self) -> list[dict[str, object]]:
        """Per host-day: logged before and after, and whether it is over the budget after; most before first."""
        keys = set(self.host_days_before) | set(self.host_days_after)
        rows: list[dict[str, object]] = [
            {"day": day, "host": host, "before": self.host_days_before[day, host],
             "after": self.host_days_after[day, host],
             "over_budget": self.budget is not None and self.host_days_after[day, host] > self.budget}
            for day, host in keys]
        rows.sort(key=lambda r: (-int(str(r["before"])), str(r["day"]), str(r["host"])))
        return rows

    def to_dict(self) -> dict[str, object]:
        lost = sorted({(c.kind, c.name) for c in self.costs})
        return {
            "config": self.config, "sources": list(self.sources), "budget": self.budget,
            "accept_cost": self.accept_cost, "events": self.events, "skipped": self.skipped,
            "logged_before": self.logged_before, "logged_after": self.logged_after,
            "budget_met": self.budget_met, "verified": self.verified,
            "peak_before": max(self.host_days_before.values(), default=0),
            "peak_after": max(self.host_days_after.values(), default=0),
            "groups": [g.to_dict() for g in self.groups[:TOP_GROUPS]],
            "proposals": [p.to_dict() for p in self.proposals],
            "event_types": self.event_type_rows(),
            "host_days": self.host_day_rows(),
            "detections": {"sigma_rules": self.sigma_checked, "rule_names": list(self.kept_names),
                           "lost": [{"kind": k, "name": n} for k, n in lost],
                           "not_checked": self.not_checked},
            "diff": self.diff.to_dict() if self.diff is not None else None,
        }
