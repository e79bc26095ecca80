"""A rule blob read back into a config: ``decompile`` keeps what XML cannot express as notes."""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Config
from ..schema.model import Platform, as_platform
from ..xml.writer import to_xml
from .decode import DecodedBlob, decode_blob
from .reconstruct import rebuild


@dataclass(frozen=True)
class Decompiled:
    """A blob read back: a canonical config, what XML cannot express about it, and the raw decode."""

    config: Config
    notes: tuple[str, ...]
    decoded: DecodedBlob

    def to_xml(self) -> str:
        """The config as XML, the notes as comments before ``<Sysmon>``."""
        return to_xml(self.config, notes=self.notes)


def decompile(data: bytes, *, platform: Platform | str = "windows") -> Decompiled:
    """Decode a rule blob of any binary version into a config that compiles back to it."""
    decoded = decode_blob(data)
    config, notes = rebuild(decoded, as_platform(platform))
    return Decompiled(config, tuple(notes), decoded)


def from_blob(data: bytes, *, platform: Platform | str = "windows") -> Config:
    """A canonical config that compiles back to the same blob (``decompile`` keeps the notes)."""
    return decompile(data, platform=platform).config
