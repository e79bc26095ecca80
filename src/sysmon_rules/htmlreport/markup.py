"""Small HTML builders: escaped text, tables, figures and numbers that name their source.

A number taken from the replay document carries ``data-json``, a JSON Pointer (RFC 6901) into
that document, so anyone (and the browser test) can check the page against
`sysmon-rules evaluate --format json` of the same run.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from html import escape

Cell = str  # already-escaped HTML of one table cell


def text(value: object) -> str:
    return escape(str(value), quote=True)


def code(value: object) -> Cell:
    return f"<code>{text(value)}</code>"


def tag(kind: str, value: str) -> Cell:
    """``value`` styled by its kind, e.g. ``tag("sev", "error")`` -> class ``sev-error``."""
    return f'<span class="{kind}-{text(value)}">{text(value)}</span>'


def pointer(*parts: object) -> str:
    """The JSON Pointer of ``parts`` (``pointer("by_event_id", 1, "include")`` -> ``/by_event_id/1/include``)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def number(value: int, source: str | None = None, *, document: str = "json") -> Cell:
    """A count with thousands separators; ``source`` is its JSON Pointer in the document it comes
    from: ``data-json`` for the replay (`evaluate --format json`), ``data-coverage`` for readiness
    (`coverage --format json`)."""
    attr = f' data-{document}="{text(source)}"' if source is not None else ""
    return f'<span class="num"{attr}>{value:,}</span>'


def percent(part: int, whole: int) -> Cell:
    return f'<span class="num">{part / whole:.1%}</span>' if whole else '<span class="num">–</span>'


def table(columns: Sequence[str], rows: Iterable[Sequence[Cell]], *, numeric: Collection[int] | None = None,
          caption: str | None = None) -> str:
    """A table; the ``numeric`` columns (by default all but the first) are right-aligned counts."""
    right = set(range(1, len(columns))) if numeric is None else set(numeric)

    def cls(i: int) -> str:
        return ' class="n"' if i in right else ""

    head = "".join(f'<th{cls(i)} scope="col">{text(c)}</th>' for i, c in enumerate(columns))
    body = "".join("<tr>" + "".join(f"<td{cls(i)}>{c}</td>" for i, c in enumerate(row)) + "</tr>" for row in rows)
    cap = f"<caption>{text(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def tiles(items: Sequence[tuple[str, Cell]]) -> str:
    """Key figures shown large: (label, value cell)."""
    inner = "".join(f'<div class="tile"><div class="value">{v}</div><div class="label">{text(k)}</div></div>'
                    for k, v in items)
    return f'<div class="tiles">{inner}</div>'


def details(summary: str, body: str, *, open_: bool = False) -> str:
    return f'<details{" open" if open_ else ""}><summary>{text(summary)}</summary>{body}</details>'


def section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{text(anchor)}"><h2>{text(title)}</h2>{body}</section>'


def note(message: str) -> str:
    return f'<p class="note">{text(message)}</p>'


def heading(title: str, explanation: str | None = None) -> str:
    extra = f'<p class="explain">{text(explanation)}</p>' if explanation else ""
    return f"<h3>{text(title)}</h3>{extra}"


ROW_LIMIT = 500  # rows of one table shown before "and N more" (keeps a fleet-size page small)


def limited(rows: list[list[Cell]], columns: int) -> list[list[Cell]]:
    """At most ROW_LIMIT rows, then one saying how many were left out."""
    if len(rows) <= ROW_LIMIT:
        return rows
    more = [f"… and {len(rows) - ROW_LIMIT:,} more"] + [""] * (columns - 1)
    return [*rows[:ROW_LIMIT], more]
