"""decide_batch over Arrow tables equals decide() (and the plain reference engine) on every row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sysmon_rules as sr
from reference_engine import Reference
from sysmon_rules.collectors.arrow import to_batch
from sysmon_rules.engine.batch import rows
from sysmon_rules.errors import SysmonRulesError
from sysmon_rules.events import Event
from sysmon_rules.ruletable import RuleTable
from test_engine_corpus import CONFIGS, corpus_events
from test_engine_properties import environments, tables_and_events


def _table(events: list[Event], encode: list[bool]) -> pa.Table:
    """Events as columns: some dictionary-encoded, some plain strings, absent fields null."""
    names = sorted({n for e in events for n in e.fields})
    columns: dict[str, pa.Array] = {"EventID": pa.array([e.event_id for e in events], pa.int64())}
    for i, name in enumerate(names):
        array = pa.array([e.fields.get(name) for e in events], pa.string())
        columns[name] = array.dictionary_encode() if encode[i % len(encode)] else array
    return pa.table(columns)


@settings(max_examples=300, deadline=None)
@given(tables_and_events(), st.sampled_from(["windows", "linux"]), environments,
       st.lists(st.booleans(), min_size=1, max_size=4), st.integers(1, 3), st.randoms(use_true_random=False))
def test_batch_equals_decide_and_reference(drawn: tuple[RuleTable, list[Event]], platform: Any, env: Any,
                                           encode: list[bool], copies: int, rnd: Any) -> None:
    table, evs = drawn
    evs = evs * copies  # repeated values: the classes and signatures are shared across rows
    rnd.shuffle(evs)
    evaluator = sr.Evaluator(table, platform=platform, environment=env)
    got = list(rows(evaluator.decide_batch(_table(evs, encode))))
    assert got == [(d.decision, d.rule_name) for d in map(evaluator.decide, evs)]
    slow = Reference(table, platform, env)
    assert got == [slow.decide(e.event_id, e.fields) for e in evs]
    # Only the columns batch_fields() names (what a replay reads), by an evaluator that builds
    # its plans on first use (as a replay's does): the same decisions, one by one too.
    full = _table(evs, encode)
    lazy = sr.Evaluator(table, platform=platform, environment=env, eager=False)
    read = ["EventID", *(n for n in full.column_names if n in lazy.batch_fields())]
    assert list(rows(lazy.decide_batch(full.select(read)))) == got
    lazy = sr.Evaluator(table, platform=platform, environment=env, eager=False)
    assert [(d.decision, d.rule_name) for d in map(lazy.decide, evs)] == got
    # Again in batches of random sizes (a field's column absent from some), with the decisions
    # of signatures seen in earlier batches remembered: a fresh evaluator and a warm one alike.
    cuts = sorted(rnd.sample(range(1, len(evs)), min(3, len(evs) - 1))) if len(evs) > 1 else []
    pieces = [evs[a:b] for a, b in zip([0, *cuts], [*cuts, len(evs)], strict=True)]
    for decider in (sr.Evaluator(table, platform=platform, environment=env), evaluator):
        split = [r for piece in pieces for r in rows(decider.decide_batch(_table(piece, encode)))]
        assert split == got


@pytest.mark.parametrize("name", CONFIGS)
def test_batch_equals_decide_on_the_whole_corpus(shared_dir: Path, name: str) -> None:
    events = list(corpus_events())
    evaluator = sr.Evaluator(sr.load(shared_dir / "corpus" / "configs" / name))
    decided = [evaluator.decide(e) for e in events]
    # In the collectors' layout, in batches of uneven sizes (the value classes persist between them).
    result = pa.concat_tables(evaluator.decide_batch(to_batch(events[i:i + 700])) for i in range(0, len(events), 700))
    assert list(rows(result)) == [(d.decision, d.rule_name) for d in decided]
    index = {id(s): i for i, s in enumerate(evaluator.table.rule_sets)}
    assert result.column("rule_set").to_pylist() == [index.get(id(d.rule_set)) for d in decided]
    assert {d.decision for d in decided} == {"include", "exclude"}
    # Only the columns batch_fields() names (what a replay reads), by a fresh evaluator: the same.
    fresh = sr.Evaluator(sr.load(shared_dir / "corpus" / "configs" / name))
    batch = to_batch(events)
    read = ["EventID", *(n for n in batch.schema.names if n in fresh.batch_fields())]
    assert list(rows(fresh.decide_batch(batch.select(read)))) == list(rows(result))


def test_columns_of_other_types_and_chunked_tables_decide_alike() -> None:
    config = sr.loads(r"""<Sysmon schemaversion="4.90"><EventFiltering><RuleGroup groupRelation="or">
      <NetworkConnect onmatch="include"><DestinationPort name="rdp">3389</DestinationPort></NetworkConnect>
      </RuleGroup></EventFiltering></Sysmon>""")
    evaluator = sr.Evaluator(config)
    ports = pa.table({"EventID": pa.array([3, 3, 3, 1], pa.int8()), "DestinationPort": [3389, 80, None, 3389]})
    assert list(rows(evaluator.decide_batch(ports))) == [
        ("include", "rdp"), ("exclude", None), ("exclude", None), ("include", None)]
    chunked = pa.concat_tables([ports.slice(0, 1), ports.slice(1)])
    assert evaluator.decide_batch(chunked).to_pylist() == evaluator.decide_batch(ports.combine_chunks()).to_pylist()
    assert evaluator.decide_batch(ports.slice(0, 0)).num_rows == 0


def test_decisions_remembered_across_batches_follow_the_values_not_the_columns() -> None:
    """An absent field is the empty value: a later batch without the column must not reuse the
    decision of a value that tests otherwise (the remembered decisions are keyed by classes)."""
    config = sr.loads(r"""<Sysmon schemaversion="4.90"><EventFiltering><RuleGroup groupRelation="or">
      <ProcessCreate onmatch="include"><Image name="not-x" condition="is not">x.exe</Image></ProcessCreate>
      </RuleGroup></EventFiltering></Sysmon>""")
    evaluator = sr.Evaluator(config)
    batches = [pa.table({"EventID": [1, 1], "Image": ["x.exe", "X.EXE"]}), pa.table({"EventID": [1]}),
               pa.table({"EventID": [1, 1], "Image": [None, "x.exe"]}), pa.table({"EventID": [1], "User": ["u"]})]
    got = [r for batch in batches for r in rows(evaluator.decide_batch(batch))]
    events = [Event(1, {"Image": "x.exe"}), Event(1, {"Image": "X.EXE"}), Event(1, {}), Event(1, {}),
              Event(1, {"Image": "x.exe"}), Event(1, {"User": "u"})]
    assert got == [(d.decision, d.rule_name) for d in map(evaluator.decide, events)]
    assert got[0] == ("exclude", None) and got[2] == ("include", "not-x")


def test_a_batch_without_event_ids_is_a_clear_error() -> None:
    evaluator = sr.Evaluator(sr.loads('<Sysmon schemaversion="4.90"><EventFiltering/></Sysmon>'))
    with pytest.raises(SysmonRulesError, match="needs an 'EventID' column"):
        evaluator.decide_batch(pa.table({"Image": ["x"]}))
    with pytest.raises(SysmonRulesError, match=r"1 row\(s\) without an EventID"):
        evaluator.decide_batch(pa.table({"EventID": [1, None]}))
    with pytest.raises(SysmonRulesError, match="EventID column holds something other than integers"):
        evaluator.decide_batch(pa.table({"EventID": ["1", "x"]}))
    decided = evaluator.decide_batch(pa.table({"EventID": ["1", "3"]}))  # numbers as text, as a SIEM may keep them
    assert decided.column("decision").to_pylist() == ["include", "exclude"]
