"""What coverage reports: a status per Sigma rule, its witness events and reasons; a summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STATUSES = ("logged", "partial", "dropped", "not-applicable", "unsupported")


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

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "title": self.title, "path": self.path, "status": self.status,
            "event_ids": list(self.event_ids), "witnesses": [w.to_dict() for w in self.witnesses],
            "reasons": list(self.reasons), "tags": list(self.tags), "author": self.author,
        }
        if self.suggestion is not None:
            out["suggestion"] = {"snippet": self.suggestion, "status_with_snippet": self.suggestion_checked}
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
