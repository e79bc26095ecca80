"""How much a config logs over time: events per day and hour, per event type, RuleName and host.

Events are bucketed by their ``UtcTime`` field (Sysmon's own timestamp, ``YYYY-MM-DD HH:MM:SS.mmm``)
and their host (``Origin.computer``, the record's ``<System><Computer>``). Only counters are kept:

- ``hourly``: (hour, event id, decision) -> events, for the per-hour and per-day curves;
- ``daily``: (day, host, event id, RuleName, decision) -> events, for everything per host.

Both are bounded by days x hosts x (event id, RuleName) pairs, never by the number of events,
and two Volumes over disjoint inputs add up (``merge``), so partitions can be counted apart.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

INCLUDE = "include"
UNKNOWN = "unknown"  # the bucket of an event without a readable UtcTime

Hourly = tuple[str, int, str]  # (hour "YYYY-MM-DD HH", event id, decision)
Daily = tuple[str, str | None, int, str | None, str]  # (day, host, event id, RuleName, decision)


def hour_of(utc_time: str | None) -> str:
    """``"2019-05-14 14"`` for ``"2019-05-14 14:10:21.123"`` (``T`` accepted too); else ``unknown``."""
    if not utc_time or len(utc_time) < 13:
        return UNKNOWN
    date, sep, hour = utc_time[:10], utc_time[10], utc_time[11:13]
    if sep not in " T" or date[4] != "-" or date[7] != "-" or not (date[:4] + date[5:7] + date[8:] + hour).isdigit():
        return UNKNOWN
    return f"{date} {hour}"


# A batch's groups repeat a few hundred hours (UtcTime's first 13 characters): each read once.
_hour_of = lru_cache(maxsize=1 << 12)(hour_of)


def _day_of(hour: str) -> str:
    return hour[:10] if hour != UNKNOWN else UNKNOWN


def day_of(utc_time: str | None) -> str:
    """The day an event with this ``UtcTime`` is counted under (``unknown`` without a readable
    time): the budget's day, for tools that count per host-day themselves (``tune``)."""
    return _day_of(hour_of(utc_time))


@dataclass
class Volume:
    """The counters of one config's decisions over time and hosts (see the module docstring)."""

    hourly: Counter[Hourly] = field(default_factory=Counter)
    daily: Counter[Daily] = field(default_factory=Counter)

    def add(self, utc_time: str | None, host: str | None, event_id: int, rule_name: str | None,
            decision: str, count: int = 1) -> None:
        hour = _hour_of(utc_time)
        self.hourly[hour, event_id, decision] += count
        self.daily[_day_of(hour), host, event_id, rule_name, decision] += count

    def merge(self, other: Volume) -> None:
        self.hourly.update(other.hourly)
        self.daily.update(other.daily)

    def to_dict(self, *, budget: int | None = None, top: int | None = None) -> dict[str, object]:
        """The JSON view documented in docs/evaluate.md ("Volume"); its keys are stable."""
        logged = Counter({k: n for k, n in self.daily.items() if k[4] == INCLUDE})
        days = sorted({k[0] for k in self.daily})
        hosts = {k[1] for k in self.daily}
        return {
            "budget": budget,
            "days": len([d for d in days if d != UNKNOWN]),
            "hosts": len(hosts),
            "first_day": next((d for d in days if d != UNKNOWN), None),
            "last_day": next((d for d in reversed(days) if d != UNKNOWN), None),
            "unknown_time": sum(n for k, n in self.daily.items() if k[0] == UNKNOWN),
            "unknown_host": sum(n for k, n in self.daily.items() if k[1] is None),
            "per_day": _curve(self.hourly, _day_of),
            "per_hour": _curve(self.hourly, lambda hour: hour),
            "event_types": _rows(self.daily, logged, lambda k: k[2], "event_id", budget)[:top],
            "rule_names": _rows(self.daily, logged, lambda k: k[3], "rule_name", budget)[:top],
            "hosts_logged": _host_rows(self.daily, logged)[:top],
            "over_budget": _over_budget(logged, budget)[:top],
        }


