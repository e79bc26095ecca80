"""Evidence: real events a Sigma rule matches, and what the config decides for each of them.

Two sources: events the caller gives (any log ``evaluate`` reads, through the collectors) apply
to every rule; a SigmaHQ regression capture (``regression_data/<rule path>/info.yml`` beside the
rule folders, naming the rule's id) applies to its own rule. For each rule, the events of its
event ids that satisfy its detection (the independent pySigma-tree check) are decided by the
evaluator, Sysmon's exact decision: ``events`` matched, ``logged`` included, and every drop is
counted under the sentence naming the filter or default that dropped it (``path:line:column``).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path

import yaml

from ..engine import Decision, Evaluator
from ..errors import Location, SysmonRulesError
from ..events import Event
from .explain import why_decided
from .result import Evidence
from .sigmacheck import sigma_matches, text_fields


class EventPool:
    """Events to test rules on, grouped by event id, each decided once (decisions are cached)."""

    def __init__(self, events: Iterable[Event], sources: Sequence[str] = ()) -> None:
        self.by_id: dict[int, list[tuple[Event, dict[str, str]]]] = {}
        for event in events:
            self.by_id.setdefault(event.event_id, []).append((event, text_fields(event.fields)))
        self.sources = tuple(sources)
        self._decided: dict[int, Decision] = {}

    def __len__(self) -> int:
        return sum(len(v) for v in self.by_id.values())

    def matching(self, trees: Sequence[object], event_ids: Iterable[int]) -> list[Event]:
        """The events of ``event_ids`` that satisfy one of the detection ``trees``."""
        out = []
        for event_id in event_ids:
            for event, fields in self.by_id.get(event_id, ()):
                if any(sigma_matches(t, event_id, fields) for t in trees):
                    out.append(event)
        return out

    def evidence(self, evaluator: Evaluator, matched: Sequence[Event]) -> Evidence:
        """Decide each matched event with ``evaluator`` and count the outcomes."""
        logged = 0
        dropped: Counter[str] = Counter()
        for event in matched:
            decision = self._decide(evaluator, event)
            if decision.decision == "include":
                logged += 1
            else:
                dropped[why_decided(evaluator, event, decision)] += 1
        return Evidence(len(matched), logged, tuple(dropped.most_common()), self.sources)

    def newly_logged(self, old: Evaluator, new: Evaluator) -> int:
        """How many events of the pool ``new`` logs that ``old`` drops."""
        return sum(old.decide(e).decision == "exclude" and new.decide(e).decision == "include"
                   for events in self.by_id.values() for e, _ in events)

    def _decide(self, evaluator: Evaluator, event: Event) -> Decision:
        key = id(event)  # the pool holds its events, so ids stay unique while it lives
        found = self._decided.get(key)
        if found is None:
            found = self._decided[key] = evaluator.decide(event)
        return found


def read_events(paths: Iterable[str | os.PathLike[str]], *, strict: bool = False,
                warn: Callable[[str], None] | None = None) -> EventPool:
    """Every Sysmon event under ``paths`` (files or folders in any format ``evaluate`` reads);
    ``warn`` hears of each damaged record skipped. No Sysmon event at all is a ``NoInputError``."""
    from ..collectors import EventStream, require_events

    names = [os.fspath(p) for p in paths]
    for name in names:
        if not os.path.exists(name):
            raise SysmonRulesError("no such event log file or folder", Location(name))
    stream = EventStream(names, strict=strict, warn=warn)
    pool = EventPool(stream, names)
    require_events(stream.stats, names)
    return pool


def capture_paths(rule_path: str, rule_id: str) -> list[Path]:
    """SigmaHQ's regression captures of the rule at ``rule_path`` (none when there are none).

    SigmaHQ keeps them under ``<root>/regression_data/`` (``<root>`` holding the rule folders), one
    ``info.yml`` per rule naming its id and listing EVTX files relative to ``<root>``. The folder
    is named after the rule file, but rules get renamed: captures are found by the rule's id.
    """
    if not rule_path or not rule_id:
        return []
    for root in Path(rule_path).resolve().parents:
        if (root / "regression_data").is_dir():
            return list(_capture_index(root).get(rule_id, ()))
    return []


@lru_cache(maxsize=8)
def _capture_index(root: Path) -> dict[str, tuple[Path, ...]]:
    """rule id -> the EVTX captures listed for it under ``root/regression_data`` (read once per root)."""
    index: dict[str, list[Path]] = {}
    for info in sorted((root / "regression_data").rglob("info.yml")):
        try:
            meta = yaml.safe_load(info.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue  # not a capture we can use; the rule simply has no evidence from it
        if not isinstance(meta, dict):
            continue
        tests = [t for t in meta.get("regression_tests_info") or () if isinstance(t, dict)]
        found = [root / str(t["path"]) for t in tests if t.get("type") == "evtx" and t.get("path")]
        for rule in meta.get("rule_metadata") or ():
            if isinstance(rule, dict) and rule.get("id"):
                index.setdefault(str(rule["id"]), []).extend(p for p in found if p.is_file())
    return {k: tuple(v) for k, v in index.items()}
