"""Properties: the compiler is deterministic and total on accepted configs; the decoder fails only
with BlobFormatError on mutated real blobs. ``SYSMON_RULES_FUZZ_EXAMPLES`` raises the case count
(the bench/nightly target uses 20,000)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import SHARED
from sysmon_rules import BlobFormatError, SysmonRulesError, loads
from sysmon_rules.blob.compile import compile_config
from sysmon_rules.blob.decode import decode, decode_blob
from sysmon_rules.blob.dump import dump_json, dump_text
from sysmon_rules.blob.reconstruct import rebuild
from sysmon_rules.model import Config, EventRules, Filter, Rule, RuleGroup
from sysmon_rules.schema import CONDITIONS, newest
from sysmon_rules.xml.writer import to_xml

EXAMPLES = int(os.environ.get("SYSMON_RULES_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Each compile case parses and validates XML (~70 ms): a tenth of the decoder's count.
FUZZ_COMPILE = settings(max_examples=max(100, EXAMPLES // 10), deadline=None,
                        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
SEEDS = ["include_lsass_access.xml.bin", "reg-subrules.xml.bin", "include_office_macros.xml.bin",
         "exclude_all.xml.bin", "emptyfields.xml.bin"]
SEED_BLOBS = [(SHARED / "conformance" / "compile" / n).read_bytes() for n in SEEDS] if SHARED else []

_SCHEMA = newest("windows")
_ELEMENTS = sorted(_SCHEMA.rule_elements)
_FIELDS = sorted({f.name for events in _SCHEMA.rule_elements.values() for e in events for f in e.fields})
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


_FILTERS = st.builds(Filter, field=st.sampled_from(_FIELDS), value=_TEXT,
                     condition=st.one_of(st.none(), st.sampled_from(CONDITIONS)),
                     name=st.one_of(st.none(), _TEXT))
_ITEMS = st.one_of(_FILTERS, st.builds(Rule, filters=st.lists(_FILTERS, max_size=3).map(tuple),
                                       group_relation=st.sampled_from([None, "and", "or"]),
                                       name=st.one_of(st.none(), _TEXT)))
_EVENTS = st.builds(EventRules, element=st.sampled_from(_ELEMENTS), items=st.lists(_ITEMS, max_size=4).map(tuple),
                    onmatch=st.sampled_from(["include", "exclude"]))
_NODES = st.one_of(_EVENTS, st.builds(RuleGroup, events=st.lists(_EVENTS, min_size=1, max_size=2).map(tuple),
                                      group_relation=st.sampled_from(["and", "or"]),
                                      name=st.one_of(st.none(), _TEXT)))
_CONFIGS = st.builds(Config, schema_version=st.sampled_from(["4.90", "4.50", "4.22", "4.1"]),
                     filtering=st.lists(_NODES, max_size=4).map(tuple))


@FUZZ_COMPILE
@given(_CONFIGS)
def test_compile_is_deterministic_and_total_on_accepted_configs(config: Config) -> None:
    try:
        loaded = loads(to_xml(config), sysmon_compatible=True)
    except SysmonRulesError:
        assume(False)
        return
    assert loaded == config  # the writer's escaping: load reads back exactly what was written
    first = compile_config(loaded)
    second = compile_config(loaded)
    assert first.data == second.data
    assert decode(first.data).rule_sets == first.table.rule_sets if first.data else True


def test_fuzz_seeds_exist(shared_dir: Path) -> None:
    assert all((shared_dir / "conformance" / "compile" / n).exists() for n in SEEDS)
