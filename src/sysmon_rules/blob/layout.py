"""Every struct of every Sysmon rule-blob version, declared once and used by encoder and decoder.

All structs are packed (1-byte alignment), little-endian, offsets absolute from byte 0.

What is established, and how:

* **18 (and 15.0, 16, 17)**: ``manifest.tt`` of SysmonCommon gives the structs; the 207 upstream
  unit-test pairs (stamped 15.0 but written by the 18 builder) are reproduced byte for byte.
* **9.20, 11.0, 13.0, 14.0, 15.0, 16, 17** headers and events: the "exclude everything" blobs of
  ``sysmon-version-blobs.json`` (Sysmon 10.42 to 15.15) have the 24-byte ``RULE_REG_EXT`` header
  (RuleRegSize = FirstEventOffset = 24) and 24-byte events chained at 24-byte strides, exactly as
  in 18. Their filters are not in those blobs; we assume the 18 filter/aggregation layout (the
  ext header's FirstAggregationOffset only makes sense with it).
* **8.00** is two formats under one version word. Sysmon 8.04 (schema 4.1) writes a 16-byte
  header and 16-byte events (``EventId, RuleDefault, NextOffset, FilterCount``), the 1.01 event;
  Sysmon 9.0x (schema 4.2) still stamps 8.00 but writes 24-byte events (with CombineType and
  FirstFilterOffset) after the same 16-byte header. The decoder tells them apart by structure.
  Filters of 8.00/9.10 blobs are not in any source we have: the decoder assumes the 1.01 filter
  after 16-byte events and the 18 filter after 24-byte events, and says so in its notes.
* **1.01** (Sysmon 3.10 to 7.01, schema 2.0 to 4.0 configs): 16-byte header ``Version, RuleCount,
  FirstEventOffset, SchemaVersion`` (PSSysmonTools reads the schema as u16 minor + u16 major, which
  is the same little-endian u32 as the packed version), 16-byte events, filters ``FieldId,
  FilterType, NextOffset, DataSize`` then the UTF-16 data. Confirmed by the version blobs (events)
  and PSSysmonTools' parser (filters). Conditions are the 9-item list of that era.
* **1.0**: only an 8-byte ``RULE_REG``; the first event is at offset 8 (``NextRuleEvent``).

Checks that back this (tests/test_blob_*.py): all 25 version blobs decode, and re-encoding each
decoded table through these declarations gives the blob back byte for byte (version word
included); compiling an equivalent XML config reproduces the 1.01 blobs of Sysmon 3.10, 3.21 and
4.0 and the 15.0/16/17/18 blobs of Sysmon 13.23-15.15 exactly.

Older writers also compiled differently, not only laid out differently: for an empty shared
element (RegistryEvent, PipeEvent, WmiEvent) Sysmon up to 12.01 wrote one event per id (12, 13,
14), 12.03-13.10 only the last id (14, 18, 21), and 13.23 on the first id (12, 17, 19), which is
what this compiler does. Sysmon 3.10 stamps 1.01 on a schema 2.0 config although the manifest
lists binary 1.0 for it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cached_property

from ..errors import BlobFormatError
from ..schema import CONDITIONS, SchemaVersion, all_versions, newest
from ..schema.model import Platform


def align8(size: int) -> int:
    """Round up to the next multiple of 8, as RuleBuilder::AddData advances its cursor."""
    return (size + 7) & ~7


def version_word(major: int, minor: int) -> int:
    return (major << 16) | minor


@dataclass(frozen=True)
class Member:
    """One struct member: a name and a ``struct`` code (``I`` u32, ``Q`` u64, ``256s`` bytes)."""

    name: str
    code: str


class Record(dict[str, int | bytes]):
    """One struct as read: member name -> value, typed by the declaration.

    ``number`` reads an integer member and ``text`` a WCHAR array; ``default`` stands in for a
    member this format's struct does not have.
    """

    def number(self, name: str, default: int | None = None) -> int:
        value = self.get(name, default)
        if not isinstance(value, int):
            raise KeyError(f"{name} is not an integer member here")
        return value

    def text(self, name: str) -> str:
        value = self.get(name, b"")
        if not isinstance(value, bytes):
            raise KeyError(f"{name} is not a WCHAR array")
        return decode_wchar(value)


@dataclass(frozen=True)
class StructLayout:
    """A packed struct: its members in order; ``pack``/``unpack`` are the only byte access."""

    name: str
    members: tuple[Member, ...]

    @cached_property
    def _struct(self) -> struct.Struct:
        return struct.Struct("<" + "".join(m.code for m in self.members))

    @cached_property
    def names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.members)

    @property
    def size(self) -> int:
        return self._struct.size

    @cached_property
    def _members(self) -> dict[str, tuple[int, struct.Struct]]:
        """Each member's offset and its own struct, computed once from the declaration."""
        found: dict[str, tuple[int, struct.Struct]] = {}
        offset = 0
        for member in self.members:
            one = struct.Struct("<" + member.code)
            found[member.name] = (offset, one)
            offset += one.size
        return found

    def offset_of(self, name: str) -> int:
        """Byte offset of a member inside the struct."""
        return self._members[name][0]

    def get(self, buffer: bytes | bytearray, base: int, name: str) -> int:
        """One integer member of the struct at ``base`` (the builder's in-place reads)."""
        offset, member = self._members[name]
        return int(member.unpack_from(buffer, base + offset)[0])

    def put(self, buffer: bytearray, base: int, name: str, value: int) -> None:
        """Overwrite one integer member in place; a write past the buffer lands nowhere, as in
        RuleBuilder when it writes through a stale offset (see ``builder``)."""
        offset, member = self._members[name]
        pos = base + offset
        if pos + member.size <= len(buffer):
            member.pack_into(buffer, pos, value)

    def pack(self, **values: int | bytes) -> bytes:
        """The struct's bytes; members not given are zero."""
        args = [values.get(m.name, b"" if m.code.endswith("s") else 0) for m in self.members]
        return self._struct.pack(*args)

    def unpack(self, data: bytes, offset: int) -> Record:
        """Read the struct at ``offset``; BlobFormatError if it does not fit in ``data``."""
        if offset < 0 or offset + self.size > len(data):
            raise BlobFormatError(f"{self.name} ({self.size} bytes) runs past the end ({len(data)} bytes)",
                                  offset, self.name)
        return Record(zip(self.names, self._struct.unpack_from(data, offset), strict=True))


