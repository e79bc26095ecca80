"""Proposals as XML: the patch module, one proposal's matcher, and the tuned config (``merge``).

The patch holds only exclude sets, one RuleGroup (``or``) per event element, each proposal a
filter or an ``and`` ``<Rule>``, without names (an unnamed filter never changes the RuleName
Sysmon reports, even when a ``<Rule>`` matches only in part). The tuned config is the union
merge of CONFIG and the patch (docs/merge.md): an event is logged when CONFIG logs it and no
exclude of the patch matches it, whatever sets CONFIG has for the type (an exclude set added
beside a lone exclude set would otherwise drop everything neither matches; the merge adds the
include-all set that keeps Sysmon's meaning).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from ..engine import Evaluator
from ..merging import MergeResult, merge
from ..model import Config, EventRules, Filter, Rule, RuleGroup
from ..schema.model import Platform
from ..validation import loads
from ..xml.writer import to_xml
from .proposals import Proposal

PATCH_NAME = "tune-patch.xml"


def _item(proposal: Proposal) -> Filter | Rule:
    filters = tuple(Filter(c.field, c.value, c.condition) for c in proposal.conditions)
    return filters[0] if len(filters) == 1 else Rule(filters, "and")


def patch_config(proposals: Sequence[Proposal], schema_version: str, onmatch: str = "exclude") -> Config:
    """A module with one ``onmatch`` set per event element holding ``proposals`` (in order)."""
    elements: dict[str, list[Filter | Rule]] = {}
    for proposal in proposals:
        elements.setdefault(proposal.element, []).append(_item(proposal))
    groups = tuple(RuleGroup((EventRules(name, tuple(items), onmatch),), "or", "") for name, items in elements.items())
    return Config(schema_version, (), groups)


def patch_text(proposals: Sequence[Proposal], schema_version: str, notes: Sequence[str] = ()) -> str:
    """The patch module's XML (``notes`` as comments before ``<Sysmon>``)."""
    return to_xml(patch_config(proposals, schema_version), notes=notes)


def matcher(proposal: Proposal, schema_version: str, platform: Platform = "windows") -> Evaluator:
    """An evaluator that includes exactly the events ``proposal`` matches (of its element's ids)."""
    text = to_xml(patch_config([proposal], schema_version, onmatch="include"))
    return Evaluator(loads(text, platform=platform), platform=platform)


def tuned(config_path: str | Path, text: str, platform: Platform = "windows", patch_name: str = PATCH_NAME
          ) -> MergeResult:
    """CONFIG merged with the patch ``text`` (union style, CONFIG's options); the merged text names
    the patch ``patch_name`` (it is merged from a temporary file)."""
    with tempfile.TemporaryDirectory(prefix="sysmon-rules-tune-") as folder:
        path = Path(folder) / PATCH_NAME
        path.write_text(text, encoding="utf-8")
        result = merge([str(config_path), str(path)], template=str(config_path), platform=platform)
    return replace(result, text=result.text.replace(str(path), patch_name))
