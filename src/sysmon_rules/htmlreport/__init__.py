"""A self-contained HTML report on a Sysmon config: what it is, what it logs, what a change does.

>>> import sysmon_rules
>>> html = sysmon_rules.html_report("examples/sysmonconfig.xml", events=["examples/events.jsonl"])  # doctest: +SKIP

``collect(...)`` gathers the facts (JSON-able dicts: :class:`Report`), ``Report.to_html()`` draws
them; each section is present when its inputs are: the config always, the replay with ``events``,
the comparison with ``compare``, detection readiness with ``coverage``, tuning with ``events``
and ``tune`` (a budget).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import __version__
from ..schema.model import Platform
from .facts import Facts, config_facts, load_config
from .figures import Figures
from .markup import code, text
from .page import render_page
from .replay import replay
from .section_compare import compare_section
from .section_config import config_section
from .section_readiness import readiness_section
from .section_replay import replay_section
from .section_tune import tune_section

__all__ = ["Report", "collect", "html_report"]


@dataclass
class Report:
    """Everything one page shows; ``replay`` is the `evaluate --format json` document of the run."""

    config: Facts
    compare: Facts | None = None
    replay: dict[str, Any] | None = None
    coverage: dict[str, Any] | None = None  # the `coverage --format json` document
    diff: dict[str, Any] | None = None  # the `diff --format json` document (per change)
    tune: dict[str, Any] | None = None  # the `tune --format json` document
    sources: tuple[str, ...] = ()
    platform: Platform = "windows"
    generated: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the facts the page is drawn from."""
        return asdict(self)

    def to_html(self) -> str:
        figures = Figures()
        parts = [("config", "Config", config_section(self.config, figures))]
        if self.replay is not None:
            parts.append(("replay", "Replay", replay_section(self.replay, figures, self.platform)))
        if self.compare is not None:
            parts.append(("compare", "Comparison", compare_section(self.config, self.compare, self.replay,
                                                                   figures, self.platform, self.diff)))
        if self.coverage is not None:
            parts.append(("readiness", "Readiness", readiness_section(self.coverage, figures)))
        if self.tune is not None:
            parts.append(("tune", "Tune", tune_section(self.tune, figures, self.platform)))
        name = Path(str(self.config["path"])).name
        return render_page(f"Sysmon config report: {name}", self._subtitle(),
                           [(a, label) for a, label, _ in parts], "".join(b for _, _, b in parts), figures)

    def _subtitle(self) -> str:
        inputs = f"{code(self.config['path'])}"
        if self.sources:
            inputs += f" over {len(self.sources):,} event source(s)"
        if self.compare is not None:
            inputs += f", compared with {code(self.compare['path'])}"
        if self.coverage is not None:
            inputs += f", {len(self.coverage['rules']):,} Sigma rule(s)"
        return f"{inputs} · {text(self.platform)} · sysmon-rules {text(__version__)} · {text(self.generated)}"


def collect(config: str | Path, *, events: Sequence[str | Path] = (), compare: str | Path | None = None,
            sigma: Sequence[str | Path] = (), platform: Platform = "windows", collector: str | None = None,
            strict: bool = False, warn: Callable[[str], None] | None = None, budget: int | None = None,
            per_change: bool = False, tune: int | None = None, accept_cost: bool = False) -> Report:
    """Read the config(s), lint, replay ``events`` (files, folders, ``-``) through them, and judge
    the ``sigma`` rules (files or folders) against the config.

    ``budget``: flag event types and RuleNames above this many logged events per host per day.
    ``per_change``: with ``compare``, also diff the two configs change by change (structural
    changes, witnesses, replayed events per change); this can take a minute on unrelated configs.
    ``tune``: with ``events``, tune the config to this many logged events per host per day,
    keeping the ``sigma`` rules (``accept_cost``: apply costly excludes too); see docs/tune.md.
    """
    mine, evaluator, blob = load_config(config, platform)
    report = Report(config_facts(config, mine, evaluator, is_blob=blob), platform=platform,
                    sources=tuple(str(s) for s in events),
                    generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    other = None
    if compare is not None:
        theirs, other, other_blob = load_config(compare, platform)
        report.compare = config_facts(compare, theirs, other, is_blob=other_blob)
    if events:
        report.replay = replay(evaluator, events, other=other, other_name=str(compare or ""),
                               collector=collector, strict=strict, warn=warn, budget=budget)
    if per_change and compare is not None:
        from ..diffing import diff

        report.diff = diff(config, compare, events=list(events) or None, platform=platform).to_dict()
    if sigma:
        from ..readiness import coverage  # pySigma loads only when Sigma rules are given

        report.coverage = coverage(mine, [str(p) for p in sigma], platform=platform).to_dict()
    if tune is not None and events:
        from ..tuning import tune as tuned

        report.tune = tuned(config, events, budget=tune, sigma=sigma, accept_cost=accept_cost, platform=platform,
                            collector=collector, strict=strict, warn=warn).to_dict()
    return report


def html_report(config: str | Path, *, events: Sequence[str | Path] = (), compare: str | Path | None = None,
                sigma: Sequence[str | Path] = (), platform: Platform = "windows", collector: str | None = None,
                strict: bool = False, warn: Callable[[str], None] | None = None, budget: int | None = None,
                per_change: bool = False, tune: int | None = None, accept_cost: bool = False) -> str:
    """The report page (HTML text) for ``config``; see :func:`collect` for the arguments."""
    return collect(config, events=events, compare=compare, sigma=sigma, platform=platform, collector=collector,
                   strict=strict, warn=warn, budget=budget, per_change=per_change, tune=tune,
                   accept_cost=accept_cost).to_html()
