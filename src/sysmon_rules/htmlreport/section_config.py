"""The config at a glance: versions, options, rule sets per event type, lint findings."""

from __future__ import annotations

from typing import Any, cast

from . import charts
from .facts import Facts
from .figures import Figures
from .markup import code, details, heading, limited, note, number, section, table, tag, text, tiles


def config_section(facts: Facts, figures: Figures) -> str:
    types = cast(list[dict[str, Any]], facts["event_types"])
    lint = cast(list[dict[str, Any]], facts["lint"])
    by_severity = {s: sum(1 for d in lint if d["severity"] == s) for s in ("error", "warning", "info")}
    body = tiles([("schema version", text(facts["schema_version"])),
                  ("rule blob format", text(facts["binary_version"]).removesuffix(".00")),
                  ("rule sets", number(cast(int, facts["rule_sets"]))),
                  ("filters", number(cast(int, facts["filters"]))),
                  ("lint errors", number(by_severity["error"])),
                  ("lint warnings", number(by_severity["warning"]))])
    body += f'<p class="explain">File: <code>{text(facts["path"])}</code> ({text(facts["kind"])})</p>'
    if facts["kind"] == "rule blob":
        body += note("A rule blob keeps the rules only: no options, and no XML to lint.")
    else:
        body += _options(cast(list[dict[str, str]], facts["options"]))
    body += heading("Rule sets per event type", "An include set logs what it matches; an exclude set drops it. "
                    "An event type without a set gets the schema's default: logged for "
                    + ", ".join(cast(list[str], facts["logged_by_default"])) + ", dropped for the others.")
    if types:
        body += figures.add("filters-by-event", charts.filters_by_event(_filter_rows(types)),
                            "Filters per config element, in include and exclude rule sets.")
    body += table(["Config element (event ids)", "include sets", "include filters", "exclude sets", "exclude filters"],
                  [[text(t["event"]), number(t["include_sets"]), number(t["include_filters"]),
                    number(t["exclude_sets"]), number(t["exclude_filters"])] for t in types])
    if facts["kind"] != "rule blob":
        body += _lint(lint)
    return section("config", "The config at a glance", body)


def _lint(lint: list[dict[str, Any]]) -> str:
    out = heading(f"Lint findings ({len(lint):,})", "Mistakes valid XML hides; each code is explained in "
                  "docs/lint-rules.md.")
    if not lint:
        return out + note("No lint findings.")
    per_code: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for d in lint:
        per_code.setdefault((d["code"], d["severity"]), []).append(d)
    ranked = sorted(per_code.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    out += table(["Code", "Severity", "findings", "first at"],
                 [[code(c), tag("sev", sev), number(len(ds)), code(ds[0]["location"])] for (c, sev), ds in ranked],
                 numeric={2})
    rows = [[code(d["location"]), tag("sev", d["severity"]), code(d["code"]), text(d["message"])] for d in lint]
    return out + details(f"Every finding, in file order ({len(lint):,})",
                         table(["Where", "Severity", "Code", "Finding"], limited(rows, 4), numeric=()))


def _options(options: list[dict[str, str]]) -> str:
    if not options:
        return heading("Options") + note("No options (Sysmon's defaults apply).")
    return heading("Options") + table(["Option", "Value", "Where"],
                                      [[code(o["name"]), text(o["value"] or "(set)"), code(o["location"])]
                                       for o in options], numeric=())


def _filter_rows(types: list[dict[str, Any]]) -> list[dict[str, object]]:
    return [{"label": t["event"], "onmatch": kind, "count": t[f"{kind}_filters"], "order": i}
            for t in types for i, kind in enumerate(("include", "exclude"))]
