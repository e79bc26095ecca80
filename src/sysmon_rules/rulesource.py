"""Rules from whatever a user has: the one loader every command, ``Evaluator``, ``diff``,
``coverage`` and ``report`` read a config through.

An XML config (validated as Sysmon loads it), a rule blob (raw, a ``.reg`` export, ``reg query``
output, hex, base64, a byte list) or the text ``sysmon -c`` prints, told apart by content: one
content check, one size limit (:data:`MAX_RULES_INPUT`), one error type (``SourceError``) for an
input that holds no rules.

>>> from sysmon_rules.rulesource import load_rules
>>> rules = load_rules("examples/sysmonconfig.xml")
>>> rules.kind, len(rules.table.rule_sets) > 0
('xml', True)
>>> text = load_rules(b"Rule configuration (version 4.90):\\r\\n"
...                   b" - ProcessCreate                      onmatch: include   combine rules using 'Or'\\r\\n"
...                   b"    Image                          filter: end with     value: '\\\\cmd.exe'")
>>> text.kind, text.table.rule_sets[0].filters[0].value, "rule-names" in text.unknowns
('sysmon -c text', '\\\\cmd.exe', True)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from .errors import SourceError, SysmonRulesError
from .fileio import read_input
from .ruletable import RuleTable
from .schema.model import Platform, as_platform

if TYPE_CHECKING:
    from .model import Config

XML, BLOB, DUMP_TEXT = "xml", "blob", "sysmon -c text"
# One limit for every form, inputs read up to it: a .reg or hex text is about six bytes per blob
# byte, and the largest real blob is about 1.3 MB (sysmon-modular's); a config is far smaller. Far
# below what would strain memory.
MAX_RULES_INPUT = 64 * 1024 * 1024
_FORMS = "an XML config, a rule blob (raw, .reg export, reg query output, hex, base64) or `sysmon -c` text"
_BOMS_AND_BLANKS = b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n"


@dataclass
class RuleSource:
    """What :func:`load_rules` read: its form, its rules and what the form could not carry.

    ``config`` is the XML config as read (None for a blob or a text); ``blob`` the blob bytes
    as given (None for XML or a text); ``values`` the registry values beside a blob in a ``.reg``
    export or ``reg query`` output; ``unknowns`` the codes of what ``sysmon -c`` text cannot carry
    (``blob.dumptext.UNKNOWNS``); ``notes`` the same in sentences.
    """

    label: str
    kind: str  # XML, BLOB or DUMP_TEXT
    platform: Platform
    config: Config | None = None
    blob: bytes | None = None
    values: dict[str, str | int] = field(default_factory=dict)
    unknowns: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    _table: RuleTable | None = None

    @cached_property
    def table(self) -> RuleTable:
        """The rule table the driver would match with (an XML config compiled on first use)."""
        if self._table is not None:
            return self._table
        from .blob.compile import compile_config

        assert self.config is not None
        return compile_config(self.config, platform=self.platform, table_only=True).table  # no bytes: not read

    @cached_property
    def blob_bytes(self) -> bytes:
        """The blob: as given, compiled from the XML, or encoded from the text's table."""
        if self.blob is not None:
            return self.blob
        if self.config is not None:
            from .blob.compile import compile_config

            return compile_config(self.config, platform=self.platform).data
        from .blob.encode import encode_table

        return encode_table(self.table)

    @property
    def hidden_sets(self) -> tuple[int, ...]:
        """Indexes of the rule sets ``sysmon -c`` does not print (a set right after one of the same
        event type and onmatch). A text has none: the sets it hid are not in it (its ``unknowns``
        say "hidden-sets")."""
        from .blob.dump import hidden_sets

        return () if self.kind == DUMP_TEXT else tuple(hidden_sets(self.table, self.platform))

    def as_config(self) -> tuple[Config, list[str]]:
        """A Config of these rules: the XML as read, or the blob or text decompiled, with the notes
        on what XML cannot express."""
        if self.config is not None:
            return self.config, list(self.notes)
        from .blob.decode import decode_blob
        from .blob.reconstruct import rebuild
        from .blob.regvalues import options_of, with_options

        config, notes = rebuild(decode_blob(self.blob_bytes), self.platform)
        return with_options(config, options_of(self.values)), [*self.notes, *notes]


