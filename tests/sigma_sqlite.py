"""pySigma's own SQLite backend as an independent oracle: a rule's SQL run over a table of events.

The backend (with pySigma's Sysmon pipeline: log source -> EventID) turns a rule into SQL; the
events become rows of a table whose text columns compare case-insensitively (``COLLATE NOCASE``,
as Zircolite builds its table, which the backend is written for), ``regexp`` is Python's
``re.search`` (the backend passes the rule's ``i``/``m``/``s`` flags as a ``(?i)`` prefix).

One adaptation, Sysmon's rendering: Sysmon has no empty and no missing field, it writes ``-`` for
both (docs/coverage.md). The backend reads Sigma's ``null`` as SQL ``NULL`` and ``''`` as the
empty string, neither of which a Sysmon event holds, so here both read the rendering of "no
value" (``NULL``, ``''`` or ``-``). Everything else is the backend's own SQL.
"""

from __future__ import annotations

import copy
import re
import sqlite3
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from sigma.rule import SigmaRule

_NO_VALUE = "({field} IS NULL OR {field} IN ('', '-'))"
_LONG = 250  # ORs in a query beyond which it is regrouped (SQLite's expression depth limit is 1000)


def _regexp(pattern: str, value: object) -> bool:
    return value is not None and re.search(pattern, str(value)) is not None


@cache
def backend() -> Any:
    from sigma.backends.sqlite import sqliteBackend
    from sigma.pipelines.sysmon import sysmon_pipeline
    from sigma.types import SigmaString

    class SysmonRendered(sqliteBackend):  # type: ignore[misc, valid-type]
        field_null_expression = _NO_VALUE
        field_not_exists_expression = _NO_VALUE
        field_exists_expression = "NOT " + _NO_VALUE

        def convert_condition_field_eq_val_str(self, cond: Any, state: Any) -> Any:
            if isinstance(cond.value, SigmaString) and not cond.value.s:  # '' : Sysmon's "-"
                return _NO_VALUE.format(field=self.escape_and_quote_field(cond.field))
            return super().convert_condition_field_eq_val_str(cond, state)

    return SysmonRendered(sysmon_pipeline())


_CONVERTED: dict[int, tuple[SigmaRule, list[str]]] = {}  # by rule object, kept alive with it


def queries(rule: SigmaRule) -> list[str]:
    """The backend's queries for ``rule`` (converted on a copy: the pipeline edits what it converts),
    each selecting the ``row`` number from the table ``events``; converted once per rule object."""
    found = _CONVERTED.get(id(rule))
    if found is not None and found[0] is rule:
        return found[1]
    out = []
    for query in backend().convert_rule(copy.deepcopy(rule)):
        head, where = str(query).split(" WHERE ", 1)
        # The backend names its table "<TABLE_NAME>" (1.x) or "logs" (2.x): ours is "events".
        head = re.sub(r"\bFROM \S+", "FROM events", head, count=1)
        where = balanced(where) if where.count(" OR ") > _LONG else where  # regrouping costs: only when needed
        out.append(head.replace("SELECT *", "SELECT row", 1) + " WHERE " + where)
    _CONVERTED[id(rule)] = (rule, out)
    return out


class EventTable:
    """Events as rows of an in-memory SQLite table ``events`` (a ``row`` number, one column a field)."""

    def __init__(self, rows: Sequence[tuple[int, Mapping[str, str]]]) -> None:
        # SQLite's column names ignore case, as Sigma's field names do: one column per name so folded.
        columns = {name.lower(): name for _, fields in rows for name in fields} | {"eventid": "EventID"}
        self.db = sqlite3.connect(":memory:")
        self.db.create_function("regexp", 2, _regexp)
        self.db.execute("CREATE TABLE events (row INTEGER, "
                        + ", ".join(f'"{c}" TEXT COLLATE NOCASE' for c in columns.values()) + ")")
        table = []
        for i, (event_id, fields) in enumerate(rows):
            lowered = {k.lower(): v for k, v in fields.items()}
            table.append([i, *(str(event_id) if c == "eventid" else lowered.get(c) for c in columns)])
        self.db.executemany(f"INSERT INTO events VALUES ({', '.join('?' * (len(columns) + 1))})", table)

    def select(self, sql: Sequence[str]) -> set[int]:
        """The row numbers one of the queries ``sql`` selects."""
        found: set[int] = set()
        for query in sql:
            while True:
                try:
                    found |= {r[0] for r in self.db.execute(query)}
                    break
                except sqlite3.OperationalError as exc:  # a field no row has: an empty column
                    missing = re.fullmatch(r"no such column: (\S+)", str(exc))
                    assert missing, (exc, query)
                    self.db.execute(f'ALTER TABLE events ADD COLUMN "{missing.group(1)}" TEXT COLLATE NOCASE')
        return found


def selected(sql: Sequence[str], rows: Sequence[tuple[int, Mapping[str, str]]]) -> set[int]:
    """The indexes of ``rows`` (event id, field -> text) that one of the queries ``sql`` selects."""
    table = EventTable(rows)
    try:
        return table.select(sql)
    finally:
        table.db.close()


def _split_top(text: str) -> tuple[list[str], list[str]]:
    """``text`` cut at its top-level `` OR ``/`` AND `` (outside quotes and parentheses)."""
    parts, seps, depth, start, i, quoted = [], [], 0, 0, 0, False
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == "'":
                if text[i + 1:i + 2] == "'":
                    i += 1
                else:
                    quoted = False
        elif ch == "'":
            quoted = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0:
            for sep in (" OR ", " AND "):
                if text.startswith(sep, i):
                    parts.append(text[start:i])
                    seps.append(sep)
                    i += len(sep)
                    start = i
                    break
            else:
                i += 1
                continue
            continue
        i += 1
    parts.append(text[start:])
    return parts, seps


def balanced(text: str) -> str:
    """The same SQL expression with long OR chains nested as a balanced tree.

    SQLite parses ``a OR b OR c …`` one level deeper per item and refuses depths beyond 1000;
    rules listing a thousand values (e.g. package names) hit that. Regrouping changes nothing.
    """
    parts, seps = _split_top(text)
    if len(parts) == 1:
        stripped = text.strip()
        if stripped.startswith("(") and stripped.endswith(")") and len(_split_top(stripped[1:-1])[0]) > 1:
            return "(" + balanced(stripped[1:-1]) + ")"
        if stripped.startswith("NOT (") and stripped.endswith(")"):
            return "NOT (" + balanced(stripped[5:-1]) + ")"
        return text
    parts = [balanced(p) for p in parts]
    if set(seps) == {" OR "}:
        while len(parts) > 16:
            parts = ["(" + " OR ".join(parts[i:i + 16]) + ")" for i in range(0, len(parts), 16)]
        return " OR ".join(parts)
    return "".join(p + s for p, s in zip(parts, [*seps, ""], strict=True))
