"""Which module files a merge reads, and in which order.

A SOURCE is a module file, a folder of modules, or a sysmon-modular checkout (a folder with
numbered subfolders ``[0-9]*/``). A checkout's modules are ``[0-9]*/*.xml`` (hidden dot-files
skipped); a plain folder's modules are its ``*.xml`` files, recursively (``inputfiles.walk``). Both are taken in
:func:`order_key` order, sources in the order given; a file named twice is read once.

The order is the one upstream's build used: ordinal over the path relative to the checkout,
ignoring case (``10_process_access`` before ``1_process_creation``, ``exclude_splunk.xml``
before ``exclude_splunk_universal_forwarder.xml``). Its builds since 2021-09-29 fold case to
lower (``_`` before letters), as ``order="lower"`` does; before that they folded to upper
(.NET's OrdinalIgnoreCase: letters before ``_``), as ``order="upper"`` does. Each reproduces
the configs committed in its period byte for byte. ICU's culture order, which PowerShell 7
documents for ``Get-ChildItem`` on Linux, puts ``_`` before ``.`` and reproduces neither.

Module lists (``-IncludeList`` / ``-ExcludeList``, as in ``0_custom_configuration/``) are
UTF-16LE or UTF-8 text, with or without BOM, CRLF or LF lines, ``\\`` or ``/`` separators, paths
relative to the checkout (a leading ``\\`` is ignored). A line naming a folder means its
``*.xml`` files. A name that does not exist is an error here: upstream only prints it and builds
without it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ..errors import Location, SourceError
from ..inputfiles import CONFIGS, NoInputError, walk


def _visible(path: Path) -> bool:
    return not path.name.startswith(".")


ORDERS = ("lower", "upper")


def order_key(relative: str, order: str = "lower") -> str:
    """The build's sort key of a module path relative to its checkout (``/`` separators).

    >>> names = ["1_process_creation/a.xml", "10_process_access/AB.xml", "10_process_access/a_b.xml"]
    >>> sorted(names, key=order_key)
    ['10_process_access/a_b.xml', '10_process_access/AB.xml', '1_process_creation/a.xml']
    >>> sorted(names, key=lambda n: order_key(n, "upper"))
    ['10_process_access/AB.xml', '10_process_access/a_b.xml', '1_process_creation/a.xml']
    """
    if order not in ORDERS:
        raise SourceError(f"unknown module order {order!r} (one of {', '.join(ORDERS)})")
    relative = relative.replace("\\", "/")
    return relative.lower() if order == "lower" else relative.upper()


def _sorted(paths: Iterable[Path]) -> list[Path]:
    return sorted(paths, key=lambda p: order_key(p.name))


def _xml_files(folder: Path) -> list[Path]:
    return _sorted(p for p in folder.iterdir() if p.is_file() and _visible(p) and p.name.lower().endswith(".xml"))


def numbered_folders(folder: Path) -> list[Path]:
    """The ``[0-9]*`` subfolders of a checkout, in PowerShell's order."""
    return _sorted(p for p in folder.iterdir() if p.is_dir() and p.name[:1].isdigit())


def is_checkout(folder: Path) -> bool:
    """A sysmon-modular checkout: some ``[0-9]*/*.xml`` exists."""
    return folder.is_dir() and any(_xml_files(sub) for sub in numbered_folders(folder))


def checkout_modules(folder: Path, order: str = "lower") -> list[Path]:
    """``Get-ChildItem '[0-9]*\\*.xml'`` run in ``folder``, in the build's order."""
    found = [f for sub in numbered_folders(folder) for f in _xml_files(sub)]
    return sorted(found, key=lambda p: order_key(f"{p.parent.name}/{p.name}", order))


def _folder_modules(folder: Path, order: str) -> list[Path]:
    found = walk(folder, CONFIGS)  # the one walk (hidden skipped), then upstream's build order
    return sorted(found, key=lambda p: order_key(p.relative_to(folder).as_posix(), order))


def discover(sources: Iterable[str | Path], order: str = "lower") -> list[Path]:
    """Every module file the sources name, in merge order; SourceError naming an empty source."""
    modules: list[Path] = []
    seen: set[Path] = set()
    for source in sources:
        path = Path(source)
        if path.is_dir():
            found = checkout_modules(path, order) if is_checkout(path) else _folder_modules(path, order)
            if not found:
                raise NoInputError("no module (*.xml) in this folder", Location(str(path)))
        elif path.is_file():
            found = [path]
        else:
            raise NoInputError("no such file or folder", Location(str(path)))
        for module in found:
            if module.resolve() not in seen:
                seen.add(module.resolve())
                modules.append(module)
    return modules


def read_list(list_file: str | Path) -> list[tuple[int, str]]:
    """The non-empty lines of a module list as (line number, relative path with ``/``)."""
    where = str(list_file)
    try:
        data = Path(list_file).read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read module list: {exc.strerror or exc}", Location(where)) from exc
    text = _decode_list(data, where)
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.strip().replace("\\", "/").lstrip("/")
        if entry:
            entries.append((number, entry))
    return entries


def _decode_list(data: bytes, where: str) -> str:
    # What Get-Content reads: a BOM decides; without one, UTF-16LE shows as every odd byte 0.
    if data.startswith(b"\xff\xfe"):
        codec, body = "utf-16-le", data[2:]
    elif data.startswith(b"\xfe\xff"):
        codec, body = "utf-16-be", data[2:]
    elif data.startswith(b"\xef\xbb\xbf"):
        codec, body = "utf-8", data[3:]
    elif len(data) > 1 and data[1:2] == b"\x00":
        codec, body = "utf-16-le", data
    else:
        codec, body = "utf-8", data
    try:
        return body.decode(codec)
    except UnicodeDecodeError as exc:
        raise SourceError(f"module list is not {codec} text: {exc.reason}", Location(where)) from exc


def resolve_list(list_file: str | Path, base: Path) -> list[Path]:
    """The module files a list names under ``base``; SourceError at the first missing one."""
    found: list[Path] = []
    for number, entry in read_list(list_file):
        target = base / entry
        if entry.lower().endswith(".xml"):
            if not target.is_file():
                raise SourceError(f"listed module not found: {entry}", Location(str(list_file), number))
            found.append(target)
        elif target.is_dir():
            found.extend(_xml_files(target))
        else:
            raise SourceError(f"listed module folder not found: {entry}", Location(str(list_file), number))
    return found


def apply_lists(modules: list[Path], base: Path, include: str | Path | None,
                exclude: str | Path | None, order: str = "lower") -> list[Path]:
    """``-IncludeList`` replaces the modules by the listed ones (sorted as ``Sort-Object`` does);
    ``-ExcludeList`` then removes the listed ones (compared case-insensitively, as ``-notin``)."""
    if include is not None:
        listed = resolve_list(include, base)
        modules = sorted(listed, key=lambda p: order_key(os.path.relpath(p, base), order))
    if exclude is not None:
        dropped = {str(p.resolve()).lower() for p in resolve_list(exclude, base)}
        modules = [m for m in modules if str(m.resolve()).lower() not in dropped]
    return modules
