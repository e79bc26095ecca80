"""Detection readiness: does the config log what the Sigma rules need (`coverage --format json`)?

Counts carry ``data-coverage`` JSON Pointers into that document. Rules are listed with the most
actionable first (dropped, partial, unsupported), each with the first reason coverage gives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from . import charts
from .attack import PER_LINE, heat_cells, line_labels
from .figures import Figures
from .markup import ROW_LIMIT, code, heading, limited, note, number, pointer, section, table, tag, text, tiles

STATUS_ORDER = ("dropped", "dropped-in-practice", "partial", "unsupported", "logged", "not-applicable")
MEANING = {"logged": "every event the rule matches is logged",
           "partial": "some matching events are dropped",
           "dropped-in-practice": "most of the rule's typical events are dropped",
           "dropped": "no matching event can be logged",
           "not-applicable": "not a Sysmon log source",
           "unsupported": "the rule cannot be reasoned about (see why)"}
REASON_CHARS = 300  # of a reason shown in the table; the coverage JSON has it whole


def readiness_section(doc: dict[str, Any], figures: Figures) -> str:
    summary = cast(dict[str, int], doc["summary"])
    rules = cast(list[dict[str, Any]], doc["rules"])
    body = tiles([("Sigma rules", number(summary["total"], pointer("summary", "total"), document="coverage"))] +
                 [(s, number(summary[s], pointer("summary", s), document="coverage")) for s in charts.STATUS_COLOURS])
    body += table(["Status", "means"], [[tag("status", s), text(m)] for s, m in MEANING.items()], numeric=())
    if rules:
        body += figures.add("readiness-statuses", charts.readiness_statuses(
            [{"status": s, "count": summary[s]} for s in charts.STATUS_COLOURS]), "Sigma rules per readiness status.")
    body += _heatmap(rules, figures)
    body += _rules(rules)
    return section("readiness", "Detection readiness: Sigma rules", body)


def _heatmap(rules: list[dict[str, Any]], figures: Figures) -> str:
    cells = heat_cells(rules)
    out = heading("ATT&CK heat map", "Each tile is a technique the Sigma rules name (sub-techniques counted "
                  "with their parent), beside each tactic they name, coloured by the readiness of those rules: "
                  "a logged rule counts 1, a partial one 1/2, a dropped one 0, averaged. Green: all logged; "
                  "amber: partial; red: the config blinds them; grey: no rule there is a Sysmon rule it can judge.")
    if not cells:
        return out + note("No rule carries an ATT&CK tag.")
    return out + figures.add("attack-heatmap", charts.attack_heatmap(cells, line_labels(cells), PER_LINE),
                             "Readiness per ATT&CK technique and tactic; hover a tile for its rules per status.")


def _rules(rules: list[dict[str, Any]]) -> str:
    ranked = sorted(range(len(rules)), key=lambda i: (STATUS_ORDER.index(rules[i]["status"]), rules[i]["title"]))
    rows = [[text(rules[i]["title"]) + "<br>" + code(Path(rules[i]["path"]).name),
             tag("status", rules[i]["status"]), text(", ".join(str(e) for e in rules[i]["event_ids"]) or "–"),
             text(_why(rules[i]))] for i in ranked]
    return heading(f"Per rule ({len(rules):,})", "Most actionable first; the why names the include or exclude "
                   "(file:line) that drops a witness event.") + \
        table(["Sigma rule", "Status", "event ids", "Why"], limited(rows, 4), numeric=()) + \
        (note("The whole list, with witness events, is in `sysmon-rules coverage --format json`.")
         if len(rows) > ROW_LIMIT else "")


def _why(rule: dict[str, Any]) -> str:
    reasons = cast(list[str], rule.get("reasons") or [])
    first = reasons[0] if reasons else "; ".join(w.get("why", "") for w in rule.get("witnesses", [])[:1])
    return first if len(first) <= REASON_CHARS else first[:REASON_CHARS - 1] + "…"

