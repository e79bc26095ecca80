"""A third-party collector, as another package would ship one: CSV with an ``EventID`` column.

Registered in the tests through a ``*.dist-info/entry_points.txt`` on ``sys.path``, exactly as
pip would install it, under the group ``sysmon_rules.collectors``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from sysmon_rules.collectors import Source
from sysmon_rules.events import Event, Origin


class CsvCollector:
    name = "csv"
    description = "CSV with an EventID column and one column per field"

    def recognizes(self, head: bytes, name: str) -> bool:
        return head.startswith(b"EventID,")

    def events(self, source: Source) -> Iterator[Event]:
        with source.open() as stream:
            rows = csv.DictReader(io.TextIOWrapper(stream, encoding="utf-8", newline=""))
            for number, row in enumerate(rows, 2):
                event_id = row.pop("EventID")
                if not event_id.isdigit():
                    source.skip(f"{source.name}:{number}", f"EventID {event_id!r} is not a number")
                    continue
                yield Event(int(event_id), row, Origin(source.name, line=number))
