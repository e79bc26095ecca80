"""Results as text for people: ``to_text`` and ``to_markdown`` of what the tools return.

Every result's JSON form is its own ``to_dict()``; the text forms are free functions kept beside
each tool (``diffing.render``, ``readiness.output``, ``replaying.render``) and reached here by the
result's type, so a caller needs only these two names from the package root.

>>> import sysmon_rules as sr
>>> result = sr.replay("examples/sysmonconfig.xml", ["examples/events.jsonl"])
>>> print(sr.to_text(result).splitlines()[0])
events read: 6  included: 4  excluded: 2  skipped (damaged): 0  other records: 0  files: 1
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .diffing import ConfigDiff
    from .readiness import CoverageReport
    from .replaying import ReplayResult
    from .tuning import TuneResult

__all__ = ["to_markdown", "to_text"]


def to_text(result: ConfigDiff | CoverageReport | ReplayResult | TuneResult, *, budget: int | None = None,
            width: int = 120) -> str:
    """A diff's changes and witnesses; a coverage report's rules that are not fully detected;
    a replay's summary tables (as ``evaluate`` prints them, ``width`` columns; ``budget`` flags
    event types and RuleNames logging more per host per day); a tune's tables (as ``tune`` prints them)."""
    from .diffing import ConfigDiff
    from .replaying import ReplayResult
    from .tuning import TuneResult

    if isinstance(result, TuneResult):
        from io import StringIO

        from rich.console import Console

        from .tuning.render import print_tune

        out = StringIO()
        print_tune(Console(file=out, width=width), result)
        return out.getvalue()

    if isinstance(result, ReplayResult):
        from io import StringIO

        from rich.console import Console

        from .replaying.render import print_replay

        out = StringIO()
        print_replay(Console(file=out, width=width), result, budget=budget)
        return out.getvalue()
    if isinstance(result, ConfigDiff):
        from .diffing.render import to_text as diff_text

        return diff_text(result)
    from .readiness.output import to_text as coverage_text  # a CoverageReport (the sigma extra)

    return coverage_text(result)


def to_markdown(result: ConfigDiff | CoverageReport) -> str:
    """A diff or a coverage report as a pull-request comment (GitHub Markdown)."""
    from .diffing import ConfigDiff

    if isinstance(result, ConfigDiff):
        from .diffing.render import to_markdown as diff_markdown

        return diff_markdown(result)
    from .readiness.output import to_markdown as coverage_markdown

    return coverage_markdown(result)
