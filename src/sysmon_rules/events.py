"""An event as the evaluator sees it: an id and its EventData fields as strings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

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
    """``Event(1, {"Image": "C:\\\\Windows\\\\System32\\\\cmd.exe"})``. A field that is absent reads as ``-``."""

    event_id: int
    fields: Mapping[str, str] = field(default_factory=dict)
    origin: Origin | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        # Checked here, once: a wrong type otherwise fails deep inside the evaluator.
        if type(self.event_id) is not int:
            raise TypeError(f"Event: event_id must be an int, got {type(self.event_id).__name__} "
                            f"{self.event_id!r}" + (" (use int(...))" if isinstance(self.event_id, str) else ""))
        if self.event_id not in EVENT_IDS:
            raise ValueError(f"Event: event id {self.event_id} is outside 0-65535, the range of event ids")
        if not isinstance(self.fields, Mapping):
            raise TypeError(f"Event: fields must be a mapping of field name to string, "
                            f"got {type(self.fields).__name__}")
