"""Tune: the volume before and after the plan, and every proposal with its fate and proven cost.

The numbers come from the `tune --format json` document (``TuneResult.to_dict``) and carry
``data-tune`` JSON Pointers into it, as the replay's carry ``data-json``.
"""

from __future__ import annotations

import json
from typing import Any, cast

from ..schema.model import Platform
from . import charts
from .facts import event_label
from .figures import Figures
from .markup import code, heading, limited, note, number, pointer, section, table, text, tiles

TOP_HOST_DAYS = 25
WITNESS_CHARS = 300  # of a witness shown in the table; the JSON has it whole


def _n(value: int, *parts: object) -> str:
    return number(value, pointer(*parts), document="tune")


def tune_section(doc: dict[str, Any], figures: Figures, platform: Platform = "windows") -> str:
    budget = doc["budget"]
    verdict = "no budget" if budget is None else "met" if doc["budget_met"] else "not met"
    body = tiles([("events read", _n(doc["events"], "events")),
                  ("logged before", _n(doc["logged_before"], "logged_before")),
                  ("logged after", _n(doc["logged_after"], "logged_after")),
                  ("busiest host-day before", _n(doc["peak_before"], "peak_before")),
                  ("busiest host-day after", _n(doc["peak_after"], "peak_after")),
                  ("budget per host per day", _n(budget, "budget") if budget is not None else text("none")),
                  ("budget", text(verdict))])
    if not doc["verified"]:
        body += note("The replay of the tuned config differs from the plan's prediction: report this as a bug.")
    body += _host_days(doc, figures) + _event_types(doc, figures, platform) + _proposals(doc)
    return section("tune", "Tune: volume to the budget, detections kept", body)


def _parts(label: str, before: int, after: int, order: int) -> list[dict[str, object]]:
    return [{"label": label, "part": "still logged", "count": after, "order": order},
            {"label": label, "part": "cut by tune", "count": before - after, "order": order}]


def _host_days(doc: dict[str, Any], figures: Figures) -> str:
    rows = cast(list[dict[str, Any]], doc["host_days"])[:TOP_HOST_DAYS]
    out = heading("Per host and day", "Logged events of the busiest host-days under the config, and what the "
                  "applied excludes cut (replayed through the tuned config).")
    if not rows:
        return out + note("Nothing was logged.")
    labels = [f"{r['host'] or '(no host)'} · {r['day']}" for r in rows]
    plot = [p for i, (label, r) in enumerate(zip(labels, rows, strict=True)) for p in _parts(label, r["before"],
                                                                                               r["after"], i)]
    out += figures.add("tune-host-days", charts.tune_cuts(plot, "Host · day"),
                       "Logged events per host-day before and after tuning (busiest first).")
    cells = [[text(label), _n(r["before"], "host_days", i, "before"), _n(r["after"], "host_days", i, "after"),
              text("over" if r["over_budget"] else "")] for i, (label, r) in enumerate(zip(labels, rows, strict=True))]
    return out + table(["host · day", "before", "after", "budget"], limited(cells, 4), numeric=(1, 2))


def _event_types(doc: dict[str, Any], figures: Figures, platform: Platform) -> str:
    rows = cast(list[dict[str, Any]], doc["event_types"])
    if not rows:
        return ""
    labels = [event_label(int(r["event_id"]), platform) for r in rows]
    plot = [p for i, (label, r) in enumerate(zip(labels, rows, strict=True)) for p in _parts(label, r["before"],
                                                                                               r["after"], i)]
    return heading("Per event type") + figures.add("tune-event-types", charts.tune_cuts(plot, "Event type"),
                                                   "Logged events per event type before and after tuning.")


def _costs(proposal: dict[str, Any]) -> str:
    shown = []
    for cost in cast(list[dict[str, Any]], proposal["costs"]):
        witness = json.dumps(cost["witness"]["fields"], ensure_ascii=False) if cost["witness"] else cost["why"]
        if len(witness) > WITNESS_CHARS:
            witness = witness[:WITNESS_CHARS - 1] + "…"
        shown.append(f"{text(cost['kind'])} {text(cost['name'])} ({text(cost['status'])}): {code(witness)}")
    return "<br>".join(shown) or text("none")


def _proposals(doc: dict[str, Any]) -> str:
    proposals = cast(list[dict[str, Any]], doc["proposals"])
    out = heading(f"Proposals ({len(proposals):,})", "The most specific exclude per noisy group, what it removes "
                  "from the replayed events, and what it costs the Sigma rules and RuleNames given, proven by the "
                  "solver (a cost comes with a witness event the old config logs and the exclude drops).")
    if not proposals:
        return out + note("No proposal: nothing logged is over the budget.")
    rows = [[text(p["id"]), text(p["element"]), code(p["text"]), _n(p["removes"], "proposals", i, "removes"),
             text(p["status"]), _costs(p)] for i, p in enumerate(proposals)]
    detections = cast(dict[str, Any], doc["detections"])
    out += table(["id", "element", "exclude", "removes", "status", "detection costs"], limited(rows, 6),
                 numeric=(3,))
    return out + note(f"{detections['sigma_rules']:,} Sigma rule(s) checked, "
                      f"{len(detections['not_checked']):,} not checked; accepted costs: {len(detections['lost']):,}.")
