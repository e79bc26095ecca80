"""The files a command-line argument names: the one walk of folders and globs, for every command.

An argument is a file, ``-`` (standard input, where the command reads it), a folder or a glob
pattern (``logs/**/*.evtx``, expanded here so that it works where no shell expands it, as on
Windows or in a quoted CI step). One rule for all of them:

- **hidden**: a file or folder whose name starts with ``.`` is skipped when found inside a
  folder or by a glob (``.git/``, editor back-ups); a hidden file named explicitly is read;
- **order**: a folder's files in the code-point order of their path relative to the folder,
  compared component by component (``a/z.xml`` before ``a-b/c.xml``), the same on every OS;
  arguments in the order given; a file found twice is kept once;
- **kinds**: inside a folder or a glob only files of the command's kind are taken (``*.xml``
  configs, ``*.sysmon-test.yaml`` tests, ``*.yml``/``*.yaml`` Sigma rules, any file for event
  sources, recognised by content later); a file named explicitly is taken whatever its name;
- **links**: a link to a file is followed, a link to a folder is not (it could loop); a broken
  link is kept, so that reading it names it;
- **nothing found is an error**: a missing path, an empty folder, or a folder or glob without a
  file of the right kind is a :class:`NoInputError` (code ``no-input``) naming the argument,
  never an empty run that reports "all clear".
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import Location, SysmonRulesError

STDIO = "-"
_GLOB_CHARS = frozenset("*?[")


class NoInputError(SysmonRulesError):
    """An argument that names nothing to read: a missing path, an empty folder, no file of the kind."""

    code = "no-input"


@dataclass(frozen=True, slots=True)
class Kind:
    """What a command reads from a folder: a description for messages and the name endings taken.

    >>> CONFIGS.accepts("Sysmon.XML"), CONFIGS.accepts("notes.txt")
    (True, False)
    """

    what: str
    endings: tuple[str, ...] = ()  # lower-case; empty: every file

    def accepts(self, name: str) -> bool:
        return not self.endings or name.lower().endswith(self.endings)


CONFIGS = Kind("config file (*.xml)", (".xml",))
TEST_FILES = Kind("config test file (*.sysmon-test.yaml)", (".sysmon-test.yaml",))
SIGMA_RULES = Kind("Sigma rule file (*.yml, *.yaml)", (".yml", ".yaml"))
ANY_FILE = Kind("file")


def _hidden(name: str) -> bool:
    return name.startswith(".")


def walk(top: str | Path, kind: Kind = ANY_FILE) -> list[Path]:
    """Every file of ``kind`` under the folder ``top``, hidden ones skipped, in the one order.

    An explicit stack (no recursion limit); a sub-folder that cannot be listed is skipped (its
    files could not be read anyway).
    """
    top = Path(top)
    found: list[tuple[tuple[str, ...], Path]] = []
    stack: list[tuple[Path, tuple[str, ...]]] = [(top, ())]
    while stack:
        folder, parts = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if _hidden(entry.name):
                continue
            if entry.is_dir(follow_symlinks=False):
                stack.append((Path(entry.path), (*parts, entry.name)))
            elif (entry.is_file() or (entry.is_symlink() and not entry.is_dir())) and kind.accepts(entry.name):
                found.append(((*parts, entry.name), Path(entry.path)))
    return [path for _, path in sorted(found, key=lambda item: item[0])]


def is_glob(arg: str) -> bool:
    """A pattern to expand here: glob characters, and no file of that very name."""
    return any(c in _GLOB_CHARS for c in arg) and not os.path.lexists(arg)


def expand(arg: str | Path, kind: Kind = ANY_FILE, *, stdin: bool = False) -> tuple[list[Path], bool]:
    """The files ``arg`` names, and whether they were found (in a folder or by a glob) rather than named.

    NoInputError when it names none: a missing path, an empty folder, no file of ``kind``.
    """
    text = str(arg)
    if stdin and text == STDIO:
        return [Path(STDIO)], False
    if is_glob(text):
        return _glob(text, kind), True
    path = Path(text)
    if path.is_dir():
        files = walk(path, kind)
        if not files:
            raise NoInputError(f"no {kind.what} in this folder", Location(text))
        return files, True
    if not os.path.lexists(path):
        raise NoInputError("no such file or folder", Location(text))
    return [path], False


def _glob(pattern: str, kind: Kind) -> list[Path]:
    files: list[Path] = []
    for match in sorted(glob.glob(pattern, recursive=True)):  # glob itself skips hidden names
        path = Path(match)
        if path.is_dir():
            files += walk(path, kind)
        elif kind.accepts(path.name):
            files.append(path)
    if not files:
        raise NoInputError(f"no {kind.what} matches this pattern", Location(pattern))
    return files


def input_files(args: Iterable[str | Path], kind: Kind = ANY_FILE, *, stdin: bool = False) -> list[Path]:
    """The files every argument names, arguments in order, each file once (see the module docstring).

    >>> input_files(["no/such/folder"])
    Traceback (most recent call last):
    sysmon_rules.inputfiles.NoInputError: no/such/folder: no such file or folder
    """
    return [path for path, _found in _unique(expand(arg, kind, stdin=stdin) for arg in args)]


def _unique(expanded: Iterable[tuple[list[Path], bool]]) -> Iterator[tuple[Path, bool]]:
    seen: set[str] = set()
    for files, found in expanded:
        for path in files:
            key = STDIO if str(path) == STDIO else os.path.normcase(os.path.abspath(path))
            if key not in seen:
                seen.add(key)
                yield path, found
