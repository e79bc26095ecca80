"""The index's implied-hits table, found by lookup, is the pairwise definition's (hypothesis)."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st

from sysmon_rules.engine.index import _implied

_WORDS = st.lists(st.text(alphabet="ab\\.", max_size=6), min_size=1, max_size=25, unique=True)


def _pairwise(words: list[str], contained: Callable[[str, str], bool]) -> dict[str, list[int]]:
    return {w: [i for i, other in enumerate(words) if contained(w, other)] for w in words}


@given(_WORDS, st.sampled_from([str.startswith, str.__contains__]))
def test_implied_is_every_word_a_word_starts_with_or_contains(words: list[str],
                                                             contained: Callable[[str, str], bool]) -> None:
    ordered = sorted(words, key=len, reverse=True)
    table = {w: [i] for i, w in enumerate(ordered)}  # the hit of each word is its rank
    assert _implied(ordered, table, contained) == _pairwise(ordered, contained)  # type: ignore[arg-type]
