"""A ConfigDiff as plain text, or as Markdown for a PR comment (its JSON form is ``ConfigDiff.to_dict``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..engine import Decision
from .attribution import NEWLY_DROPPED, NEWLY_LOGGED, RENAMED, Replay
from .decide import event_name, filter_text
from .structure import Change, location_text

if TYPE_CHECKING:
    from .compare import ConfigDiff

MARKDOWN_ROWS = 150  # a PR comment holds 65536 characters: list this many changes, count the rest


def _fields(fields: dict[str, str] | object) -> str:
    items = dict(fields).items() if isinstance(fields, dict) else ()
    return ", ".join(f"{k}={v!r}" for k, v in items) or "(no fields)"


def _show(d: Decision) -> str:
    return d.decision + (f" (RuleName {d.rule_name!r})" if d.rule_name else "")


def to_text(result: ConfigDiff) -> str:
    lines = [f"{result.old.label} ({result.old.kind}) -> {result.new.label} ({result.new.kind})",
             f"verdict: {result.verdict}: {result.reason}", f"compared: {', '.join(result.compared)}"]
    lines += [f"unknown: {u}" for u in result.unknowns]
    if result.interrupted:
        lines.append("interrupted (Ctrl-C): what follows was decided before")
    for v in result.events:
        if v.status == "unknown":
            lines.append(f"undecided: {event_name(v.event_id, result.platform)} (event {v.event_id}): {v.reason}")
            lines += [f"    filter: {filter_text(v.event_id, f, result.platform)}" for f in v.filters]
    for c in _ordered(result.changes):
        lines.append(f"#{c.id} {c.description}  [{c.effect}{': ' + c.proof if c.proof else ''}]")
        if c.effect == "unknown" and c.reason:
            lines.append(f"    why unknown: {c.reason}")
        where = " -> ".join(x for x in (location_text(c.old_location), location_text(c.new_location)) if x)
        if where:
            lines.append(f"    at {where}")
        if c.witness is not None:
            old, new = c.witness.decisions
            lines.append(f"    witness: EventID {c.witness.event.event_id} {_fields(dict(c.witness.event.fields))}")
            lines.append(f"    old: {_show(old)}; new: {_show(new)}")
    if result.replay is not None:
        lines += _replay_text(result.replay)
        if result.skipped_events:
            lines.append(f"  {result.skipped_events} damaged record(s) skipped")
    return "\n".join(lines) + "\n"


def _ordered(changes: list[Change]) -> list[Change]:
    """Behaviour changes first, then unknown ones, then those proven without effect."""
    rank = {"behaviour": 0, "unknown": 1, "none": 2}
    return sorted(changes, key=lambda c: (rank.get(c.effect, 1), c.id))


def _replay_text(replay: Replay) -> list[str]:
    lines = [f"replay: {replay.comparison.events} events, {replay.changed} decided differently"]
    for g in replay.ranked():
        ids = ", ".join(f"#{i}" for i in g.changes) or "not attributed"
        counts = ", ".join(f"{n} {k}" for k, n in g.counts.items() if n)
        lines.append(f"  {ids}: {counts}")
        for e in g.examples:
            lines.append(f"    {e.event.origin or '-'}: EventID {e.event.event_id}: {_show(e.old)} -> {_show(e.new)}")
    return lines


def _md(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(result: ConfigDiff) -> str:
    """A pull-request comment: verdict, summary, behaviour changes with their witnesses first,
    then the unknown ones with their reasons; moves and changes without effect folded away."""
    data = result.to_dict()
    summary = data["summary"]
    assert isinstance(summary, dict)
    proven = sum(1 for v in result.events if v.status == "equivalent")
    out = [f"### Sysmon config diff: **{result.verdict}**", "",
           f"`{_md(result.old.label)}` → `{_md(result.new.label)}`: {_md(result.reason)} "
           f"(compared: {', '.join(result.compared)}).", "",
           f"{summary['changes']} change(s): {summary['behaviour']} alter events (witness checked with the "
           f"evaluator), {summary['none']} proven without effect, {summary['unknown']} unknown; "
           f"proven equivalent on {proven} of {len(result.events)} event ids.", ""]
    out += [f"> unknown: {_md(u)}" for u in result.unknowns]
    if result.interrupted:
        out.append("> interrupted (Ctrl-C): this report holds what was decided before")
    undecided = [v for v in result.events if v.status == "unknown"]
    if undecided:
        out += ["", "**Undecided event ids:**", ""]
        out += [f"- {_md(event_name(v.event_id, result.platform))} ({v.event_id}): {_md(v.reason)}" for v in undecided]
    rows = MARKDOWN_ROWS
    for title, effect, fold in (("Behaviour changes", "behaviour", False), ("Unknown", "unknown", False),
                                ("Moved or without effect", "none", True)):
        chosen = [c for c in result.changes if c.effect == effect]
        if not chosen:
            continue
        shown, rows = chosen[:max(rows, 0)], rows - len(chosen)
        table = ["| # | change | witness / reason | old → new |", "| - | - | - | - |",
                 *(_md_row(c) for c in shown)]
        if len(chosen) > len(shown):
            table.append(f"| … | {len(chosen) - len(shown)} more (see `--format json`) | | |")
        if fold:
            out += ["", f"<details><summary>{title} ({len(chosen)})</summary>", "", *table, "", "</details>"]
        else:
            out += ["", f"**{title} ({len(chosen)})**", "", *table]
    if result.replay is not None:
        out += ["", *_replay_markdown(result.replay)]
    return "\n".join(out) + "\n"


def _md_row(c: Change) -> str:
    where = location_text(c.new_location) or location_text(c.old_location) or ""
    detail = decisions = ""
    if c.witness is not None:
        detail = f"`{_md(_fields(dict(c.witness.event.fields)))}` (EventID {c.witness.event.event_id})"
        decisions = f"{_md(_show(c.witness.decisions[0]))} → {_md(_show(c.witness.decisions[1]))}"
    elif c.effect == "none":
        detail = _md(c.proof)
    elif c.reason:
        detail = _md(c.reason)
    return f"| {c.id} | {_md(c.description)}<br>`{_md(where)}` | {detail} | {decisions} |"


def _replay_markdown(replay: Replay) -> list[str]:
    out = [f"**Replay:** {replay.comparison.events} events, {replay.changed} decided differently.", "",
           "| changes | newly dropped | newly logged | RuleName changed | example |", "| - | - | - | - | - |"]
    for g in replay.ranked():
        ids = ", ".join(f"#{i}" for i in g.changes) or "not attributed"
        example = ""
        if g.examples:
            e = g.examples[0]
            example = f"{_md(e.event.origin or '-')}: {_md(_show(e.old))} → {_md(_show(e.new))}"
        out.append(f"| {ids} | {g.counts[NEWLY_DROPPED]} | {g.counts[NEWLY_LOGGED]} | {g.counts[RENAMED]} | "
                   f"{example} |")
    return out


__all__ = ["to_markdown", "to_text"]
