"""Events and options a target Sysmon does not know yet (``--target-sysmon``)."""

from __future__ import annotations

import functools
from collections.abc import Iterator

from ..errors import Diagnostic, SchemaVersionError
from ..model import Config
from ..schema import all_versions, parse_version
from .catalog import RULES


@functools.cache
def _first_seen() -> tuple[dict[str, int], dict[str, int]]:
    """Element name -> packed schema version it first appears in (events, config options)."""
    events: dict[str, int] = {}
    options: dict[str, int] = {}
    for schema in sorted((s for s in all_versions() if "windows" in s.platforms), key=lambda s: s.packed):
        windows = schema.for_platform("windows")
        for name in windows.rule_elements:
            events.setdefault(name, schema.packed)
        for name in windows.config_options:
            options.setdefault(name, schema.packed)
    return events, options


def check_versions(config: Config, target: str) -> Iterator[Diagnostic]:
    packed = parse_version(target)
    if packed is None:
        raise SchemaVersionError(f"--target-sysmon {target!r} is not a schema version such as 4.50")
    events, options = _first_seen()
    code = "needs-newer-sysmon"
    for option in config.options:
        if options.get(option.name, 0) > packed:
            yield Diagnostic(code, RULES[code].severity,
                             f"<{option.name}> needs schema {_label(options[option.name])}; target is {target}",
                             option.location)
    for _group, ev in config.event_rules():
        if events.get(ev.element, 0) > packed:
            yield Diagnostic(code, RULES[code].severity,
                             f"<{ev.element}> needs schema {_label(events[ev.element])}; target is {target}",
                             ev.location)


def _label(packed: int) -> str:
    return f"{packed >> 16}.{packed & 0xFFFF:02d}"
