"""The report's plots as Vega-Lite specs (built with altair), one small function per plot.

Every count axis is titled with its unit, ticks are whole numbers shown short ("12k", "3.4M")
and tooltips give the exact figure with thousands separators. Colours say the same thing
everywhere: blue logged, grey dropped, green newly logged, red newly dropped; readiness goes
green-amber-red. Each function takes rows of plain dicts and returns a JSON-able spec.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

import altair as alt

Spec = dict[str, Any]
Rows = Sequence[dict[str, object]]

LOGGED, DROPPED = "#2563eb", "#9ca3af"
NEWLY_LOGGED, NEWLY_DROPPED = "#15803d", "#b91c1c"
STATUS_COLOURS = {"logged": "#15803d", "partial": "#d97706", "dropped-in-practice": "#dc2626", "dropped": "#b91c1c",
                  "not-applicable": "#9ca3af", "unsupported": "#7c3aed"}
LABEL_LIMIT = 420  # pixels of a long RuleName shown before it is cut with an ellipsis
_CONFIG = {"font": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
           "axis": {"labelFontSize": 12, "titleFontSize": 12, "titleFontWeight": 600, "labelColor": "#1f2937"},
           "legend": {"labelFontSize": 12, "titleFontSize": 12, "orient": "top"},
           "view": {"stroke": None}}


def _count_axis(title: str, values: list[int] | None) -> alt.Axis:
    """A count axis; over a small range of ``values``, one tick per whole number (Vega would add
    halves). ``None``: the values are Vega's own sums, ticks as Vega picks them."""
    low, high = (min(0, *values), max(0, *values)) if values else (0, 1000)
    if high - low <= 10:
        return alt.Axis(title=title, format=",d", values=list(range(low, high + 1)), grid=True)
    short = max(abs(low), high) >= 1000  # "12k" reads better than 12,000 on an axis, "0.2k" worse than 200
    return alt.Axis(title=title, format="~s" if short else ",d", tickMinStep=1, tickCount=8, grid=True)


def _totals(rows: Rows, key: str = "label", value: str = "count") -> list[int]:
    """Per bar, the sum of its stacked parts (the axis must reach the biggest)."""
    totals: dict[str, int] = {}
    for r in rows:
        totals[str(r[key])] = totals.get(str(r[key]), 0) + int(str(r[value]))
    return list(totals.values()) or [0]


def _bars(rows: Rows, key: str = "label", step: int = 22) -> int:
    """The plot height for one bar per distinct ``key``: a fixed height, because Vega-Lite's
    per-bar "step" height cannot be combined with a width that fills the page."""
    return step * max(1, len({str(r[key]) for r in rows}))


def _data(rows: Rows) -> alt.InlineData:
    return alt.InlineData(values=list(rows))


def _finish(chart: alt.Chart | alt.LayerChart | alt.FacetChart) -> Spec:
    spec: Spec = chart.properties(width="container").to_dict()
    spec["config"] = {**spec.get("config", {}), **_CONFIG}
    # Fill the page's width; heights come from the bars (a step per bar), so fit x only.
    spec["autosize"] = {"type": "fit-x", "contains": "padding"}
    return spec


def _stacked(rows: Rows, category: str, title: str, domain: list[str], colours: list[str],
             axis_title: str = "Events (count)") -> Spec:
    """Horizontal bars per ``label``, stacked by ``category``, in the rows' order."""
    chart = alt.Chart(_data(rows)).mark_bar().encode(
        x=alt.X("count:Q", axis=_count_axis(axis_title, _totals(rows)), stack=True),
        y=alt.Y("label:N", sort=None, title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT)),
        color=alt.Color(f"{category}:N", title=None, scale=alt.Scale(domain=domain, range=colours)),
        order=alt.Order("order:Q"),
        tooltip=[alt.Tooltip("label:N", title=title), alt.Tooltip(f"{category}:N", title="what"),
                 alt.Tooltip("count:Q", title="count", format=",")],
    ).properties(height=_bars(rows))
    return _finish(chart)


def decisions_by_event(rows: Rows) -> Spec:
    """Events logged and dropped per event type; rows: label, decision (logged|dropped), count, order."""
    return _stacked(rows, "decision", "Event type", ["logged", "dropped"], [LOGGED, DROPPED])


