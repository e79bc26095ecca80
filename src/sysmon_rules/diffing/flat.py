"""One event id's rule sets as one first-match list, reduced by the lint cover relation.

When every set of a plan is an OR set (or an AND set of one field's filters, which the
same-field rescue walks as one), Sysmon's walk is a single decision list: the sets in
evaluation order, each item in order, and the first item that matches decides (its set's onmatch
and its RuleName; nothing before it matched, so no other name was threaded). A top-level filter
that can fail ends its set's walk there (the set then does not match), so the set is cut at it.
An OR ``<Rule>`` is its filters one after another; an AND ``<Rule>`` without names is one entry
(all of its filters). The list is then *reduced*: an entry that an earlier entry covers
(``engine.cover.covers``: every value it matches, the earlier one matches too) never decides and
is dropped, with the entry that covers it remembered.

Two plans whose reduced lists are equal decide every event alike. Names aside, only "some
exclude entry matches", "some include entry matches" and the set count decide, so the lists
become two sets of entries, each reduced by every other entry of its own kind (and an include
entry by any exclude entry). This is how a filter moved between RuleGroups, or one made
redundant by a broader one, is proven to change nothing.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import cast

from ..engine.compiled import CFilter, CGroup, CSet
from ..engine.cover import covers
from ..engine.index import Plan
from ..ruletable import COMBINE_AND, COMBINE_OR, RuleFilter
from ..schema import newest
from ..schema.model import Platform
from ..witness import Constraint
from .normal import filter_form

FAtom = tuple[str, int, int, str, bool]  # ("f", field id, condition, folded data, expanded)
Atom = tuple[object, ...]  # an FAtom, ("and", FAtom...) for an AND <Rule>, or ("leak", key)


def parts(atom: Atom) -> list[FAtom]:
    """The single-filter atoms an atom needs (itself, or an AND <Rule>'s filters)."""
    if atom[0] == "f":
        return [cast(FAtom, atom)]
    return [cast(FAtom, p) for p in atom[1:]] if atom[0] == "and" else []


@dataclass(frozen=True, slots=True)
class Entry:
    """One place the walk can stop: what must match, which set, the decision and name reported."""

    atom: Atom
    filters: tuple[CFilter, ...]  # the compiled filter(s) it stands for
    rank: int  # the set's index in its table
    on_match: str
    name: str | None
    # The named AND <Rule>s walked before this unnamed entry: their matched names flow on to it.
    context: tuple[Hashable, ...] = ()

    def label(self, names: bool) -> Hashable:
        return (self.on_match, self.name, self.context) if names else self.on_match


@dataclass(frozen=True, slots=True)
class Flat:
    """A plan as a reduced first-match list; ``dropped`` maps a dropped entry to its cover."""

    entries: tuple[Entry, ...]
    dropped: tuple[tuple[Entry, Entry], ...]
    final: Hashable  # the label when no entry matches (the default, or an entry that always matches)

    def form(self, names: bool) -> Hashable:
        if names:  # within a run of one label, order does not matter: whichever matches, it reports alike
            runs: list[tuple[Hashable, set[Atom]]] = []
            for e in self.entries:
                if runs and runs[-1][0] == e.label(True):
                    runs[-1][1].add(e.atom)
                else:
                    runs.append((e.label(True), {e.atom}))
            body: Hashable = tuple((label, frozenset(atoms)) for label, atoms in runs)
        else:
            body = (frozenset(e.atom for e in self.entries if e.on_match == "exclude"),
                    frozenset(e.atom for e in self.entries if e.on_match == "include"))
        return (body, self.final)


def _atom(flt: CFilter, valid: frozenset[int], platform: str) -> FAtom | None:
    form = filter_form(flt, valid, platform, names=False)
    if form == ("never",) or flt.dead:
        return None  # never matches: never decides
    values = cast(tuple[int, int, str, bool, object], form)
    return ("f", values[0], values[1], values[2], values[3])


def _entries(cset: CSet, valid: frozenset[int], platform: str, names: bool) -> list[Entry] | None:
    """The set's items as entries, cut at a filter that fails; None when not a plain OR walk."""
    out: list[Entry] = []
    for item in cset.items:
        if isinstance(item, CFilter):
            if item.field_id in valid and item.test is None and not item.dead:
                return out  # Failed: the set stops here without a match
            atom = _atom(item, valid, platform)
            if atom is not None:
                out.append(Entry(atom, (item,), cset.rank, cset.on_match, item.name))
            continue
        group = _group_entries(item, cset, valid, platform, names)
        if group is None:
            return None
        out += group
    return out


def _group_entries(group: CGroup, cset: CSet, valid: frozenset[int], platform: str, names: bool
                   ) -> list[Entry] | None:
    if any(f.field_id in valid and f.test is None and not f.dead for f in group.filters):
        return None
    if group.combine == COMBINE_OR:
        pairs = [(f, _atom(f, valid, platform)) for f in group.filters]
        return [Entry(a, (f,), cset.rank, cset.on_match, f.name) for f, a in pairs if a is not None]
    if group.combine != COMBINE_AND:
        return None
    found = [_atom(f, valid, platform) for f in group.filters]
    named = [f.name for f in group.filters if f.name]
    # A failing AND <Rule> still passes the names of the filters that matched on to the next
    # unnamed match: a marker, so later unnamed entries carry it in their label.
    leak = [Entry(("leak", tuple(filter_form(f, valid, platform, names=True) for f in group.filters)), (),
                  cset.rank, "", None)] if named and names else []
    atoms = [a for a in found if a is not None]
    if len(atoms) < len(found):
        return leak  # one filter never matches: the <Rule> never does
    entry = Entry(("and", *sorted(set(atoms), key=repr)), group.filters, cset.rank, cset.on_match,
                  named[-1] if named else None)
    return [entry, *leak]


def flatten(plan: Plan, platform: str, *, names: bool) -> Flat | None:
    """The plan as a reduced first-match list, or None when some set is not an OR set."""
    if not all(_or_like(s) for s in plan.sets):
        return None
    raw: list[Entry] = []
    for cset, valid in zip(plan.sets, plan.valid, strict=True):
        got = _entries(cset, valid, platform, names)
        if got is None:
            return None
        raw += got
    count = min(len(plan.sets), 2)
    default = plan.default if not plan.sets else plan.sets[0].on_default if count == 1 else "exclude"
    final: Hashable = (default, None, ()) if names else default
    constant = _constant_fields(plan.event_id, platform)
    entries: list[Entry] = []
    context: tuple[Hashable, ...] = ()
    for entry in raw:
        if entry.atom[0] == "leak":
            context += (entry.atom[1],)
            continue
        truth = _truth(entry.atom, constant, platform)
        if truth is False:
            continue
        if entry.name is None and context:
            entry = replace(entry, context=context)
        if truth is True:  # every event reaching it matches: nothing after it is walked
            final = entry.label(names)
            break
        entries.append(entry)
    kept, dropped = (_reduce_ordered(entries) if names else _reduce_unordered(entries))
    # An entry that reports what "no match" reports changes nothing: at the end of the list, or
    # (names aside) any include entry when no match means include anyway.
    if names:
        while kept and kept[-1].label(True) == final:
            kept.pop()
    elif final == "include":
        kept = [e for e in kept if e.on_match != "include"]
    return Flat(tuple(kept), tuple(dropped), final)


def _or_like(cset: CSet) -> bool:
    """An OR set, or an AND set whose items are top-level filters of one field: the same-field
    rescue makes that one an OR walk (a later filter of a matched field is skipped)."""
    if cset.combine == COMBINE_OR:
        return True
    return cset.combine == COMBINE_AND and all(isinstance(i, CFilter) for i in cset.items) and \
        len({i.field_id for i in cset.items if isinstance(i, CFilter)}) <= 1


def _constant_fields(event_id: int, platform: str) -> frozenset[int]:
    """Fields every event reads the same while rules run (RuleName reads "-")."""
    event = newest(platform).events_by_id.get(event_id)  # type: ignore[arg-type]
    return frozenset(i for i, n in enumerate(event.field_names) if n == "RuleName") if event else frozenset()


def _truth(atom: Atom, constant: frozenset[int], platform: str) -> bool | None:
    """True or False when the atom reads only constant fields, else None."""
    needed = parts(atom)
    if any(p[1] not in constant or p[4] for p in needed):
        return None
    plat: Platform = "linux" if platform == "linux" else "windows"
    return all(Constraint(p[2], p[3]).test(plat)("-") for p in needed)


def entry_covers(a: Entry, b: Entry) -> bool:
    """Proven: every event ``b`` matches, ``a`` matches too."""
    if a.atom == b.atom:
        return True
    mine = parts(a.atom)
    if a.atom[0] != "f" or mine[0][4]:
        return False  # an AND <Rule> or an expanded value: no cover proof
    # An AND <Rule> is covered when one of its filters is.
    return any(_atom_covers(mine[0], p) for p in parts(b.atom))


@lru_cache(maxsize=1 << 16)
def _atom_covers(a: FAtom, b: FAtom) -> bool:
    _, fa, ca, da, ea = a
    _, fb, cb, db, eb = b
    if fa != fb or ea or eb:
        return False
    return covers(RuleFilter(fa, ca, da), RuleFilter(fb, cb, db))


class _CoverIndex:
    """Entries kept so far, by field, to find one covering a new entry."""

    def __init__(self) -> None:
        self.by_field: dict[int, list[Entry]] = {}
        self.exact: dict[Atom, Entry] = {}

    def find(self, entry: Entry) -> Entry | None:
        same = self.exact.get(entry.atom)
        if same is not None:
            return same
        texts = [p[3] for p in parts(entry.atom)]
        for field_id in {p[1] for p in parts(entry.atom)}:
            for other in self.by_field.get(field_id, ()):
                # Every cover but a list's needs the covering data inside the covered one's.
                data = parts(other.atom)[0][3]
                if (";" in data or any(data in t for t in texts)) and entry_covers(other, entry):
                    return other
        return None

    def add(self, entry: Entry) -> None:
        self.exact.setdefault(entry.atom, entry)
        if entry.atom[0] == "f":
            self.by_field.setdefault(parts(entry.atom)[0][1], []).append(entry)


def _reduce_ordered(entries: list[Entry]) -> tuple[list[Entry], list[tuple[Entry, Entry]]]:
    kept: list[Entry] = []
    dropped: list[tuple[Entry, Entry]] = []
    index = _CoverIndex()
    for entry in entries:
        cover = index.find(entry)
        if cover is not None:
            dropped.append((entry, cover))
            continue
        kept.append(entry)
        index.add(entry)
    # Within a run of one label order does not matter: an entry another of its run covers goes.
    runs: list[list[Entry]] = []
    for entry in kept:
        if runs and runs[-1][0].label(True) == entry.label(True):
            runs[-1].append(entry)
        else:
            runs.append([entry])
    return [e for run in runs for e in _maximal(run, _CoverIndex(), dropped)], dropped


def _reduce_unordered(entries: list[Entry]) -> tuple[list[Entry], list[tuple[Entry, Entry]]]:
    """Names aside: an exclude entry covered by any other exclude entry, an include entry by any
    exclude or other include entry, changes no decision."""
    dropped: list[tuple[Entry, Entry]] = []
    excludes = _maximal([e for e in entries if e.on_match == "exclude"], _CoverIndex(), dropped)
    seeded = _CoverIndex()
    for e in excludes:
        seeded.add(e)
    includes = []
    for entry in (e for e in entries if e.on_match == "include"):
        cover = seeded.find(entry)
        if cover is not None:
            dropped.append((entry, cover))
        else:
            includes.append(entry)
    includes = _maximal(includes, _CoverIndex(), dropped)
    return excludes + includes, dropped


def _maximal(entries: list[Entry], index: _CoverIndex, dropped: list[tuple[Entry, Entry]]) -> list[Entry]:
    """The entries no other one covers (of equal ones, the first); broad ones are tried first."""
    order = sorted(range(len(entries)), key=lambda i: (_breadth(entries[i]), i))
    kept: set[int] = set()
    for i in order:
        cover = index.find(entries[i])
        if cover is not None:
            dropped.append((entries[i], cover))
            continue
        kept.add(i)
        index.add(entries[i])
    return [entries[i] for i in sorted(kept)]


def _breadth(entry: Entry) -> tuple[int, int]:
    """Broader entries first (an AND rule last; shorter data first), so covers are found."""
    if entry.atom[0] != "f":
        return (2, 0)
    return (0, len(parts(entry.atom)[0][3]))


def same_flat(a: Plan, b: Plan, platform: str, *, names: bool) -> bool:
    """Proven: both plans decide every event alike, by their reduced first-match lists."""
    fa, fb = flatten(a, platform, names=names), flatten(b, platform, names=names)
    return fa is not None and fb is not None and fa.form(names) == fb.form(names)


__all__ = ["Atom", "Entry", "FAtom", "Flat", "entry_covers", "flatten", "parts", "same_flat"]
