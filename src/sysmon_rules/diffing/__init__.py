"""What a config change does to events: structural changes, witnesses, and a verdict that is a proof.

>>> import sysmon_rules
>>> result = sysmon_rules.diff("examples/sysmonconfig.xml", "examples/sysmonconfig.xml")
>>> result.verdict, result.exit_code
('equivalent', 0)

See docs/diff.md for the JSON form, the Markdown PR comment and the GitHub Actions job.
"""

from __future__ import annotations

from .compare import DIFFERENT, EQUIVALENT, EXIT_CODES, ConfigDiff, diff
from .sources import DUMP_TEXT, Side, SourceError, load_side
from .structure import BEHAVIOUR, NONE, UNKNOWN, Change, structural_changes

__all__ = [
    "BEHAVIOUR",
    "DIFFERENT",
    "DUMP_TEXT",
    "EQUIVALENT",
    "EXIT_CODES",
    "NONE",
    "UNKNOWN",
    "Change",
    "ConfigDiff",
    "Side",
    "SourceError",
    "diff",
    "load_side",
    "structural_changes",
]
