"""The rule evaluator: what Sysmon's driver and service decide for an event, and why.

``Evaluator(config_or_blob_or_table).decide(Event(1, {...}))`` gives a :class:`Decision`
(``include``/``exclude`` and the RuleName); ``explain`` records the whole walk.
"""

from __future__ import annotations

from .decision import MANY_SETS_DROP, MATCH_REASON, NEVER, NO_RULES, ONE_SET_DEFAULT, Decision
from .evaluate import Evaluator
from .trace import SetTrace, Step, Trace

__all__ = [
    "MANY_SETS_DROP",
    "MATCH_REASON",
    "NEVER",
    "NO_RULES",
    "ONE_SET_DEFAULT",
    "Decision",
    "Evaluator",
    "SetTrace",
    "Step",
    "Trace",
]
