"""The checks Sysmon's own code makes while it turns event elements into rules (``xml.cpp``).

They are the findings of the one walk (``sysmon_rules.configwalk``) the compiler follows too: fatal in
Sysmon, an unknown condition and a rule name over 255 UTF-8 bytes; silent in Sysmon (it prints a
line, drops rules and still says "Configuration file validated"), an "Incorrect field" (which drops
that element and every later element of the same name) and an event element with neither or
both of ``onmatch``/``default``.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..configwalk import walk
from ..errors import Diagnostic, Location
from ..model import Config
from ..schema import SchemaVersion


def check_semantics(config: Config, writer: SchemaVersion, *, sysmon_compatible: bool) -> Iterator[Diagnostic]:
    """Yield what Sysmon's rule builder reports, in the order it would report it."""
    seen: set[tuple[str, Location]] = set()
    for step in walk(config, writer, silent="warning" if sysmon_compatible else "error"):
        for diagnostic in step.diagnostics:
            key = (diagnostic.code, diagnostic.location)
            if key not in seen:  # a long RuleGroup name is one finding, not one per filter
                seen.add(key)
                yield diagnostic
