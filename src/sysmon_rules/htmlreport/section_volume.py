"""Volume: how much the config logs over time and per host (the replay document's ``volume``).

Plots bucket by hour, day, week or month, whichever keeps a few dozen bars over the days seen;
counts carry ``data-json`` pointers into the replay document like the rest of the replay.
"""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from ..schema.model import Platform
from . import charts
from .facts import event_label
from .figures import Figures
from .markup import code, details, heading, limited, note, number, pointer, table, text, tiles

TOP_HOSTS = 20
TOP_ROWS = 20  # noisiest rows shown before "every ..." (the details list them all)
UNKNOWN = "unknown"  # volume's bucket for events without a readable UtcTime


def time_unit(first_day: str | None, last_day: str | None) -> str:
    """hour up to 3 days, day up to 3 months, week up to a year, month beyond."""
    if not first_day or not last_day:
        return "day"
    span = (date.fromisoformat(last_day) - date.fromisoformat(first_day)).days + 1
    return "hour" if span <= 3 else "day" if span <= 92 else "week" if span <= 366 else "month"


def timeline_rows(volume: dict[str, Any], platform: Platform) -> tuple[list[dict[str, object]], str]:
    """Logged events per bucket and event type (ISO UTC times), and the bucket unit."""
    unit = time_unit(volume["first_day"], volume["last_day"])
    curve = cast(list[dict[str, Any]], volume["per_hour" if unit == "hour" else "per_day"])
    rows = [{"time": _iso(point["time"]), "label": event_label(int(k), platform), "count": n}
            for point in curve if point["time"] != UNKNOWN for k, n in point["logged_by_event_id"].items()]
    return rows, unit


def compared_rows(mine: dict[str, Any], theirs: dict[str, Any]) -> tuple[list[dict[str, object]], str]:
    """Logged events per bucket under this config and the other (same events, so the same buckets)."""
    unit = time_unit(mine["first_day"], mine["last_day"])
    key = "per_hour" if unit == "hour" else "per_day"
    rows = [{"time": _iso(p["time"]), "config": name, "count": p["logged"]}
            for name, volume in (("this config", mine), ("other config", theirs))
            for p in cast(list[dict[str, Any]], volume[key]) if p["time"] != UNKNOWN]
    return rows, unit


def _iso(bucket: str) -> str:
    """``2024-03-01`` or ``2024-03-01 09`` as an ISO instant in UTC."""
    return f"{bucket[:10]}T{bucket[11:13] or '00'}:00:00Z"


def volume_part(doc: dict[str, Any], figures: Figures, platform: Platform) -> str:
    volume = cast(dict[str, Any], doc["volume"])
    out = heading("Volume over time and hosts", "From each event's UtcTime and the host that logged it.")
    hosts = cast(list[dict[str, Any]], volume["hosts_logged"])
    if not volume["days"] and all(h["host"] is None for h in hosts):
        return out + note("These events carry neither a UtcTime nor a host (Computer): nothing to show "
                          "over time or per host.")
    span = f"{volume['first_day']} to {volume['last_day']}" if volume["first_day"] else "no readable time"
    out += tiles([("days with events", number(volume["days"], pointer("volume", "days"))),
                  ("hosts", number(volume["hosts"], pointer("volume", "hosts"))),
                  ("period (UTC)", text(span)),
                  ("events without a time", number(volume["unknown_time"], pointer("volume", "unknown_time")))])
    rows, unit = timeline_rows(volume, platform)
    if rows:
        out += figures.add("logged-over-time", charts.volume_over_time(rows, unit),
                           f"Logged events per {unit} and event type (UTC).")
    out += _days(volume)
    out += _hosts(volume, figures)
    out += _noisiest(volume, platform)
    return out + _over_budget(volume, platform)


