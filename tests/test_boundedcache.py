"""Caches keyed by content are bounded by what they hold: a long-lived process deciding many
distinct configs stays within the budget, whatever the size of each."""

from __future__ import annotations

import random
import re
import string
from unittest import mock

import sysmon_rules as sr
from sysmon_rules.boundedcache import BoundedCache, text_cost
from sysmon_rules.engine import index


def _square(x: int) -> int:
    return x * x


def test_least_recently_used_entries_go_once_the_budget_is_passed() -> None:
    cache = BoundedCache(_square, 30, lambda key, result: 10)
    for x in (1, 2, 3):
        cache(x)
    cache(1)  # used again: 2 is now the oldest
    cache(4)
    assert len(cache) == 3 and cache.cost == 30
    calls: list[int] = []
    counted = BoundedCache(lambda x: calls.append(x) or x, 30, lambda key, result: 10)
    for x in (1, 2, 3, 1, 4, 1, 2):
        counted(x)
    assert calls == [1, 2, 3, 4, 2]  # 1 kept while used; 2 dropped for 4, computed again


def test_an_entry_over_the_whole_budget_is_computed_and_not_kept() -> None:
    cache = BoundedCache(str.upper, 100, text_cost)
    assert cache("a" * 1000) == "A" * 1000
    assert len(cache) == 0 and cache.cost == 0


def _pattern(rng: random.Random) -> str:
    return "|".join("".join(rng.choices(string.ascii_lowercase, k=20)) for _ in range(600))


def test_dropped_regexes_are_freed_not_kept_by_res_own_cache() -> None:
    rng = random.Random(5)
    patterns = [_pattern(rng) for _ in range(16)]  # 12,600 characters each
    cache = BoundedCache(re.compile, 1 << 20, text_cost, regexes=True)
    first = cache(patterns[0])
    for pattern in patterns[1:]:
        cache(pattern)
    assert cache.cost <= 1 << 20 and len(cache) < len(patterns)
    # re.compile answers from re's own cache while it holds a pattern: a new object means the
    # dropped one is held by nobody
    assert re.compile(patterns[0]) is not first


def test_deciding_many_distinct_configs_keeps_the_matcher_cache_within_budget() -> None:
    rng = random.Random(9)
    event = sr.Event(1, {"CommandLine": "cmd /c whoami"})
    index._matcher.cache_clear()
    with mock.patch.object(index._matcher, "budget", 2 << 20):  # the default's 64 MiB: 30 times the configs
        for _ in range(12):
            words = {"".join(rng.choices(string.ascii_lowercase, k=rng.randint(8, 30))) for _ in range(800)}
            xml = ('<Sysmon schemaversion="4.90"><EventFiltering><RuleGroup groupRelation="or">'
                   '<ProcessCreate onmatch="include">'
                   + "".join(f'<CommandLine condition="contains">{w}</CommandLine>' for w in words)
                   + "</ProcessCreate></RuleGroup></EventFiltering></Sysmon>")
            assert sr.Evaluator(sr.loads(xml)).decide(event).decision == "exclude"
        assert 0 < index._matcher.cost <= 2 << 20
        assert 0 < len(index._matcher) < 12


def test_watching_sees_every_call_hit_or_miss_and_put_is_a_call_made_elsewhere() -> None:
    calls: list[int] = []
    cache = BoundedCache(lambda x: calls.append(x) or x * x, 30, lambda key, result: 10)
    cache(1)
    with cache.watching() as seen:
        cache(1)  # a hit
        cache(2)  # a miss
    cache(3)  # after the block: not seen
    assert seen == {(1,): 1, (2,): 4} and calls == [1, 2, 3]
    cache.put((5,), 99)  # as if computed: the next call is a hit
    assert cache(5) == 99 and calls == [1, 2, 3]
    assert len(cache) == 3 and cache.cost == 30  # put keeps the budget too (1 went, the oldest)


def test_watchers_that_saw_the_same_calls_end_each_its_own() -> None:
    """Two runs watching at once (a Dask worker's threads loading one config) see the same calls:
    the one that ends first stops its own watching, not the other's, whose dict is equal."""
    cache = BoundedCache(lambda x: x * x, 1000, lambda key, result: 10)
    with cache.watching() as first:
        with cache.watching() as second:
            cache(1)
        assert first == second == {(1,): 1}
        cache(2)  # the first still watches
    assert first == {(1,): 1, (2,): 4} and second == {(1,): 1}
