"""How the ``evtx`` collector renders one EventData value: as Windows renders it in event XML.

Numbers in decimal, booleans ``true``/``false``, null as empty text, an element with attributes
by its ``#text``, and GUIDs in braces and lower case (the parser prints them bare and upper case).
The event path (``evtxfile``) and the column path (``evtxcolumns``) both render through here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .base import as_text

__all__ = ["BARE_GUID", "GUID_SUFFIXES", "fields_of", "render"]

BARE_GUID = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
_BARE_GUID = re.compile(BARE_GUID)
GUID_SUFFIXES = frozenset({"Guid", "GUID", "guid"})


def render(name: str, value: object) -> str:
    """One EventData value as event XML shows it (``name`` tells a GUID field)."""
    text = as_text(value)
    if name[-4:] in GUID_SUFFIXES and _BARE_GUID.fullmatch(text):
        return "{" + text.lower() + "}"
    return text


def fields_of(data: Mapping[str, Any]) -> dict[str, str]:
    """``render`` over EventData, with the common case (a plain string, not a GUID) inlined: hot loop."""
    fields: dict[str, str] = {}
    for name, value in data.items():
        if name[:1] == "#":  # the element's own attributes, not a field
            continue
        kind = type(value)
        if kind is str and name[-4:] not in GUID_SUFFIXES:
            fields[name] = value
        elif kind is int:  # ids, ports, pids: decimal, as as_text renders them (never a GUID)
            fields[name] = str(value)
        else:
            fields[name] = render(name, value)
    return fields
