"""The evaluator: Sysmon's include/exclude decision and RuleName for any event.

>>> from sysmon_rules.ruletable import RuleTable, RuleSet, RuleFilter
>>> table = RuleTable(0x00120000, 0x0004005A, (RuleSet(1, 1, 1, (RuleFilter(4, 10, "\\\\cmd.exe", "shell"),)),))
>>> ev = Evaluator(table)
>>> ev.decide(Event(1, {"Image": "C:\\\\Windows\\\\System32\\\\CMD.EXE"}))
Decision(decision='include', rule_name='shell', reason='match')
>>> ev.decide(Event(1, {"Image": "C:\\\\x.exe"})).decision
'exclude'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from ..events import Event
from ..ruletable import RuleSet, RuleTable
from ..schema import newest
from ..schema.model import Platform, as_platform
from .compiled import CSet, compile_set
from .conditions import MATCH, c_string, fold, folded_value
from .decision import NEVER, NEVER_DECISION, NO_RULES_DECISIONS, Decision
from .index import Hit, Plan, build_plan, valid_fields
from .setwalk import decide_plan
from .slots import NEVER_FILTERED, Slot, SlotMap, order_sets
from .trace import SetTrace, Trace, trace_event, trace_set

if TYPE_CHECKING:  # the compiler loads on first use: `import sysmon_rules.engine` stays light
    import pyarrow as pa

    from ..blob.compile import CompiledBlob
    from ..model import Config
    from .batch import BatchDecider


class Evaluator:
    """Decides events as the Sysmon service would with a given configuration loaded.

    ``source`` is a :class:`~sysmon_rules.Config` (compiled as the writer build of ``platform``
    would), bytes in any form :func:`sysmon_rules.rulesource.load_rules` reads (an XML config, a
    rule blob raw or as a ``.reg`` export, ``reg query`` output, hex or base64, or ``sysmon -c``
    text), or a :class:`~sysmon_rules.ruletable.RuleTable`; all go through the same rule table,
    so XML and blob always agree. ``environment`` is the logon
    session's environment used to expand ``%VAR%`` in rule data (Windows only). ``platform``
    picks the build: field tables, case folding of ``less than``/``more than``, expansion.
    ``eager=False`` builds each event id's plan when an event of that id is first decided (or by
    :meth:`prepare_batches`) rather than now: the same decisions, for a caller with better
    things to do first.
    """

    def __init__(self, source: Config | bytes | bytearray | RuleTable | CompiledBlob, *,
                 environment: Mapping[str, str] | None = None, platform: Platform = "windows",
                 index: bool = True, eager: bool = True) -> None:
        self.platform: Platform = as_platform(platform)
        self.environment: dict[str, str] = dict(environment or {})
        self.table = _rule_table(source, platform)
        self._schema = newest(platform)
        self._slots = SlotMap(self._schema, platform)
        self._order: dict[Slot, list[int]] = order_sets(self.table.rule_sets, self._slots)
        self._compiled: dict[int, CSet] = {}
        self._plans: dict[int, Plan] = {}
        self._batch: BatchDecider | None = None
        # Index every event id the build knows now, so decide() never pays for it; eager=False
        # builds each plan when first needed instead (a replay's prepare_batches builds them while
        # its first batch is read). index=False walks every set with the exact walker instead:
        # for a few decisions on a big config (lint's witness events) that is cheaper than
        # building the index.
        self._index = index
        for event_id in self._schema.events_by_id if index and eager else ():
            if event_id not in NEVER_FILTERED and self._slots.slot(event_id) in self._order:
                self._plan(event_id)

    # -- public API -----------------------------------------------------------------------------

    def decide(self, event: Event) -> Decision:
        """The decision and RuleName for one event (fast path; same result as :meth:`explain`)."""
        event_id = event.event_id
        if event_id in NEVER_FILTERED:
            return NEVER_DECISION
        plan = self._plans.get(event_id) or self._plan(event_id)
        if not plan.sets:
            return NO_RULES_DECISIONS[plan.default]
        return decide_plan(plan, *_probe(plan, event.fields))

    def decide_batch(self, data: pa.Table | pa.RecordBatch) -> pa.Table:
        """:meth:`decide` for every row of an Arrow table or record batch, in row order.

        ``data`` has an ``EventID`` column and one column per EventData field (strings,
        dictionary-encoded or not; null or missing reads as absent). The result has the columns
        ``decision`` (``include``/``exclude``), ``rule_name`` (null: none) and ``rule_set`` (the
        deciding set's position in ``table.rule_sets``, null: none): see ``engine.batch``.
        """
        return self._batches().decide(data)

    def batch_fields(self) -> frozenset[str]:
        """The field columns :meth:`decide_batch` reads (a batch may leave the others out or null):
        every field a rule set's filter names for an event id the set decides. Read off the rule
        table, without building the plans, so a replay's reading can start before they are."""
        names: set[str] = set()
        for event_id, event_type in self._schema.events_by_id.items():
            if event_id in NEVER_FILTERED:
                continue
            for index in self._order.get(self._slots.slot(event_id), ()):
                rule_set = self.table.rule_sets[index]
                own = self._schema.events_by_id.get(rule_set.event_id)
                valid = valid_fields(event_id, rule_set.event_id, event_type.field_names,
                                     own.field_names if own is not None else None)
                names.update(event_type.field_names[f.field_id] for f in rule_set.filters if f.field_id in valid)
        names.discard("RuleName")  # set while deciding, never read from an event
        return frozenset(names)

    def prepare_batches(self) -> Iterator[int]:
        """Build the plan and :meth:`decide_batch`'s lookups of every event id with rule sets, one
        id per step (yielded), for a caller with time to spare before its batches arrive; optional."""
        batches = self._batches()
        for event_id in self._schema.events_by_id:
            if event_id not in NEVER_FILTERED and self._slots.slot(event_id) in self._order:
                batches.prepare(event_id)
                yield event_id

    def _batches(self) -> BatchDecider:
        if self._batch is None:
            from .batch import BatchDecider

            self._batch = BatchDecider(self)
        return self._batch

    def plan(self, event_id: int) -> Plan:
        """The indexed plan that decides events of this id (built on first use)."""
        return self._plans.get(event_id) or self._plan(event_id)

    def explain(self, event: Event) -> Decision:
        """Like :meth:`decide`, walking every set in full and recording each step in ``trace``.

        ``str(decision.trace)`` renders it for people.
        """
        if event.event_id in NEVER_FILTERED:
            return Decision("include", None, NEVER, trace=Trace(event.event_id, NEVER, "include", None, ()))
        plan = self._plans.get(event.event_id) or self._plan(event.event_id)
        event_type = self._schema.events_by_id.get(event.event_id)
        names = event_type.field_names if event_type is not None else ()
        return trace_event(event, plan, _values(plan, event.fields), names)

    def explain_decided(self, event: Event, decision: Decision, *, matches_only: bool = False) -> SetTrace | None:
        """:meth:`explain`'s ``trace.decided_by`` for ``decision`` (this evaluator's decision for
        ``event``), walking only the set that decided: the sets before it did not match, so
        their steps say nothing about why. ``matches_only``: only the steps of the filters that
        matched (what a reason names), cheaper. None when no set decided."""
        plan = None if event.event_id in NEVER_FILTERED else self.plan(event.event_id)
        k = next((k for k, cset in enumerate(plan.sets) if cset.rank == decision.set_index), None) if plan else None
        if plan is not None and k is not None:
            event_type = self._schema.events_by_id.get(event.event_id)
            names = event_type.field_names if event_type is not None else ()
            set_trace, status, _ = trace_set(plan, k, _values(plan, event.fields), names, None,
                                             matches_only=matches_only)
            if status == MATCH:  # the RuleName threads through the sets before: the decision has the full walk's
                return dataclasses.replace(set_trace, rule_name=decision.rule_name)
        trace = self.explain(event).trace  # not a decision of this evaluator's sets: the full walk
        decided = trace.decided_by if trace is not None else None
        if decided is not None and matches_only:
            decided = dataclasses.replace(decided, steps=tuple(s for s in decided.steps if s.status == "match"))
        return decided

    def has_include_rules(self, event_id: int) -> bool:
        """Sysmon's ``IdHasIncludeRules``: can any event of this id be logged?

        False without rule sets; otherwise the first set (in evaluation order) without filters
        answers by its default, and True when every set has filters.
        """
        indexes = self._order.get(self._slots.slot(event_id), [])
        if not indexes:
            return False
        for index in indexes:
            rule_set = self.table.rule_sets[index]
            if not rule_set.filters:
                return rule_set.onmatch == "exclude"
        return True

    def sharing_sets_with(self, event_id: int) -> list[int]:
        """The known event ids whose events the sets of ``event_id`` decide (its series, e.g. 12-14)."""
        slot = self._slots.slot(event_id)
        return [e for e in sorted(self._schema.events_by_id) if self._slots.slot(e) == slot]

    def rule_sets_for(self, event_id: int) -> list[RuleSet]:
        """The rule sets applied to events of this id, in the order Sysmon tries them."""
        return [self.table.rule_sets[i] for i in self._order.get(self._slots.slot(event_id), [])]

    # -- construction helpers -------------------------------------------------------------------

    def _compiled_set(self, index: int) -> CSet:
        cset = self._compiled.get(index)
        if cset is None:
            cset = self._compiled[index] = compile_set(
                self.table.rule_sets[index], index, binary_version=self.table.binary_version,
                platform=self.platform, environment=self.environment)
        return cset

    def _plan(self, event_id: int) -> Plan:
        types = self._schema.events_by_id
        event_type = types.get(event_id)
        # An id this build does not know behaves as a type without fields whose default is exclude.
        event_fields = event_type.field_names if event_type is not None else ()
        default = event_type.default_decision if event_type is not None else "exclude"
        indexes = self._order.get(self._slots.slot(event_id), [])
        sets = [self._compiled_set(i) for i in indexes]
        set_fields = [types[s.rule_set.event_id].field_names if s.rule_set.event_id in types else None
                      for s in sets]
        plan = build_plan(event_id, default, sets, event_fields, set_fields, index=self._index)
        if event_type is not None or sets:  # don't let arbitrary unknown ids grow the cache
            self._plans[event_id] = plan
        return plan


def _probe(plan: Plan, fields: Mapping[str, str]) -> tuple[dict[int, str], list[Hit]]:
    """Read and fold each field once, and look it up: the values and the sorted candidates.

    Inlined on purpose (this is the hot loop): reading as ``conditions.folded_value``, lookups as
    ``index.lookup``.
    """
    values: dict[int, str] = {}
    hits: list[Hit] = list(plan.always)
    for fid, name, exact, base, pre_rx, pre_hits, suf_rx, suf_hits, rx, needle_hits in plan.rows:
        raw = fields.get(name, "") if name is not None else ""
        if "\0" in raw:
            raw = c_string(raw)
        value = (raw.lower() if raw.isascii() else fold(raw)) if raw else "-"
        values[fid] = value
        if exact is not None:
            found = exact.get(value)
            if found:
                hits += found
        if base is not None:
            found = base.get(value[value.rfind("\\") + 1:])
            if found:
                hits += found
        if pre_rx is not None:
            m = pre_rx.match(value)
            if m is not None:
                hits += pre_hits[m.group()]
        if suf_rx is not None:
            m = suf_rx.match(value[::-1])
            if m is not None:
                hits += suf_hits[m.group()]
        if rx is not None:
            m = rx.search(value)
            while m is not None:  # the longest needle at each place one starts
                hits += needle_hits[m.group()]
                m = rx.search(value, m.start() + 1)
    hits.sort()
    return values, hits


def _values(plan: Plan, fields: Mapping[str, str]) -> dict[int, str]:
    """The folded value of every field the plan reads: absent or empty reads as ``-``."""
    # RuleName is not set yet: "-"
    return {field_id: folded_value(fields.get(name, "") if name is not None else "") for field_id, name in plan.fields}


def _rule_table(source: Config | bytes | bytearray | RuleTable | CompiledBlob, platform: Platform) -> RuleTable:
    if isinstance(source, RuleTable):
        return source
    if isinstance(source, bytes | bytearray | memoryview):
        from ..rulesource import rule_table

        return rule_table(source, platform)  # every form load_rules reads: XML, blob, .reg, `sysmon -c` text
    from ..model import Config

    if isinstance(source, Config):
        from ..blob.compile import compile_config

        return compile_config(source, platform=platform).table
    from ..blob.compile import CompiledBlob

    if isinstance(source, CompiledBlob):
        return source.table
    raise TypeError(f"Evaluator needs a Config, blob bytes or RuleTable, not {type(source).__name__}")
