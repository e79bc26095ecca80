"""The entry points of a group, as ``importlib.metadata`` finds them, kept between runs.

Finding them meant importing ``importlib.metadata`` (and with it the ``email`` package) and
reading every installed distribution's metadata: a sixth of a replay's start-up, for the same
answer on every run. So the answer is kept in :mod:`sysmon_rules.diskcache`'s folder, under a
digest of everything the search reads: each ``sys.path`` entry, its listing (a folder's
modification time changes when a distribution is installed, removed or renamed in it), and each
metadata folder's ``entry_points.txt``, ``METADATA`` and ``PKG-INFO`` (size and modification
time). When another importer on ``sys.meta_path`` can also list distributions, nothing is kept:
its answer cannot be checked this way. Loading an entry point is ``importlib.metadata``'s:
``module:attribute.path``, imported and looked up.
"""

from __future__ import annotations

import os
import re
import sys
from functools import reduce
from importlib import import_module
from typing import Any

from ..diskcache import cache_folder, digest_of, keep_newest, read_cached, used, write_cached

_PREFIX = "entry-points-"
_KEEP = 8  # answers kept, the most recently used (one per state of the installed packages)
_INFO = (".dist-info", ".egg-info")
_READ = ("entry_points.txt", "METADATA", "PKG-INFO")
_VALUE = re.compile(r"(?P<module>[\w.]+)\s*(?::\s*(?P<attr>[\w.]+)\s*)?(?:\[.*\]\s*)?$")


def entry_points(group: str) -> list[tuple[str, str]]:
    """``(name, value)`` of every entry point of ``group``, in ``importlib.metadata``'s order."""
    key = _search_key(group)
    folder = cache_folder()
    path = folder / f"{_PREFIX}{key}.marshal" if folder is not None and key is not None else None
    if path is not None:
        cached = read_cached(path)
        if isinstance(cached, list) and all(isinstance(p, tuple) and len(p) == 2 and all(isinstance(s, str) for s in p)
                                            for p in cached):
            used(path)
            return cached
    from importlib.metadata import entry_points as search

    found = [(ep.name, ep.value) for ep in search(group=group)]
    if path is not None:
        write_cached(path, found)
        keep_newest(path.parent, f"{_PREFIX}*.marshal", _KEEP)
    return found


def load(value: str) -> Any:
    """The object an entry point's value names, as ``EntryPoint.load`` finds it."""
    match = _VALUE.match(value)
    if match is None:
        raise ValueError(f"not an entry point: {value!r}")
    module = import_module(match.group("module"))
    return reduce(getattr, filter(None, (match.group("attr") or "").split(".")), module)


def _search_key(group: str) -> str | None:
    """A digest of what the search reads, or None when it cannot be told (another finder)."""
    if any(hasattr(finder, "find_distributions") and not _is_path_finder(finder) for finder in sys.meta_path):
        return None
    state: list[object] = [group, sys.version, os.getcwd()]
    for entry in sys.path:
        state.append(entry)
        state.append(_listing(entry or "."))
    return digest_of(*state)


def _is_path_finder(finder: object) -> bool:
    from importlib.machinery import PathFinder

    return finder is PathFinder


def _listing(entry: str) -> object:
    """What the search reads of one ``sys.path`` entry: a folder's time and its metadata files'
    sizes and times, a file's (a zip) size and time, or None."""
    try:
        stat = os.stat(entry)
    except (OSError, ValueError):
        return None
    if not os.path.isdir(entry):
        return ("file", stat.st_size, stat.st_mtime_ns)
    infos: list[object] = []
    egg = os.path.basename(entry).lower().endswith(".egg")
    try:
        with os.scandir(entry) as children:
            for child in children:
                low = child.name.lower()
                if low.endswith(_INFO) or (egg and low == "egg-info"):
                    infos.append((child.name, _stats(child.path)))
    except OSError:
        return None
    return ("folder", stat.st_mtime_ns, sorted(infos, key=lambda i: str(i)))


def _stats(folder: str) -> object:
    found: list[object] = []
    for name in _READ:
        try:
            stat = os.stat(os.path.join(folder, name))
            found.append((stat.st_size, stat.st_mtime_ns))
        except OSError:
            found.append(None)
    try:
        found.append(os.stat(folder).st_mtime_ns)  # an .egg-info may be a file
    except OSError:
        found.append(None)
    return tuple(found)


__all__ = ["entry_points", "load"]
