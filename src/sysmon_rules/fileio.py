"""Reading inputs and writing outputs: the one place a file is opened for the user.

``write_output(path, data)`` is the atomic write every command uses:

- ``-`` is standard output;
- a symlink is written through: its target is replaced, the link stays;
- a file that is not a regular file (``/dev/null``, a FIFO, a terminal) is written directly,
  never replaced by a regular file;
- a regular file is replaced whole or not at all: the bytes go to a temporary file in the
  target's folder (same file system, so the rename is atomic), are fsynced, then renamed over
  the target. The result keeps the target's permission bits; a new file gets ``0o666 & ~umask``
  (0644 under the usual umask), as ``open()`` would give it.

No temporary file is left behind, on an exception or on SIGKILL: on Linux the temporary file is
created unnamed (``O_TMPFILE``) and only gets a name (``.NAME.sysmon-rules-PID.tmp``) for the
instant between linking it and renaming it over the target. Where ``O_TMPFILE`` is not available
the named file exists while writing; a kill then leaves it, and the next write to the same
target removes every such file whose process is gone.

``read_input(path)`` reads a file or ``-`` (standard input) and turns an OSError into a one-line
``FileAccessError`` naming the path.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from .errors import FileAccessError

STDIO = "-"
_TEMP_MARK = ".sysmon-rules-"


def read_input(path: str | Path, *, limit: int | None = None, stdin: bool = True) -> bytes:
    """The bytes at ``path`` (``-`` = standard input unless ``stdin=False``), at most ``limit`` + 1."""
    try:
        if stdin and str(path) == STDIO:
            return sys.stdin.buffer.read(-1 if limit is None else limit + 1)
        with open(path, "rb") as handle:
            return handle.read(-1 if limit is None else limit + 1)
    except OSError as exc:
        raise FileAccessError("<stdin>" if stdin and str(path) == STDIO else str(path), "read", exc) from exc


def json_text(value: object, *, indent: int | None = None) -> str:
    """``value`` as JSON text any UTF-8 stream can carry: non-ASCII kept as is, a lone surrogate
    (which UTF-8 cannot encode) written as JSON's escape ``\\ud800``, so it reads back the same."""
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def write_output(path: str | Path, data: bytes | str | Iterable[bytes | str]) -> None:
    """Write ``data`` to ``path`` as described in the module docstring.

    ``data`` is the bytes, a text (written as UTF-8), or an iterable of either, written as it
    is produced (nothing reaches a regular file's target until the last chunk is written).
    """
    payload = _chunks(data)
    name = str(path)
    try:
        if name == STDIO:
            _write_stdout(payload)
            return
        target = Path(os.path.realpath(path))
        current = _stat_or_none(target)
        if current is not None and not stat.S_ISREG(current.st_mode):
            if stat.S_ISDIR(current.st_mode):
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
            _write_in_place(target, payload)
            return
        mode = stat.S_IMODE(current.st_mode) if current is not None else 0o666 & ~_umask()
        _remove_stale_temps(target)
        _replace(target, payload, mode)
    except OSError as exc:
        raise FileAccessError("<stdout>" if name == STDIO else name, "write", exc) from exc


def _chunks(data: bytes | str | Iterable[bytes | str]) -> Iterator[bytes]:
    for chunk in (data,) if isinstance(data, bytes | str) else data:
        # a lone surrogate (from a blob, an event, a file name) is escaped, never fatal: inside a JSON
        # string the escape is JSON's own "\\ud800"
        yield chunk.encode("utf-8", "backslashreplace") if isinstance(chunk, str) else chunk


def _write_stdout(payload: Iterable[bytes]) -> None:
    sys.stdout.flush()
    for chunk in payload:
        sys.stdout.buffer.write(chunk)
    sys.stdout.buffer.flush()


def _stat_or_none(target: Path) -> os.stat_result | None:
    try:
        return target.stat()
    except FileNotFoundError:
        return None


def _umask() -> int:
    # os.umask can only be read by setting it; set it straight back.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_in_place(target: Path, payload: Iterable[bytes]) -> None:
    with open(target, "wb") as handle:
        for chunk in payload:
            handle.write(chunk)


def _temp_name(target: Path) -> Path:
    return target.with_name(f".{target.name}{_TEMP_MARK}{os.getpid()}.tmp")


def _replace(target: Path, payload: Iterable[bytes], mode: int) -> None:
    folder = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
    temp = _temp_name(target).name
    fd = -1
    try:
        fd, named = _open_temp(folder, temp)
        os.fchmod(fd, mode)
        _write_all(fd, payload)
        os.fsync(fd)
        if not named:
            fd = _name_unnamed(fd, folder, temp)
        os.replace(temp, target.name, src_dir_fd=folder, dst_dir_fd=folder)
        with contextlib.suppress(OSError):  # make the rename durable where folders can be synced
            os.fsync(folder)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp, dir_fd=folder)
        raise
    finally:
        if fd >= 0:
            os.close(fd)
        os.close(folder)


def _open_temp(folder: int, temp: str) -> tuple[int, bool]:
    """A descriptor to write to and whether it has a name yet (False: unnamed O_TMPFILE)."""
    unnamed = getattr(os, "O_TMPFILE", 0)
    if unnamed and os.path.isdir("/proc/self/fd"):
        try:
            return os.open(".", unnamed | os.O_RDWR, 0o600, dir_fd=folder), False
        except OSError as exc:
            if exc.errno not in _NO_TMPFILE:
                raise
    return os.open(temp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600, dir_fd=folder), True


# The file system or kernel cannot make unnamed files: fall back to a named temporary file.
_NO_TMPFILE = {errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL}


def _name_unnamed(fd: int, folder: int, temp: str) -> int:
    """Give the unnamed file its temporary name; where that is refused, copy it to a named file."""
    try:
        # linkat(AT_SYMLINK_FOLLOW) on /proc/self/fd/N; dir fds make os.link use linkat
        os.link(f"/proc/self/fd/{fd}", temp, src_dir_fd=folder, dst_dir_fd=folder, follow_symlinks=True)
        return fd
    except OSError:
        named = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600, dir_fd=folder)
    try:
        os.fchmod(named, os.fstat(fd).st_mode & 0o7777)
        os.lseek(fd, 0, os.SEEK_SET)
        _write_all(named, iter(lambda: os.read(fd, 1 << 20), b""))
        os.fsync(named)
    except BaseException:
        os.close(named)
        raise
    os.close(fd)
    return named


def _write_all(fd: int, payload: Iterable[bytes]) -> None:
    for chunk in payload:
        view = memoryview(chunk)
        while view:
            view = view[os.write(fd, view):]


def _remove_stale_temps(target: Path) -> None:
    """Delete temporary files an earlier, killed write to this target left behind."""
    prefix = f".{target.name}{_TEMP_MARK}"
    with contextlib.suppress(OSError):
        for entry in os.scandir(target.parent):
            pid = entry.name[len(prefix):-len(".tmp")] if entry.name.startswith(prefix) else ""
            if entry.name.endswith(".tmp") and pid.isdigit() and not _alive(int(pid)):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # our own leftover from an earlier call cannot be in use now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
