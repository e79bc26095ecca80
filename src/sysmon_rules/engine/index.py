"""What makes evaluation fast: per-event-id plans and a candidate index over OR sets.

Sysmon walks every filter of a set in order. For an OR set the outcome (and the RuleName) is
decided by the first item that does not give NoMatch, and an item whose filters all give NoMatch
changes nothing. So a plan indexes, per field, the filters whose match can be found by lookup
(``is``, ``is any``, ``image``, ``begin with``, ``end with``, ``contains``/``contains any``/
``contains all``); a lookup miss proves NoMatch. Every other filter (negations, orderings,
unknown conditions) is a candidate on every event. Candidates are then walked in item order with
the exact semantics, so the shortcut never changes a result.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

from ..boundedcache import bounded_cache
from ..ruletable import COMBINE_AND, COMBINE_OR
from .compiled import CFilter, CGroup, CSet
from .conditions import (
    BEGIN_WITH,
    CONTAINS,
    CONTAINS_ALL,
    CONTAINS_ANY,
    END_WITH,
    IMAGE,
    IS,
    IS_ANY,
    list_needles,
    list_tokens,
)
from .decision import Decision
from .regexdata import RegexData, from_data, to_data

Hit = tuple[int, int]  # (set index in the plan, item index in the set)


@dataclass
class Probe:
    """Lookup structures for one field id of one plan.

    Prefixes, suffixes and needles each become one prefix-tree regex that finds the *longest*
    rule string at a position. Every shorter rule string that also applies is contained in that
    longest one (a shorter matching prefix is a prefix of the longest matching prefix; a needle
    starting at the same place is a prefix of the longest needle there), so each longest string
    maps to the hits of all rule strings it contains: exact, with one regex call.
    """

    field_id: int
    exact: dict[str, list[Hit]] = field(default_factory=dict)
    base: dict[str, list[Hit]] = field(default_factory=dict)  # image rules without a backslash
    prefixes: dict[str, list[Hit]] = field(default_factory=dict)
    suffixes: dict[str, list[Hit]] = field(default_factory=dict)  # keyed by the reversed suffix
    needles: dict[str, list[Hit]] = field(default_factory=dict)

    def register(self, flt: CFilter, hit: Hit) -> bool:
        """Index ``flt`` under ``hit``; False when it cannot be indexed (always a candidate)."""
        cond, data = flt.condition, flt.data
        if cond == IS or (cond == IMAGE and "\\" in data):
            self.exact.setdefault(data, []).append(hit)
        elif cond == IMAGE:
            self.base.setdefault(data, []).append(hit)
        elif cond == IS_ANY:
            for token in set(list_tokens(data)):
                self.exact.setdefault(token, []).append(hit)
        elif cond == BEGIN_WITH and data:
            self.prefixes.setdefault(data, []).append(hit)
        elif cond == END_WITH and data:
            self.suffixes.setdefault(data[::-1], []).append(hit)
        elif cond in (CONTAINS, CONTAINS_ANY, CONTAINS_ALL):
            needles = list_needles(data, every=cond == CONTAINS_ALL)
            if "" in needles:
                return False
            # contains all needs every needle: its longest one missing already proves NoMatch.
            chosen = [max(needles, key=len)] if cond == CONTAINS_ALL else sorted(set(needles))
            for needle in chosen:
                self.needles.setdefault(needle, []).append(hit)
        else:
            return False
        return True

    def row(self, name: str | None) -> Row:
        """The flat tuple ``Evaluator.decide`` unpacks for this field (see ``Row``)."""
        return (self.field_id, name, self.exact or None, self.base or None,
                *_longest_lookup(self.prefixes, str.startswith),
                *_longest_lookup(self.suffixes, str.startswith),
                *_longest_lookup(self.needles, str.__contains__))


def _longest_lookup(table: dict[str, list[Hit]], contained: Callable[[str, str], bool]
                    ) -> tuple[re.Pattern[str] | None, dict[str, list[Hit]]]:
    """The longest-match regex over ``table``'s strings, and longest string -> implied hits."""
    if not table:
        return None, {}
    pattern, implied_words = _matcher(tuple(sorted(table, key=len, reverse=True)), contained)
    return pattern, {w: [h for other in implied_words[w] for h in table[other]] for w in implied_words}


def _matcher_cost(key: tuple[Hashable, ...], result: tuple[re.Pattern[str], dict[str, tuple[str, ...]]]) -> int:
    """About the bytes a matcher holds (measured with tracemalloc: 15-45 per character of its
    words for the compiled regex, a few hundred per word, 8 per implied word)."""
    words = cast("tuple[str, ...]", key[0])
    return 4096 + 32 * sum(map(len, words)) + 200 * len(words) + 8 * sum(map(len, result[1].values()))


