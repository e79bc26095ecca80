"""ATT&CK Navigator layers (layer format 4.5, domain enterprise-attack).

``sigma_layer``: each technique tagged ``attack.tNNNN[.NNN]`` on a Sysmon rule, coloured by the
readiness of its rules (score: 100 when all are logged, 0 when none can be; partial counts half).
``config_layer``: the technique ids in the config's own RuleNames, counting an include filter only
when some event is logged under that RuleName (found by the search, confirmed by the evaluator);
exclude rules never count, nor a shadowed or cancelled include.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from .result import CoverageReport, RuleCoverage

LAYER_VERSIONS = {"layer": "4.5", "navigator": "5.1.0"}
_TAG = re.compile(r"^attack\.(t\d{4}(?:\.\d{3})?)$", re.IGNORECASE)
TECHNIQUE_IN_NAME = re.compile(r"technique_id=(T\d{4}(?:\.\d{3})?)", re.IGNORECASE)
COLOURS = {"logged": "#31a354", "partial": "#fdae6b", "dropped-in-practice": "#fc9272", "dropped": "#de2d26",
           "unsupported": "#bdbdbd"}
_WEIGHT = {"logged": 1.0, "partial": 0.5, "dropped-in-practice": 0.0, "dropped": 0.0}


def techniques(rule: RuleCoverage) -> list[str]:
    """The ATT&CK technique ids a Sigma rule is tagged with (``attack.t1059.001`` -> ``T1059.001``)."""
    out = []
    for tag in rule.tags:
        m = _TAG.match(tag)
        if m:
            out.append(m.group(1).upper())
    return out


def sigma_layer(report: CoverageReport, name: str = "Sigma readiness") -> dict[str, Any]:
    """A layer of the Sigma rules' techniques, coloured by how ready the config is for them."""
    by_technique: dict[str, list[RuleCoverage]] = defaultdict(list)
    for rule in report.rules:
        if rule.status != "not-applicable":
            for technique in techniques(rule):
                by_technique[technique].append(rule)
    entries = []
    for technique, rules in sorted(by_technique.items()):
        counts = {s: sum(r.status == s for r in rules) for s in COLOURS}
        decided = [r for r in rules if r.status in _WEIGHT]
        score = round(100 * sum(_WEIGHT[r.status] for r in decided) / len(decided)) if decided else 0
        best = next(s for s in ("logged", "partial", "dropped-in-practice", "dropped", "unsupported") if counts[s])
        entries.append({"techniqueID": technique, "score": score, "color": COLOURS[best], "enabled": True,
                        "comment": ", ".join(f"{n} {s}" for s, n in counts.items() if n),
                        "metadata": [{"name": r.status, "value": r.title} for r in rules[:20]]})
    return _layer(name, f"Readiness of {report.config or 'the config'} for Sigma rules", entries)


def config_layer(counted: dict[str, list[str]], config: str,
                 name: str = "Config RuleName techniques") -> dict[str, Any]:
    """A layer of the technique ids the config's deciding include rules name (``counted``: id -> places)."""
    entries = [{"techniqueID": t, "score": len(places), "color": COLOURS["logged"], "enabled": True,
                "comment": f"{len(places)} include rule(s): " + ", ".join(places[:10])}
               for t, places in sorted(counted.items())]
    return _layer(name, f"Techniques named by include rules of {config or 'the config'} that can decide", entries)


def _layer(name: str, description: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": name, "versions": dict(LAYER_VERSIONS), "domain": "enterprise-attack",
        "description": description, "sorting": 3, "hideDisabled": False,
        "techniques": entries,
        "gradient": {"colors": [COLOURS["dropped"], COLOURS["partial"], COLOURS["logged"]], "minValue": 0,
                     "maxValue": max([100] + [int(e["score"]) for e in entries])},
        "legendItems": [{"label": s, "color": c} for s, c in COLOURS.items()],
        "showTacticRowBackground": False, "selectTechniquesAcrossTactics": True,
        "selectSubtechniquesWithParent": False,
    }