def _u32(*names: str) -> tuple[Member, ...]:
    return tuple(Member(n, "I") for n in names)


def _wchars(name: str, units: int) -> Member:
    """A WCHAR[units] array member (UTF-16LE, 2 bytes a unit)."""
    return Member(name, f"{units * 2}s")


NAME_UNITS = 256  # RULE_FILTER.Name, WCHARs including the terminator
AGGREGATION_NAME_UNITS = 128  # RULE_AGGREGATION.name; a name keeps at most 127 units


RULE_REG = StructLayout("RULE_REG", _u32("Version", "RuleCount"))
# 1.01 .. 9.10: RULE_REG then where events start and the config's packed schema version.
RULE_REG_V1 = StructLayout("RULE_REG_V1", _u32("Version", "RuleCount", "FirstEventOffset", "SchemaVersion"))
RULE_REG_EXT = StructLayout("RULE_REG_EXT", _u32(
    "Version", "RuleCount", "RuleRegSize", "SchemaVersion", "FirstEventOffset", "FirstAggregationOffset"))

RULE_EVENT_V1 = StructLayout("RULE_EVENT_V1", _u32("EventId", "RuleDefault", "NextOffset", "FilterCount"))
RULE_EVENT = StructLayout("RULE_EVENT", _u32(
    "EventId", "RuleDefault", "CombineType", "NextOffset", "FilterCount", "FirstFilterOffset"))

RULE_FILTER_V1 = StructLayout("RULE_FILTER_V1", _u32("FieldId", "FilterType", "NextOffset", "DataSize"))
RULE_FILTER = StructLayout("RULE_FILTER", (
    Member("FieldId", "I"), _wchars("Name", NAME_UNITS),
    *_u32("FilterType", "NextOffset", "DataSize", "AggregationId", "AggregationOffset")))

RULE_AGGREGATION = StructLayout("RULE_AGGREGATION", (
    _wchars("name", AGGREGATION_NAME_UNITS), Member("messageId", "Q"),
    *_u32("aggregationId", "rootRuleOffset", "nextOffset", "ruleCount", "combineType",
          "rulesChecked", "rulesMatched")))

# Filter conditions as numbered by each era's writer (FilterType). From 14.0 the enum is fixed
# (``schema.CONDITIONS``); 9.20-13.0 writers (schema 4.31/4.32) number the same first 14.
CONDITIONS_V1: tuple[str, ...] = (
    "is", "is not", "contains", "excludes", "begin with", "end with", "less than", "more than", "image",
)  # fmt: skip


@dataclass(frozen=True)
class BlobFormat:
    """One blob format: which header, event, filter and aggregation structs, and their rules."""

    name: str
    header: StructLayout
    event: StructLayout
    filter: StructLayout
    aggregation: StructLayout | None

    @property
    def filter_sizeof(self) -> int:
        """sizeof(RULE_FILTER) counts ``Data[1]``: a filter occupies align8(sizeof + DataSize) bytes."""
        return self.filter.size + 1

    @property
    def has_names(self) -> bool:
        return "Name" in self.filter.names

    @property
    def has_combine(self) -> bool:
        return "CombineType" in self.event.names


MODERN = BlobFormat("18", RULE_REG_EXT, RULE_EVENT, RULE_FILTER, RULE_AGGREGATION)
# Sysmon 9.0x: 16-byte header, 18-style events and (assumed) filters, old condition numbers.
V8_EXT = BlobFormat("8.00 (Sysmon 9.0x)", RULE_REG_V1, RULE_EVENT, RULE_FILTER, None)
V1 = BlobFormat("1.01", RULE_REG_V1, RULE_EVENT_V1, RULE_FILTER_V1, None)
# Sysmon 8.x: the 1.01 structs under the 8.00 version word.
V8_SHORT = BlobFormat("8.00 (Sysmon 8.x)", RULE_REG_V1, RULE_EVENT_V1, RULE_FILTER_V1, None)
V1_0 = BlobFormat("1.0", RULE_REG, RULE_EVENT_V1, RULE_FILTER_V1, None)

