"""Hypothesis strategies for Sysmon configs and events, for property tests of your own configs.

>>> from hypothesis import given
>>> from sysmon_rules.testing import strategies as sst
>>> config = sysmon_rules.load("sysmonconfig.xml")            # doctest: +SKIP
>>> @given(sst.events_matching(config, onmatch="exclude"))    # doctest: +SKIP
... def test_no_powershell_dropped(event): ...

* ``schema_versions()``: schema version strings Sysmon accepts (4.x with RuleGroup support).
* ``configs(version=None)``: small random configs that ``sysmon_rules.load`` accepts.
* ``events(event_id=None)``: events with random values in a type's real fields.
* ``events_matching(config, rule=...)``: events the rule matches and the config then decides as
  the rule says (an include rule's events are included). Values are built from the conditions
  (``end with X`` -> random prefix + X) and every draw is checked with the evaluator, so exclude
  rules that fire first and AND groups can never make a draw wrong.
* ``events_not_matching(config, rule=...)``: events of the rule's type that the rule does not
  match.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hypothesis import strategies as st

from ..events import Event
from ..model import Config, EventRules, Filter, Rule, RuleGroup

MATCH_REASON = "match"  # engine.MATCH_REASON, repeated so importing this module stays light

if TYPE_CHECKING:
    from ..engine import Decision, Evaluator

# Tries per draw before rejecting it: construction is right almost always, so this is rare.
_ATTEMPTS = 12
_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\\. _-:"
_TEXT = st.text(_ALPHABET, max_size=12)
_VALUE = st.text(_ALPHABET, min_size=1, max_size=12)
_MODERN = ("4.22", "4.30", "4.40", "4.50", "4.60", "4.70", "4.80", "4.81", "4.82", "4.83", "4.90", "4.91")


def schema_versions() -> st.SearchStrategy[str]:
    """Schema versions of the RuleGroup era that this library's schema knows."""
    from ..schema import all_versions

    known = {v.version for v in all_versions()}
    return st.sampled_from([v for v in _MODERN if v in known])


def events(event_id: int | None = None, *, platform: str = "windows") -> st.SearchStrategy[Event]:
    """Events of ``event_id`` (or any filterable type) with random values in some of its fields."""
    from ..schema import newest

    schema = newest(platform)  # type: ignore[arg-type]
    types = [e for e in schema.events if e.rulename and (event_id is None or e.id == event_id)]
    if not types:
        raise ValueError(f"no filterable event type {event_id!r} on {platform}")

    @st.composite
    def draw_event(draw: st.DrawFn) -> Event:
        etype = draw(st.sampled_from(types))
        names = draw(st.lists(st.sampled_from(etype.field_names), unique=True, max_size=6))
        return Event(etype.id, {n: draw(_TEXT) for n in names})

    return draw_event()


# -- configs ------------------------------------------------------------------------------------

_CONDS = ("is", "is not", "contains", "contains any", "begin with", "end with", "excludes",
          "not begin with", "not end with", "image", "less than", "more than")


def configs(version: str | None = None, *, max_events: int = 4) -> st.SearchStrategy[Config]:
    """Random configs Sysmon loads: XML text is built from the schema and loaded.

    Every draw is valid by construction: an element's fields are ones the declared version's DTD
    allows and one event id of the writer's series has (so no "Incorrect field"); nothing is drawn
    and thrown away.
    """

    @st.composite
    def draw_config(draw: st.DrawFn) -> Config:
        from ..schema import dtd_schema_for, newest, parse_version
        from ..validation import loads

        ver = version or draw(schema_versions())
        schema = dtd_schema_for(parse_version(ver) or 0, "windows")  # what Windows Sysmon's DTD allows
        writer = newest("windows").rule_elements  # whose field tables Sysmon checks the fields against
        elements = sorted(set(schema.rule_elements) & set(writer))
        parts = []
        for _ in range(draw(st.integers(1, max_events))):
            element = draw(st.sampled_from(elements))
            allowed = {f for e in schema.rule_elements[element] for f in e.field_names}
            fields = sorted(set(draw(st.sampled_from(writer[element])).field_names) & allowed)
            conds = [c for c in _CONDS if c in schema.conditions]
            filters = "".join(
                _filter_xml(draw(st.sampled_from(fields)), draw(st.sampled_from(conds)), draw(_VALUE),
                            draw(st.one_of(st.none(), st.sampled_from(["alpha", "beta", "t1"]))))
                for _ in range(draw(st.integers(0, 4) if fields else st.just(0))))
            onmatch = draw(st.sampled_from(["include", "exclude"]))
            relation = draw(st.sampled_from(["or", "and"]))
            parts.append(f'<RuleGroup groupRelation="{relation}"><{element} onmatch="{onmatch}">{filters}'
                         f"</{element}></RuleGroup>")
        xml = f'<Sysmon schemaversion="{ver}"><EventFiltering>{"".join(parts)}</EventFiltering></Sysmon>'
        return loads(xml)

    return draw_config()


