"""Where the volume comes from: the logged events grouped by what a person can exclude on.

A group is one (event id, deciding rule set, RuleName, acting process) with its events, its share
of everything logged, and the values of the event type's dominant fields (``fields.value_fields``)
with their counts. Grouping runs in Arrow; only the groups reach Python.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from ..ruletable import RuleSet
from ..schema.model import Platform
from .fields import IMAGE_FIELDS, image_field, value_fields
from .logged import EVENT_ID, RULE_NAME, RULE_SET

TOP_VALUES = 3  # values shown per field in the table (a proposal sees them all)
GroupKey = tuple[int, int | None, str | None, str | None]  # (event id, rule set, RuleName, process)


@dataclass(frozen=True)
class Group:
    """One source of volume; ``values`` holds every value of each dominant field, most first."""

    event_id: int
    rule_set: int | None  # position in the config's rule table (None: decided by the default)
    rule_set_location: str | None
    rule_name: str | None
    image_field: str | None
    image: str | None
    events: int
    share: float
    values: tuple[tuple[str, tuple[tuple[str | None, int], ...]], ...]

    @property
    def key(self) -> GroupKey:
        return self.event_id, self.rule_set, self.rule_name, self.image

    def to_dict(self) -> dict[str, object]:
        return {"event_id": self.event_id, "rule_name": self.rule_name, "rule_set": self.rule_set_location,
                "image_field": self.image_field, "image": self.image, "events": self.events,
                "share": round(self.share, 4),
                "top_values": {name: [{"value": v, "events": n} for v, n in counts[:TOP_VALUES]]
                               for name, counts in self.values}}


def process_column(table: pa.Table) -> pa.Array:
    """Each row's acting process (Image, else SourceImage)."""
    columns = [table.column(name).combine_chunks() for name in IMAGE_FIELDS]
    return pc.coalesce(*columns)


def volume_groups(table: pa.Table, rule_sets: Sequence[RuleSet], platform: Platform = "windows") -> list[Group]:
    """The groups of the logged ``table`` (see ``logged``), most events first, ties by key."""
    keys = {"id": table.column(EVENT_ID), "set": table.column(RULE_SET), "name": table.column(RULE_NAME),
            "image": process_column(table)}
    total = table.num_rows
    counted: dict[GroupKey, int] = {}
    for row in pa.table(keys).group_by(list(keys), use_threads=False).aggregate([([], "count_all")]).to_pylist():
        counted[int(row["id"]), row["set"], row["name"], row["image"]] = int(row["count_all"])
    per_field: dict[GroupKey, dict[str, Counter[str | None]]] = {}
    for name in dict.fromkeys(f for event_id in {k[0] for k in counted} for f in value_fields(event_id, platform)):
        columns = {**keys, "value": table.column(name)}
        for row in pa.table(columns).group_by(list(columns), use_threads=False).aggregate(
                [([], "count_all")]).to_pylist():
            key: GroupKey = (int(row["id"]), row["set"], row["name"], row["image"])
            if name in value_fields(key[0], platform):
                per_field.setdefault(key, {}).setdefault(name, Counter())[row["value"]] += int(row["count_all"])
    groups = []
    for key, events in counted.items():
        event_id, rule_set, rule_name, image = key
        location = rule_sets[rule_set].location if rule_set is not None else None
        fields = per_field.get(key, {})
        values = tuple((name, tuple(sorted(fields[name].items(), key=lambda kv: (-kv[1], str(kv[0])))))
                       for name in value_fields(event_id, platform) if name in fields)
        groups.append(Group(event_id, rule_set, str(location) if location is not None else None, rule_name,
                            image_field(event_id, platform), image, events, events / total if total else 0.0,
                            values))
    groups.sort(key=lambda g: (-g.events, g.event_id, str(g.rule_name), str(g.image), g.rule_set or -1))
    return groups
