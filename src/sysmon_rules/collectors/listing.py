"""Inputs listed as Sources: a folder's or glob's files (``inputfiles``'s walk), a zip's members, an fsspec
URL's files."""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import IO

from .. import inputfiles
from .base import CollectorError, DamagedInput, Source, is_regular, is_url

ZIP_MAGIC = b"PK\x03\x04"


def expand(args: Iterable[str | Path]) -> Iterator[tuple[Source, bool]]:
    """Each input as a Source; a folder or glob gives its files (``inputfiles.expand``), flagged as implicit;
    a missing path or an empty folder is a NoInputError.

    An fsspec URL (``s3://bucket/logs/``) is a file or, ending in a folder, every file under it.
    """
    for arg in args:
        if is_url(str(arg)):
            yield from _expand_url(str(arg))
            continue
        if str(arg) == "-":
            yield Source.from_arg(arg), False
            continue
        files, found = inputfiles.expand(arg)  # a folder or glob: its files (the one walk); nothing: an error
        for child in files:
            regular = is_regular(child)  # told to the Source, which would look again
            if regular and _zip_magic(child):
                yield from _zip_members(child)
            else:
                yield (Source(str(child), child, _regular=regular), True) if found else \
                    (Source.from_arg(arg, _regular=regular), False)


def is_zip(path: Path) -> bool:
    """A regular file starting with a zip local header (a pipe cannot be a zip: it needs seeking)."""
    return is_regular(path) and _zip_magic(path)


def _zip_magic(path: Path) -> bool:
    try:
        with open(path, "rb", buffering=0) as stream:
            return stream.read(4) == ZIP_MAGIC
    except OSError:
        return False


def _zip_members(path: Path) -> Iterator[tuple[Source, bool]]:
    """Each file in a .zip as an implicit input (like a folder's files), named ``archive!member``."""
    try:
        archive = zipfile.ZipFile(path)
    # zipfile reads a damaged directory with whatever fails first (an index, a struct, a value)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, IndexError, struct.error, NotImplementedError) as exc:
        raise DamagedInput(f"{path}: damaged zip archive ({exc or type(exc).__name__})") from exc
    with archive:
        # not ZipInfo.is_dir(): it fails on the empty name a damaged directory entry can have
        for info in sorted((i for i in archive.infolist() if not i.filename.endswith("/")), key=lambda i: i.filename):
            yield Source(f"{path}!{info.filename}", opener=partial(_open_member, archive, info)), True


def _open_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> IO[bytes]:
    if info.flag_bits & 0x1:  # zipfile says RuntimeError ("password required"): it is damage here
        raise zipfile.BadZipFile("encrypted, a password is needed")
    try:
        return archive.open(info)
    except (UnicodeDecodeError, ValueError, struct.error) as exc:  # a damaged local header (its name)
        raise zipfile.BadZipFile(f"damaged member header ({exc})") from exc


def _expand_url(url: str) -> Iterator[tuple[Source, bool]]:
    try:
        import fsspec

        fs, root = fsspec.core.url_to_fs(url)
        folder = fs.isdir(root)
        found = sorted(fs.find(root)) if folder else []
    except ImportError as exc:
        raise CollectorError(f"{url}: cannot read: {exc} (install the fsspec package for this storage)") from exc
    except (OSError, ValueError) as exc:
        raise CollectorError(f"{url}: cannot read: {exc}") from exc
    if not folder:
        yield Source.from_arg(url), False
        return
    for name in found:
        yield Source.from_arg(fs.unstrip_protocol(name)), True
