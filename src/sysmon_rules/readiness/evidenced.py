"""A rule's coverage with its evidence: the status follows what the config did with real events.

Where a rule matches evidence events, its status is the evidence's (``logged``: every one logged,
``dropped``: none, ``partial``: some), the first reason says K of N, the drops follow by filter,
and the status reasoned without evidence is kept as ``structural``. A rule no evidence event
matches keeps its reasoned status.
"""

from __future__ import annotations

import dataclasses
import warnings

from ..collectors import CollectorWarning
from ..engine import Evaluator
from .evidence import EventPool, capture_paths, read_events
from .logsource import sysmon_source
from .result import RuleCoverage
from .rules import SigmaInput


def with_evidence(evaluator: Evaluator, item: SigmaInput, result: RuleCoverage, pool: EventPool | None,
                  captures: bool) -> RuleCoverage:
    """``result`` with the evidence of ``pool`` and (when ``captures``) the rule's own captures."""
    if item.rule is None or result.status == "not-applicable":
        return result
    source = sysmon_source(item.rule.logsource)
    if source.platform != evaluator.platform:
        return result
    pools = [pool] if pool is not None else []
    if captures:
        paths = capture_paths(item.path, item.id)
        if paths:
            with warnings.catch_warnings():  # a capture of another channel is simply no evidence
                warnings.simplefilter("ignore", CollectorWarning)
                pools.append(read_events(paths))
    trees = [c.parsed for c in item.rule.detection.parsed_condition]
    matched = []
    try:
        for each in pools:
            matched += [(each, e) for e in each.matching(trees, source.event_ids)]
    except TypeError as exc:  # a value the independent check cannot evaluate
        return dataclasses.replace(result, reasons=(*result.reasons, f"evidence not checked: {exc}"))
    if not matched:
        return result
    found = [each.evidence(evaluator, [e for p, e in matched if p is each]) for each in pools]
    found = [f for f in found if f.events]
    evidence = found[0]
    for more in found[1:]:
        evidence = evidence.merged(more)
    reasons = (evidence.sentence(), *(f"{n} {why}" for why, n in evidence.dropped_by),
               f"without evidence: {result.status}", *result.reasons)
    return dataclasses.replace(result, status=evidence.status, reasons=reasons, evidence=evidence,
                               structural=result.status)
