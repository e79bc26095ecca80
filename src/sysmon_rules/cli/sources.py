"""The configs named on a command line: files, ``-`` (stdin, read once and bounded) and folders
(every ``*.xml`` under them, sorted), for the commands that check many configs at once."""

from __future__ import annotations

from pathlib import Path

from ..collectors.registry import walk_files
from ..fileio import read_input
from ..xml.source import MAX_CONFIG_BYTES


def config_sources(args: tuple[str, ...]) -> list[tuple[str, str | bytes]]:
    """``(name, source)`` per config: the source is a path, or the bytes of stdin for ``-``."""
    found: list[tuple[str, str | bytes]] = []
    for arg in args:
        if arg == "-":
            found.append(("-", read_input("-", limit=MAX_CONFIG_BYTES)))  # bytes: the size check follows
        elif Path(arg).is_dir():
            found += [(str(p), str(p)) for p in sorted(walk_files(Path(arg))) if p.suffix.lower() == ".xml"]
        else:
            found.append((arg, arg))
    return found