def tune_cuts(rows: Rows, title: str) -> Spec:
    """What tune keeps and cuts per ``label`` (a host-day or an event type); rows: label,
    part ("still logged"|"cut by tune"), count, order."""
    return _stacked(rows, "part", title, ["still logged", "cut by tune"], [LOGGED, NEWLY_DROPPED],
                    axis_title="Logged events (count)")


def filters_by_event(rows: Rows) -> Spec:
    """Filters per event type in include and exclude sets; rows: label, onmatch, count, order."""
    return _stacked(rows, "onmatch", "Event type", ["include", "exclude"], [LOGGED, DROPPED],
                    axis_title="Filters (count)")


def noisiest_rule_names(rows: Rows) -> Spec:
    """The RuleNames deciding the most events; rows: label, decision, count, order (biggest first)."""
    return _stacked(rows, "decision", "RuleName", ["logged", "dropped"], [LOGGED, DROPPED])


def flips_by_event(rows: Rows, what: str = "Event type") -> Spec:
    """Per ``what`` (event type, change), events newly logged (right) and newly dropped (left) by the
    other config; rows: label, change (newly logged|newly dropped), count, signed (dropped negative)."""
    chart = alt.Chart(_data(rows)).mark_bar().encode(
        x=alt.X("signed:Q", axis=_count_axis("Events changed (count; left: newly dropped, right: newly logged)",
                                              [int(str(r["signed"])) for r in rows])),
        y=alt.Y("label:N", sort=None, title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT)),
        color=alt.Color("change:N", title=None, scale=alt.Scale(domain=["newly logged", "newly dropped"],
                                                                  range=[NEWLY_LOGGED, NEWLY_DROPPED])),
        tooltip=[alt.Tooltip("label:N", title=what), alt.Tooltip("change:N", title="change"),
                 alt.Tooltip("count:Q", title="events", format=",")],
    ).properties(height=_bars(rows))
    return _finish(chart)


def rule_name_moves(rows: Rows) -> Spec:
    """RuleNames whose event count changes most; rows: label, delta, events_a, events_b."""
    chart = alt.Chart(_data(rows)).mark_bar().encode(
        x=alt.X("delta:Q", axis=_count_axis("Change in events (count, other config minus this one)",
                                             [int(str(r["delta"])) for r in rows])),
        y=alt.Y("label:N", sort=None, title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT)),
        color=alt.condition("datum.delta > 0", alt.value(NEWLY_LOGGED), alt.value(NEWLY_DROPPED)),
        tooltip=[alt.Tooltip("label:N", title="RuleName"), alt.Tooltip("events_a:Q", title="this config", format=","),
                 alt.Tooltip("events_b:Q", title="other config", format=","),
                 alt.Tooltip("delta:Q", title="change", format="+,")],
    ).properties(height=_bars(rows))
    return _finish(chart)


TIME_UNITS: dict[str, Literal["utcyearmonthdatehours", "utcyearmonthdate", "utcyearweek", "utcyearmonth"]] = {
    "hour": "utcyearmonthdatehours", "day": "utcyearmonthdate", "week": "utcyearweek", "month": "utcyearmonth"}


def volume_over_time(rows: Rows, unit: str) -> Spec:
    """Logged events per ``unit`` (hour, day, week, month) per event type; rows: time (ISO), label, count."""
    time_unit = TIME_UNITS[unit]
    # Hours and days are the rows' own buckets; weeks and months are Vega's sums of days.
    totals = _totals(rows, "time") if unit in ("hour", "day") else None
    chart = alt.Chart(_data(rows)).mark_bar().encode(
        x=alt.X("time:T", timeUnit=time_unit, title=f"Time (UTC, per {unit})"),
        y=alt.Y("sum(count):Q", axis=_count_axis(f"Logged events per {unit} (count)", totals)),
        color=alt.Color("label:N", title="Event type", scale=alt.Scale(scheme="tableau20"),
                        sort=sorted({str(r["label"]) for r in rows}, key=lambda label: int(label.split()[0])),
                        legend=alt.Legend(orient="right", labelLimit=260)),
        tooltip=[alt.Tooltip("time:T", timeUnit=time_unit, title=unit), alt.Tooltip("label:N", title="Event type"),
                 alt.Tooltip("sum(count):Q", title="logged events", format=",")],
    ).properties(height=280)
    return _finish(chart)


