"""What the lint rules look at for one config, each piece built only when a selected rule asks.

The parsed document and model are always needed; the validator's findings, the compiled rule
table and the evaluator (whose index is the costly part) are built on first use, so
``--select`` of a cheap rule pays for nothing else, and the evaluator is built only when a
finding needs confirming on a witness event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from ..errors import Diagnostic
from ..model import Config
from ..ruletable import RuleSet, RuleTable
from ..schema import newest
from ..validation import check_document
from ..xml.reader import Element, ParsedDocument

if TYPE_CHECKING:
    from ..engine import Evaluator
    from ..engine.slots import Slot, SlotMap


@dataclass
class LintContext:
    doc: ParsedDocument
    config: Config
    target: str | None = None
    cache: dict[str, object] = field(default_factory=dict)
    module_of: Config | None = None  # a module judged at its build's schema: the module as declared

    @cached_property
    def validator_findings(self) -> list[Diagnostic]:
        return list(check_document(self.doc, self.config))

    @cached_property
    def valid(self) -> bool:
        """Sysmon would load it: the rule-table rules only run then (the table is what it loads)."""
        return not any(d.severity == "error" for d in self.validator_findings)

    @cached_property
    def table(self) -> RuleTable:
        from ..blob.compile import compile_config

        return compile_config(self.config, table_only=True).table

    @cached_property
    def evaluator(self) -> Evaluator:
        from ..engine import Evaluator

        return Evaluator(self.table, index=False)  # a few witness events: walking beats indexing

    @cached_property
    def slots(self) -> tuple[SlotMap, dict[Slot, list[int]]]:
        from ..engine.slots import SlotMap, order_sets

        slot_map = SlotMap(newest("windows"), "windows")
        return slot_map, order_sets(self.table.rule_sets, slot_map)

    def rule_sets_for(self, event_id: int) -> list[RuleSet]:
        """The sets Sysmon tries for this event id, in order (the evaluator's order, without its index)."""
        slot_map, order = self.slots
        return [self.table.rule_sets[i] for i in order.get(slot_map.slot(event_id), [])]

    @cached_property
    def elements(self) -> dict[tuple[int, int], Element]:
        """Element by the (line, column) of its start tag: where a finding points."""
        return {(loc.line, loc.column): element for element, loc in self.doc.locations.items()}
