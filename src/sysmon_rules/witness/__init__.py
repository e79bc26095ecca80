"""Witnesses: field values and events that make rules match, or not, proven by the evaluator.

Two levels, both checked with the evaluator's own condition functions:

- one field: ``solve_field([Constraint.of("begin with", "C:\\\\Windows"), ...])`` gives a value
  satisfying every constraint, or "impossible" with a reason that is a proof, or "unknown";
  ``implies`` and ``disjoint`` are proofs built on it;
- one event: ``find_event(evaluator, event_id, accept)``, ``event_with(evaluator, 1, "include")``,
  ``set_event(rule_set)`` and ``distinguish(old, new, event_id)`` build events along the paths
  Sysmon's walk can take and return a :class:`Witness` only after the evaluator decided it.

See docs/witness.md.
"""

from __future__ import annotations

from .events import (
    Witness,
    candidate_events,
    differ,
    distinguish,
    distinguish_along,
    event_targets,
    event_with,
    find_event,
    set_event,
)
from .literals import Constraint, event_value, holds
from .paths import Target
from .solve import FOUND, IMPOSSIBLE, UNKNOWN, FieldSolution, Status, disjoint, implies, solve_field

__all__ = [
    "FOUND",
    "IMPOSSIBLE",
    "UNKNOWN",
    "Constraint",
    "FieldSolution",
    "Status",
    "Target",
    "Witness",
    "candidate_events",
    "differ",
    "disjoint",
    "distinguish",
    "distinguish_along",
    "event_targets",
    "event_value",
    "event_with",
    "find_event",
    "holds",
    "implies",
    "set_event",
    "solve_field",
]