def volume_compared(rows: Rows, unit: str) -> Spec:
    """Logged events per ``unit`` under each config; rows: time (ISO), config ("this"|"other"), count."""
    time_unit = TIME_UNITS[unit]
    chart = alt.Chart(_data(rows)).mark_line(point=True, strokeWidth=2).encode(
        x=alt.X("time:T", timeUnit=time_unit, title=f"Time (UTC, per {unit})"),
        y=alt.Y("sum(count):Q", axis=_count_axis(f"Logged events per {unit} (count)", None)),
        color=alt.Color("config:N", title=None, scale=alt.Scale(domain=["this config", "other config"],
                                                                range=[LOGGED, STATUS_COLOURS["partial"]])),
        tooltip=[alt.Tooltip("time:T", timeUnit=time_unit, title=unit), alt.Tooltip("config:N"),
                 alt.Tooltip("sum(count):Q", title="logged events", format=",")],
    ).properties(height=240)
    return _finish(chart)


def decisions_by_host(rows: Rows) -> Spec:
    """Events logged and dropped per host; rows: label (host), decision, count, order."""
    return _stacked(rows, "decision", "Host", ["logged", "dropped"], [LOGGED, DROPPED])


def readiness_statuses(rows: Rows) -> Spec:
    """Sigma rules per readiness status; rows: status, count (statuses in a fixed order)."""
    chart = alt.Chart(_data(rows)).mark_bar().encode(
        x=alt.X("count:Q", axis=_count_axis("Sigma rules (count)", _totals(rows, "status"))),
        y=alt.Y("status:N", sort=list(STATUS_COLOURS), title=None),
        color=alt.Color("status:N", legend=None, scale=alt.Scale(domain=list(STATUS_COLOURS),
                                                                 range=list(STATUS_COLOURS.values()))),
        tooltip=[alt.Tooltip("status:N"), alt.Tooltip("count:Q", title="rules", format=",")],
    ).properties(height=_bars(rows, "status", 26))
    return _finish(chart)


def attack_heatmap(rows: Rows, line_labels: dict[str, str], per_line: int) -> Spec:
    """ATT&CK techniques by tactic, coloured by the readiness score of their Sigma rules.

    rows: tactic, technique, rules, logged, partial, dropped, score (0..1 or None), line, slot;
    ``line_labels``: line number -> the tactic named beside it; ``per_line`` tiles make a full line.
    """
    labels_expr = f"{json.dumps(line_labels)}[datum.value] || ''"
    base = alt.Chart(_data(rows)).encode(
        x=alt.X("slot:O", title=None, axis=None, scale=alt.Scale(domain=list(range(per_line)))),
        y=alt.Y("line:O", title=None, axis=alt.Axis(labelExpr=labels_expr, ticks=False, domain=False,
                                                    labelFontWeight=600, labelPadding=8)),
    )
    shade = alt.Color("score:Q", title="Readiness",
                      legend=alt.Legend(format=".1f", orient="top"),
                      scale=alt.Scale(domain=[0, 0.5, 1], range=[NEWLY_DROPPED, STATUS_COLOURS["partial"],
                                                                 NEWLY_LOGGED]))
    # Grey under every tile shows where no rule could be judged (score null: Vega-Lite leaves those out).
    under = base.mark_rect(stroke="white", strokeWidth=2, color=DROPPED)
    tiles = base.mark_rect(stroke="white", strokeWidth=2).encode(
        color=shade,
        tooltip=[alt.Tooltip("technique:N"), alt.Tooltip("tactic:N"), alt.Tooltip("rules:Q", title="Sigma rules"),
                 alt.Tooltip("logged:Q"), alt.Tooltip("partial:Q"), alt.Tooltip("dropped:Q"),
                 alt.Tooltip("score:Q", title="readiness", format=".2f")],
    )
    text = base.mark_text(fontSize=11, color="white", fontWeight=600).encode(text="technique:N")
    return _finish(alt.layer(under, tiles, text).properties(height=_bars(rows, "line", 24)))
