"""Validation: would Sysmon load this config, and what would it silently drop?

``iter_errors(source)`` yields every Diagnostic lazily (a syntax error becomes one too);
``validate(source)`` raises on the first error and returns the warnings.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from ..errors import ConfigValidationError, Diagnostic, SysmonRulesError
from ..model import Config
from ..schema import dtd_schema_for, newest, parse_version
from ..schema.model import Platform
from ..xml.reader import ParsedDocument, build_config, parse_document
from .dtd import DtdChecker
from .options import check_options
from .semantic import check_semantics, effective_name, filters_of

__all__ = [
    "check_document",
    "effective_name",
    "filters_of",
    "iter_errors",
    "validate",
]


def _version_diagnostics(doc: ParsedDocument, config: Config) -> Iterator[Diagnostic]:
    where = doc.location(doc.root)
    if config.schema_version == "":
        yield Diagnostic("schema-version", "error", "<Sysmon> has no schemaversion attribute", where,
                         'add schemaversion="4.90"')
    elif parse_version(config.schema_version) is None:
        yield Diagnostic("schema-version", "error",
                         f"Invalid schema version number ({config.schema_version})", where,
                         'write it as a number such as "4.90"')


def check_document(
    doc: ParsedDocument,
    config: Config,
    *,
    sysmon_compatible: bool = False,
    platform: Platform | str = "windows",
    dtd: bool = True,
) -> list[Diagnostic]:
    """Every diagnostic for a parsed document, errors first in document order, then warnings."""
    found = list(_version_diagnostics(doc, config))
    if found:
        return found
    plat: Platform = "linux" if platform == "linux" else "windows"
    packed = parse_version(config.schema_version)
    assert packed is not None
    try:
        schema = dtd_schema_for(packed, plat)
    except SysmonRulesError as exc:
        return [Diagnostic("schema-version", "error", exc.message, doc.location(doc.root),
                           "Sysmon supports schema 4.0 and later in config files")]
    structural = DtdChecker(doc, schema).check()
    # The newest open-source engine does not validate against the DTD: the same findings hold,
    # but Sysmon built from it loads the file anyway.
    found.extend(structural if dtd else (replace(d, severity="warning") for d in structural))
    found.extend(check_semantics(config, newest(plat), sysmon_compatible=sysmon_compatible))
    found.extend(check_options(config, newest(plat)))
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(found, key=lambda d: (order[d.severity], d.location.line, d.location.column))


def iter_errors(
    source: str | Path | bytes,
    *,
    sysmon_compatible: bool = False,
    platform: Platform | str = "windows",
    dtd: bool = True,
) -> Iterator[Diagnostic]:
    """Yield every Diagnostic for a config file or bytes; never raises on bad input.

    The options mean what they mean for ``sysmon_rules.load``.
    """
    try:
        doc = parse_document(source)
        config = build_config(doc, dtd=dtd)
    except SysmonRulesError as exc:
        yield Diagnostic("xml-syntax", "error", exc.message, exc.location)
        return
    yield from check_document(doc, config, sysmon_compatible=sysmon_compatible, platform=platform, dtd=dtd)


def validate(
    source: str | Path | bytes,
    *,
    sysmon_compatible: bool = False,
    platform: Platform | str = "windows",
    dtd: bool = True,
) -> list[Diagnostic]:
    """Raise ConfigValidationError if Sysmon would reject the config; return the warnings."""
    diagnostics = list(iter_errors(source, sysmon_compatible=sysmon_compatible, platform=platform, dtd=dtd))
    if any(d.severity == "error" for d in diagnostics):
        raise ConfigValidationError(diagnostics)
    return diagnostics
