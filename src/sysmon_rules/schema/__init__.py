"""The Sysmon schema of every version, read from the project's compact files in ``schema/``.

``schema_for("4.50")`` gives the schema a config declaring that version is validated against;
``newest()`` gives the field tables the writer build (Windows Sysmon 15, schema 4.91) uses for
field ids in the rule blob.
"""

from __future__ import annotations

from .model import (
    EventType,
    FieldDef,
    OptionDef,
    SchemaVersion,
    format_version,
    pack_version,
    parse_version,
)
from .registry import (
    CONDITIONS,
    DEFAULT_CONDITION,
    LIST_CONDITIONS,
    SchemaRegistry,
    all_versions,
    ascii_lower,
    condition_index,
    dtd_schema_for,
    field_types,
    newest,
    registry,
    schema_for,
)

__all__ = [
    "CONDITIONS",
    "DEFAULT_CONDITION",
    "LIST_CONDITIONS",
    "EventType",
    "FieldDef",
    "OptionDef",
    "SchemaRegistry",
    "SchemaVersion",
    "all_versions",
    "ascii_lower",
    "condition_index",
    "dtd_schema_for",
    "field_types",
    "format_version",
    "newest",
    "pack_version",
    "parse_version",
    "registry",
    "schema_for",
]
