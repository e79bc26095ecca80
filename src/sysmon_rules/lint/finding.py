"""A lint finding: a Diagnostic that may also point at the elements it is about.

``related`` holds the locations of the other elements a finding names (the filter that shadows
or captures this one, the first copy of a duplicate, the include set beside an empty exclude
set); SARIF carries them as ``relatedLocations`` so code scanning links to them. A finding that
claims what Sysmon does with some event carries that ``witness`` event and the ``claim`` (decision
and RuleName) the evaluator gave it, so anyone can decide it again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..errors import Diagnostic, Location
from ..events import Event
from .catalog import RULES


@dataclass(frozen=True, slots=True)
class Finding(Diagnostic):
    related: tuple[Location, ...] = ()
    witness: Event | None = None
    claim: tuple[str, str | None] | None = None  # (decision, RuleName) the evaluator gives the witness

    def to_dict(self) -> dict[str, object]:
        return finding_dict(self)


def finding_dict(found: Diagnostic) -> dict[str, object]:
    """One finding as `lint --format json` prints it; every finding has the keys a witnessed one
    has (empty when it names no other element and claims nothing about an event)."""
    shape: dict[str, object] = asdict(found) | {"location": asdict(found.location)}
    for key, empty in (("related", []), ("witness", None), ("claim", None)):
        shape.setdefault(key, empty)
    return shape


def finding(code: str, message: str, where: Location | None, hint: str | None = None, *,
            related: tuple[Location | None, ...] = (), witness: Event | None = None,
            claim: tuple[str, str | None] | None = None) -> Finding:
    """A finding of a lint rule at its catalog severity; ``related`` drops unknown locations."""
    return Finding(code, RULES[code].severity, message, where or Location(), hint,
                   tuple(r for r in related if r is not None and r.line), witness, claim)


_CONTROL = str.maketrans({"\n": "\\n", "\r": "\\r", "\t": "\\t"})


def shown(value: str) -> str:
    """A rule value as written in the config, quoted: one backslash stays one (not Python's
    escaping); only line breaks and tabs are spelled \\n, \\r, \\t so the finding stays on one line."""
    return f"'{value.translate(_CONTROL)}'"