# Keyed by a set's strings, so by config content: bounded by what the entries hold (a process
# deciding thousands of distinct configs kept 2,048 entries of any size, past 1 GB).
@bounded_cache(64 << 20, _matcher_cost, regexes=True)
def _matcher(words: tuple[str, ...], contained: Callable[[str, str], bool]
             ) -> tuple[re.Pattern[str], dict[str, tuple[str, ...]]]:
    """The regex and, per word, the words it contains: the same for every plan (and every batch
    classifier) that indexes the same strings, so built once (related event ids share sets)."""
    implied = _implied(words, contained)
    try:
        return re.compile(trie_pattern(list(words))), implied
    except (RecursionError, re.error, OverflowError):
        # Pathologically deep nesting: plain alternatives, longest first, find the same strings.
        return re.compile("|".join(map(re.escape, words))), implied


# How a matcher's words relate (its ``contained`` argument), as a number in saved data.
_RELATIONS: tuple[Callable[[str, str], bool], ...] = (str.startswith, str.__contains__)
# A saved matcher: its words, relation, regex program (None: compile the text) and implied words.
SavedMatcher = tuple[tuple[str, ...], int, RegexData | None, str, dict[str, tuple[str, ...]]]


@contextmanager
def matchers_used() -> Iterator[list[SavedMatcher]]:
    """The matchers built or reused while the block runs, as plain data once it ends (for the
    compiled-config cache: :func:`restore_matchers` in a later process skips their regex parse)."""
    saved: list[SavedMatcher] = []
    with _matcher.watching() as seen:
        yield saved
    for (words, contained), (pattern, implied) in cast("dict[Any, Any]", seen).items():
        if contained in _RELATIONS:  # (no other is used; one would only go unsaved)
            saved.append((words, _RELATIONS.index(contained), to_data(pattern), pattern.pattern, implied))


def restore_matchers(saved: list[SavedMatcher]) -> None:
    """Make :func:`matchers_used`'s matchers the ones the index uses for those words: the
    regex from its saved program when that can be used, else compiled from its saved text."""
    restored = []
    for words, relation, program, text, implied in saved:  # all checked before any is kept
        if not (isinstance(words, tuple) and isinstance(text, str) and isinstance(implied, dict)
                and relation in (0, 1) and implied.keys() == set(words)):
            raise ValueError("not a saved matcher")
        pattern = from_data(program) if program is not None else None
        restored.append(((words, _RELATIONS[relation]),
                         (pattern if pattern is not None and pattern.pattern == text else re.compile(text), implied)))
    for key, value in restored:
        _matcher.put(key, value)


def _implied(words: tuple[str, ...], contained: Callable[[str, str], bool]) -> dict[str, tuple[str, ...]]:
    """word -> every word it starts with (``str.startswith``) or contains, in ``words`` order.
    Found among the word's own prefixes or substrings, so linear in the words rather than
    pairwise (8,000 filters in one set took a minute the pairwise way)."""
    rank = {w: i for i, w in enumerate(words)}
    lengths = sorted({len(w) for w in words})
    substrings = contained is not str.startswith
    if substrings and len(lengths) * sum(map(len, words)) > len(words) ** 2:  # pairwise is cheaper here
        return {w: tuple(other for other in words if contained(w, other)) for w in words}
    implied: dict[str, tuple[str, ...]] = {}
    for word in words:
        if substrings:
            pieces = {word[i:i + n] for n in lengths if n <= len(word) for i in range(len(word) - n + 1)}
        else:
            pieces = {word[:n] for n in lengths if n <= len(word)}
        implied[word] = tuple(sorted((p for p in pieces if p in rank), key=rank.__getitem__))
    return implied


# One field a plan reads, with its lookups flattened so the hot loop pays no attribute access:
# (field id, event field name or None for RuleName, exact, image base names,
#  prefix regex + implied, reversed-suffix regex + implied, needle regex + implied).
# One field's lookups, flat: (field_id, name, exact, base (by file name), prefix_rx, prefix_hits,
# suffix_rx (on the reversed value), suffix_hits, needle_rx, needle_hits). A plain tuple on
# purpose: the hot loop unpacks it, and CPython's fast unpacking path takes exact tuples only (a
# NamedTuple measured ~7% fewer decisions per second).
Row = tuple[int, str | None, dict[str, list[Hit]] | None, dict[str, list[Hit]] | None,
            re.Pattern[str] | None, dict[str, list[Hit]], re.Pattern[str] | None, dict[str, list[Hit]],
            re.Pattern[str] | None, dict[str, list[Hit]]]


def lookup(row: Row, value: str) -> list[Hit]:
    """The hits of one folded value in one field's lookups: every indexed filter that may match.

    ``Evaluator.decide`` inlines exactly this in its hot loop (``evaluate._probe``).
    """
    _, _, exact, base, pre_rx, pre_hits, suf_rx, suf_hits, rx, needle_hits = row
    hits: list[Hit] = []
    if exact is not None:
        hits += exact.get(value, ())
    if base is not None:
        hits += base.get(value[value.rfind("\\") + 1:], ())
    if pre_rx is not None and (m := pre_rx.match(value)) is not None:
        hits += pre_hits[m.group()]
    if suf_rx is not None and (m := suf_rx.match(value[::-1])) is not None:
        hits += suf_hits[m.group()]
    if rx is not None:
        m = rx.search(value)
        while m is not None:  # the longest needle at each place one starts
            hits += needle_hits[m.group()]
            m = rx.search(value, m.start() + 1)
    return hits