def _days(volume: dict[str, Any]) -> str:
    cells = [[text(p["time"]), number(p["events"], pointer("volume", "per_day", i, "events")),
              number(p["logged"], pointer("volume", "per_day", i, "logged"))]
             for i, p in enumerate(cast(list[dict[str, Any]], volume["per_day"]))]
    return details(f"Every day ({len(cells):,})", table(["Day (UTC)", "events", "logged"], limited(cells, 3)))


def _hosts(volume: dict[str, Any], figures: Figures) -> str:
    hosts = cast(list[dict[str, Any]], volume["hosts_logged"])
    out = heading(f"Per host ({len(hosts):,})")
    bars = [{"label": h["host"] or "(no host)", "decision": name, "count": n, "order": j} for h in hosts[:TOP_HOSTS]
            for j, (name, n) in enumerate((("logged", h["logged"]), ("dropped", h["events"] - h["logged"])))]
    if bars:
        out += figures.add("hosts", charts.decisions_by_host(bars),
                           f"Events logged and dropped on the {min(TOP_HOSTS, len(hosts))} hosts logging most.")
    cells = [[text(h["host"] or "(no host)"), number(h["events"], pointer("volume", "hosts_logged", i, "events")),
              number(h["logged"], pointer("volume", "hosts_logged", i, "logged")), number(len(h["logged_per_day"]))]
             for i, h in enumerate(hosts)]
    return out + details("Every host", table(["Host", "events", "logged", "days logging"], limited(cells, 4)))


def _noisiest(volume: dict[str, Any], platform: Platform) -> str:
    budget = volume["budget"]
    columns = ["RuleName", "logged", "hosts", "worst host-day"] + (["host-days over budget"] if budget else [])
    out = heading("Noisiest rules per host and day",
                  "The worst host-day is where one RuleName filled the log most." +
                  (f" Budget: {budget:,} logged events per host per day." if budget else ""))
    rows = cast(list[dict[str, Any]], volume["rule_names"])
    cells = [[text(r["rule_name"] or "(no RuleName)")] +
             [number(r[k], pointer("volume", "rule_names", i, k)) for k in ("logged", "hosts")] + [_peak(r["peak"])] +
             ([number(r["host_days_over_budget"], pointer("volume", "rule_names", i, "host_days_over_budget"))]
              if budget else []) for i, r in enumerate(rows)]
    out += table(columns, cells[:TOP_ROWS], numeric={1, 2, 4})
    if len(cells) > TOP_ROWS:
        out += details(f"Every RuleName ({len(cells):,})", table(columns, limited(cells, len(columns)),
                                                                  numeric={1, 2, 4}))
    types = cast(list[dict[str, Any]], volume["event_types"])
    out += heading("Noisiest event types per host and day")
    return out + table(["Event type", "logged", "hosts", "worst host-day"],
                       [[text(event_label(r["event_id"], platform)),
                         number(r["logged"], pointer("volume", "event_types", i, "logged")),
                         number(r["hosts"], pointer("volume", "event_types", i, "hosts")), _peak(r["peak"])]
                        for i, r in enumerate(types)], numeric={1, 2})


def _peak(peak: dict[str, Any] | None) -> str:
    if not peak:
        return "–"
    return f"{number(peak['logged'])} on {text(peak['day'])} at {code(peak['host'] or '(no host)')}"


def _over_budget(volume: dict[str, Any], platform: Platform) -> str:
    if not volume["budget"]:
        return ""
    over = cast(list[dict[str, Any]], volume["over_budget"])
    out = heading(f"Over budget ({len(over):,})", f"Event types and RuleNames above {volume['budget']:,} logged "
                  "events on one host in one day, biggest first.")
    if not over:
        return out + note("Nothing is over budget.")
    cells = [[text(event_label(o["event_id"], platform) if o["kind"] == "event_id" else o["rule_name"] or "(none)"),
              text(o["day"]), code(o["host"] or "(no host)"), number(o["logged"], pointer("volume", "over_budget", i,
                                                                                         "logged"))]
             for i, o in enumerate(over)]
    return out + table(["Event type or RuleName", "Day", "Host", "logged"], limited(cells, 4), numeric={3})
