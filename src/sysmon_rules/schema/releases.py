"""Windows Sysmon releases: which config schema each one reads and which rule blob it writes.

THE one table of Sysmon release <-> schema version <-> binary (blob) version. Sources, per row:

- ``blob``: the 25 registry rule blobs of real releases in ``sysmon-version-blobs.json`` (N1mr0ds/
  Sysmonster): the release, its schema version, and the binary version word of its blob header;
  ``tests/test_schema_releases.py`` checks every such row against that file.
- ``readme``: the reference README in ``../shared/reference`` (event 28 came with schema 4.83 in
  Sysmon 14.1).
- ``blog``: Olaf Hartong, "Sysmon 10.4 release" (2019-09-06): "The schema has been updated to 4.22".

A Sysmon release reads configs of its own schema version and, through the DTD it picks
(``dtd_schema_for``), older ones; the versions it knows are those of the table up to its own.
Schema 4.91 (options DriverQueueSize, SigningQueueSize) came with a Sysmon 15 release later than
15.15 whose number no source here gives, so no row names it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import SchemaVersionError
from .model import format_version, parse_version
from .registry import registry


@dataclass(frozen=True, slots=True)
class Release:
    """One Windows Sysmon release: its version, the newest schema it reads, its blob's binary version."""

    sysmon: str
    schema: str
    binary: str
    source: str

    @property
    def packed(self) -> int:
        return parse_version(self.sysmon) or 0

    @property
    def schema_packed(self) -> int:
        return parse_version(self.schema) or 0


# Oldest first. binary is the header word of the release's own blob, printed major.minor.
RELEASES: tuple[Release, ...] = tuple(Release(*row) for row in (
    ("3.10", "2.0", "1.01", "blob"), ("3.21", "2.01", "1.01", "blob"), ("4.0", "2.01", "1.01", "blob"),
    ("5.02", "3.20", "1.01", "blob"), ("6.03", "3.3", "1.01", "blob"), ("7.01", "4.0", "1.01", "blob"),
    ("8.04", "4.1", "8.00", "blob"), ("9.0", "4.2", "8.00", "blob"), ("9.01", "4.2", "8.00", "blob"),
    ("10.4", "4.22", "9.20", "blog"), ("10.42", "4.23", "9.20", "blob"), ("11.0", "4.30", "9.20", "blob"),
    ("12.0", "4.40", "11.00", "blob"), ("12.01", "4.40", "11.00", "blob"), ("12.03", "4.40", "11.00", "blob"),
    ("13.00", "4.50", "13.00", "blob"), ("13.01", "4.50", "13.00", "blob"), ("13.10", "4.60", "14.00", "blob"),
    ("13.23", "4.70", "15.00", "blob"), ("13.31", "4.81", "16.00", "blob"), ("13.33", "4.81", "16.00", "blob"),
    ("13.34", "4.81", "16.00", "blob"), ("14.0", "4.82", "17.00", "blob"), ("14.1", "4.83", "17.00", "readme"),
    ("14.14", "4.83", "17.00", "blob"), ("15.0", "4.90", "18.00", "blob"), ("15.15", "4.90", "18.00", "blob"),
))  # fmt: skip

# Schema majors are 2-4 and Sysmon's own majors from 5 on, so a version names one or the other.
_FIRST_SYSMON_MAJOR = 5
_NUMBER = re.compile(r"\d+(\.\d+)?")


@dataclass(frozen=True, slots=True)
class Target:
    """What ``--target-sysmon`` resolved to: the schema the target reads, and how it was named."""

    schema: str
    release: Release | None
    label: str

    @property
    def packed(self) -> int:
        return parse_version(self.schema) or 0


def first_release(schema_packed: int) -> Release | None:
    """The oldest known release that reads configs of this schema version (None if none known)."""
    return next((r for r in RELEASES if r.schema_packed >= schema_packed), None)


def release_label(schema_packed: int) -> str:
    """``"schema 4.60 (Sysmon 13.10)"``: a schema version with the first release that reads it."""
    first = first_release(schema_packed)
    return f"schema {format_version(schema_packed)}" + (f" (Sysmon {first.sysmon})" if first else "")


def resolve_target(text: str) -> Target:
    """A Sysmon version (``15.15``, ``14``, ``13.33``) or a schema version (``4.50``), else an error.

    A Sysmon version not in the table reads the schema of the newest known release before it in
    the same major version; majors the table does not know are an error, as is an unknown schema.
    """
    packed = parse_version(text.strip()) if _NUMBER.fullmatch(text.strip()) else None
    if packed is None:
        raise SchemaVersionError(f"--target-sysmon {text!r} is neither a Sysmon version (such as 15.15) "
                                 "nor a schema version (such as 4.50)")
    if packed >> 16 < _FIRST_SYSMON_MAJOR:
        return _schema_target(text, packed)
    same_major = [r for r in RELEASES if r.packed >> 16 == packed >> 16 and r.packed <= packed]
    if not same_major:
        majors = sorted({r.packed >> 16 for r in RELEASES if r.packed >> 16 >= _FIRST_SYSMON_MAJOR})
        raise SchemaVersionError(f"--target-sysmon {text!r}: no Sysmon {packed >> 16}.x release is known; "
                                 f"known majors: {', '.join(map(str, majors))}")
    release = same_major[-1]
    named = f"Sysmon {text}" if release.packed == packed else f"Sysmon {text} (as {release.sysmon})"
    return Target(release.schema, release, f"{named}, schema {format_version(release.schema_packed)}")


def _schema_target(text: str, packed: int) -> Target:
    known = {s.packed: s.version for s in registry() if "windows" in s.platforms}
    if packed not in known:
        raise SchemaVersionError(f"--target-sysmon {text!r}: unknown schema version; known: "
                                 f"{', '.join(format_version(p) for p in sorted(known))}")
    first = first_release(packed)
    label = f"schema {format_version(packed)}" + (f" (Sysmon {first.sysmon} and later)" if first else "")
    return Target(known[packed], None, label)