def read_rules_input(path: str | os.PathLike[str], *, stdin: bool = False) -> bytes:
    """The bytes at ``path`` (``-`` = standard input when ``stdin``), refused above the one limit."""
    name = os.fspath(path)
    data = read_input(name, limit=MAX_RULES_INPUT, stdin=stdin)  # bounded: /dev/zero, sparse files
    try:
        _check_size(data)
    except SourceError as exc:
        raise exc.placed("<stdin>" if stdin and name == "-" else name) from None
    return data


def _check_size(data: bytes) -> None:
    if len(data) > MAX_RULES_INPUT:
        raise SourceError(f"more than {MAX_RULES_INPUT >> 20} MiB: too large to be {_FORMS}")


def load_rules(source: str | os.PathLike[str] | bytes | bytearray | memoryview, *, platform: Platform | str = "windows",
               sysmon_compatible: bool = False, label: str | None = None, stdin: bool = False,
               blob_only: bool = False) -> RuleSource:
    """Read rules from a path (``-`` = standard input when ``stdin``) or bytes, in any form.

    ``label`` names bytes in messages and locations (a path names itself). An input that is none
    of the forms raises ``SourceError`` naming it; a bad config, blob or text raises its own
    ``SysmonRulesError`` (validation's findings, ``BlobFormatError``, ``DumpTextError``) with the
    place; a file that cannot be read, ``FileAccessError``. ``blob_only``: what a host runs (a
    blob or `sysmon -c` text), an XML config is then a ``SourceError`` saying so (decompile, dump).
    """
    plat = as_platform(platform)
    if isinstance(source, bytes | bytearray | memoryview):
        data, name = bytes(source), label
    else:
        path = os.fspath(source)
        name = label or ("<stdin>" if stdin and path == "-" else path)
        data = read_rules_input(path, stdin=stdin)
    try:
        _check_size(data)
        return _read(data, name, name or "<bytes>", plat, sysmon_compatible, blob_only)
    except SysmonRulesError as exc:
        raise (exc.placed(name) if name else exc) from None


def _read(data: bytes, name: str | None, where: str, platform: Platform, sysmon_compatible: bool,
          blob_only: bool) -> RuleSource:
    if not data.strip(_BOMS_AND_BLANKS):
        raise SourceError(f"empty: no rules in it (expected {_FORMS})")
    if data.lstrip(_BOMS_AND_BLANKS)[:1] == b"<" and not blob_only:
        from .validation import load

        config = load(data, platform=platform, sysmon_compatible=sysmon_compatible, path=name)
        return RuleSource(where, XML, platform, config=config)
    # The blob and text readers load only for input that is not XML (the usual config).
    from .blob.decode import decode_blob
    from .blob.dumptext import looks_like_dump, lost_notes, read_dump_text
    from .blob.sniff import describe
    from .blob.textforms import as_text, is_probably_binary, read_blob_form

    kind = describe(data)
    if kind is not None:
        raise SourceError(f"this is {kind}" if blob_only else f"this is {kind}; expected {_FORMS}")
    if not is_probably_binary(data):
        text = as_text(data)
        if looks_like_dump(text):
            reading = read_dump_text(text, platform=platform, path=where)
            return RuleSource(where, DUMP_TEXT, platform, unknowns=reading.unknowns,
                              notes=tuple(lost_notes(reading)), _table=reading.table)
    blob, values, form = read_blob_form(data)
    if form is None:
        first = next((line.strip() for line in as_text(data).splitlines() if line.strip()), "")
        raise SourceError(f"not {_FORMS}: text starting {first[:60]!r}")
    table = decode_blob(blob).table if blob else RuleTable(0, 0, ())
    return RuleSource(where, BLOB, platform, blob=blob, values=values, _table=table)


def rule_table(source: bytes | bytearray | memoryview, platform: Platform | str = "windows") -> RuleTable:
    """The rule table of bytes in any form :func:`load_rules` reads (``Evaluator(bytes)``); no
    bytes at all is what a config without rules compiles to (Sysmon then applies the defaults)."""
    if not len(source):
        return RuleTable(0, 0, ())
    return load_rules(source, platform=platform).table


__all__ = ["BLOB", "DUMP_TEXT", "MAX_RULES_INPUT", "XML", "RuleSource", "load_rules",
           "read_rules_input", "rule_table"]
