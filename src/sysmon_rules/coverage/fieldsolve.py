"""One field: a value satisfying a conjunction of atoms, a proof that none exists, or "unknown".

For the core kinds (eq, prefix, suffix, contains, each possibly negated) the answer is exact.
Without a positive ``eq``, every value satisfying the positives has the form P…S containing each
K (P the longest prefix, S the longest suffix, K the contained strings), and the candidate
``P c K1 c … c Kn c S`` with a filler character ``c`` found in no negative string avoids every
negative atom unless one is unavoidable: a negative contains-string inside P, S or some K, a
negative prefix of P, or a negative suffix of S (``c`` cuts every other occurrence). So when that
candidate (and a twin with one more filler, for a negative ``eq``) fails, nothing satisfies the
conjunction. Other kinds are checked exactly on candidates; if no candidate passes and no core
reason excludes all values, the answer is unknown, never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass

from .formula import CORE, MARKERS, Atom
from .instances import instances as _instances

# Fillers tried in order; one must be absent from every negative string.
_FILLERS = "xqz_0#~jkv1w"


@dataclass(frozen=True, slots=True)
class FieldResult:
    """``value`` when satisfiable; ``None`` with ``proven`` True when nothing can satisfy."""

    value: str | None
    proven: bool = True
    why: str = ""


def quick_conflict(atoms: list[Atom]) -> str | None:
    """A reason the conjunction is unsatisfiable found without building values, or None."""
    pos = [a for a in atoms if not a.negated]
    eqs = {str(a.value) for a in pos if a.kind == "eq"}
    if len(eqs) > 1:
        return "two different exact values"
    if eqs:
        value = next(iter(eqs))
        bad = next((a for a in atoms if not a.holds(value)), None)
        return None if bad is None else f"exact value {value!r} fails {bad}"
    prefix, why = _longest(pos, "prefix")
    if why:
        return why
    suffix, why = _longest(pos, "suffix")
    if why:
        return why
    needed = [prefix, suffix, *_literals(pos)]
    for a in atoms:
        if not a.negated or a.kind not in CORE:
            continue
        rule = str(a.value)
        if a.kind == "contains" and any(rule in part for part in needed):
            return f"every value has {rule!r}, which {a} forbids"
        if a.kind == "prefix" and prefix.startswith(rule):
            return f"every value starts with {prefix!r}, which {a} forbids"
        if a.kind == "suffix" and suffix.endswith(rule):
            return f"every value ends with {suffix!r}, which {a} forbids"
    return None


def solve_field(atoms: list[Atom]) -> FieldResult:
    """A folded value meeting every atom (checked exactly), or a proof or admission that none is known."""
    why = quick_conflict(atoms)
    if why:
        return FieldResult(None, True, why)
    for candidate in _candidates(atoms):
        if all(a.holds(candidate) for a in atoms):
            return FieldResult(candidate)
    exact = all(a.kind in CORE for a in atoms) and _filler(atoms) not in _forbidden(atoms)
    kinds = sorted({a.kind for a in atoms if a.kind not in CORE})
    return FieldResult(None, exact, "no value meets every test" if exact else
                       f"no value found and {', '.join(kinds)} tests cannot be reasoned about exactly")


def _longest(pos: list[Atom], kind: str) -> tuple[str, str]:
    best = ""
    for a in pos:
        if a.kind != kind:
            continue
        rule = str(a.value)
        longer, shorter = (rule, best) if len(rule) >= len(best) else (best, rule)
        agrees = longer.startswith(shorter) if kind == "prefix" else longer.endswith(shorter)
        if not agrees:
            return "", f"{kind}es {best!r} and {rule!r} contradict"
        best = longer
    return best, ""


def _literals(pos: list[Atom]) -> list[str]:
    """Strings every value must contain: contains-atoms and the literal parts of globs."""
    out = [str(a.value) for a in pos if a.kind == "contains"]
    for a in pos:
        if a.kind == "glob" and isinstance(a.value, tuple):
            out += [p for p in a.value if p not in MARKERS]
    return out


def _forbidden(atoms: list[Atom]) -> str:
    return "".join(str(a.value) for a in atoms if a.negated and a.kind in CORE)


def _filler(atoms: list[Atom]) -> str:
    forbidden = _forbidden(atoms)
    return next((c for c in _FILLERS if c not in forbidden), "x")


def _candidates(atoms: list[Atom]) -> list[str]:
    pos = [a for a in atoms if not a.negated]
    eq = next((str(a.value) for a in pos if a.kind == "eq"), None)
    if eq is not None:
        return [eq]
    c = _filler(atoms)
    prefix, _ = _longest(pos, "prefix")
    suffix, _ = _longest(pos, "suffix")
    middle = [str(a.value) for a in pos if a.kind == "contains"]
    core = prefix + c + "".join(k + c for k in middle) + suffix
    out = [core, prefix + c + c + "".join(k + c for k in middle) + suffix]
    extra = [_instances(a, c) for a in pos if a.kind not in CORE]
    for options in extra:  # each non-core positive offers its own instances, wrapped in the core parts
        for instance in options:
            wrapped = prefix + c + "".join(k + c for k in middle) + instance + c + suffix
            out += [instance, prefix + instance + suffix, wrapped]
    if len(extra) > 1:  # several: one instance of each, side by side
        for pick in (0, -1):
            chosen = [o[pick] for o in extra if o]
            out.append(prefix + c + "".join(k + c for k in middle) + "".join(i + c for i in chosen) + suffix)
    return out
