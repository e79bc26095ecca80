"""The configs named on a command line: files, ``-`` (stdin, read once and bounded), folders and
globs (their ``*.xml`` files, walked by ``inputfiles``), for the commands that check many configs."""

from __future__ import annotations

from ..fileio import read_input
from ..inputfiles import CONFIGS, STDIO, input_files
from ..xml.source import MAX_CONFIG_BYTES


def config_sources(args: tuple[str, ...]) -> list[tuple[str, str | bytes]]:
    """``(name, source)`` per config: the source is a path, or the bytes of stdin for ``-``.

    A missing path, an empty folder or a folder without ``*.xml`` is a NoInputError.
    """
    found: list[tuple[str, str | bytes]] = []
    for path in input_files(args, CONFIGS, stdin=True):
        if str(path) == STDIO:
            found.append((STDIO, read_input(STDIO, limit=MAX_CONFIG_BYTES)))  # bytes: the size check follows
        else:
            found.append((str(path), str(path)))
    return found
