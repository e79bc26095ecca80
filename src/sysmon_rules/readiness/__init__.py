"""Detection readiness: does a Sysmon config log what Sigma rules need?

``coverage(config, sigma_rules)`` reads the rules with pySigma, maps each log source to Sysmon
event ids and each detection to a formula over Sysmon fields, and decides per rule whether every
matching event is logged, some are dropped, or none can be logged, with witness events checked
by the evaluator. See docs/coverage.md.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

from ..engine import Evaluator
from ..model import Config
from ..schema.model import Platform
from .evidence import EventPool, read_events
from .evidenced import with_evidence
from .lost import Loss, rule_loses
from .result import STATUSES, CoverageReport, Evidence, RuleCoverage, Witness
from .rules import SigmaInput, read_rules
from .search import DEFAULT_BUDGET
from .status import Assessor

__all__ = ["STATUSES", "CoverageReport", "EventPool", "Evidence", "Loss", "RuleCoverage", "SigmaInput", "Witness",
           "config_techniques", "coverage", "read_events", "read_rules", "rule_loses"]


def _load(config: Config | str | os.PathLike[str], platform: Platform) -> tuple[Config, str]:
    if isinstance(config, Config):
        return config, config.source or ""
    from ..rulesource import load_rules

    rules = load_rules(config, platform=platform)  # XML, or what a host runs (blob, .reg, `sysmon -c` text)
    return rules.as_config()[0], rules.label


def coverage(config: Config | str | os.PathLike[str], sigma_rules: Iterable[object], *,
             platform: Platform = "windows", environment: Mapping[str, str] | None = None,
             budget: int = DEFAULT_BUDGET, suggest: bool = False,
             events: EventPool | Iterable[str | os.PathLike[str]] | None = None,
             captures: bool = True) -> CoverageReport:
    """Each Sigma rule's status under ``config`` (a Config, or a file of rules in any form
    ``rulesource.load_rules`` reads: XML, a rule blob, .reg, `sysmon -c` text).

    ``sigma_rules``: paths of rule files or folders, pySigma rules or collections, or
    :class:`SigmaInput` items from :func:`read_rules`. ``suggest``: for partial and dropped rules,
    a config snippet re-checked by assessing the rule again with it applied (one config build per
    round, so about a second per rule on a large config). ``events``: logs (paths, or an
    :class:`EventPool`) whose events are evidence for every rule; ``captures``: also use the
    SigmaHQ regression captures beside each rule (see docs/coverage.md, "Evidence").
    """
    started = time.perf_counter()
    with _young_collections_only():
        config, name = _load(config, platform)
        evaluator = Evaluator(config, environment=environment, platform=platform)
        items = [r for r in sigma_rules if isinstance(r, SigmaInput)]
        others = [r for r in sigma_rules if not isinstance(r, SigmaInput)]
        items += read_rules(others)  # type: ignore[arg-type]
        assessor = Assessor(evaluator, budget)
        results = [assessor.assess(item) for item in items]
        pool = events if isinstance(events, EventPool) or events is None else read_events(events)
        if pool is not None or captures:
            results = [with_evidence(evaluator, item, r, pool, captures)
                       for item, r in zip(items, results, strict=True)]
        if suggest:
            results = [_with_suggestion(config, evaluator, budget, item, r, pool)
                       for item, r in zip(items, results, strict=True)]
    return CoverageReport(tuple(results), name, platform, time.perf_counter() - started)


@contextmanager
def _young_collections_only() -> Iterator[None]:
    """No full garbage collection during a coverage run (young ones still run).

    The assessment allocates millions of short-lived objects next to a large live heap (the
    pySigma rules): each full collection walks that whole heap, about 0.4 s for the SigmaHQ
    rules, a sixth of the run. The young collections still free a rule's garbage; what
    survives them waits for the next full collection after the run.
    """
    thresholds = gc.get_threshold()
    gc.set_threshold(thresholds[0], thresholds[1], 1 << 30)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def _with_suggestion(config: Config, evaluator: Evaluator, budget: int, item: SigmaInput,
                     result: RuleCoverage, pool: EventPool | None) -> RuleCoverage:
    import dataclasses

    from .suggest import suggest, typical_logged

    structural = result.structural or result.status
    if structural not in ("partial", "dropped-in-practice", "dropped") or typical_logged(result):
        return result
    found = suggest(evaluator, config, item, result, lambda ev, it: Assessor(ev, budget).assess(it))
    if found is None:
        return result
    also = ""
    if pool is not None:  # what else the changed config would log, counted on the evidence
        changed = Evaluator(found.config, environment=evaluator.environment, platform=evaluator.platform)
        more = pool.newly_logged(evaluator, changed)
        also = f"{more} more evidence events logged in all"
    return dataclasses.replace(result, suggestion=found.snippet, suggestion_checked=found.status,
                               suggestion_typical=found.typical, suggestion_also=also)


def config_techniques(config: Config | str | os.PathLike[str], *, platform: Platform = "windows",
                      environment: Mapping[str, str] | None = None) -> dict[str, list[str]]:
    """ATT&CK technique id -> places of the include rules naming it that can decide (see navigator)."""
    from .config import ConfigFormulas
    from .ruletechniques import deciding_techniques

    loaded, _ = _load(config, platform)
    formulas = ConfigFormulas(Evaluator(loaded, environment=environment, platform=platform))
    return deciding_techniques(formulas)[0]
