"""``merge --check EXISTING``: does a committed config still say what its modules say?

Both configs are compiled; equal rule blobs pass. Otherwise every rule item (a filter or a
``<Rule>`` of a set, with its event element and onmatch) is counted on both sides: the modules
owning items EXISTING lacks are named ("missing or different"), and items only EXISTING has are
located in it ("no module has them now"). Equal items in another order are reported as such,
since order alone changes RuleNames.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..blob.compile import compile_config
from ..errors import Location
from ..model import Config, Filter, Rule
from .result import MergeResult

Key = tuple[str, str, Filter | Rule]


@dataclass(frozen=True, slots=True)
class CheckReport:
    """The verdict of :func:`check`; ``lines`` say it for people."""

    same_blob: bool
    changed_modules: dict[str, int] = field(default_factory=dict)  # module -> items EXISTING lacks
    stale: tuple[Location, ...] = ()  # items only EXISTING has
    reordered: bool = False

    @property
    def ok(self) -> bool:
        return self.same_blob

    def lines(self, existing: str) -> list[str]:
        if self.same_blob:
            return [f"{existing}: up to date (same rule blob as the merge)"]
        out = [f"{existing}: stale: its rule blob differs from what the merge builds now"]
        out += [f"{module}: {count} rule(s) missing or different in {existing}"
                for module, count in self.changed_modules.items()]
        out += [f"{where}: rule no module has now" for where in self.stale]
        if self.reordered:
            out.append(f"{existing}: the same rules in another order or grouping (RuleNames can differ)")
        return out


def _items(config: Config) -> Iterator[tuple[Key, Filter | Rule]]:
    for _, ev in config.event_rules():
        for item in ev.items:
            yield (ev.element, (ev.onmatch or "").lower(), item), item


_ADDED = "(added by the merge)"


def _module_of(owners: dict[int, str], item: Filter | Rule) -> str:
    first = item.filters[0] if isinstance(item, Rule) and item.filters else item
    return owners.get(id(first)) or _ADDED


def check(existing: Config, result: MergeResult) -> CheckReport:
    """Compare a committed config with a fresh merge."""
    if compile_config(existing).data == compile_config(result.config).data:
        return CheckReport(True)
    have = Counter(key for key, _ in _items(existing))
    want = Counter(key for key, _ in _items(result.config))
    owners = {id(flt): where.path or _ADDED for flt, where in result.origins}
    changed: Counter[str] = Counter()
    budget = have.copy()
    for key, item in _items(result.config):
        if budget[key] > 0:
            budget[key] -= 1
        else:
            changed[_module_of(owners, item)] += 1
    spare = want.copy()
    stale = []
    for key, item in _items(existing):
        if spare[key] > 0:
            spare[key] -= 1
        else:
            stale.append(item.location)
    ordered = {m: changed[m] for m in [*result.modules, _ADDED] if changed[m]}
    return CheckReport(False, ordered, tuple(stale), reordered=not ordered and not stale)
