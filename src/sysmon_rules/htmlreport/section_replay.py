"""Replay: what the config logs of real events, per event type and RuleName, and what never matched.

Every count shown carries its JSON Pointer into the replay document (`evaluate --format json`).
"""

from __future__ import annotations

from typing import Any, cast

from ..schema.model import Platform
from . import charts
from .facts import event_label
from .figures import Figures
from .markup import code, details, heading, limited, note, number, percent, pointer, section, table, text, tiles
from .section_volume import volume_part

TOP = 15  # bars in a "noisiest" plot; the tables below them list everything
Doc = dict[str, Any]


def replay_section(doc: Doc, figures: Figures, platform: Platform) -> str:
    files = cast(list[object], doc["files"])
    body = tiles([("events read", number(doc["events"], pointer("events"))),
                  ("logged", number(doc["included"], pointer("included"))),
                  ("dropped", number(doc["excluded"], pointer("excluded"))),
                  ("damaged records skipped", number(doc["skipped"], pointer("skipped"))),
                  ("files read", f'<span class="num" data-json-count="/files">{len(files):,}</span>')])
    if doc["unread"]:
        body += note(f"{len(doc['unread']):,} file(s) in the folders given were not recognised and were left out.")
    body += _decisions(doc, figures, platform)
    body += _rule_names(doc, figures)
    if "volume" in doc:
        body += volume_part(doc, figures, platform)
    body += _never_matched(doc, platform)
    return section("replay", "Replay: what the config logs", body)


def _decisions(doc: Doc, figures: Figures, platform: Platform) -> str:
    by_id = cast(dict[str, dict[str, int]], doc["by_event_id"])
    labels = {k: event_label(int(k), platform) for k in by_id}
    rows = [{"label": labels[k], "decision": name, "count": c[key], "order": i}
            for k, c in by_id.items() for i, (name, key) in enumerate((("logged", "include"), ("dropped", "exclude")))]
    out = heading("Per event type")
    if by_id:
        out += figures.add("decisions-by-event", charts.decisions_by_event(rows),
                           "Events logged and dropped per event type.")
    return out + table(["Event type", "events", "logged", "dropped", "logged %"],
                       [[text(labels[k]), number(c["include"] + c["exclude"]),
                         number(c["include"], pointer("by_event_id", k, "include")),
                         number(c["exclude"], pointer("by_event_id", k, "exclude")),
                         percent(c["include"], c["include"] + c["exclude"])] for k, c in by_id.items()])


def _rule_names(doc: Doc, figures: Figures) -> str:
    names = cast(list[dict[str, Any]], doc["rule_names"])
    out = heading(f"Per RuleName ({len(names):,})",
                  "Events decided under each RuleName (the name Sysmon reports with the event), most first.")
    if not names:
        return out + note("No event was decided under a RuleName.")
    rows = [{"label": n["rule_name"], "decision": name, "count": n.get(key, 0), "order": j}
            for n in names[:TOP] for j, (name, key) in enumerate((("logged", "include"), ("dropped", "exclude")))]
    out += figures.add("noisiest-rule-names", charts.noisiest_rule_names(rows),
                       f"The {min(TOP, len(names))} RuleNames deciding the most events.")
    cells = [[text(n["rule_name"]), number(n["events"], pointer("rule_names", i, "events")),
              number(n.get("include", 0), pointer("rule_names", i, "include") if "include" in n else None),
              number(n.get("exclude", 0), pointer("rule_names", i, "exclude") if "exclude" in n else None)]
             for i, n in enumerate(names)]
    return out + details("Every RuleName", table(["RuleName", "events", "logged", "dropped"], limited(cells, 4)))


def _never_matched(doc: Doc, platform: Platform) -> str:
    never = cast(list[dict[str, Any]], doc["never_matched"])
    out = heading(f"Rule sets that never matched ({len(never):,})",
                  "No replayed event was decided by these sets: dead rules, or events this log does not have.")
    if not never:
        return out + note("Every rule set decided at least one event.")
    rows = [[code(s["location"] or f"set {s['index']}"), text(event_label(s["event_id"], platform)),
             text(s["onmatch"]), number(s["filters"], pointer("never_matched", i, "filters"))]
            for i, s in enumerate(never)]
    return out + table(["Where", "Event type", "onmatch", "filters"], limited(rows, 4), numeric={3})
