"""Print a schema the way ``sysmon -s`` does: the manifest entry, pretty-printed.

Windows Sysmon prints the manifest filtered for its build (``target`` attributes removed, other
platforms' events and internal options left out); Sysmon for Linux prints the raw manifest entry.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from .model import Platform, SchemaVersion
from .registry import registry


def _tag(name: str, attributes: tuple[tuple[str, str], ...], *, keep_target: bool, close: str) -> str:
    parts = [f"{k}={quoteattr(v)}" for k, v in attributes if keep_target or k != "target"]
    return f"<{name} {' '.join(parts)}{close}"


def render(schema: SchemaVersion, platform: Platform = "windows") -> str:
    """The text ``sysmon -s VERSION`` prints for this schema on that platform."""
    keep_target = platform == "linux"
    shown = schema.for_platform(platform)
    lines = [f'<manifest schemaversion="{schema.version}" binaryversion="{schema.binary_version}">',
             "  <configuration>", "    <options>", "      <!-- Command-line only options -->"]
    config_started = False
    for option in shown.options:
        if not option.noconfig and not config_started:
            lines.append("      <!-- Configuration file -->")
            config_started = True
        lines.append("      " + _tag("option", option.attributes, keep_target=keep_target, close=" />"))
    lines += ["    </options>",
              f'    <filters default="{schema.default_condition}">{",".join(schema.conditions)}</filters>',
              "  </configuration>", "  <events>"]
    for event in shown.events:
        lines.append("    " + _tag("event", event.attributes, keep_target=keep_target, close=">"))
        lines += ["      " + _tag("data", f.attributes, keep_target=keep_target, close=" />") for f in event.fields]
        lines.append("    </event>")
    lines += ["  </events>", "</manifest>"]
    return "\n".join(lines) + "\n"


def select(version: str | None, platform: Platform = "windows") -> list[SchemaVersion]:
    """The schemas ``sysmon -s [VERSION]`` prints: newest by default, ``all``, or the first
    (newest-first) whose version string starts with VERSION (so ``4.2`` selects 4.23)."""
    known = [s for s in registry() if platform in s.platforms]
    newest_first = sorted(known, key=lambda s: s.packed, reverse=True)
    if version is None:
        return [registry().newest(platform)]
    if version.lower() == "all":
        return newest_first
    return [s for s in newest_first if s.version.startswith(version)][:1]
