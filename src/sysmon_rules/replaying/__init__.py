"""Replaying logged events through a config: ``replay`` and what it returns.

``replay(config, sources)`` reads the sources (any format the collectors read), decides every
event with the config (and a second one to compare with), counts the decisions into a
:class:`Summary` (and a :class:`Comparison`) with their :class:`Volume`, and writes each event's
decision to a sink if asked, in one process, forked readers or on a Dask cluster alike.
"""

from __future__ import annotations

from .cluster import parse_scheduler
from .configs import ConfigLoadError, evaluator_from, load_evaluator
from .pipeline import Interrupted, replay
from .result import ReplayResult
from .sinks import JsonLines, ParquetFile, Sink, Traces
from .summary import Comparison, Summary
from .volume import Volume

__all__ = [
    "Comparison",
    "ConfigLoadError",
    "Interrupted",
    "JsonLines",
    "ParquetFile",
    "ReplayResult",
    "Sink",
    "Summary",
    "Traces",
    "Volume",
    "evaluator_from",
    "load_evaluator",
    "parse_scheduler",
    "replay",
]
