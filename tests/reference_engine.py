"""A plain, slow, obviously-correct evaluator written straight from the reference map (§4-§6).

It shares nothing with ``sysmon_rules.engine`` but the RuleTable and the schema's field tables:
strings are walked character by character like the C code walks WCHARs, sets are walked filter
by filter, and nothing is precomputed. The property tests hold the fast engine to it.
"""

from __future__ import annotations

from collections.abc import Mapping

from sysmon_rules.ruletable import RuleTable
from sysmon_rules.schema import newest

MATCH, NO_MATCH, FAILED = "match", "nomatch", "failed"


def lower_char(c: str) -> str:
    return chr(ord(c) + 32) if "A" <= c <= "Z" else c


def upper_char(c: str) -> str:
    return chr(ord(c) - 32) if "a" <= c <= "z" else c


def lower(s: str) -> str:
    return "".join(lower_char(c) for c in s)


def units(s: str) -> list[int]:
    """UTF-16 code units."""
    raw = s.encode("utf-16-le", "surrogatepass")
    return [raw[i] | raw[i + 1] << 8 for i in range(0, len(raw), 2)]


def icmp(a: str, b: str, platform: str) -> int:
    """_wcsicmp (Windows lowercases) / WideStrcasecmp (Linux uppercases), on code units."""
    fold = lower_char if platform == "windows" else upper_char
    ua = [ord(fold(chr(u))) for u in units(a)] + [0]
    ub = [ord(fold(chr(u))) for u in units(b)] + [0]
    i = 0
    while True:
        if ua[i] != ub[i]:
            return -1 if ua[i] < ub[i] else 1
        if ua[i] == 0:
            return 0
        i += 1


def find_sub(value: str, rule: str, start: int, count: int) -> bool:
    """Substring search of rule[start:start+count] (count 0: to the end) in the lowered value."""
    pos = 0
    while pos < len(value):
        i, j = pos, start
        while True:
            if j >= len(rule):
                return True
            if i >= len(value):
                return False
            if lower_char(value[i]) != rule[j]:
                break
            i += 1
            j += 1
            if count and j == start + count:
                return True
        pos += 1
    return False


def items(rule: str) -> list[tuple[int, int]]:
    """(start, length) of each ';' token."""
    out = []
    start = 0
    while True:
        end = start
        while end < len(rule) and rule[end] != ";":
            end += 1
        out.append((start, end - start))
        if end >= len(rule):
            return out
        start = end + 1


def condition(kind: int, rule: str, value: str, platform: str) -> str:
    yes = lambda ok: MATCH if ok else NO_MATCH  # noqa: E731
    if kind == 13:  # image
        if "\\" not in rule and "\\" in value:
            value = value[value.rindex("\\") + 1:]
        return yes(icmp(value, rule, platform) == 0)
    if kind == 0:
        return yes(icmp(value, rule, platform) == 0)
    if kind == 1:
        return yes(icmp(value, rule, platform) != 0)
    if kind == 2:
        return yes(find_sub(value, rule, 0, 0))
    if kind == 6:
        return yes(not find_sub(value, rule, 0, 0))
    if kind in (3, 7):
        found = any(find_sub(value, rule, s, n) for s, n in items(rule))
        return yes(found if kind == 3 else not found)
    if kind in (5, 8):
        missing = any(not find_sub(value, rule, s, n) for s, n in items(rule))
        return yes(not missing if kind == 5 else missing)
    if kind == 4:
        return yes(any(n == len(value) and icmp(value, rule[s:s + n], platform) == 0 for s, n in items(rule)))
    if kind in (9, 14):
        ok = len(value) >= len(rule) and icmp(value[:len(rule)], rule, platform) == 0
        return yes(ok if kind == 9 else not ok)
    if kind in (10, 15):
        ok = len(rule) <= len(value) and icmp(value[len(value) - len(rule):], rule, platform) == 0
        return yes(ok if kind == 10 else not ok)
    if kind == 11:
        return yes(icmp(value, rule, platform) < 0)
    if kind == 12:
        return yes(icmp(value, rule, platform) > 0)
    return FAILED


def expand(rule: str, env: Mapping[str, str]) -> str | None:
    names = {lower(k): v for k, v in env.items()}
    out = ""
    i = 0
    while i < len(rule):
        if rule[i] == "%":
            close = rule.find("%", i + 1)
            if close > i + 1 and lower(rule[i + 1:close]) in names:
                out += names[lower(rule[i + 1:close])]
                i = close + 1
                continue
            if close > i:
                out += rule[i:close]
                i = close
                continue
        out += rule[i]
        i += 1
    out = lower(out)
    return out if len(units(out)) + 1 <= 260 else None


