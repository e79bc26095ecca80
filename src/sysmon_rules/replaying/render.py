"""The replay as text tables (``sysmon-rules evaluate``'s summary format), printed with rich."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from .result import ReplayResult
    from .summary import Comparison

_TOP_NAMES = 20  # rows per table


def print_replay(console: Console, result: ReplayResult, *, budget: int | None = None) -> None:
    """The summary tables, the volume and, with a second config, what changes and its volume."""
    _print_summary(console, result)
    _print_volume(console, result.summary.volume.to_dict(budget=budget), "Volume")
    if result.comparison is not None:
        _print_comparison(console, result.comparison, (result.config_name, result.compare_name))
        _print_volume(console, result.comparison.volume.to_dict(budget=budget), "Volume with B")


def _table(title: str, columns: list[str], rows: list[list[object]]) -> Table:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i == 0 and column != "event id" else "right")
    for row in rows:
        table.add_row(*(str(v) for v in row))
    return table


def _print_summary(console: Console, result: ReplayResult) -> None:
    """Events read and decided, decisions per event id, top RuleNames, sets that never matched."""
    summary, stats, rule_sets = result.summary, result.stats, result.evaluator.table.rule_sets
    other = sum(stats.other.values())
    console.print(f"events read: {summary.events:,}  included: {summary.included:,}  "
                  f"excluded: {summary.excluded:,}  skipped (damaged): {stats.skipped:,}  "
                  f"other records: {other:,}  files: {len(result.files):,}"
                  + (f"  files not recognised (left out): {len(result.unread):,}" if result.unread else ""))
    console.print(_table("Decisions per event id", ["event id", "events", "included", "excluded"],
                         [[k, sum(c.values()), c["include"], c["exclude"]] for k, c in sorted(summary.by_id.items())]))
    console.print(_table(f"Top RuleNames (of {len(summary.rule_names):,})",
                         ["RuleName", "events", "include", "exclude"],
                         [[n, c, summary.name_decisions[n]["include"], summary.name_decisions[n]["exclude"]]
                          for n, c in summary.top_names(_TOP_NAMES)]))
    never = summary.never_matched(rule_sets)
    console.print(_table(f"Rule sets that never matched ({len(never):,} of {len(rule_sets):,})",
                         ["where", "event id", "onmatch", "filters"],
                         [[s.location or f"set {i}", s.event_id, s.onmatch, len(s.filters)] for i, s in never]))


def _print_volume(console: Console, volume: dict[str, Any], title: str) -> None:
    """The volume view (``Volume.to_dict``): noisiest first, budget breaches."""
    budget = volume["budget"]
    console.print(f"{title}: {volume['days']} day(s) {volume['first_day'] or ''}..{volume['last_day'] or ''}, "
                  f"{volume['hosts']} host(s), without UtcTime: {volume['unknown_time']:,}, "
                  f"without host: {volume['unknown_host']:,}"
                  + (f", budget {budget:,}/host/day" if budget is not None else ""))
    for kind, key, label in (("rule_names", "rule_name", "RuleName"), ("event_types", "event_id", "event id")):
        rows = [r for r in volume[kind] if r["logged"]][:_TOP_NAMES]
        console.print(_table(f"Noisiest by {label} (logged events)",
                             [label, "logged", "hosts", "peak host-day", "host-days over budget"],
                             [[r[key] or "(none)", r["logged"], r["hosts"], _peak(r["peak"]),
                               r["host_days_over_budget"]] for r in rows]))
    if budget is not None:
        over = volume["over_budget"]
        console.print(_table(f"Over budget ({len(over):,})", ["event id / RuleName", "day", "host", "logged"],
                             [[r[r["kind"]], r["day"], r["host"] or "-", r["logged"]] for r in over[:_TOP_NAMES]]))


def _peak(peak: object) -> str:
    if not isinstance(peak, dict):
        return "-"
    return f"{peak['logged']:,} ({peak['host'] or '-'}, {peak['day']})"


def _print_comparison(console: Console, comparison: Comparison, names: tuple[str, str]) -> None:
    """What changes between config A and B: per event id, and the RuleNames whose counts change."""
    console.print(f"A = {names[0]}\nB = {names[1]}\n{comparison.changed:,} of {comparison.events:,} events "
                  "change decision or RuleName")
    console.print(_table("Per event id", ["event id", "events", "included A", "included B", "now included",
                                          "now excluded"], [list(r.values()) for r in comparison.id_rows()]))
    rows = comparison.name_rows()
    console.print(_table(f"RuleNames whose event count changes ({len(rows):,})", ["RuleName", "A", "B", "delta"],
                         [[r["rule_name"], r["events_a"], r["events_b"], f"{int(str(r['delta'])):+d}"]
                          for r in rows]))
