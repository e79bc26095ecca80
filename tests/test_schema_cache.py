"""The schema statements cache: read only when it holds exactly what the files parse to."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from sysmon_rules.schema import SchemaRegistry, statements
from sysmon_rules.schema.statements import CACHE_ENV, parse, parse_all


def _texts() -> dict[str, str]:
    folder = resources.files("sysmon_rules.schema_data")
    return {p.name[:-4]: p.read_text("utf-8") for p in folder.iterdir() if p.name.endswith(".txt")}


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(folder))
    return folder


def _no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(text: str) -> list[statements.Statement]:
        raise AssertionError("parsed although the cache holds these files")

    monkeypatch.setattr(statements, "parse", refuse)


def test_a_second_read_comes_from_the_cache_and_equals_parsing(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = _texts()
    expected = {name: parse(text) for name, text in texts.items()}
    assert parse_all(texts) == expected
    assert len(list(cache.glob("schema-statements-*.marshal"))) == 1
    _no_parsing(monkeypatch)
    assert parse_all(texts) == expected


def test_every_version_built_from_the_cache_equals_one_built_by_parsing(cache: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, "")
    parsed = list(SchemaRegistry())
    monkeypatch.setenv(CACHE_ENV, str(cache))
    list(SchemaRegistry())  # fills the cache
    _no_parsing(monkeypatch)
    cached = list(SchemaRegistry())
    assert cached == parsed
    # attributes are left out of dataclass equality: the printer and DTD read them
    assert [[e.attributes for e in s.events] for s in cached] == [[e.attributes for e in s.events] for s in parsed]
    assert [[f.attributes for e in s.events for f in e.fields] for s in cached] == \
        [[f.attributes for e in s.events for f in e.fields] for s in parsed]
    assert [[o.attributes for o in s.options] for s in cached] == [[o.attributes for o in s.options] for s in parsed]


def test_a_changed_file_is_parsed_not_read_stale(cache: Path) -> None:
    texts = _texts()
    parse_all(texts)
    changed = dict(texts)
    changed["4.91"] = texts["4.91"].replace("option name=SigningQueueSize argument=required",
                                            "option name=SigningQueueSize argument=optional")
    assert changed != texts
    got = parse_all(changed)
    assert got["4.91"] == parse(changed["4.91"]) != parse(texts["4.91"])
    assert len(list(cache.glob("schema-statements-*.marshal"))) == 2


def test_a_damaged_or_foreign_cache_file_is_parsed_afresh(cache: Path) -> None:
    texts = _texts()
    expected = parse_all(texts)
    (path,) = cache.glob("schema-statements-*.marshal")
    data = path.read_bytes()
    for damaged in (data[:-1], data[:40] + bytes([data[40] ^ 1]) + data[41:], b"", b"x" * 100):
        path.write_bytes(damaged)
        assert parse_all(texts) == expected
        assert path.read_bytes() == data  # and rewritten whole
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_without_a_writable_folder_or_with_the_cache_off_it_still_parses(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    texts = {"4.91": _texts()["4.91"]}
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(CACHE_ENV, str(blocker / "cache"))
    assert parse_all(texts) == {"4.91": parse(texts["4.91"])}
    monkeypatch.setenv(CACHE_ENV, "")
    assert statements.cache_folder() is None
    assert parse_all(texts) == {"4.91": parse(texts["4.91"])}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_the_default_folder_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert statements.cache_folder() == tmp_path / "sysmon-rules"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert statements.cache_folder() == tmp_path / ".cache" / "sysmon-rules"
