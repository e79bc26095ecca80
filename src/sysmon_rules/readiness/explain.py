"""Which filter or default decided a witness event, as ``path:line`` text for people."""

from __future__ import annotations

from ..engine import Decision, Evaluator
from ..events import Event
from .result import Witness


def why_decided(evaluator: Evaluator, event: Event, decision: Decision) -> str:
    """``excluded by <Image end with '\\x.exe'> at file:line`` or the default that applied."""
    verb = "logged" if decision.decision == "include" else "dropped"
    if decision.rule_set is None:
        return f"{verb}: {decision.reason}" + _include_sets(evaluator, event.event_id, decision)
    set_trace = evaluator.explain_decided(event, decision, matches_only=True)
    if set_trace is not None:
        matched = list(set_trace.steps)
        if matched:
            step = matched[-1] if set_trace.combine == "and" else matched[0]
            how = f"{set_trace.onmatch} {step.field} {step.condition} {step.data!r}"
            return f"{verb} by {how} at {step.location or set_trace.location}"
        return f"{verb} by the {set_trace.onmatch} set at {set_trace.location}"
    return f"{verb} by the {decision.rule_set.onmatch} set at {decision.rule_set.location}"


def _include_sets(evaluator: Evaluator, event_id: int, decision: Decision) -> str:
    if decision.decision != "exclude":
        return ""
    places = [str(s.location) for s in evaluator.rule_sets_for(event_id) if s.onmatch == "include" and s.location]
    return f" (include sets at {', '.join(places)})" if places else ""


def partial_statements(logged: list[Witness], dropped: list[Witness]) -> tuple[str, list[str]]:
    """The grade of a partial rule and the sentences naming what decides, from its witnesses.

    A matching event dropped by an exclude makes "logged unless <that exclude> matches"; one
    dropped because no include set matched makes "logged only when an include matches", naming
    the include that logged the logged witness. Both can hold.
    """
    unless = [w.why.removeprefix("dropped by ") for w in dropped if w.why.startswith("dropped by ")]
    no_include = [w.why.removeprefix("dropped: ") for w in dropped if w.why.startswith("dropped: ")]
    statements = [f"logged unless {why} matches" for why in dict.fromkeys(unless)]
    if no_include:
        by = next((w.why.removeprefix("logged by ") for w in logged if w.why.startswith("logged by ")), "")
        statements.insert(0, "logged only when an include matches" + (f", such as {by}" if by else "")
                          + f"; otherwise {no_include[0]}")
    grade = ("logged-only-when-unless" if unless and no_include else
             "logged-only-when" if no_include else "logged-unless")
    return grade, statements
