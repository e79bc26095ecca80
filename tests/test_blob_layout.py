"""construct-style symmetry of the blob declarations: parse(build(x)) == x and build(parse(b)) == b.

For every struct declared in blob/layout.py, and for every blob format under each version word
that selects it, rule tables with filters, <Rule> aggregations (filterless ones too) and names
where the format stores them go through ``encode_table`` and ``decode_blob`` and back unchanged.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sysmon_rules.blob import layout
from sysmon_rules.blob.decode import decode_blob
from sysmon_rules.blob.encode import encode_table
from sysmon_rules.blob.layout import BlobFormat, StructLayout
from sysmon_rules.ruletable import COMBINE_NAMES, RULE_DEFAULT_NAMES, Aggregation, RuleFilter, RuleSet, RuleTable

SYMMETRY = settings(max_examples=60, deadline=None)
STRUCTS = sorted((v for v in vars(layout).values() if isinstance(v, StructLayout)), key=lambda s: s.name)
U32 = st.integers(0, 2**32 - 1)
SCHEMA_4_20 = layout.version_word(4, 20)

# (version word, the format a blob of that word has, schema versions its writers stamp)
WRITERS: list[tuple[int, BlobFormat, st.SearchStrategy[int]]] = [
    (layout.V1_0_WORD, layout.V1_0, st.just(0)),  # RULE_REG has no SchemaVersion
    (layout.V1_01_WORD, layout.V1, U32),
    (layout.V8_WORD, layout.V8_SHORT, st.integers(0, SCHEMA_4_20 - 1)),  # Sysmon 8.x
    (layout.V8_WORD, layout.V8_EXT, st.integers(SCHEMA_4_20, 2**32 - 1)),  # Sysmon 9.0x
    (layout.V9_10_WORD, layout.V8_EXT, st.integers(SCHEMA_4_20, 2**32 - 1)),
    (layout.V9_20_WORD, layout.MODERN, U32),
    (layout.BINARY_15, layout.MODERN, U32),
    (layout.BINARY_18, layout.MODERN, U32),
]


def test_every_struct_is_covered_and_every_format_is_written() -> None:
    assert {s.name for s in STRUCTS} >= {"RULE_REG", "RULE_REG_V1", "RULE_REG_EXT", "RULE_EVENT", "RULE_EVENT_V1",
                                          "RULE_FILTER", "RULE_FILTER_V1", "RULE_AGGREGATION"}
    formats = {v for v in vars(layout).values() if isinstance(v, BlobFormat)}
    assert formats == {fmt for _, fmt, _ in WRITERS}
    for word, fmt, _ in WRITERS:
        assert fmt in layout.formats_for(word)


def _member_values(layout_: StructLayout) -> st.SearchStrategy[dict[str, int | bytes]]:
    members: dict[str, st.SearchStrategy[int | bytes]] = {}
    for member in layout_.members:
        size = struct.calcsize("<" + member.code)
        members[member.name] = (st.binary(min_size=size, max_size=size) if member.code.endswith("s")
                                else st.integers(0, 2 ** (8 * size) - 1))
    return st.fixed_dictionaries(members)


@pytest.mark.parametrize("declared", STRUCTS, ids=lambda s: s.name)
@given(data=st.data())
@SYMMETRY
def test_each_struct_parses_what_it_builds_and_builds_what_it_parses(declared: StructLayout, data: st.DataObject
                                                                      ) -> None:
    values = data.draw(_member_values(declared))
    assert declared.unpack(declared.pack(**values), 0) == values
    raw = data.draw(st.binary(min_size=declared.size, max_size=declared.size))
    unpacked = declared.unpack(raw, 0)
    assert declared.pack(**unpacked) == raw
    buffer = bytearray(raw)
    for member in (m for m in declared.members if not m.code.endswith("s")):  # the builder's in-place access
        assert declared.get(raw, 0, member.name) == unpacked[member.name]
        declared.put(buffer, 0, member.name, int(values[member.name]))
        assert declared.get(buffer, 0, member.name) == values[member.name]


_TEXT = st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), max_size=12)


@st.composite
def rule_sets(draw: st.DrawFn, fmt: BlobFormat, next_id: list[int]) -> RuleSet:
    """A rule set the format can hold, its aggregations in the order the blob stores them."""
    groups = draw(st.lists(st.integers(0, 3), max_size=6)) if fmt.aggregation is not None else []
    ids: dict[int, int] = {}
    for group in groups:
        if group and group not in ids:
            next_id[0] += 1
            ids[group] = next_id[0]
    filters = tuple(RuleFilter(draw(U32), draw(U32), draw(_TEXT), draw(_TEXT) if fmt.has_names else "",
                               ids.get(group, 0)) for group in (groups or draw(st.lists(st.just(0), max_size=4))))
    loose = draw(st.integers(0, 2)) if fmt.aggregation is not None else 0
    for _ in range(loose):  # filterless <Rule>s, stored after the set's filters
        next_id[0] += 1
        ids[-next_id[0]] = next_id[0]
    names = st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), max_size=127)
    aggregations = tuple(Aggregation(i, draw(names), draw(st.sampled_from(sorted(COMBINE_NAMES))))
                         for i in ids.values())
    combine = draw(st.sampled_from(sorted(COMBINE_NAMES))) if fmt.has_combine else 0
    return RuleSet(draw(st.integers(0, 255)), draw(st.sampled_from(sorted(RULE_DEFAULT_NAMES.values()))), combine,
                   filters, aggregations)


@st.composite
def tables(draw: st.DrawFn, word: int, fmt: BlobFormat, schemas: st.SearchStrategy[int]) -> RuleTable:
    counter = [0]
    sets = tuple(draw(st.lists(rule_sets(fmt, counter), min_size=1, max_size=4)))
    return RuleTable(binary_version=word, schema_version=draw(schemas), rule_sets=sets)


@pytest.mark.parametrize(("word", "fmt", "schemas"), WRITERS, ids=lambda v: v.name if isinstance(v, BlobFormat)
                         else f"{v:#x}" if isinstance(v, int) else "")
@given(data=st.data())
@SYMMETRY
def test_each_format_decodes_what_it_encodes_and_encodes_what_it_decodes(
        word: int, fmt: BlobFormat, schemas: st.SearchStrategy[int], data: st.DataObject) -> None:
    table = data.draw(tables(word, fmt, schemas))
    blob = encode_table(table, fmt=fmt)
    decoded = decode_blob(blob)
    assert decoded.fmt == fmt
    assert decoded.table == table
    assert encode_table(decoded.table, fmt=decoded.fmt) == blob


def test_the_filter_branch_of_encode_table_runs_with_aggregations() -> None:
    """A fixed example with named filters inside and outside <Rule>s and a filterless <Rule>."""
    table = RuleTable(layout.BINARY_18, layout.version_word(4, 90), (RuleSet(1, 1, 1, (
        RuleFilter(4, 10, "\\cmd.exe", "shells"), RuleFilter(10, 2, "-enc", "ps", 1), RuleFilter(4, 0, "x", "", 1)),
        (Aggregation(1, "encoded", 1), Aggregation(2, "empty", 0))),))
    blob = encode_table(table)
    decoded = decode_blob(blob)
    assert decoded.table == table and decoded.order == ((("f", 0), ("a", 0), ("f", 1), ("f", 2), ("a", 1)),)
