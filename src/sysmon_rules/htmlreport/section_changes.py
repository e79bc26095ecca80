"""Per change: the structural changes from CONFIG to OTHER and what each does (``diff(...).to_dict()``).

With events, the replayed events that change are grouped by the change(s) causing them (the
diff's own attribution); every change with a behaviour has a witness event checked by the
evaluator. Counts carry ``data-diff`` JSON Pointers into that document.
"""

from __future__ import annotations

from typing import Any, cast

from . import charts
from .figures import Figures
from .markup import code, details, heading, limited, note, number, pointer, table, text, tiles

TOP = 15  # groups in the plot; the table lists them all
NAMED = 3  # changes named per group before "and N more"


def changes_part(doc: dict[str, Any], figures: Figures) -> str:
    summary = cast(dict[str, int], doc["summary"])
    out = heading("Per change", f"Verdict: {doc['verdict']} ({doc['reason']}). A change has a behaviour when a "
                  "witness event is decided differently, none when proven inert, unknown otherwise.")
    out += tiles([(label, number(summary[key], pointer("summary", key), document="diff"))
                  for label, key in (("structural changes", "changes"), ("with a behaviour", "behaviour"),
                                     ("proven inert", "none"), ("unknown", "unknown"))])
    changes = {int(c["id"]): c for c in cast(list[dict[str, Any]], doc["changes"])}
    if doc.get("replay"):
        out += _groups(cast(dict[str, Any], doc["replay"]), changes, figures)
    return out + _witnesses(list(changes.values()))


def _named(ids: list[int], changes: dict[int, dict[str, Any]]) -> str:
    if not ids:
        return "(not attributed to a structural change)"
    names = "; ".join(str(changes[i]["description"]) for i in ids[:NAMED])
    return names + (f"; and {len(ids) - NAMED:,} more" if len(ids) > NAMED else "")


def _groups(replay: dict[str, Any], changes: dict[int, dict[str, Any]], figures: Figures) -> str:
    groups = cast(list[dict[str, Any]], replay["groups"])
    out = heading(f"Replayed events per change ({len(groups):,} groups)",
                  "Events decided differently, charged to the change(s) of the rule sets that decided them.")
    if not groups:
        return out + note("No replayed event is decided differently.")
    bars = [{"label": f"#{','.join(map(str, g['changes'][:NAMED]))}" + ("…" if len(g["changes"]) > NAMED else "")
             + " " + _named(g["changes"][:1], changes), "change": change, "count": g[key], "signed": g[key] * sign}
            for g in groups[:TOP] for change, key, sign in (("newly logged", "newly_logged", 1),
                                                            ("newly dropped", "newly_dropped", -1)) if g[key]]
    if bars:
        out += figures.add("flips-by-change", charts.flips_by_event(bars, "Change"),
                           "Per group of changes (change ids, the first one described): events newly logged (right) "
                           "and newly dropped (left).")
    cells = [[text(_named(g["changes"], changes))] +
             [number(g[k], pointer("replay", "groups", i, k), document="diff")
              for k in ("newly_dropped", "newly_logged", "rule_name_changed")] +
             [code(g["examples"][0]["origin"] or "-") if g["examples"] else "–"] for i, g in enumerate(groups)]
    return out + table(["Changes", "newly dropped", "newly logged", "RuleName changed", "an example"],
                       limited(cells, 5), numeric={1, 2, 3})


def _witnesses(changes: list[dict[str, Any]]) -> str:
    shown = [c for c in changes if c["effect"] == "behaviour"]
    cells = [[text(c["description"]), code(c["old_location"] or "–"), code(c["new_location"] or "–"),
              text(_decided(c["old_decision"])), text(_decided(c["new_decision"]))] for c in shown]
    return details(f"Every change with a behaviour and its witness ({len(shown):,})",
                   table(["Change", "this config", "other config", "witness: this", "witness: other"],
                         limited(cells, 5), numeric=()))


def _decided(decision: dict[str, Any] | None) -> str:
    if decision is None:
        return "–"
    return str(decision["decision"]) + (f" ({decision['rule_name']})" if decision.get("rule_name") else "")
