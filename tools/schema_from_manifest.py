#!/usr/bin/env python3
"""Regenerate schema/*.txt (the project's compact schema) from Sysmon's published schema dumps.

Maintainer tool, run by hand when a new Sysmon schema appears:

    python tools/schema_from_manifest.py ../shared/reference schema/

Inputs: SysmonCommon's manifest.xml (every version 2.0 .. 4.90, Linux event 100 tagged
target="linux") and `sysmon -s` dumps of Windows Sysmon (4.90, 4.91: events 27-29, options
DriverQueueSize/SigningQueueSize).  Windows schema 4.82 and 4.83 have no dump; they are 4.81 plus
event 27 (4.82) and event 28 (4.83), taken from the 4.90 Windows dump, with binary version 17
(Sysmon 14.x writes 0x00110000, see sysmon-version-blobs.json).

Output: one file per version, each stating only what differs from the previous version.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def _num(version: str) -> float:
    return float(version)


def _event_key(e: ET.Element) -> str:
    return e.attrib["value"]


def _attrs(el: ET.Element) -> str:
    parts = []
    for key, value in el.attrib.items():
        if any(c in value for c in ' "=') or value == "":
            value = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        parts.append(f"{key}={value}")
    return " ".join(parts)


def _event_text(e: ET.Element) -> list[str]:
    lines = [f"event {_attrs(e)}"]
    lines += [f"  data {_attrs(d)}" for d in e.iter("data")]
    return lines


def _windows_only(e: ET.Element) -> ET.Element:
    copy = ET.Element("event", dict(e.attrib))
    copy.attrib["target"] = "windows"
    for d in e.iter("data"):
        ET.SubElement(copy, "data", dict(d.attrib))
    return copy


def build_versions(ref: Path) -> list[tuple[str, dict[str, object]]]:
    manifest = ET.parse(ref / "sysmon-manifest.xml").getroot()
    win90 = ET.parse(ref / "windows-sysmon-4.90.xml").getroot()
    win91 = ET.parse(ref / "windows-sysmon-4.91.xml").getroot()
    win_events = {e.attrib["value"]: _windows_only(e) for e in win90.iter("event")}

    def entry(m: ET.Element, binary: str | None = None) -> dict[str, object]:
        return {
            "binary": binary or m.attrib["binaryversion"],
            "filters": m.find(".//filters"),
            "options": list(m.iter("option")),
            "events": list(m.iter("event")),
        }

    versions: list[tuple[str, dict[str, object]]] = []
    for m in sorted(manifest.findall("manifest"), key=lambda x: _num(x.attrib["schemaversion"])):
        versions.append((m.attrib["schemaversion"], entry(m)))
    by_version = dict(versions)

    def with_events(base: dict[str, object], add: list[str], binary: str) -> dict[str, object]:
        copy = dict(base)
        copy["binary"] = binary
        events = list(base["events"])  # type: ignore[call-overload]
        insert_at = next(i for i, e in enumerate(events) if e.attrib["value"] == "26") + 1
        for offset, value in enumerate(add):
            events.insert(insert_at + offset, win_events[value])
        copy["events"] = events
        return copy

    v482 = with_events(by_version["4.81"], ["27"], "17")
    v483 = with_events(by_version["4.81"], ["27", "28"], "17")
    v490 = dict(by_version["4.90"])
    events90 = list(v490["events"])  # type: ignore[call-overload]
    at = next(i for i, e in enumerate(events90) if e.attrib["value"] == "26") + 1
    events90[at:at] = [win_events[v] for v in ("27", "28", "29")]
    v490["events"] = events90
    v491 = dict(v490)
    internal = [o for o in v490["options"] if o.attrib.get("target") == "internal"]  # type: ignore[attr-defined]
    public = [o for o in win91.iter("option")]
    # Keep the manifest's internal options where they stood, add the Windows 4.91 ones.
    names90 = [o.attrib["name"] for o in v490["options"]]  # type: ignore[attr-defined]
    merged = list(v490["options"])  # type: ignore[call-overload]
    for i, o in enumerate(public):
        if o.attrib["name"] not in names90:
            # Place it right after the option the Windows dump prints before it.
            before = public[i - 1].attrib["name"]
            at = next(j for j, m in enumerate(merged) if m.attrib["name"] == before) + 1
            merged.insert(at, o)
    v491["options"] = merged
    del internal
    out = [(v, e) for v, e in versions if v != "4.90"]
    out += [("4.82", v482), ("4.83", v483), ("4.90", v490), ("4.91", v491)]
    out.sort(key=lambda x: _num(x[0]))
    return out


def render(versions: list[tuple[str, dict[str, object]]]) -> dict[str, str]:
    files: dict[str, str] = {}
    prev: dict[str, object] | None = None
    prev_version = ""
    for version, cur in versions:
        lines = [f"# Sysmon configuration schema {version}"
                 + (f": what changed from {prev_version}." if prev else ": the full first schema.")]
        header = f"schema {version} binary={cur['binary']}"
        if prev:
            header += f" base={prev_version}"
        lines.append(header)
        filters = cur["filters"]
        assert isinstance(filters, ET.Element)
        if prev is None or (filters.text, filters.attrib) != (
            prev["filters"].text, prev["filters"].attrib  # type: ignore[attr-defined]
        ):
            lines.append(f'filters default={filters.attrib["default"]} "{filters.text}"')
        opts = cur["options"]
        assert isinstance(opts, list)
        prev_opts = {o.attrib["name"]: o for o in prev["options"]} if prev else {}  # type: ignore[attr-defined]
        order = [o.attrib["name"] for o in opts]
        if prev is None or order != [o.attrib["name"] for o in prev["options"]]:  # type: ignore[attr-defined]
            lines.append("options " + " ".join(order))
        for o in opts:
            old = prev_opts.get(o.attrib["name"])
            if old is None or list(old.attrib.items()) != list(o.attrib.items()):
                lines.append(f"option {_attrs(o)}")
        evs = cur["events"]
        assert isinstance(evs, list)
        prev_evs = {_event_key(e): e for e in prev["events"]} if prev else {}  # type: ignore[attr-defined]
        order = [_event_key(e) for e in evs]
        if prev is None or order != [_event_key(e) for e in prev["events"]]:  # type: ignore[attr-defined]
            lines.append("events " + " ".join(order))
        for e in evs:
            old = prev_evs.get(_event_key(e))
            if old is None or _event_text(old) != _event_text(e):
                lines += _event_text(e)
        files[f"{version}.txt"] = "\n".join(lines) + "\n"
        prev, prev_version = cur, version
    return files


def main() -> int:
    ref, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    for name, text in render(build_versions(ref)).items():
        (out / name).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
