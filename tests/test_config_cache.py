"""The compiled-config cache (replaying.configcache): a warm load is the load, or is not used.

Every config of the corpus and of Sysmon's conformance tables is loaded three ways: with the
cache off, cold (loaded and written) and warm (read back, with the index's matchers dropped from
memory first, so the regexes come from their saved programs). The three evaluators must hold the
same table with the same locations and decide events built from the config's own values the same
way, one by one, in batches and explained. A damaged, foreign or stale cache file is never read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from conftest import SHARED
from sysmon_rules import diskcache
from sysmon_rules.cli import main
from sysmon_rules.collectors.arrow import to_batch
from sysmon_rules.engine import Evaluator, index
from sysmon_rules.engine.regexdata import from_data
from sysmon_rules.events import Event
from sysmon_rules.replaying import ConfigLoadError, configcache, evaluator_from, load_evaluator
from sysmon_rules.schema import newest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
MODULAR = "corpus/configs/sysmon-modular/sysmonconfig.xml"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(diskcache.CACHE_ENV, str(folder))
    return folder


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("config-*.marshal"))


def _events(evaluator: Evaluator) -> list[Event]:
    """Events made of the config's own values: each filter's value as it is, in other case and
    inside a longer value, in its set's event id and in every id that shares the set."""
    schema = newest(evaluator.platform)
    events = []
    for rule_set in evaluator.table.rule_sets:
        for event_id in evaluator.sharing_sets_with(rule_set.event_id) or [rule_set.event_id]:
            fields = schema.events_by_id[event_id].field_names if event_id in schema.events_by_id else ()
            for flt in rule_set.filters:
                name = fields[flt.field_id] if flt.field_id < len(fields) else None
                if name is None or name == "RuleName":
                    continue
                for value in (flt.value, flt.value.swapcase(), f"x\\{flt.value}\\y"):
                    events.append(Event(event_id, {name: value}))
    return events


def _locations(evaluator: Evaluator) -> list[str]:
    return [str(s.location) for s in evaluator.table.rule_sets] + \
        [str(f.location) for s in evaluator.table.rule_sets for f in s.filters]


