"""What values Sysmon writes in each field: a domain per field, and a realistic value of it.

From the schema's input types (``win:GUID``, ``win:UInt16``/``UInt32``, ``win:HexInt32``/``HexInt64``,
``win:Boolean``) and from how Sysmon fills its string fields (SysmonCommon's event code):
booleans as ``true``/``false``, hex numbers as ``0x…``, GUIDs in braces (``{…}``; log exports often
drop them), registry, pipe and WMI event types, WMI operations, ``tcp``/``udp``, IP addresses,
the hash list ``SHA1=…,MD5=…``, paths starting at a drive letter or ``\\`` (``System`` and
``<unknown process>`` for processes without one). An empty string field is written ``-``;
version fields of an image without version information read ``?``.

Values are compared folded (ASCII lowercase), as the witnesses hold them.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from ..schema import newest
from ..schema.model import Platform

EMPTY = "-"
_GUID = re.compile(r"\{?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}?")
_HEX = re.compile(r"0x[0-9a-f]+")
_HASHES = re.compile(r"(?:(?:md5|sha1|sha256|imphash)=[0-9a-f]+)(?:,(?:md5|sha1|sha256|imphash)=[0-9a-f]+)*")
_DRIVE_PATH = re.compile(r"[a-z]:\\.*|\\\\.*|\\(?:device|systemroot|\?\?)\\.*", re.DOTALL)
_WINDOWS_PATHS = frozenset({"Image", "ParentImage", "ImageLoaded", "TargetFilename", "SourceImage", "TargetImage",
                            "CurrentDirectory"})
_PROCESS_IMAGES = frozenset({"Image", "ParentImage", "SourceImage", "TargetImage"})
_VERSION_FIELDS = frozenset({"FileVersion", "Description", "Product", "Company", "OriginalFileName"})
_IPS = frozenset({"SourceIp", "DestinationIp"})

# Enumerations Sysmon writes, by field (and event id where they differ).
_EVENT_TYPES: dict[int, tuple[str, ...]] = {
    12: ("createkey", "deletekey", "createvalue", "deletevalue"),
    13: ("setvalue",),
    14: ("renamekey", "renamevalue"),
    17: ("createpipe",),
    18: ("connectpipe",),
    19: ("wmifilterevent",),
    20: ("wmiconsumerevent",),
    21: ("wmibindingevent",),
}
_ENUMS: dict[str, tuple[str, ...]] = {
    "Operation": ("created", "deleted"),
    "Protocol": ("tcp", "udp"),
}

# A realistic value per field, for fields the evidence does not fix (folded). Version fields
# (FileVersion, Description, Product, Company) have none: an unknown image has no version
# information, which Sysmon writes as "-".
TYPICAL: dict[str, str] = {
    "Image": "c:\\windows\\system32\\cmd.exe",
    "ParentImage": "c:\\windows\\explorer.exe",
    "SourceImage": "c:\\windows\\system32\\svchost.exe",
    "TargetImage": "c:\\windows\\system32\\lsass.exe",
    "ImageLoaded": "c:\\windows\\system32\\kernel32.dll",
    "TargetFilename": "c:\\users\\user\\appdata\\local\\temp\\file.tmp",
    "CurrentDirectory": "c:\\users\\user\\",
    "CommandLine": "c:\\windows\\system32\\cmd.exe",
    "ParentCommandLine": "c:\\windows\\explorer.exe",
    "User": "desktop-1\\user",
    "ParentUser": "desktop-1\\user",
    "SourceUser": "desktop-1\\user",
    "TargetUser": "desktop-1\\user",
    "IntegrityLevel": "medium",
    "TargetObject": "hklm\\software\\vendor\\app\\setting",
    "Details": "dword (0x00000001)",
    "QueryName": "www.example.com",
    "QueryResults": "type:  5 example.com;::ffff:93.184.216.34;",
    "QueryStatus": "0",
    "PipeName": "\\pipe\\app",
    "DestinationHostname": "www.example.com",
    "SourceHostname": "desktop-1.corp.local",
    "DestinationPortName": "https",
    "SourcePortName": "-",
    "Signature": "microsoft windows",
    "SignatureStatus": "valid",
    "Signed": "true",
    "OriginalFileName": "cmd.exe",
    "GrantedAccess": "0x1410",
    "CallTrace": "c:\\windows\\system32\\ntdll.dll+9d4c4",
    "StartModule": "c:\\windows\\system32\\kernel32.dll",
    "StartFunction": "loadlibraryw",
    "StartAddress": "0x00007ff8a1b2c3d0",
    "Device": "\\device\\harddiskvolume2",
    "Hashes": "sha256=" + "0" * 64,
    "Hash": "sha256=" + "0" * 64,
    "EventNamespace": "\"root\\\\cimv2\"",
    "Consumer": "\"commandlineeventconsumer.name=\\\"app\\\"\"",
    "Filter": "\"__eventfilter.name=\\\"app\\\"\"",
    "Name": "\"app\"",
    "Type": "command line",
    "Destination": "c:\\windows\\system32\\cmd.exe",
    "Query": "select * from __instancemodificationevent within 60",
    "UtcTime": "2026-01-01 00:00:00.000",
    "CreationUtcTime": "2026-01-01 00:00:00.000",
    "PreviousCreationUtcTime": "2026-01-01 00:00:00.000",
    "Contents": "-",
    "Archived": "true",
    "IsExecutable": "false",
    "ClientInfo": "user: user",
    "NewName": "hklm\\software\\vendor\\app\\renamed",
    "State": "started",
    "Version": "15.0",
    "SchemaVersion": "4.90",
    "Configuration": "c:\\windows\\sysmon.xml",
    "ConfigurationFileHash": "sha256=" + "0" * 64,
    "ID": "{00000000-0000-0000-0000-000000000000}",
}


@dataclass(frozen=True, slots=True)
class Domain:
    """The values Sysmon can write in one field of one event id."""

    field: str
    kind: str  # guid, uint, hex, bool, enum, ip, hashes, path, text
    values: tuple[str, ...] = ()  # the enumeration (folded), for kind "enum"
    bits: int = 32  # for kind "uint"
    empty: tuple[str, ...] = ()  # the renderings of "no value" this field can hold

    def __contains__(self, value: str) -> bool:
        value = value.lower()
        if value in self.empty:
            return True
        kind = self.kind
        if kind == "guid":
            return _GUID.fullmatch(value) is not None
        if kind == "uint":
            return value.isdigit() and value.isascii() and int(value) < (1 << self.bits)
        if kind == "hex":
            return _HEX.fullmatch(value) is not None
        if kind in ("bool", "enum"):
            return value in self.values
        if kind == "ip":
            try:
                ipaddress.ip_address(value)
            except ValueError:
                return False
            return True
        if kind == "hashes":
            return _HASHES.fullmatch(value) is not None
        if kind == "path":
            return _DRIVE_PATH.fullmatch(value) is not None or (
                self.field in _PROCESS_IMAGES and value in ("system", "<unknown process>"))
        return True

    def examples(self) -> tuple[str, ...]:
        """Realistic values of this domain, the typical one first."""
        typical = TYPICAL.get(self.field)
        out = [typical] if typical is not None and typical in self else []
        if self.kind in ("bool", "enum"):
            out += self.values
        elif self.kind == "uint":
            out += ["443", "4", "1234"] if self.bits == 16 else ["4242", "0", "1"]
        elif self.kind == "ip":
            out += ["10.0.0.5", "192.168.1.20", "93.184.216.34", "127.0.0.1", "fe80::1", "::1"]
        elif self.kind == "guid":
            out += ["{3fa85f64-5717-4562-b3fc-2c963f66afa6}", "{00000000-0000-0000-0000-000000000000}"]
        elif self.kind == "hex":
            out += ["0x1410", "0x1fffff", "0x3e7"]
        elif self.kind == "hashes":
            out += ["sha256=" + "0" * 64, "md5=" + "0" * 32, "sha1=" + "0" * 40]
        return tuple(dict.fromkeys(out))


@lru_cache(maxsize=4096)
def field_domain(event_id: int, field: str, platform: Platform = "windows") -> Domain:
    """The domain of ``field`` in Sysmon's event ``event_id`` (``text`` when nothing narrows it)."""
    event_type = newest(platform).events_by_id.get(event_id)
    in_type = next((f.in_type for f in event_type.fields if f.name == field), "") if event_type else ""
    empty = (EMPTY, "?") if field in _VERSION_FIELDS else (EMPTY,) if in_type == "win:UnicodeString" else ()
    if in_type == "win:GUID":
        return Domain(field, "guid")
    if in_type in ("win:UInt16", "win:UInt32"):
        return Domain(field, "uint", bits=16 if in_type == "win:UInt16" else 32)
    if in_type in ("win:HexInt32", "win:HexInt64"):
        return Domain(field, "hex")
    if in_type == "win:Boolean" or (field in ("Signed", "Archived") and platform == "windows"):
        return Domain(field, "bool", ("true", "false"), empty=empty)
    if field == "EventType" and event_id in _EVENT_TYPES:
        return Domain(field, "enum", _EVENT_TYPES[event_id])
    if field in _ENUMS and (field != "Operation" or event_id in (19, 20, 21)):
        return Domain(field, "enum", _ENUMS[field])
    if field in _IPS:
        return Domain(field, "ip", empty=empty)
    if field in ("Hashes", "Hash", "ConfigurationFileHash"):
        return Domain(field, "hashes", empty=empty)
    if field in _WINDOWS_PATHS and platform == "windows":
        return Domain(field, "path", empty=empty)
    return Domain(field, "text", empty=empty)


