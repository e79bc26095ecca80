"""What an input that is not a rule blob is, so that decompile/dump can say so in words.

Without this, an XML config given to ``decompile`` is read as a blob and reported as "unknown
binary version word 0x7379533c" (the bytes ``<Sys``), which names a symptom, not the mistake.
"""

from __future__ import annotations

_EVTX_MAGIC = b"ElfFile\x00"
_TEXT_HEAD = 4096


def _head_text(data: bytes) -> str:
    head = data[:_TEXT_HEAD]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head[1:2] == b"\0":
        return head.decode("utf-16-le" if not head.startswith(b"\xfe\xff") else "utf-16-be", "replace")
    return head.decode("utf-8", "replace")


def describe(data: bytes) -> str | None:
    """``"an XML config"``, ``"an EVTX event log"``, ... for an input that is not a blob; None
    when it may be one (decoding it then tells what is wrong with it). `sysmon -c` text is read
    by blob.dumptext, so it is not named here."""
    if data.startswith(_EVTX_MAGIC):
        return "an EVTX event log (evaluate reads it: sysmon-rules evaluate CONFIG FILE.evtx)"
    text = _head_text(data).lstrip("\ufeff \t\r\n\0")
    if text.startswith("<"):
        if "<Sysmon" in text or "<sysmon" in text.lower():
            return "an XML config, not a rule blob (compile it first, or give it to validate/evaluate)"
        return "an XML document, not a rule blob"
    if text.startswith("{"):
        return "JSON, not a rule blob"
    return None

