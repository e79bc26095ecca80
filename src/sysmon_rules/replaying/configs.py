"""The evaluator of a config file for a replay: an XML config or a rule blob, told apart by content."""

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
    """The evaluator of an XML config (validated as Sysmon would) or a rule blob (raw, .reg, hex,
    base64), told apart by content. With ``path`` an XML config is read from there, so rule
    locations name the file."""
    from ..blob.textforms import read_blob
    from ..engine import Evaluator
    from ..schema.model import as_platform
    from ..validation import load

    if data.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n")[:1] == b"<":
        config = load(Path(path) if path else data, platform=platform, sysmon_compatible=sysmon_compatible)
        return Evaluator(config, environment=environment, platform=as_platform(platform))
    return Evaluator(read_blob(data), environment=environment, platform=as_platform(platform))


def read_config(path: str | Path) -> bytes:
    """The bytes of a config or rule blob file, at most ``MAX_BLOB_INPUT`` read (``/dev/zero``,
    sparse files); a failure is a :class:`ConfigLoadError` naming ``path``."""
    from ..blob.textforms import MAX_BLOB_INPUT
    from ..fileio import read_input

    try:
        data = read_input(path, limit=MAX_BLOB_INPUT, stdin=False)
        if len(data) > MAX_BLOB_INPUT:
            raise SysmonRulesError(f"more than {MAX_BLOB_INPUT >> 20} MiB: too large to be a config or a rule blob")
    except SysmonRulesError as exc:
        raise ConfigLoadError(str(path), exc) from None
    return data


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