def trie_pattern(words: list[str]) -> str:
    """A regex matching any of ``words``, the longest one at a given position.

    Written as a prefix tree (``ab(?:c|d)?`` rather than ``abc|abd|ab``) so the regex engine
    tries one branch per character instead of every word at every position: many times faster
    for the hundreds of ``contains`` needles of a real config.
    """
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}  # a word ends here
    try:
        return _emit(trie)
    except RecursionError:  # absurdly deep branching: plain alternatives, longest first
        return "|".join(map(re.escape, sorted(words, key=len, reverse=True)))


def _emit(node: dict[str, Any]) -> str:
    out: list[str] = []
    while True:
        keys = sorted(k for k in node if k)
        if len(keys) == 1 and "" not in node:  # a plain run of characters
            out.append(re.escape(keys[0]))
            node = node[keys[0]]
            continue
        if keys:
            # Longer words first; the "?" lets a word ending here match when none continues.
            body = "(?:" + "|".join(re.escape(k) + _emit(node[k]) for k in keys) + ")"
            out.append(body + "?" if "" in node else body)
        return "".join(out)


@dataclass
class Plan:
    """Everything needed to decide events of one event id."""

    event_id: int
    default: str  # the event type's ruledefault, used when no set applies
    sets: tuple[CSet, ...]  # evaluation order: onmatch=exclude sets, then include, each reversed
    valid: tuple[frozenset[int], ...]  # per set: the field ids this event resolves for it
    fields: tuple[tuple[int, str | None], ...]  # field ids any set reads, with the event's name
    indexed: tuple[bool, ...]  # per set: decided through candidates (OR sets)
    rows: tuple[Row, ...] = ()  # every field any set reads, with its lookups (if indexed)
    always: tuple[Hit, ...] = ()  # items that are candidates on every event
    decisions: dict[tuple[int, str | None], Decision] = field(default_factory=dict)  # evaluator's cache


def build_plan(event_id: int, default: str, sets: list[CSet], event_fields: tuple[str, ...],
               set_fields: list[tuple[str, ...] | None], *, index: bool = True) -> Plan:
    """Index the sets of one event id (``index=False``: none, every set is walked).

    ``event_fields`` is the event type's field table; ``set_fields[k]`` the field table of set
    k's own event id (None when that id is unknown, so no name check applies).
    """
    valid = tuple(valid_fields(event_id, cset.rule_set.event_id, event_fields, names)
                  for cset, names in zip(sets, set_fields, strict=True))
    used = sorted({f.field_id for k, cset in enumerate(sets) for f in _filters(cset) if f.field_id in valid[k]})
    fields = tuple((fid, None if event_fields[fid] == "RuleName" else event_fields[fid]) for fid in used)
    indexed = tuple(index and cset.combine == COMBINE_OR for cset in sets)
    probes: dict[int, Probe] = {}
    always: list[Hit] = []
    for k, cset in enumerate(sets):
        if not indexed[k]:
            continue
        for item_index, item in enumerate(cset.items):
            members = _deciding_filters(item)
            if not all(_index_filter(f, (k, item_index), valid[k], probes) for f in members):
                always.append((k, item_index))
    rows = tuple((probes.get(fid) or Probe(fid)).row(name) for fid, name in fields)
    return Plan(event_id, default, tuple(sets), valid, fields, indexed, rows, tuple(always))


def _index_filter(flt: CFilter, hit: Hit, valid: frozenset[int], probes: dict[int, Probe]) -> bool:
    # A filter that cannot resolve its field, or whose expansion failed, never matches.
    if flt.field_id not in valid or flt.dead:
        return True
    if flt.test is None:
        return False
    probe = probes.get(flt.field_id)
    if probe is None:
        probe = probes[flt.field_id] = Probe(flt.field_id)
    return probe.register(flt, hit)


def _deciding_filters(item: CFilter | CGroup) -> tuple[CFilter, ...]:
    """The filters whose match can make the item do anything (match or rename).

    An AND sub-group stops at its first NoMatch, so when its first filter cannot match the group
    is a silent NoMatch: only that filter needs indexing. Any filter of an OR group can.
    """
    if isinstance(item, CFilter):
        return (item,)
    if item.combine == COMBINE_AND:
        return item.filters[:1]
    return item.filters


def _filters(cset: CSet) -> list[CFilter]:
    return [f for item in cset.items for f in (item.filters if isinstance(item, CGroup) else (item,))]


def valid_fields(event_id: int, set_event_id: int, event_fields: tuple[str, ...],
                 set_fields: tuple[str, ...] | None) -> frozenset[int]:
    """The field ids an event of ``event_id`` resolves for a set built for ``set_event_id``: all
    of its own, or those named alike in both field tables (``set_fields``; None: unknown id)."""
    count = len(event_fields)
    if set_event_id == event_id or set_fields is None:
        return frozenset(range(count))
    return frozenset(i for i in range(count) if i < len(set_fields) and set_fields[i] == event_fields[i])
