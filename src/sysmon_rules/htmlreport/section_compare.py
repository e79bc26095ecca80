"""Comparison with another config: rule sets side by side and, over the replayed events, what changes.

"This config" is CONFIG, "the other" is ``--compare OTHER``: newly logged means OTHER logs an
event CONFIG drops (``compare.by_event_id[].now_included`` of the replay document).
"""

from __future__ import annotations

from typing import Any, cast

from ..schema.model import Platform
from . import charts
from .facts import Facts, event_label
from .figures import Figures
from .markup import code, details, heading, limited, note, number, pointer, section, table, text, tiles
from .section_changes import changes_part
from .section_volume import compared_rows

TOP = 15


def compare_section(facts: Facts, other: Facts, replay: dict[str, Any] | None, figures: Figures,
                    platform: Platform, diff: dict[str, Any] | None = None) -> str:
    body = f'<p class="explain">This config: {code(facts["path"])}; the other: {code(other["path"])}</p>'
    body += _structure(facts, other)
    if replay is None or "compare" not in replay:
        body += note("Give events (--events) to see which events each change logs or drops.")
    else:
        body += _flips(cast(dict[str, Any], replay["compare"]), figures, platform)
        body += _volume(replay, figures)
        body += _moves(cast(dict[str, Any], replay["compare"]), figures)
    if diff is not None:
        body += changes_part(diff, figures)
    return section("compare", "Comparison with the other config", body)


def _structure(facts: Facts, other: Facts) -> str:
    mine = {t["event_id"]: t for t in cast(list[dict[str, Any]], facts["event_types"])}
    theirs = {t["event_id"]: t for t in cast(list[dict[str, Any]], other["event_types"])}
    empty = {"include_sets": 0, "exclude_sets": 0, "include_filters": 0, "exclude_filters": 0}
    rows = []
    for event_id in sorted(set(mine) | set(theirs)):
        a, b = mine.get(event_id, empty), theirs.get(event_id, empty)
        label = (mine.get(event_id) or theirs[event_id])["event"]
        rows.append([text(label), number(a["include_sets"] + a["exclude_sets"]), number(b["include_sets"] +
                     b["exclude_sets"]), number(a["include_filters"] + a["exclude_filters"]),
                     number(b["include_filters"] + b["exclude_filters"])])
    return heading("Rule sets side by side") + table(
        ["Config element (event ids)", "sets (this)", "sets (other)", "filters (this)", "filters (other)"], rows)


def _flips(comparison: dict[str, Any], figures: Figures, platform: Platform) -> str:
    rows = cast(list[dict[str, int]], comparison["by_event_id"])
    gained = sum(r["now_included"] for r in rows)
    lost = sum(r["now_excluded"] for r in rows)
    out = heading("What changes on the replayed events")
    out += tiles([("events compared", number(comparison["events"], pointer("compare", "events"))),
                  ("change decision or RuleName", number(comparison["changed"], pointer("compare", "changed"))),
                  ("newly logged", number(gained)), ("newly dropped", number(lost))])
    bars = [{"label": event_label(r["event_id"], platform), "change": change, "count": r[key],
             "signed": r[key] * sign} for r in rows
            for change, key, sign in (("newly logged", "now_included", 1), ("newly dropped", "now_excluded", -1))
            if r[key]]
    if bars:
        out += figures.add("flips-by-event", charts.flips_by_event(bars),
                           "Per event type: events the other config logs that this one drops (right) and the reverse.")
    cells = [[text(event_label(r["event_id"], platform))] +
             [number(r[k], pointer("compare", "by_event_id", i, k))
              for k in ("events", "included_a", "included_b", "now_included", "now_excluded")]
             for i, r in enumerate(rows)]
    return out + table(["Event type", "events", "logged (this)", "logged (other)", "newly logged",
                        "newly dropped"], cells)


def _volume(replay: dict[str, Any], figures: Figures) -> str:
    theirs = cast(dict[str, Any], replay["compare"]).get("volume")
    if "volume" not in replay or theirs is None:
        return ""
    rows, unit = compared_rows(cast(dict[str, Any], replay["volume"]), theirs)
    if not rows:
        return ""
    return figures.add("volume-compared", charts.volume_compared(rows, unit),
                       f"Logged events per {unit} (UTC) under this config and the other, on the same events.")


def _moves(comparison: dict[str, Any], figures: Figures) -> str:
    rows = cast(list[dict[str, Any]], comparison["rule_names"])
    out = heading(f"RuleName moves ({len(rows):,})", "RuleNames whose event count differs between the configs, "
                  "biggest change first.")
    if not rows:
        return out + note("Every RuleName decides the same number of events under both configs.")
    bars = [{"label": r["rule_name"], "delta": r["delta"], "events_a": r["events_a"], "events_b": r["events_b"]}
            for r in rows[:TOP]]
    out += figures.add("rule-name-moves", charts.rule_name_moves(bars),
                       f"The {len(bars)} RuleNames whose event count changes most (green: more events under the "
                       "other config, red: fewer).")
    cells = [[text(r["rule_name"])] + [number(r[k], pointer("compare", "rule_names", i, k))
                                       for k in ("events_a", "events_b", "delta")] for i, r in enumerate(rows)]
    return out + details("Every RuleName that moves", table(["RuleName", "events (this)", "events (other)",
                                                              "change"], limited(cells, 4)))
