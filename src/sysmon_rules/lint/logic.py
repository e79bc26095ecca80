"""Filters and <Rule>s whose logic is wrong whatever the event: always true, never true, inverted.

Each finding is proved by string logic on the folded rule data and then checked with the engine's
own condition tests (and, where a set decides, with the evaluator) on witness values, so the rule
never reports what Sysmon would not do.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..engine import Decision
from ..engine.conditions import CONDITION_MASK, ENVIRONMENT_BIT, Test, compile_test, fold
from ..engine.cover import cond_name, witness
from ..errors import Diagnostic
from ..events import Event
from ..ruletable import COMBINE_AND, COMBINE_OR, RuleFilter, RuleSet
from .context import LintContext
from .finding import finding, shown
from .sets import SetChecker

NEGATIVE = frozenset({"is not", "excludes", "not begin with", "not end with"})
# Values of the shapes Sysmon fields hold (paths, keys, names, numbers, command lines, '-').
SAMPLES = (
    "c:\\windows\\system32\\svchost.exe", "c:\\users\\alice\\appdata\\local\\temp\\setup.tmp",
    "hklm\\software\\microsoft\\windows\\currentversion\\run\\updater", "www.example.com",
    "nt authority\\system", "443", "powershell.exe -nop -w hidden -c iex", "-",
)  # fmt: skip
_ALMOST_ALL = 6  # of the 8 samples
# Everyday values by the kind of field, for "this short piece matches ordinary activity too".
_EVERYDAY = {
    "path": ("C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE",
             "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
             "C:\\Users\\alice\\AppData\\Local\\Microsoft\\Teams\\current\\Teams.exe"),
    "command": ('"C:\\Windows\\system32\\svchost.exe" -k netsvcs -p -s Schedule',
                '"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe" --type=renderer --lang=en-US',
                "C:\\Windows\\System32\\RuntimeBroker.exe -Embedding",
                "C:\\Windows\\system32\\svchost.exe -k LocalSystemNetworkRestricted -p -s SysMain"),
    "registry": ("HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon\\Shell",
                 "HKU\\S-1-5-21-1004\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\RecentDocs"),
    "name": ("OUTLOOK.EXE", "svchost.exe", "explorer.exe", "msedge.exe", "Teams.exe"),
    "host": ("login.microsoftonline.com", "www.google.com", "settings-win.data.microsoft.com"),
}


def everyday(field: str) -> tuple[str, ...]:
    if "CommandLine" in field:
        return _EVERYDAY["command"]
    if field in ("TargetObject", "Details"):
        return _EVERYDAY["registry"]
    if field in ("OriginalFileName", "Description", "Product", "Company"):
        return _EVERYDAY["name"]
    if field in ("QueryName", "DestinationHostname", "SourceHostname"):
        return _EVERYDAY["host"]
    if "Image" in field or "Filename" in field or field in ("CurrentDirectory", "Device"):
        return _EVERYDAY["path"]
    return ()
_WITNESS_CAP = 100  # later named filters checked with the evaluator per always-true item
_SHORT = 2  # characters: a 'contains' token this short matches nearly anything



def test_of(flt: RuleFilter) -> Test | None:
    """The engine's predicate for a filter over folded values (None: environment data, or Failed)."""
    if flt.condition & ENVIRONMENT_BIT:
        return None
    return compile_test(flt.condition & CONDITION_MASK, fold(flt.value))


@dataclass(frozen=True)
class Scope:
    """Filters combined together: a set's top level, or one <Rule>."""

    rule_set: RuleSet
    combine: int
    filters: tuple[RuleFilter, ...]
    rule: bool  # a <Rule> (no same-field rescue), not the set's top level

    @property
    def where(self) -> str:
        relation = "and" if self.combine == COMBINE_AND else "or"
        return f'<Rule groupRelation="{relation}">' if self.rule else f"{self.rule_set.onmatch} set ({relation})"


def scopes(rule_set: RuleSet) -> Iterator[Scope]:
    yield Scope(rule_set, rule_set.combine, tuple(f for f in rule_set.filters if f.aggregation_id == 0), False)
    for agg in rule_set.aggregations:
        members = tuple(f for f in rule_set.filters if f.aggregation_id == agg.id)
        if members:
            yield Scope(rule_set, agg.combine, members, True)


