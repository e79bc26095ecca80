"""The fuzz harness over every input surface (see :mod:`sysmon_rules.fuzz.harness`).

It drives the CLI too, so it sits above every other part of the package (docs/architecture.md).
Public as ``sysmon_rules.fuzz`` (docs/testing.md): the surfaces, their seeds, and running inputs.
"""

from __future__ import annotations

from .harness import Report, make_input, outcome, run_range
from .surfaces import SURFACES, seeds_for

__all__ = ["SURFACES", "Report", "make_input", "outcome", "run_range", "seeds_for"]
