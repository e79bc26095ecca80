"""Hints for validation messages: pure functions, called where the messages are made.

Each answers the question the message raises: which name was meant, which schema version an
element needs, why a field that exists is still "incorrect", and the list of what is allowed
kept short enough to read.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from .schema import SchemaVersion, all_versions, format_version
from .schema.model import EventType

# Longer "expecting (...)" lists are cut: the closest names first, then a count of the rest.
MAX_LISTED = 8


def shown(value: str) -> str:
    """A value from the config as a message may quote it: control characters escaped (``\\n``),
    so a newline in an attribute cannot split the one-line message."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in value)


def did_you_mean(word: str, choices: Sequence[str]) -> str | None:
    """The closest other name (a case-only difference counts), as ``did you mean <Name>?``."""
    others = [c for c in choices if c != word]
    close = difflib.get_close_matches(word, others, n=1, cutoff=0.6)
    if not close:
        close = [c for c in others if c.lower() == word.lower()][:1]
    return f"did you mean <{close[0]}>?" if close else None


def expecting(allowed: Sequence[str], got: str = "") -> str:
    """``A | B | C`` for short lists; for long ones the names closest to ``got`` (or the first
    ones) and how many more, instead of a line of a thousand characters."""
    if len(allowed) <= MAX_LISTED:
        return " | ".join(allowed)
    close = difflib.get_close_matches(got, list(allowed), n=3, cutoff=0.5) if got else []
    shown = list(dict.fromkeys([*close, *allowed]))[:MAX_LISTED]
    return " | ".join(shown) + f" | ... {len(allowed) - len(shown)} more"


def first_version_with(element: str) -> SchemaVersion | None:
    """The oldest schema version that has the rule element ``element``."""
    having = [v for v in all_versions() if element in v.rule_elements]
    return min(having, key=lambda v: v.packed) if having else None


def unexpected_element(name: str, allowed: Sequence[str], schema: SchemaVersion) -> str | None:
    """For an element the declared schema does not allow: the version that introduced it, when
    it is a rule element of a newer schema, else the closest allowed name."""
    introduced = first_version_with(name)
    if introduced is not None and introduced.packed > schema.packed:
        return (f"<{name}> needs schemaversion {introduced.label} or newer "
                f"(this config declares {format_version(schema.packed)})")
    return did_you_mean(name, allowed)


def incorrect_field(field: str, used: Sequence[str], series: Sequence[EventType]) -> str | None:
    """Why ``field`` breaks an element: when some event of the series has it, which one, and
    which other fields of the element that event lacks; else the closest field name."""
    having = [e for e in series if field in e.field_index]
    if not having:
        return did_you_mean(field, sorted({f.name for e in series for f in e.fields}))
    lacking = sorted({u for u in used if u != field and all(u not in e.field_index for e in having)})
    ids = "/".join(str(e.id) for e in having)
    others = ", ".join(lacking) if lacking else "the others"
    return f"{field} is a field of event {ids} only, which has no {others}: split them into separate elements"