BINARY_18 = version_word(18, 0)
BINARY_15 = version_word(15, 0)
V1_0_WORD = version_word(1, 0)
V1_01_WORD = version_word(1, 1)
V8_WORD = version_word(8, 0)
V9_10_WORD = version_word(9, 10)
V9_20_WORD = version_word(9, 20)

# Version words Sysmon writers are known to stamp (the manifest's binaryversion values + 17).
KNOWN_VERSIONS: dict[int, str] = {
    V1_0_WORD: "1.0", V1_01_WORD: "1.01", V8_WORD: "8.00", V9_10_WORD: "9.10", V9_20_WORD: "9.20",
    version_word(11, 0): "11.0", version_word(13, 0): "13.0", version_word(14, 0): "14.0",
    BINARY_15: "15.0", version_word(16, 0): "16", version_word(17, 0): "17", BINARY_18: "18",
}  # fmt: skip


def is_known_version(word: int) -> bool:
    """A version word some Sysmon build writes; any minor of majors 11-18 is accepted too."""
    return word in KNOWN_VERSIONS or (11 <= word >> 16 <= 18 and (word & 0xFFFF) < 100)


# Which layouts a blob stamped with a version word may have, the one our writer writes first.
# 8.00 is stamped by Sysmon 8.x (16-byte events) and Sysmon 9.0x (24-byte events); 9.10 has no
# surviving sample, so both short-header layouts and the 18 one are possible.
_FORMATS: dict[int, tuple[BlobFormat, ...]] = {
    V1_0_WORD: (V1_0,), V1_01_WORD: (V1,), V8_WORD: (V8_SHORT, V8_EXT), V9_10_WORD: (V8_EXT, V8_SHORT, MODERN),
}
_SCHEMA_4_20 = version_word(4, 20)  # Sysmon 9.0x (24-byte events under 8.00) reads schema 4.2 on


def formats_for(word: int, schema_version: int | None = None) -> tuple[BlobFormat, ...]:
    """The layouts a blob stamped ``word`` may have, most likely first.

    Without ``schema_version``, the first is what a writer of that version produces; with the
    header's schema version, the short-header layouts are ordered by which Sysmon wrote it.
    """
    found = _FORMATS.get(word, (MODERN,))
    if schema_version is None or V8_EXT not in found:
        return found
    short = (V8_EXT, V8_SHORT) if schema_version >= _SCHEMA_4_20 else (V8_SHORT, V8_EXT)
    return (*short, *(f for f in found if f not in short))


def format_for_writing(word: int) -> BlobFormat:
    """The format a writer of this binary version produces (8.00 as Sysmon 8.x wrote it)."""
    return formats_for(word)[0]


def conditions_for(word: int) -> tuple[str, ...]:
    """FilterType numbering of a writer: the 9 of 1.0-9.10, 14 from 9.20 up to 14.0, then all 16."""
    if word < V9_20_WORD:
        return CONDITIONS_V1
    return CONDITIONS if word >= BINARY_15 else CONDITIONS[:14]


def format_name(word: int) -> str:
    return KNOWN_VERSIONS.get(word, f"{word >> 16}.{word & 0xFFFF:02d}")


def encode_wchar(text: str, units: int) -> bytes:
    """``text`` as UTF-16LE in a WCHAR[units] array, cut so a terminator always fits."""
    raw = text.encode("utf-16-le", "surrogatepass")[: (units - 1) * 2]
    return raw.ljust(units * 2, b"\0")


def decode_wchar(raw: bytes) -> str:
    """A NUL-terminated WCHAR array as text (what the C code reads), lone surrogates kept."""
    end = raw.find(b"\0\0")
    while end != -1 and end % 2:
        end = raw.find(b"\0\0", end + 1)
    if end == -1:
        end = len(raw) & ~1
    return raw[:end].decode("utf-16-le", "surrogatepass")


def writer_schema(word: int, platform: Platform = "windows", config_version: int | None = None) -> SchemaVersion:
    """The schema whose field tables number a blob's FieldIds.

    From 9.10 on every manifest's field lists are prefixes of the newest one, so the newest tables
    read any of those blobs. Older writers inserted fields (4.0 added FileVersion to
    ProcessCreate), so there the config's own schema is used when its binary version matches,
    else the newest schema of that binary version.
    """
    if word >= V9_10_WORD:
        return newest(platform)
    same_binary = [s for s in all_versions() if s.binary_packed == word and platform in s.platforms]
    if word == V1_01_WORD:  # the manifest says 1.0 for schema 2.0, but Sysmon 3.10 stamped 1.01
        same_binary += [s for s in all_versions() if s.binary_packed == V1_0_WORD]
    exact = [s for s in same_binary if s.packed == config_version]
    chosen = exact or sorted(same_binary, key=lambda s: s.packed)[-1:]
    return chosen[0].for_platform(platform) if chosen else newest(platform)
