"""The evaluator of a config file for a replay: rules in any form the one loader reads (rulesource)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import Diagnostic, SysmonRulesError

if TYPE_CHECKING:  # the engine loads with the first config: reading can start without it
    from ..engine import Evaluator


class ConfigLoadError(SysmonRulesError):
    """A config of a replay that could not be loaded: ``path`` names it, ``cause`` says why."""

    def __init__(self, path: str, cause: SysmonRulesError) -> None:
        self.path = path
        self.cause = cause
        super().__init__(str(cause), cause.location)

    def as_diagnostics(self) -> list[Diagnostic]:
        """The cause's Diagnostics, those that name no file placed at ``path``."""
        from dataclasses import replace

        return [d if d.location.path else replace(d, location=replace(d.location, path=self.path))
                for d in self.cause.as_diagnostics()]


def evaluator_from(data: bytes, *, path: str | None = None, platform: Any = "windows",
                   environment: dict[str, str] | None = None, sysmon_compatible: bool = False) -> Evaluator:
    """The evaluator of rules in any form ``rulesource.load_rules`` reads: an XML config (validated
    as Sysmon would), a rule blob (raw, .reg, reg query, hex, base64) or `sysmon -c` text, told
    apart by content. ``path`` names the bytes, so rule locations and messages name the file.
    A config that loaded before with the same options is read from the compiled-config cache
    (:mod:`.configcache`), exactly as loading it would give."""
    from ..schema.model import as_platform
    from .configcache import cached_evaluator

    return cached_evaluator(data, path=path, platform=as_platform(platform), environment=environment,
                            sysmon_compatible=sysmon_compatible)


def read_config(path: str | Path) -> bytes:
    """The bytes of a rules file, refused above the loader's one size limit (``/dev/zero``,
    sparse files end); a failure is a :class:`ConfigLoadError` naming ``path``."""
    from ..rulesource import read_rules_input

    try:
        return read_rules_input(path)
    except SysmonRulesError as exc:
        raise ConfigLoadError(str(path), exc) from None


def load_evaluator(path: str | Path, *, platform: str = "windows", environment: dict[str, str] | None = None,
                   sysmon_compatible: bool = False, data: bytes | None = None) -> Evaluator:
    """The evaluator of the config or rule blob at ``path`` (``data``: its bytes, already read);
    any failure is a :class:`ConfigLoadError` naming ``path``."""
    from ..schema.model import as_platform

    if data is None:
        data = read_config(path)
    try:
        return evaluator_from(data, path=str(path), platform=as_platform(platform), environment=environment,
                              sysmon_compatible=sysmon_compatible)
    except SysmonRulesError as exc:
        raise ConfigLoadError(str(path), exc) from None
