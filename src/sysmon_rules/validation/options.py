"""Option values Sysmon refuses after reading the config (``parsecommandline.c`` validators)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from ..errors import Diagnostic
from ..model import Config, Option
from ..schema import SchemaVersion, ascii_lower

# HashAlgorithms names Sysmon accepts (ASCII case-insensitive) and its ALGO_* number for each.
HASH_ALGORITHMS = {"sha1": 1, "sha-1": 1, "md5": 2, "md-5": 2, "sha256": 3, "sha-256": 3,
                   "imphash": 4, "imp-hash": 4}


def split_list(value: str) -> list[str]:
    """Sysmon's comma list: ``,,`` stands for a literal comma; an empty item ends the list."""
    items: list[str] = []
    for token in re.split(r"(?<!,),(?!,)", value):
        if token == "":
            break
        items.append(token.replace(",,", ","))
    return items


def _hash_algorithms(option: Option, writer: SchemaVersion) -> Iterator[str]:
    if ascii_lower(option.value) in {"*", "all"}:
        return
    for token in split_list(option.value):
        if ascii_lower(token) not in HASH_ALGORITHMS:
            trimmed = ascii_lower(token.strip()) in HASH_ALGORITHMS
            hint = " (no spaces: Sysmon does not trim list items)" if trimmed else ""
            yield f"Invalid hashing algorithm: {token!r}{hint}; use sha1, md5, sha256, imphash or *"


def _archive_directory(option: Option, writer: SchemaVersion) -> Iterator[str]:
    if "\\" in option.value:
        yield f"Archive directory must be a single path component, not {option.value!r}"


def _field_sizes(option: Option, writer: SchemaVersion) -> Iterator[str]:
    bad = next((c for c in option.value if not (c.isalnum() or c in ",:")), None)
    if bad is not None:
        yield f"FieldSizes option ({option.value!r}) has invalid character: {bad!r}"
        return
    known = {f.name for e in writer.events for f in e.fields}
    for entry in filter(None, option.value.split(",")):
        if ":" not in entry:
            continue
        name, size = entry.split(":", 1)
        if name not in known:
            yield f"FieldSizes field {name!r} is invalid (field names are case-sensitive)"
        elif _atoi(size) <= 0:
            yield f"FieldSizes field {name!r} has max size of {_atoi(size)}"


def _atoi(text: str) -> int:
    match = re.match(r"\s*[+-]?\d+", text)
    return int(match.group()) if match else 0


_CHECKS: dict[str, Callable[[Option, SchemaVersion], Iterator[str]]] = {
    "HashAlgorithms": _hash_algorithms,
    "ArchiveDirectory": _archive_directory,
    "FieldSizes": _field_sizes,
}


def check_options(config: Config, writer: SchemaVersion) -> Iterator[Diagnostic]:
    for option in config.options:
        check = _CHECKS.get(option.name)
        if check:
            for message in check(option, writer):
                yield Diagnostic("option-value", "error", message, option.location)
