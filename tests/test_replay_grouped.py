"""A replay's groups (replaying.grouped) are the distinct rows and their counts, as Acero's group_by gives them."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from sysmon_rules.replaying import grouped

_TEXT = st.one_of(st.none(), st.sampled_from(["", "a", "A", "b", "2026-12-07 10", "\u00e9", "-"]))
_NUMBER = st.one_of(st.none(), st.integers(-3, 3), st.sampled_from([1 << 40, -(1 << 62)]))


@st.composite
def _columns(draw: Any) -> dict[str, pa.Array]:
    rows = draw(st.integers(0, 40))
    columns: dict[str, pa.Array] = {}
    for i in range(draw(st.integers(1, 7))):
        if draw(st.booleans()):
            array = pa.array(draw(st.lists(_TEXT, min_size=rows, max_size=rows)), pa.string())
            columns[f"text{i}"] = array.dictionary_encode() if draw(st.booleans()) else array
        else:
            columns[f"number{i}"] = pa.array(draw(st.lists(_NUMBER, min_size=rows, max_size=rows)), pa.int64())
    return columns


def _groups(found: dict[str, list[object]]) -> Counter[tuple[object, ...]]:
    """Group -> count; each group once (a group split in two is not the distinct rows)."""
    keys = list(zip(*(values for name, values in found.items() if name != "count_all"), strict=True))
    assert len(set(keys)) == len(keys)
    return Counter(dict(zip(keys, found["count_all"], strict=True)))  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(_columns())
def test_groups_are_the_distinct_rows_and_their_counts(columns: dict[str, pa.Array]) -> None:
    found = grouped._grouped(columns)
    assert list(found) == [*columns, "count_all"]
    assert _groups(found) == _groups(grouped._grouped_by_acero(columns))
    # and what they stand for: every row once
    rows = Counter(zip(*(c.to_pylist() if not pa.types.is_dictionary(c.type) else c.dictionary_decode().to_pylist()
                         for c in columns.values()), strict=True))
    assert _groups(found) == rows


def test_codes_too_many_for_one_number_are_grouped_by_acero(monkeypatch: Any) -> None:
    by_acero, used = grouped._grouped_by_acero, []

    def spy(columns: dict[str, pa.Array]) -> dict[str, list[object]]:
        used.append(columns)
        return by_acero(columns)

    monkeypatch.setattr(grouped, "_KEY_LIMIT", 9)  # 3 x 3 codes: "x", "y", null and 1, 2, null
    monkeypatch.setattr(grouped, "_grouped_by_acero", spy)
    columns = {"a": pa.array(["x", "y", "x", None]), "b": pa.array([1, 2, 1, None])}
    assert _groups(grouped._grouped(columns)) == Counter({("x", 1): 2, ("y", 2): 1, (None, None): 1})
    assert len(used) == 1
    monkeypatch.setattr(grouped, "_KEY_LIMIT", 10)
    assert _groups(grouped._grouped(columns)) == Counter({("x", 1): 2, ("y", 2): 1, (None, None): 1})
    assert len(used) == 1  # 9 < 10: one number per row


def test_a_dictionary_with_a_value_twice_groups_by_value() -> None:
    twice = pa.DictionaryArray.from_arrays(pa.array([0, 1, 2, None], pa.int32()), pa.array(["x", "x", None]))
    assert _groups(grouped._grouped({"a": twice})) == Counter({("x",): 2, (None,): 2})