@lru_cache(maxsize=4096)
def domain_examples(event_id: int, field: str, platform: Platform = "windows") -> tuple[str, ...]:
    """``field_domain(...).examples()``, built once per field (typical events ask for each field's, per event)."""
    return field_domain(event_id, field, platform).examples()


@lru_cache(maxsize=1 << 16)
def in_domain(event_id: int, field: str, value: str, platform: Platform = "windows") -> bool:
    """``value in field_domain(event_id, field, platform)``, remembered: witnesses and typical events
    repeat the same few values (the typical ones) in every field of thousands of events."""
    return value in field_domain(event_id, field, platform)


_PATH_HEADS = ("c:\\windows\\system32", "c:\\users\\user\\appdata\\local\\temp", "c:", "d:")
_TAILS = ("1", "0.1", "1.20", "0.0.1", ".0.0.1", "0", "}", "-0000-0000-0000-000000000000}")


def realize(event_id: int, field: str, value: str, accept: Callable[[str], bool],
            platform: Platform = "windows") -> str | None:
    """A value of ``field``'s domain that ``accept`` takes: ``value`` itself, completed, or an example.

    ``value`` is a solver's shortest answer (``\\wget.exe``, ``192.168.``); completions put a path
    under a usual folder, finish an address or a GUID, or try the domain's realistic values.
    None when no candidate is both in the domain and accepted.
    """
    return next((c for c in _candidates(event_id, field, value, platform)
                 if in_domain(event_id, field, c, platform) and accept(c)), None)


def _candidates(event_id: int, field: str, value: str, platform: Platform) -> Iterator[str]:
    """``realize``'s candidates in order, made as they are asked for (the first usually fits)."""
    yield value
    domain = field_domain(event_id, field, platform)
    if domain.kind == "path":
        if value.startswith(":"):  # a needle such as ':\\temp\\' names the drive's root
            yield from (drive + value for drive in "cd")
        yield from (head + (value if value.startswith("\\") else "\\" + value) for head in _PATH_HEADS)
    if domain.kind == "hex":
        yield from ("0x" + value, "0x1" + value, "0x10" + value)
    yield from (value + tail for tail in _TAILS)
    yield from ("{" + value + tail for tail in _TAILS[-2:])
    yield from domain_examples(event_id, field, platform)
    if domain.kind == "path" and field in _PROCESS_IMAGES:  # last: the images that are no path
        yield from ("system", "<unknown process>")