def _filter_xml(field: str, condition: str, value: str, name: str | None) -> str:
    from xml.sax.saxutils import escape, quoteattr

    named = f" name={quoteattr(name)}" if name else ""
    return f"<{field} condition={quoteattr(condition)}{named}>{escape(value)}</{field}>"


# -- events from conditions ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    """The rule drawn for: its event element, its filters, and how they combine."""

    rules: EventRules
    item: Filter | Rule
    group: RuleGroup | None

    @property
    def filters(self) -> tuple[Filter, ...]:
        return self.item.filters if isinstance(self.item, Rule) else (self.item,)

    @property
    def needs_all(self) -> bool:
        return isinstance(self.item, Rule) and (self.item.group_relation or "or").lower() == "and"


def rules_of(config: Config, *, onmatch: str | None = None) -> list[Filter | Rule]:
    """The top-level filters and <Rule>s of a config, optionally only those of include/exclude sets."""
    return [t.item for t in _targets(config) if onmatch is None or (t.rules.onmatch or "") == onmatch]


def _targets(config: Config) -> list[_Target]:
    return [_Target(ev, item, group) for group, ev in config.event_rules() for item in ev.items]


def _satisfy(condition: str | None, data: str, draw: st.DrawFn) -> str:
    """A value for which ``condition`` holds against ``data`` (case varied at random)."""
    from ..engine.conditions import list_needles, list_tokens

    cond = (condition or "is").lower()
    pre, post = draw(_TEXT), draw(_TEXT)
    if cond in ("contains any", "is any"):
        tokens = [t for t in (list_needles(data) if cond == "contains any" else list_tokens(data)) if t]
        data = draw(st.sampled_from(tokens)) if tokens else data
    value: str
    if cond in ("is", "is any"):
        value = data
    elif cond in ("contains", "contains any"):
        value = pre + data + post
    elif cond == "contains all":
        value = pre + post.join(list_needles(data, every=True)) + post
    elif cond == "begin with":
        value = data + post
    elif cond == "end with":
        value = pre + data
    elif cond == "image":
        value = data if "\\" in data else "C:\\" + pre.replace("\\", "") + "\\" + data
    elif cond in ("less than", "more than"):
        value = _number_beyond(data, 1 if cond == "more than" else -1, draw)
    else:  # is not, excludes*, not begin/end with: a fresh value rarely hits the data
        value = "q" + pre + "~" + post
    return _vary_case(value, draw)


def _satisfy_all(filters: list[Filter], draw: st.DrawFn) -> str:
    """One value for several conditions on one field (an AND <Rule>): heads, middles, tails.

    ``begin with`` parts go first and ``end with`` parts last, so ``end with .js`` and
    ``contains \\discord\\`` both hold; conditions that constrain the whole value decide alone.
    """
    if len(filters) == 1:
        return _satisfy(filters[0].condition, filters[0].value, draw)
    heads, middles, tails = [], [], []
    for flt in filters:
        cond = (flt.condition or "is").lower()
        if cond in ("is", "is any", "less than", "more than"):
            return _satisfy(flt.condition, flt.value, draw)
        if cond == "begin with":
            heads.append(flt.value)
        elif cond in ("end with", "image"):
            tails.append(("\\" if cond == "image" and "\\" not in flt.value else "") + flt.value)
        elif cond in ("contains", "contains any", "contains all"):
            middles.append(_satisfy(flt.condition, flt.value, draw))
    return _vary_case("".join(heads) + draw(_TEXT) + "".join(middles) + "".join(tails), draw)


def _number_beyond(data: str, sign: int, draw: st.DrawFn) -> str:
    # less/more than compare strings in Sysmon, but config data is almost always a number of
    # the same width; a same-width neighbour is right for both readings.
    if data.isdigit():
        number = int(data) + sign * draw(st.integers(1, 9))
        if number >= 0 and len(str(number)) == len(data):
            return str(number)
    return (data + "~") if sign > 0 else data[:-1] or "!"


