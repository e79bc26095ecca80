"""The rule table: what the driver holds after loading a blob, independent of XML and bytes.

Both the compiler (Config -> RuleTable -> bytes) and the decoder (bytes -> RuleTable) meet here,
and the evaluator runs on it, so a decision is the same whether it started from XML or a blob.
Numbers are kept raw (as the blob stores them) so nothing is lost; properties give their meaning.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import Location
from .schema import CONDITIONS

# RULE_EVENT.RuleDefault: 0 = log by default (onmatch="exclude"), 1 = drop by default (onmatch="include").
RULE_DEFAULT_INCLUDE = 0
RULE_DEFAULT_EXCLUDE = 1
COMBINE_OR = 0
COMBINE_AND = 1
# RULE_FILTER.Name is WCHAR[256]; Sysmon refuses a name whose UTF-8 form is longer than 255 bytes.
MAX_NAME_BYTES = 255


@dataclass(frozen=True, slots=True)
class Aggregation:
    """A ``<Rule>`` (RULE_AGGREGATION): its id, name (cut to 127 UTF-16 units) and combine type."""

    id: int
    name: str = ""
    combine: int = COMBINE_OR


@dataclass(frozen=True, slots=True)
class RuleFilter:
    """One RULE_FILTER: a field id into the writer's newest field table, a condition and a value."""

    field_id: int
    condition: int
    value: str
    name: str = ""
    aggregation_id: int = 0
    location: Location | None = field(default=None, compare=False)

    @property
    def condition_name(self) -> str:
        base = self.condition & 0xFFFF
        return CONDITIONS[base] if base < len(CONDITIONS) else f"unknown condition {self.condition}"


@dataclass(frozen=True, slots=True)
class RuleSet:
    """One RULE_EVENT: the rule set of one event element for one event id."""

    event_id: int
    rule_default: int
    combine: int
    filters: tuple[RuleFilter, ...] = ()
    aggregations: tuple[Aggregation, ...] = ()
    location: Location | None = field(default=None, compare=False)

    @property
    def onmatch(self) -> str:
        """The config's ``onmatch`` for this set: "include" when the set logs what matches."""
        return "include" if self.rule_default == RULE_DEFAULT_EXCLUDE else "exclude"

    @property
    def combine_name(self) -> str:
        return "and" if self.combine == COMBINE_AND else "or"

    def aggregation(self, aggregation_id: int) -> Aggregation | None:
        return next((a for a in self.aggregations if a.id == aggregation_id), None)


@dataclass(frozen=True, slots=True)
class RuleTable:
    """A whole rule blob's meaning: header versions and the rule sets in blob order."""

    binary_version: int
    schema_version: int
    rule_sets: tuple[RuleSet, ...] = ()
