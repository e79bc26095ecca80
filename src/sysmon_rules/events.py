"""An event as the evaluator sees it: an id and its EventData fields as strings."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from itertools import repeat
from typing import cast
from uuid import UUID

# An event record's EventID is 16 bits; a value outside is no event (a damaged record when read).
EVENT_IDS = range(1 << 16)


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an event came from: a file (or "-"), its record id or line number, and the host.

    ``computer`` is the record's ``<System><Computer>`` (the host that logged it), which is not
    part of EventData: the volume report counts events per host with it.
    """

    source: str
    record: int | None = None
    line: int | None = None
    computer: str | None = None

    def __str__(self) -> str:
        where = self.source
        if self.record is not None:
            where += f"#record{self.record}"
        if self.line is not None:
            where += f":{self.line}"
        return where


@dataclass(frozen=True, slots=True)
class Event:
    """``Event(1, {"Image": "C:\\\\Windows\\\\System32\\\\cmd.exe"})``. A field that is absent reads as ``-``.

    Values are text as Sysmon renders them for its rules; a number, boolean or UUID given for a
    field of that type is rendered so (``Event(3, {"DestinationPort": 3389})`` holds ``"3389"``),
    any other non-text value and a field name Sysmon never had for the event id are refused here.
    :meth:`read` makes an event as a log holds it, without those checks.
    """

    event_id: int
    fields: Mapping[str, str] = field(default_factory=dict)
    origin: Origin | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        # Checked here, once: a wrong type otherwise fails deep inside the evaluator.
        self._check_id()
        if not isinstance(self.fields, Mapping):
            raise TypeError(f"Event: fields must be a mapping of field name to string, "
                            f"got {type(self.fields).__name__}")
        if self.fields:
            object.__setattr__(self, "fields", _typed(self.event_id, self.fields))

    @classmethod
    def read(cls, event_id: int, fields: Mapping[str, str], origin: Origin | None = None) -> Event:
        """The event as a log (or a rule table) holds it: its id is checked, its fields are taken
        as they are, text under whatever names the record has (collectors, the engine's batches)."""
        event = object.__new__(cls)
        object.__setattr__(event, "event_id", event_id)
        object.__setattr__(event, "fields", fields)
        object.__setattr__(event, "origin", origin)
        event._check_id()
        return event

    def _check_id(self) -> None:
        if type(self.event_id) is not int:
            raise TypeError(f"Event: event_id must be an int, got {type(self.event_id).__name__} "
                            f"{self.event_id!r}" + (" (use int(...))" if isinstance(self.event_id, str) else ""))
        if self.event_id not in EVENT_IDS:
            raise ValueError(f"Event: event id {self.event_id} is outside 0-65535, the range of event ids")


# The manifest's inTypes Sysmon renders from numbers for its rules (SysmonCommon eventsCommon.cpp:
# "%hu", "%u", "0x%x", and the 64-bit forms), with the range each holds.
_NUMBERS = {"win:UInt16": ("{}", 1 << 16), "win:UInt32": ("{}", 1 << 32), "win:UInt64": ("{}", 1 << 64),
            "win:HexInt32": ("0x{:x}", 1 << 32), "win:HexInt64": ("0x{:x}", 1 << 64)}


@cache
def _field_types() -> Callable[[int], dict[str, str]]:
    """``schema.field_types``, imported on first use (events sit below the schema's loading)."""
    from .schema import field_types

    return field_types


def _typed(event_id: int, fields: Mapping[str, object]) -> Mapping[str, str]:
    """``fields`` with each value as Sysmon renders it; a ValueError or TypeError names the first
    field that is unknown for the event id or holds a value its type cannot have."""
    types = _field_types()(event_id)
    # The common case (known names, text values) is checked in C: events are made in hot loops.
    if types.keys() >= fields.keys() and all(map(isinstance, fields.values(), repeat(str))):
        return cast("Mapping[str, str]", fields)
    unknown = [name for name in fields if name not in types]
    if unknown:
        name = unknown[0]
        if not types:
            raise ValueError(f"Event: event id {event_id} is no Sysmon event, so it has no field {name!r}")
        close = difflib.get_close_matches(str(name), list(types), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(sorted(types))}"
        raise ValueError(f"Event: unknown field {name!r} for event {event_id} ({hint})")
    if all(type(value) is str for value in fields.values()):
        return cast("Mapping[str, str]", fields)
    return {name: _render(event_id, name, types[name], value) for name, value in fields.items()}


def _render(event_id: int, name: str, in_type: str, value: object) -> str:
    if isinstance(value, str):
        return value
    where = f"Event: field {name!r} of event {event_id} ({in_type.removeprefix('win:')})"
    if in_type == "win:Boolean" and isinstance(value, bool):
        return "true" if value else "false"
    if in_type in _NUMBERS and isinstance(value, int) and not isinstance(value, bool):
        form, end = _NUMBERS[in_type]
        if not 0 <= value < end:
            raise ValueError(f"{where}: {value} is out of range (0 to {end - 1})")
        return form.format(value)
    if in_type == "win:GUID" and isinstance(value, UUID):
        return "{" + str(value).upper() + "}"  # StringFromGUID2's form
    wanted = {"win:Boolean": "True or False", "win:GUID": "a uuid.UUID"}.get(
        in_type, "an int" if in_type in _NUMBERS else "text")
    raise TypeError(f"{where} must be text or {wanted}, got {type(value).__name__} {value!r}"
                    if wanted != "text" else f"{where} must be text, got {type(value).__name__} {value!r}")
