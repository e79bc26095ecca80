"""Which Sysmon events a Sigma rule's log source stands for (or why it is not a Sysmon source).

Windows categories map to event ids with pySigma's own Sysmon pipeline table; Sysmon for Linux
has no pySigma pipeline, so its three Sigma categories are mapped here (the ids Sysmon for Linux
reports for them). ``service: sysmon`` rules name their events through ``EventID`` in the
detection and may apply to any id of the platform.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

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


# pySigma's Sysmon pipeline table (pysigma-pipeline-sysmon 2.0), for pySigma 2.x, for which no
# release of that pipeline exists; tests/test_coverage_pysigma.py checks it equals the pipeline's.
PIPELINE_TABLE: dict[str, tuple[int, ...]] = {
    "process_creation": (1,), "file_change": (2,), "network_connection": (3,), "sysmon_status": (4, 16),
    "process_termination": (5,), "driver_load": (6,), "image_load": (7,), "create_remote_thread": (8,),
    "raw_access_thread": (9,), "process_access": (10,), "file_event": (11,), "registry_add": (12,),
    "registry_delete": (12,), "registry_set": (13,), "registry_rename": (14,), "registry_event": (12, 13, 14),
    "create_stream_hash": (15,), "pipe_created": (17, 18), "wmi_event": (19, 20, 21), "dns_query": (22,),
    "file_delete": (23,), "clipboard_capture": (24,), "process_tampering": (25,), "file_delete_detected": (26,),
    "file_block_executable": (27,), "file_block_shredding": (28,), "file_executable_detected": (29,),
    "sysmon_error": (255,),
}


def windows_categories() -> dict[str, tuple[int, ...]]:
    """Generic Sigma category -> Sysmon event ids: pySigma's Sysmon pipeline table when installed."""
    return dict(_windows_categories())


@cache  # read once: every rule's log source asks
def _windows_categories() -> dict[str, tuple[int, ...]]:
    try:
        from sigma.pipelines.sysmon.sysmon import sysmon_generic_logsource_eventid_mapping
    except ImportError:  # pySigma 2.x: no Sysmon pipeline release supports it yet
        return dict(PIPELINE_TABLE)
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
        ids = _windows_categories().get(category or "")
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
