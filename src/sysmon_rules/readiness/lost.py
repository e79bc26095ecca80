"""Does config B lose events of a Sigma rule that config A logs? (the check a config change needs)

For each event id of the rule's log source, one search: an event that satisfies the detection,
that A logs and that B drops. Found: the witness is re-checked by both evaluators and by the
independent pySigma-tree check, and ``lost`` is True. Proven absent (the exhaustive case split):
``lost`` is False. Otherwise "cannot tell" with the reason. With evidence (an :class:`EventPool`),
the real events the rule matches are counted too: how many A logs and B drops.
"""

from __future__ import annotations

from dataclasses import dataclass

from sigma.exceptions import SigmaError

from ..engine import Evaluator
from ..events import Event
from ..schema import newest
from .config import ConfigFormulas
from .detection import detection_formula
from .evidence import EventPool
from .explain import why_decided
from .fields import EVENT_ID
from .formula import FALSE, Unsupported, conj, disj, substitute
from .logsource import sysmon_source
from .result import Witness
from .rules import SigmaInput
from .search import DEFAULT_BUDGET, search
from .sigmacheck import sigma_matches


@dataclass(frozen=True, slots=True)
class Loss:
    """Whether ``new`` drops events of the rule that ``old`` logs.

    ``lost``: True (``witness`` is such an event; ``why`` names the filter of ``new`` that drops
    it), False (proven: no such event), None (cannot tell: ``why`` says why, or the rule is not
    a Sysmon rule of this platform). ``evidence``: (events matched, logged by old and dropped by
    new) when events were given.
    """

    rule_id: str
    title: str
    lost: bool | None
    witness: Witness | None = None
    why: str = ""
    evidence: tuple[int, int] | None = None


def rule_loses(old: Evaluator, new: Evaluator, item: SigmaInput, *, events: EventPool | None = None,
               budget: int = DEFAULT_BUDGET) -> Loss:
    """Does ``new`` lose events of ``item`` (a rule from :func:`read_rules`) that ``old`` logs?"""
    if item.rule is None:
        return Loss(item.id, item.title, None, why=item.error)
    source = sysmon_source(item.rule.logsource)
    if source.platform != old.platform:
        return Loss(item.id, item.title, None, why=source.why_not or f"not a Sysmon for {old.platform} rule")
    trees: list[object] = [c.parsed for c in item.rule.detection.parsed_condition]
    counted = _evidence(old, new, trees, source.event_ids, events) if events is not None else None
    schema = newest(old.platform)
    olds, news = ConfigFormulas(old), ConfigFormulas(new)
    unknown = ""
    try:
        for event_id in source.event_ids:
            event_type = schema.events_by_id.get(event_id)
            if event_type is None:
                continue
            detection = substitute(disj([detection_formula(t, event_type.field_names) for t in trees]),  # type: ignore[arg-type]
                                   EVENT_ID, str(event_id))
            if detection == FALSE:
                continue
            outcome = search(conj([detection, olds.rules(event_id).logged, news.rules(event_id).dropped]), budget)
            if outcome.status == "unknown":
                unknown = unknown or f"event {event_id}: {outcome.why}"
            if outcome.status != "sat":
                continue
            event = Event(event_id, dict(outcome.values))
            before, after = old.decide(event), new.decide(event)
            if before.decision != "include" or after.decision != "exclude" or \
                    not any(sigma_matches(t, event_id, event.fields) for t in trees):
                unknown = unknown or f"internal: witness {outcome.values} failed its re-check"
                continue
            why = why_decided(new, event, after)
            witness = Witness(event_id, dict(event.fields), after.decision, after.rule_name, why)
            return Loss(item.id, item.title, True, witness, why, counted)
    except (Unsupported, SigmaError) as exc:
        return Loss(item.id, item.title, None, why=" ".join(str(exc).split()), evidence=counted)
    if counted is not None and counted[1]:
        return Loss(item.id, item.title, True, why="evidence: real events the rule matches are lost",
                    evidence=counted)
    if unknown:
        return Loss(item.id, item.title, None, why=unknown, evidence=counted)
    return Loss(item.id, item.title, False, why="no matching event is logged by the old config and dropped by "
                "the new one (exhaustive case split)", evidence=counted)


def _evidence(old: Evaluator, new: Evaluator, trees: list[object], event_ids: tuple[int, ...],
              events: EventPool) -> tuple[int, int]:
    matched = events.matching(trees, event_ids)
    lost = sum(old.decide(e).decision == "include" and new.decide(e).decision == "exclude" for e in matched)
    return len(matched), lost