def _vary_case(value: str, draw: st.DrawFn) -> str:
    mode = draw(st.sampled_from(["keep", "lower", "upper"]))
    return value.lower() if mode == "lower" else value.upper() if mode == "upper" else value


def _event_ids(rules: EventRules, platform: str) -> list[int]:
    from ..schema import newest

    schema = newest(platform)  # type: ignore[arg-type]
    return [e.id for e in schema.rule_elements.get(rules.element, ())]


def _alone(config: Config, target: _Target, platform: str) -> Evaluator:
    """An evaluator for the target rule on its own (same element, onmatch and group relation)."""
    from ..engine import Evaluator

    rules = EventRules(target.rules.element, (target.item,), target.rules.onmatch, target.rules.default,
                       target.rules.location)
    relation = target.group.group_relation if target.group is not None else None
    alone = Config(config.schema_version, config.options, (RuleGroup((rules,), relation),))
    return Evaluator(alone, platform=platform)  # type: ignore[arg-type]


def _build(target: _Target, event_ids: Sequence[int], draw: st.DrawFn, *, miss: bool) -> Event:
    from ..schema import field_types

    fields: dict[str, str] = {}
    # Which filters to satisfy: all of an AND rule, else one of them (plus, often, the others).
    chosen = list(target.filters)
    if not target.needs_all and len(chosen) > 1:
        chosen = [draw(st.sampled_from(chosen))]
    by_field: dict[str, list[Filter]] = {}
    for flt in chosen:
        by_field.setdefault(flt.field, []).append(flt)
    for name, filters in by_field.items():
        fields[name] = draw(_TEXT) if miss else _satisfy_all(filters, draw)
    # An id of the element's series whose events carry those fields (a RegistryEvent filter on
    # Details: only event 13 has it); a rule whose fields no single id has is read as a log holds it.
    carrying = [i for i in event_ids if all(name in field_types(i) for name in fields)]
    event_id = draw(st.sampled_from(carrying or list(event_ids)))
    return Event(event_id, fields) if carrying else Event.read(event_id, fields)


def _strategy(config: Config, rule: Filter | Rule | None, platform: str, *,
              accept: Callable[[Decision, Decision, _Target], bool], miss: bool) -> st.SearchStrategy[Event]:
    from ..engine import Evaluator

    targets = [t for t in _targets(config) if rule is None or t.item is rule or t.item == rule]
    if rule is not None and not targets:
        raise ValueError("the rule is not part of this config (pass an item of config.event_rules())")
    evaluator: Evaluator = Evaluator(config, platform=platform)  # type: ignore[arg-type]
    usable = [(i, t, ids) for i, t in enumerate(targets) if (ids := _event_ids(t.rules, platform))]
    if not usable:
        raise ValueError("no rule of this config filters an event type of this platform")
    alone_for: dict[int, Evaluator] = {}  # built when a target is first drawn: a big config has
    # thousands of rules, and one evaluator each up front took 157 s before the first example

    @st.composite
    def draw_event(draw: st.DrawFn) -> Event:
        from hypothesis import reject

        index, target, ids = draw(st.sampled_from(usable))
        alone = alone_for.get(index) or alone_for.setdefault(index, _alone(config, target, platform))
        for _ in range(_ATTEMPTS):
            event = _build(target, ids, draw, miss=miss)
            if accept(evaluator.decide(event), alone.decide(event), target):
                return event
        reject()

    return draw_event()


def events_matching(config: Config, rule: Filter | Rule | None = None, *,
                    platform: str = "windows") -> st.SearchStrategy[Event]:
    """Events that ``rule`` (a Filter or Rule of ``config``; any when None) matches, with effect.

    The rule on its own matches the event (all filters of an AND <Rule>, one of an OR one) and
    the whole config's evaluator decides the rule's onmatch: ``include`` for an include rule, so
    no exclude rule drops it first. The RuleName is whatever Sysmon reports, which may come from
    an earlier matching rule of the same set.
    """
    def accept(decision: Decision, alone: Decision, target: _Target) -> bool:
        return alone.reason == MATCH_REASON and decision.decision == target.rules.onmatch

    return _strategy(config, rule, platform, accept=accept, miss=False)


def events_not_matching(config: Config, rule: Filter | Rule | None = None, *,
                        platform: str = "windows") -> st.SearchStrategy[Event]:
    """Events of ``rule``'s type that ``rule`` on its own does not match."""

    def accept(decision: Decision, alone: Decision, target: _Target) -> bool:
        return alone.reason != MATCH_REASON

    return _strategy(config, rule, platform, accept=accept, miss=True)
