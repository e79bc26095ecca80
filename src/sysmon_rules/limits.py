"""Reading an input with a bound: never more than the limit, whatever the file claims to be.

``stat`` says 0 bytes for /dev/zero, a FIFO or stdin, and a sparse file can claim 1 GB it never
stored, so a size check before reading proves nothing: the read itself is what is bounded.
"""

from __future__ import annotations

import sys
from pathlib import Path

# A compiled Rules value is a few MB (sysmon-modular's is 1.3 MB); its .reg/hex text is about
# six bytes per blob byte. Far above both, far below what would strain memory.
MAX_BLOB_INPUT = 64 * 1024 * 1024


def read_bounded(path: str | Path, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of ``path`` (``-`` is stdin): more than ``limit`` means too large.

    OSError propagates, for the caller to name the file in its own error.
    """
    if str(path) == "-":
        return sys.stdin.buffer.read(limit + 1)
    with Path(path).open("rb") as stream:
        return stream.read(limit + 1)


def size_text(size: int, limit: int) -> str:
    """``"more than 64 MiB"`` for an input cut at the bound (read_bounded's limit + 1), else its size."""
    return f"more than {limit >> 20} MiB" if size == limit + 1 else f"{size / 1e6:.1f} MB"
