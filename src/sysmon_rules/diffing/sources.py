"""Either side of a diff, in any form a user holds it, as one rule table.

Paths and bytes are read by ``rulesource.load_rules``: an XML config, a raw blob, a ``.reg``
export, ``reg query`` output, hex or base64 text, or ``sysmon -c`` output (Windows or Linux), told
apart by content. ``sysmon -c`` text cannot carry everything
(``blob.dumptext.UNKNOWNS``); the side keeps the codes of what it lost so the diff can treat
those as unknown instead of as changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import SourceError
from ..model import Config
from ..rulesource import DUMP_TEXT, load_rules
from ..ruletable import RuleTable
from ..schema.model import Platform


@dataclass(frozen=True)
class Side:
    """One side of a diff: where it came from, what form it was in, its rules, what it lost."""

    label: str
    kind: str  # "xml", "blob", DUMP_TEXT, "config", "rule table"
    table: RuleTable
    unknowns: tuple[str, ...] = ()

    @property
    def has_rule_names(self) -> bool:
        return "rule-names" not in self.unknowns


Source = str | Path | bytes | Config | RuleTable


def load_side(source: Source, *, platform: Platform = "windows", label: str | None = None) -> Side:
    """Read one side: a path, the bytes of a file, a parsed Config or a RuleTable."""
    if isinstance(source, RuleTable):
        return Side(label or "<rule table>", "rule table", source)
    if isinstance(source, Config):
        from ..blob.compile import compile_config

        return Side(label or "<config>", "config", compile_config(source, platform=platform).table)
    rules = load_rules(source, platform=platform, label=label)
    return Side(rules.label, rules.kind, rules.table, rules.unknowns)


__all__ = ["DUMP_TEXT", "Side", "Source", "SourceError", "load_side"]
