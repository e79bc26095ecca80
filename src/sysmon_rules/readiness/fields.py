"""Sigma field names -> Sysmon field names.

Sigma's Windows taxonomy for Sysmon log sources uses Sysmon's own EventData names (the pySigma
Sysmon pipeline adds only ``EventID``, no field mapping), so a field maps to itself when the
event type has it. ``EventID`` selects among a log source's ids. Everything else is a field
Sysmon does not write for that event (e.g. ``ParentImage`` on FileCreate): reported, not guessed.
The table below holds the few spellings that differ.
"""

from __future__ import annotations

from .formula import Unsupported

EVENT_ID = "EventID"

# Sigma spelling -> Sysmon spelling, where they differ (case-insensitive lookup; see docs/coverage.md).
RENAMED: dict[str, str] = {
    "eventid": EVENT_ID,
}


def sysmon_field(sigma_field: str | None, event_fields: tuple[str, ...]) -> str | None:
    """The Sysmon field for ``sigma_field`` in an event with ``event_fields``, None if it has none."""
    if sigma_field is None:
        raise Unsupported("keyword search (not bound to a field)")
    if sigma_field in event_fields or sigma_field == EVENT_ID:
        return sigma_field
    renamed = RENAMED.get(sigma_field.lower())
    if renamed is not None and (renamed in event_fields or renamed == EVENT_ID):
        return renamed
    exact = {f.lower(): f for f in event_fields}.get(sigma_field.lower())
    if exact is not None:
        return exact
    return None