class Reference:
    def __init__(self, table: RuleTable, platform: str = "windows", environment: Mapping[str, str] | None = None):
        self.table = table
        self.platform = platform
        self.env = dict(environment or {})
        self.schema = newest(platform)  # type: ignore[arg-type]
        self.types = {e.id: e for e in self.schema.events}

    def value(self, event_id: int, fields: Mapping[str, str], index: int) -> str:
        name = self.types[event_id].fields[index].name
        if name == "RuleName":
            return "-"
        raw = fields.get(name, "")
        raw = raw.split("\0")[0]
        return raw if raw else "-"

    def readable(self, event_id: int, set_id: int, index: int) -> bool:
        mine = self.types.get(event_id)
        if mine is None or index >= len(mine.fields):
            return False
        if set_id == event_id or set_id not in self.types:
            return True
        theirs = self.types[set_id].fields
        return index < len(theirs) and theirs[index].name == mine.fields[index].name

    def check(self, flt, set_id: int, event_id: int, fields: Mapping[str, str]) -> str:  # type: ignore[no-untyped-def]
        if not self.readable(event_id, set_id, flt.field_id):
            return NO_MATCH
        rule = lower(flt.value.split("\0")[0])
        kind = flt.condition & 0xFFFF
        if self.table.binary_version < (9 << 16 | 20):
            legacy = [0, 1, 2, 6, 9, 10, 11, 12, 13]
            kind = legacy[kind] if kind < len(legacy) else 99
        if self.platform == "windows" and ("%" in rule or flt.condition & 0x40000000):
            expanded = expand(rule, self.env)
            if expanded is None:
                return NO_MATCH
            rule = expanded
        return condition(kind, rule, self.value(event_id, fields, flt.field_id), self.platform)

    def run_set(self, rs, event_id: int, fields: Mapping[str, str], name: list[str | None]) -> str:  # type: ignore[no-untyped-def]
        filters = list(rs.filters)
        if not filters:
            return NO_MATCH
        matched_fields: set[int] = set()
        i = 0
        while i < len(filters):
            f = filters[i]
            if f.aggregation_id:
                j = i
                while j < len(filters) and filters[j].aggregation_id == f.aggregation_id:
                    j += 1
                result = self.run_group(rs, filters[i:j], event_id, fields, name)
                i = j
                if result == FAILED:
                    return FAILED
                if result == MATCH and rs.combine == 0:
                    return MATCH
                if result == NO_MATCH and rs.combine == 1:
                    return NO_MATCH
                continue
            i += 1
            if self.readable(event_id, rs.event_id, f.field_id) and f.field_id in matched_fields:
                continue
            result = self.check(f, rs.event_id, event_id, fields)
            if result == FAILED:
                return FAILED
            if result == MATCH:
                if f.name:
                    name[0] = f.name
                matched_fields.add(f.field_id)
                if rs.combine == 0:
                    return MATCH
            elif rs.combine == 1:
                later = [g for g in filters[i:] if g.field_id == f.field_id and g.aggregation_id == 0]
                if not later:
                    return NO_MATCH
        return MATCH if rs.combine == 1 else NO_MATCH

    def run_group(self, rs, run, event_id: int, fields: Mapping[str, str], name: list[str | None]) -> str:  # type: ignore[no-untyped-def]
        agg = next((a for a in rs.aggregations if a.id == run[0].aggregation_id), None)
        combine = agg.combine if agg else 0
        old_names = self.table.binary_version <= (14 << 16 | 1)
        for f in run:
            result = self.check(f, rs.event_id, event_id, fields)
            if result == FAILED:
                return FAILED
            if result == MATCH:
                if old_names and agg is not None and agg.name:
                    name[0] = agg.name
                elif f.name:
                    name[0] = f.name
                if combine == 0:
                    return MATCH
            elif combine == 1:
                return NO_MATCH
        return MATCH if combine == 1 else NO_MATCH

    def series_top(self, event_id: int) -> int:
        order = [e.rulename for e in self.schema.events]
        top = event_id
        if event_id < len(order) and order[event_id]:
            while top + 1 < len(order) and order[top + 1] and lower(order[top + 1]) == lower(order[event_id]):
                top += 1
        return 0 if top == 255 else top

    def decide(self, event_id: int, fields: Mapping[str, str]) -> tuple[str, str | None]:
        if event_id in (4, 16, 255):
            return "include", None
        slot = self.series_top(event_id)
        mine = [rs for rs in self.table.rule_sets if self.series_top(rs.event_id) == slot]
        ordered = [rs for rs in reversed(mine) if rs.rule_default == 0] + \
                  [rs for rs in reversed(mine) if rs.rule_default == 1]
        if not ordered:
            t = self.types.get(event_id)
            return (t.ruledefault if t and t.ruledefault else "exclude"), None
        name: list[str | None] = [None]
        if event_id not in self.types:
            raise ValueError("the reference engine only knows the build's event types")
        for rs in ordered:
            result = self.run_set(rs, event_id, fields, name)
            if result == MATCH:
                return ("exclude" if rs.rule_default == 0 else "include"), name[0]
        if len(ordered) == 1:
            return ("include" if ordered[0].rule_default == 0 else "exclude"), None
        return "exclude", None
