"""Which Sysmon events a Sigma rule's log source stands for (or why it is not a Sysmon source).

Windows categories map to event ids with pySigma's own Sysmon pipeline table; Sysmon for Linux
has no pySigma pipeline, so its three Sigma categories are mapped here (the ids Sysmon for Linux
reports for them). ``service: sysmon`` rules name their events through ``EventID`` in the
detection and may apply to any id of the platform.
"""

from __future__ import annotations

from dataclasses import dataclass

from sigma.pipelines.sysmon.sysmon import sysmon_generic_logsource_eventid_mapping
from sigma.rule import SigmaLogSource

from ..schema import newest
from ..schema.model import Platform

# Sysmon for Linux: Sigma category -> event id (ProcessCreate, NetworkConnect, FileCreate).
LINUX_CATEGORIES: dict[str, tuple[int, ...]] = {
    "process_creation": (1,),
    "network_connection": (3,),
    "file_event": (11,),
    "file_create": (11,),
}


def windows_categories() -> dict[str, tuple[int, ...]]:
    """pySigma's Sysmon table: generic Sigma category -> Sysmon event ids."""
    table: dict[str, tuple[int, ...]] = {}
    for category, ids in sysmon_generic_logsource_eventid_mapping.items():
        table[category] = tuple(int(i) for i in ids) if isinstance(ids, list) else (int(str(ids)),)
    return table


@dataclass(frozen=True, slots=True)
class Source:
    """A rule's Sysmon reading: the platform and event ids, or why it has none."""

    platform: Platform | None
    event_ids: tuple[int, ...]
    why_not: str = ""


def sysmon_source(logsource: SigmaLogSource) -> Source:
    """The Sysmon events of a Sigma log source; ``why_not`` says why there are none."""
    product, category, service = logsource.product, logsource.category, logsource.service
    if product == "windows":
        if service == "sysmon":
            return Source("windows", _all_ids("windows"))
        ids = windows_categories().get(category or "")
        if ids and service is None:
            return Source("windows", ids)
    elif product == "linux":
        if service == "sysmon":
            return Source("linux", _all_ids("linux"))
        ids = LINUX_CATEGORIES.get(category or "")
        if ids and service is None:
            return Source("linux", ids)
    shown = "/".join(f"{k}:{v}" for k, v in (("product", product), ("category", category), ("service", service)) if v)
    return Source(None, (), f"log source {shown or 'empty'} is not one Sysmon writes")


def _all_ids(platform: Platform) -> tuple[int, ...]:
    return tuple(sorted(newest(platform).events_by_id))