def _same(fresh: Evaluator, other: Evaluator) -> None:
    assert other.table == fresh.table
    assert _locations(other) == _locations(fresh)
    events = _events(fresh)
    assert [other.decide(e) for e in events] == [fresh.decide(e) for e in events]
    explained = events[:: max(1, len(events) // 60)]  # an explanation walks every set: 60 or so per config
    assert [str(other.explain(e).trace) for e in explained] == [str(fresh.explain(e).trace) for e in explained]
    if events:
        batch = to_batch(events)
        assert other.decide_batch(batch).equals(fresh.decide_batch(batch))


def _three_ways(path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch, **options: Any) -> None:
    monkeypatch.setenv(diskcache.CACHE_ENV, "")
    fresh = load_evaluator(path, **options)
    monkeypatch.setenv(diskcache.CACHE_ENV, str(cache))
    cold = load_evaluator(path, **options)
    before = _entries(cache)
    index._matcher.cache_clear()  # the warm load's regexes come from the file, not from memory
    with _no_loading():
        warm = load_evaluator(path, **options)
    assert _entries(cache) == before
    _same(fresh, cold)
    _same(fresh, warm)


@contextmanager
def _no_loading() -> Iterator[None]:
    """Loading the rules refused: what is built comes from the cache file."""
    import sysmon_rules.rulesource

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("loaded although the cache holds this config")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sysmon_rules.rulesource, "load_rules", refuse)
        yield


def _corpus(shared: Path | None) -> Iterator[Any]:
    if shared is None:
        return
    expected = dict(line.split("\t")[:2] for line in (shared / "corpus" / "configs" / "EXPECTED.tsv")
                    .read_text("utf-8").splitlines()[1:])
    for name, verdict in sorted(expected.items()):
        yield pytest.param(name, verdict, id=name)


CORPUS = list(_corpus(SHARED))


def test_corpus_present(shared_dir: Path) -> None:
    assert len(CORPUS) >= 400


@pytest.mark.parametrize(("name", "verdict"), CORPUS)
def test_every_corpus_config_warm_equals_uncached(shared_dir: Path, cache: Path, monkeypatch: pytest.MonkeyPatch,
                                                  name: str, verdict: str) -> None:
    path = shared_dir / "corpus" / "configs" / name
    if verdict != "valid":
        _refused_and_never_cached(path, cache, monkeypatch)
        return
    _three_ways(path, cache, monkeypatch)
    assert len(_entries(cache)) == 1


def _refused_and_never_cached(path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(diskcache.CACHE_ENV, "")
    with pytest.raises(ConfigLoadError) as uncached:
        load_evaluator(path)
    monkeypatch.setenv(diskcache.CACHE_ENV, str(cache))
    for _ in range(2):
        with pytest.raises(ConfigLoadError) as cached:
            load_evaluator(path)
        assert [str(d) for d in cached.value.as_diagnostics()] == [str(d) for d in uncached.value.as_diagnostics()]
    assert _entries(cache) == []


def _conformance(shared: Path | None) -> list[dict[str, Any]]:
    if shared is None:
        return []
    lines = (shared / "conformance" / "evaluate" / "cases.jsonl").read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.mark.parametrize("case", _conformance(SHARED), ids=lambda c: c["id"])
def test_every_conformance_config_warm_equals_uncached(shared_dir: Path, cache: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch, case: dict[str, Any]) -> None:
    path = tmp_path / "case.xml"
    path.write_text(case["config_xml"], "utf-8")
    platforms = ["windows", "linux"] if case["platform"] == "all" else ["windows"]
    for platform in platforms:
        _three_ways(path, cache, monkeypatch, platform=platform, environment=case.get("environment"))
    assert len(_entries(cache)) == len(platforms)  # the platform is part of the key
    events = [Event(e["event_id"], e["fields"]) for e in case["events"]]
    warm = load_evaluator(path, environment=case.get("environment"))
    assert [(d.decision, d.rule_name or "") for d in map(warm.decide, events)] == \
        [(e["expected"], e.get("expected_rule_name") or "") for e in case["events"]]


def test_every_saved_regex_program_is_the_regex_compiled_from_its_text(shared_dir: Path, cache: Path) -> None:
    load_evaluator(shared_dir / MODULAR)
    (entry,) = _entries(cache)
    saved = diskcache.read_cached(entry)
    assert isinstance(saved, dict) and len(saved["matchers"]) > 50
    import re

    for _words, _relation, program, text, _implied in saved["matchers"]:
        assert program is not None
        assert from_data(program) == re.compile(text)  # a Pattern's equality compares its program


WARNED = """<Sysmon schemaversion="4.90"><EventFiltering>
<RuleGroup groupRelation="or"><ProcessCreate onmatch="include"><Image condition="end with">\\cmd.exe</Image>
</ProcessCreate></RuleGroup>
<RuleGroup groupRelation="or"><ProcessCreate><Image condition="is">x</Image></ProcessCreate></RuleGroup>
</EventFiltering></Sysmon>"""  # an element without onmatch: an error, a warning with --sysmon-compatible


@pytest.mark.parametrize("config", ["sysmon-modular", "warned"])
def test_the_cli_says_the_same_cold_warm_and_off(shared_dir: Path, cache: Path, tmp_path: Path, config: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path = shared_dir / MODULAR
    if config == "warned":
        path = tmp_path / "warned.xml"
        path.write_text(WARNED, "utf-8")
    args = ["evaluate", str(path), str(EXAMPLES / "events.jsonl"), "--sysmon-compatible"]
    outputs = []
    for setting in ("", str(cache), str(cache)):
        monkeypatch.setenv(diskcache.CACHE_ENV, setting)
        index._matcher.cache_clear()
        runs = [CliRunner().invoke(main, [*args, *fmt])
                for fmt in (["--format", "jsonl"], ["--explain=full"], ["--format", "json"])]
        assert all(r.exit_code == 0 for r in runs), [r.output for r in runs]
        outputs.append([(r.stdout_bytes, r.stderr_bytes) for r in runs])
    assert outputs[0] == outputs[1] == outputs[2]
    assert len(_entries(cache)) == 1
    if config != "warned":
        return
    monkeypatch.setenv(diskcache.CACHE_ENV, str(cache))
    refused = [CliRunner().invoke(main, [*args[:-1], "--format", "jsonl"]) for _ in range(2)]  # no --sysmon-compatible
    assert [r.exit_code for r in refused] == [2, 2]
    assert refused[0].stderr_bytes == refused[1].stderr_bytes
    assert len(_entries(cache)) == 1


@pytest.mark.parametrize("damage", ["truncated", "garbage", "flipped", "empty", "other format", "wrong types",
                                    "not marshal", "folder"])
def test_a_damaged_or_foreign_entry_is_ignored_and_rewritten(cache: Path, damage: str) -> None:
    path = EXAMPLES / "sysmonconfig.xml"
    fresh = load_evaluator(path)
    (entry,) = _entries(cache)
    good = entry.read_bytes()
    data = diskcache.read_cached(entry)
    assert isinstance(data, dict)
    if damage == "truncated":
        entry.write_bytes(good[: len(good) // 2])
    elif damage == "garbage":
        entry.write_bytes(b"\x00garbage" * 1000)
    elif damage == "flipped":
        entry.write_bytes(good[:500] + bytes([good[500] ^ 0x40]) + good[501:])
    elif damage == "empty":
        entry.write_bytes(b"")
    elif damage == "other format":  # checks out, but not what this code writes
        diskcache.write_cached(entry, {**data, "format": 0})
    elif damage == "wrong types":
        table = list(data["table"])
        table[2] = [("x", *table[2][0][1:])]
        diskcache.write_cached(entry, {**data, "table": tuple(table)})
    elif damage == "not marshal":
        import hashlib

        entry.write_bytes(hashlib.sha256(b"\xff\xfe").digest() + b"\xff\xfe")
    else:
        entry.unlink()
        entry.mkdir()  # cannot be read: a miss; cannot be replaced: loading each time
    index._matcher.cache_clear()
    again = load_evaluator(path)
    _same(fresh, again)
    if damage != "folder":
        assert diskcache.read_cached(entry) == data  # rebuilt whole
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_a_folder_that_cannot_be_written_means_loading_each_time(shared_dir: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(diskcache.CACHE_ENV, "")
    fresh = load_evaluator(shared_dir / MODULAR)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(diskcache.CACHE_ENV, str(blocker / "cache"))
    for _ in range(2):
        _same(fresh, load_evaluator(shared_dir / MODULAR))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_the_cache_can_be_turned_off(shared_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(diskcache.CACHE_ENV, "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    load_evaluator(shared_dir / MODULAR)
    assert not any(tmp_path.iterdir())


def test_an_edited_config_is_loaded_not_read_stale(cache: Path, tmp_path: Path) -> None:
    path = tmp_path / "config.xml"
    before = '<Sysmon schemaversion="4.90"><EventFiltering><RuleGroup groupRelation="or">' \
             '<ProcessCreate onmatch="include"><Image name="a" condition="end with">\\cmd.exe</Image>' \
             '</ProcessCreate></RuleGroup></EventFiltering></Sysmon>'
    event = Event(1, {"Image": "C:\\Windows\\cmd.exe"})
    path.write_text(before, "utf-8")
    assert load_evaluator(path).decide(event).rule_name == "a"
    assert load_evaluator(path).decide(event).rule_name == "a"  # warm
    path.write_text(before.replace('name="a"', 'name="b"'), "utf-8")
    assert load_evaluator(path).decide(event).rule_name == "b"
    path.write_text(before.replace("cmd.exe", "pwsh.exe"), "utf-8")
    assert load_evaluator(path).decide(event).decision == "exclude"
    assert len(_entries(cache)) == 3


def test_options_and_code_are_part_of_the_key_and_the_file_name_is_not(shared_dir: Path, cache: Path,
                                                                        tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    path = shared_dir / MODULAR
    load_evaluator(path)
    load_evaluator(path, sysmon_compatible=True)  # (the platform: the conformance test above)
    assert len(_entries(cache)) == 2
    copy = tmp_path / "renamed.xml"
    copy.write_bytes(path.read_bytes())
    index._matcher.cache_clear()
    with _no_loading():
        renamed = load_evaluator(copy)  # the same bytes: the same entry, named after the file given
    assert {s.location.path for s in renamed.table.rule_sets if s.location} == {str(copy)}
    assert len(_entries(cache)) == 2
    data = path.read_bytes()
    monkeypatch.setenv(diskcache.CACHE_ENV, "")
    unnamed = evaluator_from(data)
    monkeypatch.setenv(diskcache.CACHE_ENV, str(cache))
    for _ in range(2):  # bytes without a name: an entry of their own, their locations without one
        index._matcher.cache_clear()
        _same(unnamed, evaluator_from(data))
    assert len(_entries(cache)) == 3
    monkeypatch.setattr(configcache, "_code_digest", lambda: "another release")
    load_evaluator(path)
    assert len(_entries(cache)) == 4


def test_the_code_digest_follows_every_module_schema_file_and_grammar(tmp_path: Path) -> None:
    package, schema = tmp_path / "pkg", tmp_path / "schema"
    (package / "engine" / "__pycache__").mkdir(parents=True)
    schema.mkdir()
    files = {package / "__init__.py": "", package / "engine" / "index.py": "A = 1\n",
             schema / "4.90.txt": "schema 4.90\n", schema / "schema.lark": "start: x\n"}
    for file, text in files.items():
        file.write_text(text, "utf-8")
    first = configcache.files_digest([package, schema])
    assert first is not None
    (package / "engine" / "__pycache__" / "index.cpython-311.pyc").write_bytes(b"bytecode")
    assert configcache.files_digest([package, schema]) == first  # bytecode is not the code
    for file, text in files.items():
        file.write_text(text + "# changed\n", "utf-8")
        assert configcache.files_digest([package, schema]) != first, file
        file.write_text(text, "utf-8")
    (package / "engine" / "index.py").rename(package / "engine" / "other.py")
    assert configcache.files_digest([package, schema]) != first  # a module renamed
    assert configcache._code_digest() is not None  # the installed package's own files all read


def test_only_the_most_recently_used_entries_are_kept(cache: Path, tmp_path: Path) -> None:
    path = tmp_path / "config.xml"
    template = '<Sysmon schemaversion="4.90"><EventFiltering><ProcessCreate onmatch="include">' \
               '<Image condition="is">{}</Image></ProcessCreate></EventFiltering></Sysmon>'
    path.write_text(template.format("first"), "utf-8")
    load_evaluator(path)
    (first,) = _entries(cache)
    for n in range(configcache._KEEP + 3):
        os.utime(first, ns=(0, 0))  # long ago, unless it is read again
        path.write_text(template.format("first"), "utf-8")
        load_evaluator(path)  # read: used just now
        path.write_text(template.format(n), "utf-8")
        load_evaluator(path)
    assert len(_entries(cache)) == configcache._KEEP and first in _entries(cache)
    assert os.stat(first).st_mtime_ns > 0
