"""A ConfigDiff as plain text, or as Markdown for a PR comment (its JSON form is ``ConfigDiff.to_dict``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..engine import Decision
from .attribution import NEWLY_DROPPED, NEWLY_LOGGED, RENAMED, Replay
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
    for c in result.changes:
        lines.append(f"#{c.id} {c.description}  [{c.effect}{': ' + c.proof if c.proof else ''}]")
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
    """A pull-request comment: verdict, summary, a table of changes, witnesses, replay counts."""
    data = result.to_dict()
    summary = data["summary"]
    assert isinstance(summary, dict)
    out = [f"### Sysmon config diff: **{result.verdict}**", "",
           f"`{_md(result.old.label)}` → `{_md(result.new.label)}`: {_md(result.reason)} "
           f"(compared: {', '.join(result.compared)}).", "",
           f"{summary['changes']} change(s): {summary['behaviour']} alter events (witness checked with the "
           f"evaluator), {summary['none']} proven without effect, {summary['unknown']} unknown.", ""]
    out += [f"> unknown: {_md(u)}" for u in result.unknowns]
    if result.changes:
        out += ["", "| # | change | effect | witness | old → new |", "| - | - | - | - | - |"]
        for c in result.changes[:MARKDOWN_ROWS]:
            out.append(_md_row(c))
        if len(result.changes) > MARKDOWN_ROWS:
            out.append(f"| … | {len(result.changes) - MARKDOWN_ROWS} more (see `--format json`) | | | |")
    if result.replay is not None:
        out += ["", *_replay_markdown(result.replay)]
    return "\n".join(out) + "\n"


def _md_row(c: Change) -> str:
    where = location_text(c.new_location) or location_text(c.old_location) or ""
    witness = decisions = ""
    if c.witness is not None:
        witness = f"`{_md(_fields(dict(c.witness.event.fields)))}` (EventID {c.witness.event.event_id})"
        decisions = f"{_md(_show(c.witness.decisions[0]))} → {_md(_show(c.witness.decisions[1]))}"
    effect = c.effect + (f": {c.proof}" if c.proof and c.effect == "none" else "")
    return f"| {c.id} | {_md(c.description)}<br>`{_md(where)}` | {_md(effect)} | {witness} | {decisions} |"


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
