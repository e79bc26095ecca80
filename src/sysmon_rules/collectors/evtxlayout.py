"""What a cut EVTX file lost: its header says how many chunks it has, each chunk header which
records it holds.

An EVTX file is a 4 KiB file header and then 64 KiB chunks. The header's chunk count (kept by
the event log service; ``wevtutil epl`` files may carry unused zeroed chunks beyond it) and each
chunk header's first and last record id tell what a whole file holds. The ``evtx`` parser reads
a file cut short without a word: it drops the chunk the cut falls in, and cannot know of the
chunks past the end, so a file cut anywhere after its header read as complete. :func:`lost`
names what the cut took.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

FILE_HEADER = 4096
CHUNK = 65536
CHUNK_MAGIC = b"ElfChnk\x00"
# A record is at least 24 bytes (its header and size fields) and the chunk's own header is 512:
# no chunk can hold more records than this.
MAX_CHUNK_RECORDS = (CHUNK - 512) // 24


@dataclass(frozen=True, slots=True)
class Lost:
    """Records a cut file does not hold: why (a reason for ``Source.skip``) and how many."""

    reason: str
    records: int


def _header(header: bytes) -> tuple[int, int] | None:
    """``(chunk count, next record id)`` of a file header whose checksum holds, else None: a
    damaged header's counts say nothing."""
    if len(header) < 128:
        return None
    checksum, = struct.unpack_from("<I", header, 124)
    if zlib.crc32(header[:120]) != checksum:
        return None
    next_id, = struct.unpack_from("<Q", header, 24)
    chunks, = struct.unpack_from("<H", header, 42)
    return chunks, next_id


def _chunk_range(chunk_header: bytes) -> tuple[int, int] | None:
    """The first and last record id a chunk header names, None when it is cut or not one."""
    if len(chunk_header) < 40 or not chunk_header.startswith(CHUNK_MAGIC):
        return None
    first, last = struct.unpack_from("<QQ", chunk_header, 24)
    return (first, last) if first <= last < first + MAX_CHUNK_RECORDS else None


def lost(header: bytes, size: int, read_at: Callable[[int, int], bytes], last_ids: Iterable[int],
         max_id: int | None) -> list[Lost]:
    """What the file of ``size`` bytes lacks of what its header promises; [] for a whole file.

    ``read_at(offset, count)`` reads the file; ``last_ids`` are the ids of the last records the
    parser gave (at least a chunk's worth), ``max_id`` the highest it gave. A chunk the cut
    falls in loses the records its header names that the parser did not give; the chunks past
    the end lose what the file header's next record id says was written after the last record
    seen (at least one each: the service counts only chunks it wrote records to).
    """
    promised = _header(header)
    body = size - FILE_HEADER
    if body < 0:
        return []  # cut inside the header: the parser refuses the file, which is reported as such
    whole = body // CHUNK
    declared, next_id = promised if promised is not None else (whole + (body % CHUNK > 0), 0)
    if whole >= declared:
        return []
    found: list[Lost] = []
    newest = max_id if max_id is not None else 0
    missing_from = whole
    if body % CHUNK:
        span = _chunk_range(read_at(FILE_HEADER + whole * CHUNK, 40))
        if span is not None:
            first, last = span
            given = sum(1 for record in set(last_ids) if first <= record <= last)
            if last - first + 1 > given:
                found.append(Lost(f"the file ends at byte {size:,}, inside chunk {whole + 1} of {declared}: "
                                  f"records {first}-{last} are cut off", last - first + 1 - given))
            newest = max(newest, last)
            missing_from = whole + 1
    missing = declared - missing_from
    if missing > 0:
        written = next_id - 1 - newest if promised is not None else 0
        records = min(max(missing, written), missing * MAX_CHUNK_RECORDS)
        chunks = f"chunk {declared} of {declared} is" if missing == 1 else \
            f"chunks {missing_from + 1}-{declared} of {declared} are"
        count = f"{records:,} records" if written >= missing else f"at least {records:,} records"
        found.append(Lost(f"the file ends at byte {size:,}: {chunks} missing ({count})", records))
    return found
