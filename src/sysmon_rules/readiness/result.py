"""What coverage reports: a status per Sigma rule, its witness events and reasons; a summary."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

STATUSES = ("logged", "partial", "dropped-in-practice", "dropped", "not-applicable", "unsupported")
# A partial rule's grade: what decides whether its events are logged (see docs/coverage.md).
GRADES = ("logged-unless", "logged-only-when", "logged-only-when-unless")


@dataclass(frozen=True, slots=True)
class Witness:
    """An event that satisfies the rule's detection, and what the config does with it.

    ``decision``/``rule_name`` are the evaluator's; ``why`` names the filter or set that decided
    (``path:line``) or the default that applied.
    """

    event_id: int
    fields: dict[str, str]
    decision: str
    rule_name: str | None
    why: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"EventID": self.event_id, "fields": dict(self.fields), "decision": self.decision,
                "rule_name": self.rule_name, "why": self.why}


@dataclass(frozen=True, slots=True)
class Evidence:
    """``events`` real events match the rule; ``logged`` of them the config logs.

    ``dropped_by`` counts the others by the sentence naming what dropped them (most first);
    ``sources`` are the files the events came from.
    """

    events: int
    logged: int
    dropped_by: tuple[tuple[str, int], ...] = ()
    sources: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        """What the evidence shows: ``logged`` (all), ``dropped`` (none) or ``partial`` (some)."""
        return "logged" if self.logged == self.events else "dropped" if self.logged == 0 else "partial"

    def merged(self, other: Evidence) -> Evidence:
        """The evidence of both (events counted once each: the pools are disjoint)."""
        dropped = Counter(dict(self.dropped_by))
        dropped.update(dict(other.dropped_by))
        return Evidence(self.events + other.events, self.logged + other.logged, tuple(dropped.most_common()),
                        tuple(dict.fromkeys(self.sources + other.sources)))

    def sentence(self) -> str:
        return f"evidence: {self.logged} of {self.events} matching events logged"

    def to_dict(self) -> dict[str, Any]:
        return {"events": self.events, "logged": self.logged,
                "dropped_by": [{"why": why, "events": n} for why, n in self.dropped_by],
                "sources": list(self.sources)}


@dataclass(frozen=True, slots=True)
class RuleCoverage:
    """One Sigma rule's readiness under a config."""

    id: str
    title: str
    path: str
    status: str
    event_ids: tuple[int, ...] = ()
    witnesses: tuple[Witness, ...] = ()
    reasons: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    author: str = ""
    suggestion: str | None = None
    suggestion_checked: str = ""  # the status the rule gets with the suggestion inserted
    evidence: Evidence | None = None  # real events the rule matches and what the config did with them
    structural: str = ""  # the status reasoned from the rule and config alone, when evidence decided
    suggestion_typical: tuple[int, int] | None = None  # typical events (built, logged) with the suggestion
    suggestion_also: str = ""  # what else the suggestion logs, counted on the evidence when given
    grade: str = ""  # for partial and dropped-in-practice rules: one of GRADES
    typical: tuple[int, int] | None = None  # (typical events built, of them logged)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "title": self.title, "path": self.path, "status": self.status,
            "event_ids": list(self.event_ids), "witnesses": [w.to_dict() for w in self.witnesses],
            "reasons": list(self.reasons), "tags": list(self.tags), "author": self.author,
        }
        if self.grade:
            out["grade"] = self.grade
        if self.typical is not None:
            out["typical"] = {"events": self.typical[0], "logged": self.typical[1]}
        if self.evidence is not None:
            out["evidence"] = self.evidence.to_dict()
            out["structural_status"] = self.structural
        if self.suggestion is not None:
            out["suggestion"] = {"snippet": self.suggestion, "status_with_snippet": self.suggestion_checked}
            if self.suggestion_typical is not None:
                out["suggestion"]["typical_with_snippet"] = {"events": self.suggestion_typical[0],
                                                             "logged": self.suggestion_typical[1]}
            if self.suggestion_also:
                out["suggestion"]["also_logs"] = self.suggestion_also
        return out


@dataclass(frozen=True, slots=True)
class CoverageReport:
    """Every rule's coverage, in input order; ``summary`` counts statuses."""

    rules: tuple[RuleCoverage, ...]
    config: str = ""
    platform: str = "windows"
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def summary(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for rule in self.rules:
            counts[rule.status] += 1
        counts["total"] = len(self.rules)
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {"config": self.config, "platform": self.platform, "summary": self.summary,
                "rules": [r.to_dict() for r in self.rules]}
