"""ATT&CK from Sigma tags: which techniques (per tactic) the rules cover, and how many are logged.

Sigma tags a rule ``attack.<tactic>`` (``attack.defense-evasion``) and ``attack.t<id>``
(``attack.t1059.001``). The heat map shows parent techniques (T1059) under each tactic the
rules name, coloured by a readiness score over their applicable rules (logged, partial or
dropped): logged counts 1, partial 1/2, dropped 0, so all-logged is 1 (green), all-partial 1/2
(amber) and all-dropped 0 (red, the config blinds those detections).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

# Enterprise ATT&CK tactics in matrix order, as Sigma spells them in tags. ATT&CK v18 split
# defense-evasion into stealth and defense-impairment (SigmaHQ's rules use the new names); rules
# written before keep the old one, so all three are listed where defense-evasion stood.
TACTICS = ("reconnaissance", "resource-development", "initial-access", "execution", "persistence",
           "privilege-escalation", "defense-evasion", "stealth", "defense-impairment", "credential-access",
           "discovery", "lateral-movement", "collection", "command-and-control", "exfiltration", "impact")
NO_TACTIC = "(no tactic tag)"
PER_LINE = 16  # tiles in one line of the heat map; a tactic with more techniques wraps
APPLICABLE = ("logged", "partial", "dropped-in-practice", "dropped")
_TECHNIQUE = re.compile(r"attack\.(t\d{4})(?:\.\d{3})?", re.IGNORECASE)


def tactics_and_techniques(tags: Iterable[str]) -> tuple[list[str], list[str]]:
    """The tactics (matrix order) and parent technique ids (``T1059``) named by a rule's tags."""
    lowered = {t.lower() for t in tags}
    tactics = [t for t in TACTICS if f"attack.{t}" in lowered]
    techniques = sorted({m.group(1).upper() for t in lowered if (m := _TECHNIQUE.fullmatch(t))})
    return tactics, techniques


def heat_cells(rules: Iterable[Mapping[str, Any]]) -> list[dict[str, object]]:
    """One tile per (tactic, technique): rules, per-status counts, readiness score, and its place.

    Tactics run down in matrix order, their techniques across in id order, PER_LINE to a line;
    ``line`` numbers the lines of the whole map, ``slot`` is the position within a line.
    """
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for rule in rules:
        tactics, techniques = tactics_and_techniques(rule.get("tags", ()))
        for tactic in tactics or [NO_TACTIC]:
            for technique in techniques:
                c = counts.setdefault((tactic, technique), dict.fromkeys(("rules", *APPLICABLE), 0))
                c["rules"] += 1
                if rule["status"] in APPLICABLE:
                    c[rule["status"]] += 1
    cells: list[dict[str, object]] = []
    line, previous, index = -1, None, 0
    for (tactic, technique), c in sorted(counts.items(), key=lambda kv: (_order(kv[0][0]), kv[0][1])):
        index = index + 1 if tactic == previous else 0
        if index % PER_LINE == 0:
            line += 1
        previous = tactic
        applicable = sum(c[s] for s in APPLICABLE)
        cells.append({"tactic": tactic, "technique": technique, **c, "line": line, "slot": index % PER_LINE,
                      "first": index == 0, "score": score(c) if applicable else None})
    return cells


def score(counts: Mapping[str, int]) -> float:
    """Readiness of a group of rules: logged 1, partial 1/2, dropped 0, averaged."""
    applicable = sum(counts[s] for s in APPLICABLE)
    return (counts["logged"] + counts["partial"] / 2) / applicable


def _order(tactic: str) -> int:
    return TACTICS.index(tactic) if tactic in TACTICS else len(TACTICS)


def line_labels(cells: Iterable[Mapping[str, object]]) -> dict[str, str]:
    """The tactic name to show beside the first line of each tactic (others stay blank)."""
    return {str(c["line"]): str(c["tactic"]) for c in cells if c["first"]}
