"""Properties: the compiler is deterministic and total on accepted configs; the decoder fails only
with BlobFormatError on mutated real blobs. ``SYSMON_RULES_FUZZ_EXAMPLES`` raises the case count
(the bench/nightly target uses 20,000)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SHARED
from sysmon_rules import BlobFormatError, iter_errors, loads
from sysmon_rules.blob.compile import compile_config
from sysmon_rules.blob.decode import decode, decode_blob
from sysmon_rules.blob.dump import dump_json, dump_text
from sysmon_rules.blob.reconstruct import rebuild
from sysmon_rules.model import Config, EventRules, Filter, Rule, RuleGroup
from sysmon_rules.schema import CONDITIONS, SchemaVersion, dtd_schema_for, parse_version
from sysmon_rules.xml.writer import to_xml

EXAMPLES = int(os.environ.get("SYSMON_RULES_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Each compile case parses and validates XML (~70 ms): a tenth of the decoder's count.
FUZZ_COMPILE = settings(max_examples=max(100, EXAMPLES // 10), deadline=None,
                        suppress_health_check=[HealthCheck.too_slow])
SEEDS = ["include_lsass_access.xml.bin", "reg-subrules.xml.bin", "include_office_macros.xml.bin",
         "exclude_all.xml.bin", "emptyfields.xml.bin"]
SEED_BLOBS = [(SHARED / "conformance" / "compile" / n).read_bytes() for n in SEEDS] if SHARED else []

# Text XML can carry (no control characters but tab and newline; CR is written as &#13;).
_TEXT = st.text(st.one_of(st.characters(blacklist_categories=("Cs", "Cc", "Cn")), st.sampled_from("\t\n\r")),
                max_size=12)


def _mutate(blob: bytes, data: st.DataObject) -> bytes:
    buf = bytearray(blob)
    for _ in range(data.draw(st.integers(1, 6))):
        kind = data.draw(st.sampled_from(["flip", "word", "cut", "insert"]))
        if not buf:
            break
        at = data.draw(st.integers(0, len(buf) - 1))
        if kind == "flip":
            buf[at] ^= 1 << data.draw(st.integers(0, 7))
        elif kind == "word" and at + 4 <= len(buf):
            value = data.draw(st.sampled_from([0, 1, 2, 24, len(buf), len(buf) + 4, 0xFFFFFFFF, at & ~7]))
            buf[at:at + 4] = value.to_bytes(4, "little")
        elif kind == "cut":
            del buf[at:]
        else:
            buf[at:at] = data.draw(st.binary(min_size=1, max_size=16))
    return bytes(buf)


@pytest.mark.skipif(not SEED_BLOBS, reason="needs ../shared")
@FUZZ
@given(st.data())
def test_decoding_mutated_blobs_raises_only_blob_format_error(data: st.DataObject) -> None:
    blob = _mutate(data.draw(st.sampled_from(SEED_BLOBS)), data)
    try:
        decoded = decode_blob(blob)
    except BlobFormatError as exc:
        assert exc.offset >= 0 and exc.struct
        return
    assert decoded.table == decode(blob)
    dump_text(blob)
    dump_json(blob)
    config, notes = rebuild(decoded)
    to_xml(config, notes=notes)


@FUZZ
@given(st.binary(max_size=200))
def test_decoding_random_bytes_raises_only_blob_format_error(blob: bytes) -> None:
    with contextlib.suppress(BlobFormatError):
        decode(b"\x00\x00\x12\x00" + blob)


def _events(schema: SchemaVersion) -> st.SearchStrategy[EventRules]:
    """Elements of ``schema`` whose fields its DTD allows (any event id of the element's series,
    so "Incorrect field" drops still happen); the configs are drawn valid, not filtered."""

    @st.composite
    def draw(draw: st.DrawFn) -> EventRules:
        element = draw(st.sampled_from(sorted(schema.rule_elements)))
        fields = sorted({f.name for e in schema.rule_elements[element] for f in e.fields})
        filters = st.builds(Filter, field=st.sampled_from(fields), value=_TEXT,
                            condition=st.one_of(st.none(), st.sampled_from(CONDITIONS)),
                            name=st.one_of(st.none(), _TEXT))
        items = st.one_of(filters, st.builds(Rule, filters=st.lists(filters, max_size=3).map(tuple),
                                             group_relation=st.sampled_from([None, "and", "or"]),
                                             name=st.one_of(st.none(), _TEXT)))
        return EventRules(element, tuple(draw(st.lists(items, max_size=4))),
                          onmatch=draw(st.sampled_from(["include", "exclude", "include", None])),
                          default=draw(st.sampled_from([None, None, None, "exclude"])))

    return draw()


@st.composite
def _configs(draw: st.DrawFn) -> Config:
    version = draw(st.sampled_from(["4.90", "4.50", "4.22", "4.1"]))
    events = _events(dtd_schema_for(parse_version(version) or 0, "windows"))  # no Linux-only eBPFEvent
    nodes = st.one_of(events, st.builds(RuleGroup, events=st.lists(events, min_size=1, max_size=2).map(tuple),
                                        group_relation=st.sampled_from(["and", "or"]),
                                        name=st.one_of(st.none(), _TEXT)))
    return Config(schema_version=version, filtering=tuple(draw(st.lists(nodes, max_size=4))))


@FUZZ_COMPILE
@given(_configs())
def test_compile_is_deterministic_and_total_on_accepted_configs(config: Config) -> None:
    loaded = loads(to_xml(config), sysmon_compatible=True)
    assert loaded == config  # the writer's escaping: load reads back exactly what was written
    first = compile_config(loaded)
    second = compile_config(loaded)
    assert first.data == second.data
    assert bool(first.data) == bool(first.table.rule_sets)  # no rule set survived: Sysmon builds no blob
    # One walk, one set of messages: what the compiler warns about is what validation reports.
    walk_codes = {"incorrect-field", "dropped-element", "missing-onmatch", "onmatch-and-default"}
    validated = {(d.code, d.message, d.location) for d in iter_errors(to_xml(config).encode(), sysmon_compatible=True)
                 if d.code in walk_codes}
    assert {(w.code, w.message, w.location) for w in first.warnings if w.code != "old-format"} == validated
    if first.data:
        assert decode(first.data).rule_sets == first.table.rule_sets


def test_fuzz_seeds_exist(shared_dir: Path) -> None:
    assert all((shared_dir / "conformance" / "compile" / n).exists() for n in SEEDS)
