"""A least-recently-used cache bounded by what its entries hold, not by how many there are.

``functools.lru_cache(maxsize=N)`` bounds the count: a cache keyed by config content (a set's
strings, a pattern) holds N entries of any size, so a long-lived process that decides thousands
of distinct configs grew past 1 GB. Here each entry has a cost (an estimate of its bytes, from
its key and value) and the least recently used entries go once the total passes ``budget``; an
entry costing more than the whole budget is computed and not kept.

A cached compiled regex is also kept by ``re``'s own cache (the last 512 patterns compiled, of any
size), so dropping it frees nothing: a cache of regexes (``regexes=True``) empties ``re``'s cache
(``re.purge``, public) when it drops entries, and ``re`` compiles its small patterns again on use.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from functools import update_wrapper
from typing import Any, Generic, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class BoundedCache(Generic[P, R]):
    """``function`` with its results kept while their total ``cost(args, result)`` fits ``budget``."""

    def __init__(self, function: Callable[P, R], budget: int, cost: Callable[[tuple[Hashable, ...], R], int],
                 *, regexes: bool = False) -> None:
        self.__wrapped__ = function
        self.budget = budget
        self.regexes = regexes
        self._cost = cost
        self._entries: OrderedDict[tuple[Hashable, ...], tuple[R, int]] = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()  # the engine is used from reader threads too
        self._watchers: list[dict[tuple[Hashable, ...], R]] = []
        update_wrapper(self, function)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        key: tuple[Hashable, ...] = (args, tuple(sorted(kwargs.items()))) if kwargs else args
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                for seen in self._watchers:
                    seen[key] = found[0]
                return found[0]
        result = self.__wrapped__(*args, **kwargs)
        self.put(key, result)
        return result

    def put(self, key: tuple[Hashable, ...], result: R) -> None:
        """Keep ``result`` as the value of the call whose arguments are ``key`` (a positional
        call's key is its arguments' tuple): for a caller that has it already, from a file."""
        cost = self._cost(key, result)
        dropped = cost > self.budget
        with self._lock:
            for seen in self._watchers:
                seen[key] = result
            if not dropped and key not in self._entries:
                self._entries[key] = (result, cost)
                self._total += cost
                while self._total > self.budget:
                    _, (_, freed) = self._entries.popitem(last=False)
                    self._total -= freed
                    dropped = True
        if dropped and self.regexes:
            re.purge()

    @contextmanager
    def watching(self) -> Iterator[dict[tuple[Hashable, ...], R]]:
        """Every call's key and value while the block runs, kept or not (what a run used)."""
        seen: dict[tuple[Hashable, ...], R] = {}
        with self._lock:
            self._watchers.append(seen)
        try:
            yield seen
        finally:
            with self._lock:  # this very dict: another run's may be equal to it (list.remove compares)
                self._watchers = [other for other in self._watchers if other is not seen]

    @property
    def cost(self) -> int:
        """The estimated bytes held now (never above ``budget``)."""
        return self._total

    def __len__(self) -> int:
        return len(self._entries)

    def cache_clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._total = 0


def bounded_cache(budget: int, cost: Callable[[tuple[Hashable, ...], Any], int], *, regexes: bool = False
                  ) -> Callable[[Callable[P, R]], BoundedCache[P, R]]:
    """``@bounded_cache(64 << 20, cost=...)``: :class:`BoundedCache` as a decorator."""

    def wrap(function: Callable[P, R]) -> BoundedCache[P, R]:
        return BoundedCache(function, budget, cost, regexes=regexes)

    return wrap


def text_cost(key: tuple[Hashable, ...], _result: object) -> int:
    """An entry that holds about what its text key holds (a compiled pattern of that text):
    its characters times a compiled regex's bytes per character, and a fixed overhead."""
    return 1024 + 16 * sum(len(part) for part in _texts(key))


def _texts(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, tuple | frozenset):
        return [text for item in value for text in _texts(item)]
    return []
