"""A rule blob read back into a config: ``decompile`` keeps what XML cannot express as notes.

The blob may be raw or as a host holds it (``rulesource.load_rules``: a .reg export, whose values
beside ``Rules`` become options, reg query output, hex, base64, `sysmon -c` text, whose losses are
notes). Named for the act, not the root's function ``decompile``, which importing it would replace.
"""

from __future__ import annotations

from dataclasses import dataclass

from .blob.decode import DecodedBlob, decode_blob
from .model import Config
from .rulesource import load_rules
from .schema.model import Platform
from .xml.writer import to_xml


@dataclass(frozen=True)
class Decompiled:
    """A blob read back: a canonical config, what XML cannot express about it, and the raw decode."""

    config: Config
    notes: tuple[str, ...]
    decoded: DecodedBlob

    def to_xml(self) -> str:
        """The config as XML, the notes as comments before ``<Sysmon>``."""
        return to_xml(self.config, notes=self.notes)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: the blob's binary version, the config as XML (notes as comments) and the notes."""
        return {"binary_version": self.decoded.fmt.name, "xml": self.to_xml(), "notes": list(self.notes)}


def decompile(data: bytes, *, platform: Platform | str = "windows") -> Decompiled:
    """Decode a rule blob of any binary version, in any form a host holds it, into a config that
    compiles back to it."""
    rules = load_rules(data, platform=platform, blob_only=True)
    config, notes = rules.as_config()
    return Decompiled(config, tuple(notes), decode_blob(rules.blob_bytes))


def from_blob(data: bytes, *, platform: Platform | str = "windows") -> Config:
    """A canonical config that compiles back to the same blob (``decompile`` keeps the notes)."""
    return decompile(data, platform=platform).config
