"""What a person excludes on, per event type: the process, and the field whose values dominate.

The process is ``Image`` (``SourceImage`` for CreateRemoteThread and ProcessAccess, where it is
the acting process); the dominant fields are those that name *what* the process touched (a
target path, a query name, a pipe name), tried in this order when a proposal is made.
"""

from __future__ import annotations

from ..schema import newest
from ..schema.model import Platform

IMAGE_FIELDS = ("Image", "SourceImage")
_TARGET_FILE = ("TargetFilename",)
# What the PE header and the hashes say about the file: pinned, a renamed or replaced binary at the
# same path is not excluded (Sigma rules find hack tools by OriginalFileName and imphash).
_PE = ("OriginalFileName", "Company", "Product", "Description", "Hashes")
# Per event id, the fields whose values say what an event is about, most telling first.
_DOMINANT: dict[int, tuple[str, ...]] = {
    1: ("ParentImage", "CommandLine", "ParentCommandLine", "CurrentDirectory", "User", "IntegrityLevel", *_PE),
    2: _TARGET_FILE,
    3: ("DestinationHostname", "DestinationIp"),
    6: ("ImageLoaded",),
    7: ("ImageLoaded", *_PE),
    8: ("TargetImage",),
    9: ("Device",),
    10: ("TargetImage",),
    11: _TARGET_FILE,
    12: ("TargetObject",),
    13: ("TargetObject",),
    14: ("TargetObject",),
    15: _TARGET_FILE,
    17: ("PipeName",),
    18: ("PipeName",),
    22: ("QueryName",),
    23: _TARGET_FILE,
    26: _TARGET_FILE,
    27: _TARGET_FILE,
    28: _TARGET_FILE,
    29: _TARGET_FILE,
}


def image_field(event_id: int, platform: Platform = "windows") -> str | None:
    """The field naming the acting process of ``event_id`` (None: the event type has none)."""
    event_type = newest(platform).events_by_id.get(event_id)
    names = event_type.field_names if event_type is not None else ()
    return next((f for f in IMAGE_FIELDS if f in names), None)


def value_fields(event_id: int, platform: Platform = "windows") -> tuple[str, ...]:
    """The dominant fields of ``event_id`` that its event type has, most telling first."""
    event_type = newest(platform).events_by_id.get(event_id)
    names = event_type.field_names if event_type is not None else ()
    return tuple(f for f in _DOMINANT.get(event_id, ()) if f in names)


def all_fields() -> tuple[str, ...]:
    """Every field a proposal can test (the columns the replay keeps)."""
    found = dict.fromkeys(IMAGE_FIELDS)
    for names in _DOMINANT.values():
        found.update(dict.fromkeys(names))
    return tuple(found)


def element(event_id: int, platform: Platform = "windows") -> str | None:
    """The config element Sysmon reads rules for ``event_id`` from (``RegistryEvent`` for 12-14)."""
    event_type = newest(platform).events_by_id.get(event_id)
    return event_type.rulename if event_type is not None else None


def series(event_id: int, platform: Platform = "windows") -> tuple[int, ...]:
    """The event ids whose rules share ``event_id``'s element (12-14, 17-18, 19-21; else itself)."""
    name = element(event_id, platform)
    if name is None:
        return (event_id,)
    return tuple(sorted(i for i, e in newest(platform).events_by_id.items() if e.rulename == name))