def _curve(hourly: Counter[Hourly], bucket: Callable[[str], str]) -> list[dict[str, object]]:
    """Per day or hour (``bucket`` maps an hour key to it): events seen and logged, in time order."""
    seen: Counter[str] = Counter()
    kept: Counter[str] = Counter()
    per_type: dict[str, Counter[str]] = defaultdict(Counter)
    for (hour, event_id, decision), n in hourly.items():
        key = bucket(hour)
        seen[key] += n
        if decision == INCLUDE:
            kept[key] += n
            per_type[key][str(event_id)] += n
    return [{"time": key, "events": seen[key], "logged": kept[key], "logged_by_event_id": dict(sorted(
        per_type[key].items(), key=lambda kv: int(kv[0])))} for key in sorted(seen)]


def _rows(daily: Counter[Daily], logged: Counter[Daily], key_of: Callable[[Daily], object], name: str,
          budget: int | None) -> list[dict[str, object]]:
    """One row per event id or RuleName: events, logged, logged per day, the worst host-day, and
    how many host-days exceed the budget; noisiest (most logged) first."""
    seen: Counter[object] = Counter()
    kept: Counter[object] = Counter()
    per_day: dict[object, Counter[str]] = defaultdict(Counter)
    per_host_day: dict[object, Counter[tuple[str, str | None]]] = defaultdict(Counter)
    for k, n in daily.items():
        seen[key_of(k)] += n
    for k, n in logged.items():
        group = key_of(k)
        kept[group] += n
        per_day[group][k[0]] += n
        per_host_day[group][k[0], k[1]] += n
    rows = [_row(name, group, seen[group], kept[group], per_day[group], per_host_day[group], budget)
            for group in seen]
    rows.sort(key=lambda r: (-_int(r["logged"]), -_int(r["events"]), str(r[name])))
    return rows


def _row(name: str, group: object, seen: int, kept: int, per_day: Counter[str],
         per_host_day: Counter[tuple[str, str | None]], budget: int | None) -> dict[str, object]:
    peak = max(per_host_day.items(), key=lambda kv: (kv[1], str(kv[0])), default=None)
    return {
        name: group,
        "events": seen,
        "logged": kept,
        "hosts": len({host for _, host in per_host_day}),
        "logged_per_day": dict(sorted(per_day.items())),
        "peak": {"day": peak[0][0], "host": peak[0][1], "logged": peak[1]} if peak else None,
        "host_days_over_budget": sum(1 for n in per_host_day.values() if n > budget) if budget is not None else 0,
    }


def _host_rows(daily: Counter[Daily], logged: Counter[Daily]) -> list[dict[str, object]]:
    seen: Counter[str | None] = Counter()
    per_day: dict[str | None, Counter[str]] = defaultdict(Counter)
    for k, n in daily.items():
        seen[k[1]] += n
    for k, n in logged.items():
        per_day[k[1]][k[0]] += n
    rows: list[dict[str, object]] = [
        {"host": host, "events": seen[host], "logged": sum(per_day[host].values()),
         "logged_per_day": dict(sorted(per_day[host].items()))} for host in seen]
    rows.sort(key=lambda r: (-_int(r["logged"]), str(r["host"])))
    return rows


def _over_budget(logged: Counter[Daily], budget: int | None) -> list[dict[str, object]]:
    """Every (event type or RuleName, host, day) logging more than ``budget`` events, biggest first."""
    if budget is None:
        return []
    by_type: Counter[tuple[int, str, str | None]] = Counter()
    by_name: Counter[tuple[str, str, str | None]] = Counter()
    for (day, host, event_id, rule_name, _), n in logged.items():
        by_type[event_id, day, host] += n
        if rule_name is not None:
            by_name[rule_name, day, host] += n
    flagged: list[dict[str, object]] = [
        {"kind": "event_id", "event_id": k[0], "day": k[1], "host": k[2], "logged": n}
        for k, n in by_type.items() if n > budget]
    flagged += [{"kind": "rule_name", "rule_name": k[0], "day": k[1], "host": k[2], "logged": n}
                for k, n in by_name.items() if n > budget]
    flagged.sort(key=lambda r: (-_int(r["logged"]), str(r["kind"]), str(r.get("event_id", r.get("rule_name"))),
                                str(r["day"]), str(r["host"])))
    return flagged


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0

