"""The entry points kept between runs (collectors.plugins): always what importlib.metadata finds."""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

import pytest

from sysmon_rules import diskcache
from sysmon_rules.collectors import plugins
from sysmon_rules.collectors.registry import GROUP

PLUGINS = Path(__file__).parent / "plugins"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(diskcache.CACHE_ENV, str(folder))
    return folder


def _searched(group: str) -> list[tuple[str, str]]:
    return [(ep.name, ep.value) for ep in importlib.metadata.entry_points(group=group)]


def _no_search(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(**params: object) -> None:
        raise AssertionError("searched although the cache holds the answer")

    monkeypatch.setattr(importlib.metadata, "entry_points", refuse)


def _install(site: Path, entry_points: str) -> Path:
    info = site / "sysmon_csv-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: sysmon-csv\nVersion: 0.1\n", "utf-8")
    (info / "entry_points.txt").write_text(entry_points, "utf-8")
    return info


@pytest.mark.parametrize("group", [GROUP, "console_scripts", "pytest11", "no such group"])
def test_a_second_search_comes_from_the_cache_and_equals_importlib_metadata(
        cache: Path, monkeypatch: pytest.MonkeyPatch, group: str) -> None:
    expected = _searched(group)
    assert plugins.entry_points(group) == expected
    assert len(list(cache.glob("entry-points-*.marshal"))) == 1
    _no_search(monkeypatch)
    assert plugins.entry_points(group) == expected


def test_installing_changing_and_removing_a_plugin_is_seen(cache: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.syspath_prepend(str(PLUGINS))
    before = plugins.entry_points(GROUP)
    assert ("csv", "sysmon_csv:CsvCollector") not in before
    info = _install(site, f"[{GROUP}]\ncsv = sysmon_csv:CsvCollector\n")
    assert plugins.entry_points(GROUP) == _searched(GROUP)
    assert plugins.entry_points(GROUP)[0] == ("csv", "sysmon_csv:CsvCollector")  # first on sys.path
    (info / "entry_points.txt").write_text(f"[{GROUP}]\ncsv = sysmon_csv:CsvCollector\nbad = sysmon_csv:Missing\n",
                                           "utf-8")  # edited in place
    assert plugins.entry_points(GROUP) == _searched(GROUP)
    assert ("bad", "sysmon_csv:Missing") in plugins.entry_points(GROUP)
    for child in info.iterdir():
        child.unlink()
    info.rmdir()
    assert plugins.entry_points(GROUP) == before
    sys.modules.pop("sysmon_csv", None)


def test_another_finder_that_lists_distributions_turns_the_cache_off(cache: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    class Finder:
        @staticmethod
        def find_spec(*args: object) -> None:
            return None

        @staticmethod
        def find_distributions(*args: object) -> list[object]:
            return []

    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, Finder()])
    assert plugins.entry_points(GROUP) == _searched(GROUP)
    assert not list(cache.glob("entry-points-*.marshal"))


def test_a_damaged_cache_file_is_searched_again(cache: Path) -> None:
    expected = plugins.entry_points(GROUP)
    (path,) = cache.glob("entry-points-*.marshal")
    for damaged in (path.read_bytes()[:-3], b"", b"x" * 64):
        path.write_bytes(damaged)
        assert plugins.entry_points(GROUP) == expected
    diskcache.write_cached(path, [("evtx", 5)])  # checks out, but not entry points
    assert plugins.entry_points(GROUP) == expected


def test_load_finds_what_importlib_metadata_loads() -> None:
    for ep in importlib.metadata.entry_points(group=GROUP):
        assert plugins.load(ep.value) is ep.load()
    assert plugins.load("os.path:join") is __import__("os").path.join
    assert plugins.load("os.path") is __import__("os").path
    assert plugins.load("sysmon_rules.collectors : registry.GROUP") == GROUP
    with pytest.raises(ModuleNotFoundError):
        plugins.load("no_such_module_here:x")
    with pytest.raises(AttributeError):
        plugins.load("os:no_such_attribute")
    with pytest.raises(ValueError, match="not an entry point"):
        plugins.load("not a value!")
