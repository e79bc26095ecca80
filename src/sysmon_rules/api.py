"""The public operations, composed from the layers below (docs/architecture.md).

Each function reads what it needs, runs the layers in Sysmon's order and returns a typed result
that keeps what the CLI needs too (warnings, notes): ``load``/``loads`` (read + validate),
``iter_errors``/``validate``, ``lint_file``, ``compile_config``/``to_blob`` (Config -> bytes),
``decompile``/``from_blob`` (bytes -> Config), ``to_xml``. The package root re-exports them.
"""

from __future__ import annotations

from dataclasses import dataclass

# Re-exported as they are (``X as X``): the operations that need no composing here.
from .blob.compile import CompiledBlob as CompiledBlob
from .blob.compile import compile_config as compile_config
from .blob.decode import DecodedBlob, decode_blob
from .blob.encode import to_blob as to_blob
from .lint import lint_file as lint_file
from .model import Config
from .rulesource import load_rules
from .schema.model import Platform
from .validation import iter_errors as iter_errors
from .validation import load as load
from .validation import loads as loads
from .validation import validate as validate
from .xml.writer import to_xml as to_xml


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
    """Decode a rule blob of any binary version into a config that compiles back to it. The blob
    may be raw or as a host holds it (``rulesource.load_rules``: a .reg export, whose values beside
    ``Rules`` become options, reg query output, hex, base64, `sysmon -c` text, whose losses are notes)."""
    rules = load_rules(data, platform=platform, blob_only=True)
    config, notes = rules.as_config()
    return Decompiled(config, tuple(notes), decode_blob(rules.blob_bytes))


def from_blob(data: bytes, *, platform: Platform | str = "windows") -> Config:
    """A canonical config that compiles back to the same blob (``decompile`` keeps the notes)."""
    return decompile(data, platform=platform).config