def matches_almost_all(flt: RuleFilter) -> bool:
    name = cond_name(flt)
    one_char = name in ("contains", "contains any") and any(len(t) == 1 for t in flt.value.split(";"))
    if name not in NEGATIVE and not one_char:
        return False
    test = test_of(flt)  # only now: building a long list's test is costly
    return test is not None and sum(map(test, SAMPLES)) >= _ALMOST_ALL


def _empty_token(flt: RuleFilter) -> bool:
    """A 'contains any' whose list has an empty item: it matches every value that is not empty."""
    return cond_name(flt) == "contains any" and "" in flt.value.split(";")


def contradiction(a: RuleFilter, b: RuleFilter) -> bool:
    """No value matches both (same field assumed)."""
    ca, cb = cond_name(a), cond_name(b)
    x, y = fold(a.value), fold(b.value)
    if ca != "is" and cb == "is":
        return contradiction(b, a)
    if ca == "is":
        return {"is": x != y, "is any": x not in y.split(";"), "begin with": not x.startswith(y),
                "end with": not x.endswith(y), "contains": y != "" and y not in x, "is not": x == y,
                "not begin with": x.startswith(y), "not end with": x.endswith(y),
                "excludes": y != "" and y in x}.get(cb, False)
    pair = {ca, cb}
    if pair == {"begin with"}:
        return not (x.startswith(y) or y.startswith(x))
    if pair == {"end with"}:
        return not (x.endswith(y) or y.endswith(x))
    for pos, neg, test in (("begin with", "not begin with", str.startswith), ("end with", "not end with", str.endswith),
                           ("contains", "excludes", lambda p, n: n in p)):
        if (ca, cb) == (pos, neg):
            return bool(test(x, y))
        if (ca, cb) == (neg, pos):
            return bool(test(y, x))
    return False


def tautology(a: RuleFilter, b: RuleFilter) -> bool:
    """Every value matches one of them (same field assumed)."""
    ca, cb = cond_name(a), cond_name(b)
    x, y = fold(a.value), fold(b.value)
    if {ca, cb} == {"is not"}:
        return x != y
    if {ca, cb} == {"not begin with"}:
        return not (x.startswith(y) or y.startswith(x))
    for pos, neg, cover in (("is", "is not", str.__eq__),
                            ("begin with", "not begin with", lambda p, n: n.startswith(p)),
                            ("end with", "not end with", lambda p, n: n.endswith(p)),
                            ("contains", "excludes", lambda p, n: p in n)):
        if (ca, cb) == (pos, neg):
            return bool(cover(x, y))
        if (ca, cb) == (neg, pos):
            return bool(cover(y, x))
    return False


def _engine_agrees(a: RuleFilter, b: RuleFilter, *, both: bool) -> bool:
    """On the witnesses and samples, the engine's tests say: never both match / always one matches."""
    ta, tb = test_of(a), test_of(b)
    if ta is None or tb is None:
        return False
    values = [fold(v) for v in (witness(a), witness(b)) if v is not None] + list(SAMPLES)
    if both:
        return not any(ta(v) and tb(v) for v in values) and any(ta(v) or tb(v) for v in values)
    return all(ta(v) or tb(v) for v in values)


