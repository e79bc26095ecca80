"""Collectors: Sysmon events out of logs (EVTX, event XML, JSON lines), as pluggable backends.

>>> from sysmon_rules.collectors import read
>>> stream = read("Sysmon.evtx", "exports/")          # doctest: +SKIP
>>> for event in stream: ...                          # doctest: +SKIP
>>> stream.stats.skipped                              # doctest: +SKIP

A collector is any object with ``name``, ``description``, ``recognizes(head, name)`` and
``events(source)`` (see :class:`Collector`), registered in the ``sysmon_rules.collectors``
entry-point group; the built-ins ``evtx``, ``xml`` and ``jsonl`` are registered the same way.
"""

from __future__ import annotations

from .base import Collector, CollectorError, CollectorWarning, ReadStats, Source
from .registry import EventStream, available, detect, get, read, require_events

__all__ = [
    "Collector",
    "CollectorError",
    "CollectorWarning",
    "EventStream",
    "ReadStats",
    "Source",
    "available",
    "detect",
    "get",
    "read",
    "require_events",
]
