"""Where a replay writes each event's decision, besides counting it (``replay(sink=...)``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class JsonLines:
    """One JSON line per event, in input order, handed to ``write`` (such as ``sys.stdout.write``)
    a batch at a time: decision, RuleName, event id, origin, deciding set, the compared config's
    decision and, when explained, the deciding filter and the explanation."""

    write: Callable[[str], object]


@dataclass(frozen=True)
class ParquetFile:
    """The input columns with ``decision``, ``rule_name``, ``rule_set`` (and the compared
    config's ``compare_decision``, ``compare_rule_name``) beside them, written to ``path``
    atomically once the replay is done. Not with ``explain``."""

    path: str | Path


@dataclass(frozen=True)
class Traces:
    """Each event's origin and how it was decided, as text handed to ``write``; only with
    ``explain`` (the events are then decided one by one)."""

    write: Callable[[str], object]


Sink = JsonLines | ParquetFile | Traces