class LogicChecker:
    def __init__(self, ctx: LintContext) -> None:
        self.ctx = ctx
        self.sets = SetChecker(ctx)
        self.always: dict[int, tuple[RuleSet, RuleFilter]] = {}  # id(set) -> its first always-true item
        self.owner = {id(f): s for s in ctx.table.rule_sets for f in s.filters}
        self.everything: set[int] = set()  # filters reported as matches-everything

    def check(self) -> Iterator[Diagnostic]:
        for rule_set in self.ctx.table.rule_sets:
            for scope in scopes(rule_set):
                if scope.combine == COMBINE_OR:
                    yield from self.or_scope(scope)
                elif scope.rule:
                    yield from self.and_rule(scope)
                yield from self.excludes_all(scope)
                yield from self.short_contains(scope)
        yield from self.hidden_names()

    def short_contains(self, scope: Scope) -> Iterator[Diagnostic]:
        """A 1-2 character token that alone decides (OR scope) and occurs in an everyday value."""
        if scope.combine != COMBINE_OR:
            return
        for flt in scope.filters:
            if cond_name(flt) not in ("contains", "contains any") or id(flt) in self.everything:
                continue
            short = [t for t in flt.value.split(";") if 0 < len(t) <= _SHORT]
            test = test_of(flt) if short else None
            if test is None:
                continue
            benign = next((v for t in short for v in everyday(self.sets.field(scope.rule_set, flt))
                           if fold(t) in fold(v) and test(fold(v))), None)
            if benign is not None:
                piece, sample = shown(short[0]), shown(benign)
                yield finding("short-contains", f"{self.sets.describe(scope.rule_set, flt)}: the {len(short[0])}-"
                               f"character piece {piece} also matches everyday values such as {sample}",
                               flt.location, "match a longer, distinctive piece")

    def pairs(self, scope: Scope, *, negated: bool = False) -> Iterator[tuple[RuleFilter, RuleFilter]]:
        """Same-field pairs in document order; ``negated``: only pairs with a negative condition (every
        tautology has one, so the many positive pairs of a long OR list need no look)."""
        by_field: dict[int, list[RuleFilter]] = {}
        for flt in scope.filters:
            by_field.setdefault(flt.field_id, []).append(flt)
        for group in by_field.values():
            if not 1 < len(group) <= 64:  # pairs of a huge same-field list are values, not logic
                continue
            if negated and not any(cond_name(f) in NEGATIVE for f in group):
                continue
            yield from ((a, b) for i, a in enumerate(group) for b in group[i + 1:]
                        if not negated or cond_name(a) in NEGATIVE or cond_name(b) in NEGATIVE)

    def or_scope(self, scope: Scope) -> Iterator[Diagnostic]:
        paired: set[int] = set()
        for a, b in self.pairs(scope, negated=True):
            if id(a) in paired or id(b) in paired or not tautology(a, b) or not _engine_agrees(a, b, both=False):
                continue
            paired.update((id(a), id(b)))
            self.note_always(scope, b)
            yield finding("or-tautology", f"{self.sets.describe(scope.rule_set, a)} OR "
                           f"{self.sets.describe(scope.rule_set, b)} in one {scope.where}: every value matches "
                           "one of them, so this always matches", b.location,
                           'wrap the two in <Rule groupRelation="and">, or drop the negated one', related=(a.location,))
        for flt in scope.filters:
            if id(flt) not in paired and matches_almost_all(flt) and self.confirmed_always(scope, flt):
                self.everything.add(id(flt))
                self.note_always(scope, flt)
                if scope.rule and scope.rule_set.combine == COMBINE_AND:
                    effect = "is true for almost every event, so the <Rule> constrains nothing"
                else:
                    effect = ("logs" if scope.rule_set.onmatch == "include" else "drops") + \
                        " almost every event of this type"
                shown_by = None if scope.rule else self.always_witness(scope, flt)
                yield finding("matches-everything", f"{self.sets.describe(scope.rule_set, flt)} alone in an OR "
                              f"{scope.where} {effect}", flt.location,
                              'put it in a <Rule groupRelation="and"> with what it should narrow',
                              witness=shown_by[0] if shown_by else None,
                              claim=(shown_by[1].decision, shown_by[1].rule_name) if shown_by else None)
            elif _empty_token(flt) and self.confirmed_always(scope, flt):
                self.note_always(scope, flt)  # empty-list-item reports the filter; its shadow is ours

    def confirmed_always(self, scope: Scope, flt: RuleFilter) -> bool:
        """The evaluator decides a sample event by this set (top level) — or the <Rule> is true."""
        return scope.rule or self.always_witness(scope, flt) is not None

    def always_witness(self, scope: Scope, flt: RuleFilter) -> tuple[Event, Decision] | None:
        """A sample event the filter matches that this set decides (the evaluator's word), or None."""
        test = test_of(flt)
        sample = next((s for s in SAMPLES if test is not None and test(s)), None)
        if sample is None:
            return None
        event = Event(scope.rule_set.event_id, {self.sets.field(scope.rule_set, flt): sample})
        decision = self.ctx.evaluator.decide(event)
        return (event, decision) if decision.rule_set is scope.rule_set else None

    def note_always(self, scope: Scope, flt: RuleFilter) -> None:
        """An always-true item of an include OR set answers first for every later filter (the first one)."""
        if scope.rule_set.onmatch != "include" or scope.rule_set.combine != COMBINE_OR:
            return
        known = self.always.get(id(scope.rule_set))
        position = {id(f): i for i, f in enumerate(scope.rule_set.filters)}
        if known is None or position[id(flt)] < position[id(known[1])]:
            self.always[id(scope.rule_set)] = (scope.rule_set, flt)

    def and_rule(self, scope: Scope) -> Iterator[Diagnostic]:
        for a, b in self.pairs(scope):
            if contradiction(a, b) and _engine_agrees(a, b, both=True):
                yield finding("never-matches", f"{self.sets.describe(scope.rule_set, a)} AND "
                               f"{self.sets.describe(scope.rule_set, b)}: no value matches both, so this "
                               f"{scope.where} never matches", b.location,
                               'use <Rule groupRelation="or"> if either should do', related=(a.location,))
                return

    def excludes_all(self, scope: Scope) -> Iterator[Diagnostic]:
        for flt in scope.filters:
            if cond_name(flt) != "excludes all":
                continue
            tokens = [t for t in dict.fromkeys(fold(flt.value).split(";")) if t]
            test = test_of(flt) if len(tokens) >= 2 else None
            if test is not None and all(test(t) for t in tokens):
                yield finding("excludes-list-inverted", f"{self.sets.describe(scope.rule_set, flt)} matches each "
                               f"value it lists (e.g. {shown(tokens[0])}): 'excludes all' is true when any one item is "
                               "missing", flt.location,
                               "for 'none of these' use 'excludes any'; for 'one of these' use 'is any' or "
                               "'contains any'")

    def hidden_names(self) -> Iterator[Diagnostic]:
        for rule_set, first in self.always.values():
            yield from self.hidden_after(rule_set, first)

    def hidden_after(self, rule_set: RuleSet, first: RuleFilter) -> Iterator[Diagnostic]:
        order = [s for s in self.ctx.rule_sets_for(rule_set.event_id) if s.onmatch == "include"]
        start = next(i for i, s in enumerate(order) if s is rule_set)
        position = next(i for i, f in enumerate(rule_set.filters) if f is first)
        later = [f for f in rule_set.filters[position + 1:] if f.name]
        later += [f for s in order[start + 1:] for f in s.filters if f.name]
        checked = later[:_WITNESS_CAP]  # each is one evaluator walk; enough to show the point
        decided = [(f, found) for f in checked if (found := self.decided_by(rule_set, f)) is not None]
        if decided:
            hidden = [f for f, _found in decided]
            event, decision = decided[0][1]
            names = sorted({f.name for f in hidden})
            more = "+" if len(later) > len(checked) else ""
            yield finding("rule-name-never-surfaces",
                          f"{len(hidden)}{more} later filter(s) never name the event ({', '.join(names[:3])}"
                          f"{', ...' if len(names) > 3 else ''}): {self.sets.describe(rule_set, first)} "
                          f"(line {first.location.line if first.location else 0}) matches first", hidden[0].location,
                          related=(first.location,), witness=event, claim=(decision.decision, decision.rule_name))

    def decided_by(self, rule_set: RuleSet, flt: RuleFilter) -> tuple[Event, Decision] | None:
        """An event built to match ``flt`` that ``rule_set`` logs under another name (the evaluator's word)."""
        value = witness(flt)
        if value is None:
            return None
        event = Event(rule_set.event_id, {self.sets.field(self.owner[id(flt)], flt): value})
        decision = self.ctx.evaluator.decide(event)
        return (event, decision) if decision.rule_set is rule_set and decision.rule_name != flt.name else None


def check_logic(ctx: LintContext) -> Iterator[Diagnostic]:
    yield from LogicChecker(ctx).check()
