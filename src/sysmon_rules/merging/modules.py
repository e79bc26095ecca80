"""One module as Sysmon reads it, and the schema version it really needs.

Modules often declare an older ``schemaversion`` than their content needs (sysmon-modular's
``26_file_delete_detected`` modules declare 4.30 but use ``FileDeleteDetected``, which 4.30 does
not have). A module that Sysmon rejects at its declared version but accepts, unchanged otherwise,
at a newer one *needs* that version: the merge raises the output to it and says so. A module no
version accepts is an error naming the module's file:line.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import ConfigValidationError, Diagnostic
from ..model import Config
from ..schema import all_versions, parse_version
from ..schema.model import Platform
from ..validation import check_document, diagnostic_order
from ..xml.reader import build_config, parse_document


@dataclass(frozen=True, slots=True)
class Module:
    """A module file as Sysmon reads it; ``needs`` is the schema version it validates at."""

    path: str
    config: Config
    needs: str

    @property
    def declared(self) -> str:
        return self.config.schema_version


def _errors(found: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in found if d.severity == "error"]


def _newer_versions(declared: str, platform: Platform) -> list[str]:
    packed = parse_version(declared)
    if packed is None:
        return []
    known = {v.packed: v.version for v in all_versions() if platform in v.platforms and v.packed > packed}
    return [known[p] for p in sorted(known)]


def load_module(path: str | Path, *, platform: Platform = "windows") -> tuple[Module, list[Diagnostic]]:
    """The module and its warnings; ConfigSyntaxError / ConfigValidationError naming file:line."""
    doc = parse_document(path)
    config = build_config(doc)
    found = sorted(check_document(doc, config, platform=platform), key=diagnostic_order)
    if not _errors(found):
        return Module(str(path), config, config.schema_version), found
    for version in _newer_versions(config.schema_version, platform):
        doc.root.set("schemaversion", version)
        raised = replace(config, schema_version=version)
        retry = sorted(check_document(doc, raised, platform=platform), key=diagnostic_order)
        if not _errors(retry):
            first = _errors(found)[0]
            why = first.message.split(", expecting")[0]
            note = Diagnostic("schema-raised", "warning",
                              f"declares schemaversion {config.schema_version} but needs {version} ({why})",
                              first.location)
            return Module(str(path), config, version), [note, *retry]
    raise ConfigValidationError(found)


def newest(versions: list[str]) -> str:
    """The newest of several schema version strings, as written."""
    return max(versions, key=lambda v: parse_version(v) or 0)

