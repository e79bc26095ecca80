"""The registry values beside ``Rules`` in a ``.reg`` export, read back: the options a blob alone
does not carry, and the ``Current configuration`` header ``sysmon -c`` prints from them.

The inverse of :mod:`regfile` (which writes ``HashingAlgorithm``, ``Options``,
``ArchiveDirectory`` and ``FieldSizes``), so ``decompile`` of our own ``.reg`` keeps them.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..model import Config, Option
from ..ruletable import RULE_DEFAULT_EXCLUDE, RuleTable
from .regfile import _ALGO_ALL, _ALGO_MULTIPLE, _CLIPBOARD, _OPTION_BITS

_VALUE = re.compile(r'^[ \t]*"(?P<name>[^"]+)"[ \t]*=[ \t]*'
                    r'(?:dword:(?P<dword>[0-9a-fA-F]{1,8})|"(?P<text>(?:[^"\\]|\\.)*)")', re.MULTILINE)
_KEY = re.compile(r"^\[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\(?P<driver>[^\\\]]+)\\Parameters\]",
                  re.MULTILINE | re.IGNORECASE)
_ALGORITHMS = ("SHA1", "MD5", "SHA256", "IMPHASH")  # ALGO_* numbers 1..4, bits 0..3 under ALGO_MULTIPLE
_FORMAT = "%-34s%s"  # CONFIG_FMT of Sysmon's configuration dump


def reg_values(text: str) -> dict[str, str | int]:
    """The DWORD and string values of a .reg text (``Rules`` itself is read by blob.textforms)."""
    values: dict[str, str | int] = {}
    for match in _VALUE.finditer(text):
        dword, string = match.group("dword"), match.group("text")
        values[match.group("name")] = int(dword, 16) if dword is not None else re.sub(r"\\(.)", r"\1", string)
    key = _KEY.search(text)
    if key is not None:
        values["(driver)"] = key.group("driver")
    return values


_QUERY_VALUE = re.compile(r"^[ \t]+(?P<name>\w+)[ \t]+(?P<type>REG_DWORD|REG_SZ|REG_EXPAND_SZ)(?:[ \t]+(?P<value>.*?))?"
                          r"[ \t]*\r?$", re.MULTILINE)
_QUERY_KEY = re.compile(r"^HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\(?P<driver>[^\\\r\n]+)\\Parameters"
                        r"[ \t]*\r?$", re.MULTILINE | re.IGNORECASE)


def reg_query_values(text: str) -> dict[str, str | int]:
    """The DWORD and string values of ``reg query`` output (DWORDs print as ``0x...``)."""
    values: dict[str, str | int] = {}
    for match in _QUERY_VALUE.finditer(text):
        value = match.group("value") or ""
        if match.group("type") == "REG_DWORD":
            try:
                values[match.group("name")] = int(value, 16)
            except ValueError:
                continue  # not what reg prints: leave the value out rather than guess
        else:
            values[match.group("name")] = value
    key = _QUERY_KEY.search(text)
    if key is not None:
        values["(driver)"] = key.group("driver")
    return values


def hash_names(flag: int) -> str | None:
    """``HashingAlgorithm`` back to Sysmon's names (``SHA1,MD5,...``); None for no valid flag."""
    if flag == _ALGO_ALL:
        return ",".join(_ALGORITHMS)
    if flag & _ALGO_MULTIPLE:
        names = [n for i, n in enumerate(_ALGORITHMS) if flag & (1 << i)]
        return ",".join(names) or None
    return _ALGORITHMS[flag - 1] if 1 <= flag <= len(_ALGORITHMS) else None


def options_of(values: dict[str, str | int]) -> list[Option]:
    """The config options these registry values stand for, in Sysmon's option order."""
    found: list[Option] = []
    flag = values.get("HashingAlgorithm")
    names = hash_names(flag) if isinstance(flag, int) else None
    if names:
        found.append(Option("HashAlgorithms", names))
    for name in ("ArchiveDirectory", "FieldSizes"):
        value = values.get(name)
        if isinstance(value, str) and value:
            found.append(Option(name, value))
    options = values.get("Options")
    if isinstance(options, int) and options & _CLIPBOARD:
        found.append(Option("CaptureClipboard", ""))
    driver = values.get("(driver)")
    if isinstance(driver, str) and driver != "SysmonDrv":
        found.append(Option("DriverName", driver))
    return found


def with_options(config: Config, options: list[Option]) -> Config:
    """``config`` with these options added (the ones it already has are kept as they are)."""
    have = {o.name for o in config.options}
    return replace(config, options=config.options + tuple(o for o in options if o.name not in have))


def _rule_bits(table: RuleTable) -> int:
    """The Options bits Sysmon derives from the rules: the last NetworkConnect/ImageLoad set."""
    bits = 0
    for event_id, bit in _OPTION_BITS.items():
        sets = [s for s in table.rule_sets if s.event_id == event_id]
        if sets and (sets[-1].filters or sets[-1].rule_default != RULE_DEFAULT_EXCLUDE):
            bits |= bit
    return bits


def options_header(table: RuleTable, values: dict[str, str | int]) -> str:
    """``Current configuration:`` as ``sysmon -c`` prints it, from what the input holds: a raw
    blob has only its rules (network and image-load come from them), a .reg export also its values."""
    def line(name: str, value: str) -> str:
        return _FORMAT % (f" - {name}:", value)

    options = values.get("Options")
    bits = options if isinstance(options, int) else _rule_bits(table)
    lines = ["Current configuration:"]
    driver = values.get("(driver)")
    if isinstance(driver, str):
        lines.append(line("Driver name", driver))
    flag = values.get("HashingAlgorithm")
    lines.append(line("HashingAlgorithms", (hash_names(flag) if isinstance(flag, int) else None) or "-"))
    lines.append(line("Network connection", "enabled" if bits & 0x1 else "disabled"))
    archive = values.get("ArchiveDirectory")
    lines.append(line("Archive Directory", archive if isinstance(archive, str) and archive else "-"))
    lines.append(line("Image loading", "enabled" if bits & 0x2 else "disabled"))
    return "\n".join(lines) + "\n\n"
