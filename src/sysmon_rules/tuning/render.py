"""A tune result as tables for people (``sysmon-rules tune``'s summary, ``sysmon_rules.to_text``)."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table

from .result import TuneResult

TOP = 20


def print_tune(console: Console, result: TuneResult) -> None:
    """The tables: where the volume comes from, before/after, proposals and their fate."""
    def table(title: str, columns: list[str], rows: list[list[object]]) -> Table:
        out = Table(title=title, title_justify="left")
        for i, column in enumerate(columns):
            out.add_column(column, justify="left" if i == 0 or column in ("proposal", "status", "costs") else "right")
        for row in rows:
            out.add_row(*(str(v) for v in row))
        return out

    doc = result.to_dict()
    console.print(f"events read: {result.events:,}  logged: {result.logged_before:,} -> {result.logged_after:,}  "
                  f"peak host-day: {doc['peak_before']:,} -> {doc['peak_after']:,}"
                  + (f"  budget {result.budget:,}/host/day: {'met' if result.budget_met else 'NOT met'}"
                     if result.budget is not None else "")
                  + ("" if result.verified else "  (replay differs from the plan's prediction)"))
    console.print(table("Where the volume comes from", ["event id", "RuleName", "process", "events", "share"],
                        [[g.event_id, g.rule_name or "-", g.image or "-", g.events, f"{g.share:.1%}"]
                         for g in result.groups[:TOP]]))
    console.print(table("Logged per event type", ["event id", "before", "after"],
                        [[r["event_id"], r["before"], r["after"]] for r in result.event_type_rows()]))
    console.print(table("Logged per host-day (busiest first)", ["day", "host", "before", "after"],
                        [[r["day"], r["host"] or "-", r["before"], r["after"]] for r in result.host_day_rows()[:TOP]]))
    console.print(table("Proposals", ["id", "event id", "proposal", "removes", "status", "costs"],
                        [[p.id, p.proposal.event_id, p.proposal.text, p.removes, p.status,
                          "; ".join(f"{c.name} ({c.status})" for c in p.costs[:3])
                          + (f" +{len(p.costs) - 3}" if len(p.costs) > 3 else "")] for p in result.proposals]))
    detections = doc["detections"]
    assert isinstance(detections, dict)
    console.print(f"detections: {result.sigma_checked:,} Sigma rule(s) checked, RuleNames kept: "
                  f"{', '.join(result.kept_names) or '-'}; lost (accepted): {len(detections['lost']):,}; "
                  f"not checked: {len(detections['not_checked']):,}")
    for cost in result.costs:
        shown = json.dumps(cost.witness, ensure_ascii=False) if cost.witness else cost.why
        console.print(f"  accepted cost: {cost.kind} {cost.name!r}, event {cost.event_id}: {cost.status}, "
                      f"witness {shown}",
                      markup=False, highlight=False, soft_wrap=True)
