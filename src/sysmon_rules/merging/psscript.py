"""Reading what a sysmon-modular checkout's own ``Merge-SysmonXml.ps1`` says, without PowerShell.

Two facts of the merge live in that script and change across versions and forks, so they are
read from it at run time and never shipped with this project:

* the templates: single-quoted here-strings cast to XML (``$general = [xml]@'...'@``), and which
  one ``-VerboseLogging`` / ``-MDEaugment`` / neither selects (``$newDoc = $fulllog`` ...);
  scripts before the switches existed assign the one template to ``$newDoc`` directly;
* the event types it merges, in order: the keys of ``$Rules = [ordered]@{ ProcessCreate = ...}``.

The merge loop itself (clone every ``//RuleGroup/<Key>``, append its children to the template's
first ``//RuleGroup/<Key>[@onmatch=...]``) has been the same since the script began tracking
include and exclude separately; a script without those markers is refused, not guessed at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import Location, SysmonRulesError

SCRIPT_NAME = "Merge-SysmonXml.ps1"
# Template names as the CLI spells them, after the script's own switches.
GENERAL, VERBOSE, MDE = "general", "VerboseLogging", "MDEaugment"
TEMPLATE_NAMES = (GENERAL, VERBOSE, MDE)

_HERE_STRING = re.compile(r"\$(\w+)\s*=\s*\[xml\]\s*@'[ \t]*\r?\n(.*?)\r?\n'@", re.DOTALL)
_SELECT = {
    VERBOSE: re.compile(r"if\s*\(\s*\$VerboseLogging\s*\)\s*\{\s*\$newDoc\s*=\s*\$(\w+)", re.IGNORECASE),
    MDE: re.compile(r"elseif\s*\(\s*\$MDEaugment\s*\)\s*\{\s*\$newDoc\s*=\s*\$(\w+)", re.IGNORECASE),
    GENERAL: re.compile(r"\}\s*else\s*\{\s*\$newDoc\s*=\s*\$(\w+)", re.IGNORECASE),
}
_RULES_BLOCK = re.compile(r"\$Rules\s*=\s*\[ordered\]\s*@\{(.*?)\n\s*\}\s*\n\s*\$", re.DOTALL | re.IGNORECASE)
_RULES_KEY = re.compile(r"^\s*(\w+)\s*=\s*\[ordered\]\s*@\{", re.MULTILINE | re.IGNORECASE)
_MARKERS = ('SelectNodes("//RuleGroup/$Key")', "SelectSingleNode(\"//RuleGroup/$key[@onmatch = '$matchType']\")")


class ScriptError(SysmonRulesError):
    """A Merge-SysmonXml.ps1 this project cannot read the templates or event types from."""

    code = "merge-script"


@dataclass(frozen=True, slots=True)
class ModularScript:
    """What one Merge-SysmonXml.ps1 defines: templates by switch name and the merged event types."""

    path: str
    templates: dict[str, str]
    template_lines: dict[str, int]
    event_keys: tuple[str, ...]

    def template(self, name: str) -> str:
        if name not in self.templates:
            known = ", ".join(self.templates) or "none"
            raise ScriptError(f"the script has no {name!r} template (it has: {known})", Location(self.path))
        return self.templates[name]


def _read_text(path: str | Path, what: str) -> str:
    """A UTF-8 file's text (BOM dropped); ScriptError naming the file when it cannot be had."""
    try:
        return Path(path).read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ScriptError(f"cannot read {what}: {exc.strerror or exc}", Location(str(path))) from exc
    except UnicodeDecodeError as exc:
        raise ScriptError(f"{what} is not UTF-8: {exc.reason}", Location(str(path))) from exc


def read_script(path: str | Path) -> ModularScript:
    """Parse a Merge-SysmonXml.ps1; ScriptError naming the file when it is not one this reads."""
    where = str(path)
    text = _read_text(path, SCRIPT_NAME).replace("\r\n", "\n")
    if not all(marker.lower() in text.lower() for marker in _MARKERS):
        raise ScriptError("not a Merge-SysmonXml.ps1 whose merge loop this project knows "
                          "(//RuleGroup/$Key clones appended to [@onmatch = '$matchType'])", Location(where))
    strings = {m.group(1): (m.group(2), text.count("\n", 0, m.start(2)) + 1) for m in _HERE_STRING.finditer(text)}
    templates: dict[str, str] = {}
    lines: dict[str, int] = {}
    for name, variable in _selected(text, strings).items():
        templates[name], lines[name] = strings[variable]
    if GENERAL not in templates:
        raise ScriptError("no [xml] here-string template found", Location(where))
    return ModularScript(where, templates, lines, _event_keys(text, where))


def script_from_build(path: str | Path) -> ModularScript:
    """What ``--check`` knows when the checkout has no script: the build being checked holds its
    template, since the merge only appends module children inside the template's event elements.
    Those emptied give back the template when its own event elements were empty (as the general
    and VerboseLogging templates' are); their names, in order, are the event list."""
    from .dotnet import parse_text

    where = str(path)
    root = parse_text(_read_text(path, "the config to check"), Location(where, 1))
    keys: list[str] = []
    for group in root.iter("RuleGroup"):
        for event in group:
            if not isinstance(event.tag, str):  # a comment between event elements
                continue
            if event.tag not in keys:
                keys.append(event.tag)
            for child in list(event):
                event.remove(child)
            event.text = None
    if not keys:
        raise ScriptError("no //RuleGroup/<event> element to read a template back from", Location(where))
    from lxml import etree

    template = etree.tostring(root.getroottree(), encoding="unicode")
    return ModularScript(where, {GENERAL: template}, {GENERAL: 1}, tuple(keys))


def _selected(text: str, strings: dict[str, tuple[str, int]]) -> dict[str, str]:
    """Switch name -> template variable, from the script's ``$newDoc = $x`` selection."""
    chosen = {}
    for name, rx in _SELECT.items():
        found = [m.group(1) for m in rx.finditer(text) if m.group(1) in strings]
        if found:
            chosen[name] = found[0]
    if GENERAL not in chosen and "newDoc" in strings:  # early scripts: one template, no switches
        chosen = {GENERAL: "newDoc"}
    return chosen


def _event_keys(text: str, where: str) -> tuple[str, ...]:
    block = _RULES_BLOCK.search(text)
    keys = tuple(_RULES_KEY.findall(block.group(1))) if block else ()
    if not keys:
        raise ScriptError("no '$Rules = [ordered]@{ ... }' event list found", Location(where))
    return keys
