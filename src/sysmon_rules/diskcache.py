"""Files of derived data kept between runs: one folder, checked reads, atomic writes.

What is cached is plain data (``marshal`` of tuples, lists, dicts, strings, numbers), never
pickle: the folder is the user's to write, so a file planted there can at worst hold data that
fails a check, not code that runs. A cache file is named by a digest of everything its content is
derived from (the callers' keys), so a stale file is never read; its first bytes are the SHA-256
of the rest, so a truncated or damaged file reads as absent and is built afresh. Reading never
raises: an unreadable, damaged or foreign file is a miss.

The folder is ``$SYSMON_RULES_CACHE_DIR``, else ``$XDG_CACHE_HOME/sysmon-rules``, else
``~/.cache/sysmon-rules``; ``SYSMON_RULES_CACHE_DIR=""`` turns caching off. A folder that cannot
be written only means building each time.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import tempfile
from pathlib import Path
from typing import Any

CACHE_ENV = "SYSMON_RULES_CACHE_DIR"
_DIGEST = hashlib.sha256().digest_size


def cache_folder() -> Path | None:
    """Where cache files go (see the module docstring), None when turned off."""
    configured = os.environ.get(CACHE_ENV)
    if configured is not None:
        return Path(configured) if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "sysmon-rules"


def read_cached(path: Path) -> object | None:
    """The data written to ``path`` by :func:`write_cached`; None if it is missing, cannot be
    read, fails its checksum or does not unmarshal."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    payload = data[_DIGEST:]
    if hashlib.sha256(payload).digest() != data[:_DIGEST]:
        return None
    try:
        loaded: object = marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return None
    return loaded


def write_cached(path: Path, value: Any) -> None:
    """``value`` (plain data) to ``path`` atomically (a reader sees the whole file or none); a
    failure only leaves no cache.

    Not ``fileio.write_output``: that is a layer this one may not import, and a cache needs none of
    its care for symlinks, permissions or standard output.
    """
    try:
        payload = marshal.dumps(value)
    except ValueError:  # not plain data: nothing to keep
        return
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(hashlib.sha256(payload).digest() + payload)
            os.replace(temp, path)
        except OSError:
            os.unlink(temp)
            raise


def writable(folder: Path) -> bool:
    """Can cache files be written to ``folder`` (made if missing)? Asked before building what
    only a cache file needs."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK)


def keep_newest(folder: Path, pattern: str, count: int) -> None:
    """Delete all but the ``count`` most recently used files matching ``pattern`` (a reader
    marks a hit with :func:`used`): one entry per edit of a config would otherwise pile up."""
    with contextlib.suppress(OSError):
        found = []
        for path in folder.glob(pattern):
            with contextlib.suppress(OSError):
                found.append((path.stat().st_mtime_ns, path))
        for _, path in sorted(found, reverse=True)[count:]:
            with contextlib.suppress(OSError):
                path.unlink()


def used(path: Path) -> None:
    """Mark a cache file as just used (its modification time), for :func:`keep_newest`."""
    with contextlib.suppress(OSError):
        os.utime(path)


def digest_of(*parts: Any) -> str:
    """A file-name-safe digest of plain data (the parts of a cache key)."""
    return hashlib.sha256(marshal.dumps((marshal.version, parts))).hexdigest()[:32]
