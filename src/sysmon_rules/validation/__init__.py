"""Validation: would Sysmon load this config, and what would it silently drop?

``load(source)`` reads and validates (the package root re-exports it from api);
``iter_errors(source)`` yields every Diagnostic lazily (a syntax error becomes one too);
``validate(source)`` raises on the first error and returns the warnings.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from ..configwalk import effective_name, filters_of
from ..errors import ConfigValidationError, Diagnostic, SysmonRulesError
from ..model import Config
from ..schema import dtd_schema_for, newest, parse_version
from ..schema.model import Platform, as_platform
from ..xml.reader import ParsedDocument, build_config, parse_document
from .dtd import DtdChecker
from .options import check_options
from .semantic import check_semantics

__all__ = [
    "check_document",
    "diagnostic_order",
    "effective_name",
    "filters_of",
    "iter_errors",
    "load",
    "loads",
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


def diagnostic_order(diagnostic: Diagnostic) -> tuple[int, int, int]:
    """The order findings are reported in: errors, then warnings, then notes; each in file order."""
    return _SEVERITY_RANK[diagnostic.severity], diagnostic.location.line, diagnostic.location.column


_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}


def check_document(
    doc: ParsedDocument,
    config: Config,
    *,
    sysmon_compatible: bool = False,
    platform: Platform | str = "windows",
    dtd: bool = True,
) -> Iterator[Diagnostic]:
    """Every diagnostic for a parsed document, lazily: each stage runs only when reached.

    Sort with ``diagnostic_order`` for the reported order (errors first, each in file order).
    """
    version = list(_version_diagnostics(doc, config))
    if version:
        yield from version
        return
    plat = as_platform(platform)
    packed = parse_version(config.schema_version)
    assert packed is not None
    try:
        schema = dtd_schema_for(packed, plat)
    except SysmonRulesError as exc:
        yield Diagnostic("schema-version", "error", exc.message, doc.location(doc.root),
                         "Sysmon supports schema 4.0 and later in config files")
        return
    structural = DtdChecker(doc, schema).check()
    # The newest open-source engine does not validate against the DTD: the same findings hold,
    # but Sysmon built from it loads the file anyway.
    yield from (structural if dtd else (replace(d, severity="warning") for d in structural))
    yield from check_semantics(config, newest(plat), sysmon_compatible=sysmon_compatible)
    yield from check_options(config, newest(plat))


def iter_errors(
    source: str | Path | bytes,
    *,
    sysmon_compatible: bool = False,
    platform: Platform | str = "windows",
    dtd: bool = True,
) -> Iterator[Diagnostic]:
    """Yield every Diagnostic for a config file or bytes, lazily; never raises on bad input.

    Nothing is read before the first ``next()``, and each stage (reading, the DTD of the declared
    schema, Sysmon's rule walk, the options) runs only once the previous one is used up. Within
    a stage findings come in file order; ``sorted(..., key=diagnostic_order)`` gives the order
    ``validate`` and the CLI report: errors first, each severity in file order. The options mean
    what they mean for ``sysmon_rules.load``.
    """
    try:
        doc = parse_document(source)
        config = build_config(doc, dtd=dtd)
    except SysmonRulesError as exc:
        yield from exc.as_diagnostics()
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
    found = iter_errors(source, sysmon_compatible=sysmon_compatible, platform=platform, dtd=dtd)
    diagnostics = sorted(found, key=diagnostic_order)
    if any(d.severity == "error" for d in diagnostics):
        raise ConfigValidationError(diagnostics)
    return diagnostics


def load(source: str | Path | bytes, *, sysmon_compatible: bool = False, platform: Platform | str = "windows",
         dtd: bool = True, path: str | None = None) -> Config:
    """Read and validate a config; raise a SysmonRulesError subclass if Sysmon would not load it.

    With ``sysmon_compatible=True``, what Sysmon only warns about and silently drops (an
    "Incorrect field", an event element without onmatch) does not raise; the compiler then drops
    it exactly as Sysmon does. ``platform="linux"`` uses Sysmon for Linux's schema (event 100, no
    events 27-29). ``dtd=False`` behaves like the newest open-source SysmonCommon engine
    (pugixml): no DTD validation (those findings become warnings) and only the first text chunk
    of an element is read. A file that cannot be read raises ``FileAccessError``. ``path``
    names bytes already read from a file, so that every location names it.
    """
    doc = parse_document(source, path=path)
    config = build_config(doc, dtd=dtd)
    found = sorted(check_document(doc, config, sysmon_compatible=sysmon_compatible, platform=platform, dtd=dtd),
                   key=diagnostic_order)
    if any(d.severity == "error" for d in found):
        raise ConfigValidationError(found)
    return config


def loads(text: str | bytes, *, sysmon_compatible: bool = False, platform: Platform | str = "windows",
          dtd: bool = True) -> Config:
    """``load`` for a config held in memory (str is encoded as UTF-8)."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    return load(data, sysmon_compatible=sysmon_compatible, platform=platform, dtd=dtd)
