"""An importable ``.reg`` file: the Rules blob and the option values Sysmon keeps beside it.

Windows Sysmon stores the compiled rules as ``Rules`` (REG_BINARY) under
``HKLM\\SYSTEM\\CurrentControlSet\\Services\\<driver>\\Parameters``, next to ``HashingAlgorithm``
(a DWORD: one ALGO_* number, or ALGO_MULTIPLE | one bit per algorithm), ``ArchiveDirectory`` and
``FieldSizes`` (strings) and ``Options`` (DWORD bits: 0x1 network connections, 0x2 image loading,
0x8 clipboard). The Options bits follow Sysmon's post-pass: the last rule set of NetworkConnect
or ImageLoad turns the event on unless it is an empty ``onmatch="include"``. Only what the config
itself sets is written; command-line switches are not known here.
"""

from __future__ import annotations

from ..model import Config
from ..ruletable import RULE_DEFAULT_EXCLUDE, RuleTable
from ..schema import ascii_lower
from ..validation.options import HASH_ALGORITHMS, split_list

_ALGO_MULTIPLE = 0x80000000
_ALGO_ALL = 0x0000000F | _ALGO_MULTIPLE
_OPTION_BITS = {3: 0x1, 7: 0x2}  # NetworkConnect, ImageLoad
_CLIPBOARD = 0x8
_LINE = 80


def hashing_flag(value: str) -> int | None:
    """``HashingValidation``: the DWORD for a HashAlgorithms value, None if Sysmon rejects it."""
    if ascii_lower(value) in ("*", "all"):
        return _ALGO_ALL
    flag = 0
    for token in split_list(value):
        current = HASH_ALGORITHMS.get(ascii_lower(token))
        if current is None:
            return None
        if flag == 0:
            flag = current
            continue
        if not flag & _ALGO_MULTIPLE:
            flag = (1 << (flag - 1)) | _ALGO_MULTIPLE
        flag |= 1 << (current - 1)
    return flag or None


def _options(config: Config, table: RuleTable) -> int | None:
    bits, known = 0, False
    for event_id, bit in _OPTION_BITS.items():
        sets = [s for s in table.rule_sets if s.event_id == event_id]
        if sets:
            known = True
            last = sets[-1]
            if last.filters or last.rule_default != RULE_DEFAULT_EXCLUDE:
                bits |= bit
    clipboard = config.option("CaptureClipboard")
    if clipboard is not None and clipboard.value.lower() not in ("false", "0", "null", "disabled"):
        bits, known = bits | _CLIPBOARD, True
    return bits if known else None


def _hex_value(name: str, kind: str, data: bytes) -> list[str]:
    """regedit's layout: comma-separated bytes, lines cut before 80 columns with ``\\``."""
    lines, current = [], f'"{name}"={kind}:'
    for index, byte in enumerate(data):
        piece = f"{byte:02x}" + ("," if index < len(data) - 1 else "")
        if len(current) + len(piece) > _LINE - 2:
            lines.append(current + "\\")
            current = "  "
        current += piece
    lines.append(current)
    return lines


def _string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_reg(config: Config, table: RuleTable, blob: bytes) -> str:
    """The .reg text (write it as UTF-16LE with a BOM, as regedit does)."""
    driver = config.option("DriverName")
    service = driver.value if driver and driver.value else "SysmonDrv"
    key = f"HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\{service}\\Parameters"
    lines = ["Windows Registry Editor Version 5.00", "", f"[{key}]"]
    lines += _hex_value("Rules", "hex", blob)
    hashing = config.option("HashAlgorithms")
    flag = hashing_flag(hashing.value) if hashing else None
    if flag is not None:
        lines.append(f'"HashingAlgorithm"=dword:{flag:08x}')
    options = _options(config, table)
    if options is not None:
        lines.append(f'"Options"=dword:{options:08x}')
    for name in ("ArchiveDirectory", "FieldSizes"):
        option = config.option(name)
        if option is not None and option.value:
            lines.append(f'"{name}"={_string(option.value)}')
    return "\r\n".join(lines) + "\r\n\r\n"
