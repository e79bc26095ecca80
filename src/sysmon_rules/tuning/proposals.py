"""Candidate exclude filters for the noisiest groups, in Sysmon's own conditions.

For a group (one process's events under one deciding rule) the proposal is the most specific
filter that still matches every event of the group: the exact process path (``is``) and, in an
``and`` ``<Rule>``, each dominant field (``fields.value_fields``) on which one condition matches
all the group's values, the narrowest first:

1. ``is`` for one value, ``is any`` for up to :data:`MAX_VALUES` (without ``;``, which ``is any``
   splits on);
2. else a ``begin with`` on the folder all the values share (at least :data:`MIN_PREFIX`
   characters and two ``\\``), or an ``end with`` on the domain all query names share (at least
   two labels);
3. else nothing on that field.

The more fields are pinned, the fewer other events (and detections) the exclude can touch. A
group without a process is proposed for only when some field has a condition. No bare
``contains`` is ever proposed. A field whose value is missing (``-``) in some event of the group is
not used: the filter would not match those events.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..schema import ascii_lower
from ..schema.model import Platform
from .fields import element
from .groups import Group

MAX_VALUES = 3
MIN_PREFIX = 12
MIN_DOMAIN = 6
_MISSING = (None, "", "-")


@dataclass(frozen=True)
class Condition:
    """One filter: ``<field condition="condition">value</field>``."""

    field: str
    condition: str
    value: str

    def __str__(self) -> str:
        return f"{self.field} {self.condition} \"{self.value}\""


@dataclass(frozen=True)
class Proposal:
    """An exclude for one event element: its conditions (an ``and`` ``<Rule>`` when several)."""

    event_id: int
    element: str
    conditions: tuple[Condition, ...]

    @property
    def text(self) -> str:
        return " and ".join(str(c) for c in self.conditions)

    def to_dict(self) -> dict[str, object]:
        return {"event_id": self.event_id, "element": self.element,
                "conditions": [{"field": c.field, "condition": c.condition, "value": c.value}
                               for c in self.conditions]}


def _common_prefix(values: list[str]) -> str:
    """The longest text every value starts with (character by character: Windows paths on any OS)."""
    first, last = min(values), max(values)
    size = next((i for i, (a, b) in enumerate(zip(first, last, strict=False)) if a != b), min(len(first), len(last)))
    return first[:size]


def _folder_prefix(values: list[str]) -> str | None:
    """The folder (ending in ``\\``) every value starts with, compared as Sysmon folds case."""
    folded = [ascii_lower(v) for v in values]
    common = _common_prefix(folded)
    cut = common.rfind("\\")
    if cut < 0:
        return None
    prefix = values[0][: cut + 1]
    return prefix if len(prefix) >= MIN_PREFIX and prefix.count("\\") >= 2 else None


def _domain_suffix(values: list[str]) -> str | None:
    """The domain (starting with ``.``) every query name ends with, two labels at least."""
    reversed_common = _common_prefix([ascii_lower(v)[::-1] for v in values])
    cut = reversed_common.rfind(".")
    if cut < 0:
        return None
    suffix = values[0][len(values[0]) - cut - 1:]
    return suffix if len(suffix) >= MIN_DOMAIN and suffix.count(".") >= 2 else None


def _field_condition(name: str, counts: tuple[tuple[str | None, int], ...]) -> Condition | None:
    """The most specific condition on ``name`` matching every value (None: none specific enough)."""
    values = [v for v, _ in counts]
    if any(v in _MISSING for v in values):
        return None
    present = [v for v in values if v is not None]
    if len(present) == 1:
        return Condition(name, "is", present[0])
    if len(present) <= MAX_VALUES and not any(";" in v for v in present):
        return Condition(name, "is any", ";".join(sorted(present, key=ascii_lower)))
    prefix = _folder_prefix(present)
    if prefix is not None:
        return Condition(name, "begin with", prefix)
    if name == "QueryName":
        suffix = _domain_suffix(present)
        if suffix is not None:
            return Condition(name, "end with", suffix)
    return None


def propose(group: Group, platform: Platform = "windows") -> Proposal | None:
    """The most specific exclude that matches every event of ``group`` (None: none is specific enough):
    the process and every dominant field with a condition, in an ``and`` ``<Rule>``."""
    name = element(group.event_id, platform)
    if name is None:
        return None
    conditions = [Condition(group.image_field, "is", group.image)] if (
        group.image_field and group.image is not None and group.image not in _MISSING) else []
    for field_name, counts in group.values:
        condition = _field_condition(field_name, counts)
        if condition is not None:
            conditions.append(condition)
    if not conditions:
        return None
    return Proposal(group.event_id, name, tuple(conditions))
