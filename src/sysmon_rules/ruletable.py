"""The rule table: what the driver holds after loading a blob, independent of XML and bytes.

Both the compiler (Config -> RuleTable -> bytes) and the decoder (bytes -> RuleTable) meet here,
and the evaluator runs on it, so a decision is the same whether it started from XML or a blob.
Numbers are kept raw (as the blob stores them) so nothing is lost; properties give their meaning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .errors import Location
from .schema import CONDITIONS, ascii_lower

OnMatch = Literal["include", "exclude"]  # an event element's onmatch, and what a Decision says

# RULE_EVENT.RuleDefault names what happens to an event no filter matches: 0 = include (log it,
# written for onmatch="exclude"), 1 = exclude (drop it, written for onmatch="include").
RULE_DEFAULT_INCLUDE = 0
RULE_DEFAULT_EXCLUDE = 1
RULE_DEFAULT_NAMES: dict[str, int] = {"include": RULE_DEFAULT_INCLUDE, "exclude": RULE_DEFAULT_EXCLUDE}
_ONMATCH_OF_DEFAULT: dict[int, OnMatch] = {RULE_DEFAULT_INCLUDE: "exclude", RULE_DEFAULT_EXCLUDE: "include"}
_DEFAULT_OF_ONMATCH: dict[str, int] = {onmatch: default for default, onmatch in _ONMATCH_OF_DEFAULT.items()}
COMBINE_OR = 0
COMBINE_AND = 1
COMBINE_NAMES: dict[int, str] = {COMBINE_OR: "or", COMBINE_AND: "and"}  # groupRelation values
# RULE_FILTER.Name is WCHAR[256]; Sysmon refuses a name whose UTF-8 form is longer than 255 bytes.
MAX_NAME_BYTES = 255


def onmatch_of(rule_default: int) -> OnMatch | None:
    """The onmatch a RuleDefault was written for (None for a value Sysmon never writes)."""
    return _ONMATCH_OF_DEFAULT.get(rule_default)


def rule_default_of(onmatch: str) -> int | None:
    """The RuleDefault written for ``onmatch`` (onmatch="include" drops what does not match)."""
    return _DEFAULT_OF_ONMATCH.get(onmatch)


def opposite(decision: OnMatch) -> OnMatch:
    return "exclude" if decision == "include" else "include"


def combine_of(relation: str | None, default: int) -> int:
    """A groupRelation as Sysmon reads it: absent/empty -> ``default``, "or" (any case) -> OR, else AND."""
    if not relation:
        return default
    return COMBINE_OR if ascii_lower(relation) == "or" else COMBINE_AND


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
    def onmatch(self) -> OnMatch:
        """The config's ``onmatch`` for this set: "include" when the set logs what matches."""
        return onmatch_of(self.rule_default) or "exclude"

    @property
    def combine_name(self) -> str:
        return COMBINE_NAMES.get(self.combine, "or")

    def aggregation(self, aggregation_id: int) -> Aggregation | None:
        return next((a for a in self.aggregations if a.id == aggregation_id), None)


@dataclass(frozen=True, slots=True)
class RuleTable:
    """A whole rule blob's meaning: header versions and the rule sets in blob order."""

    binary_version: int
    schema_version: int
    rule_sets: tuple[RuleSet, ...] = ()
