"""The compiled-config cache: a replay's config as an earlier run loaded and indexed it.

Loading sysmon-modular's config (XML parse, DTD check, Sysmon's rule walk, compiling) and
indexing it (hundreds of prefix-tree regexes) was most of a replay's start-up, and all of it is
determined by the config's bytes, the options and the code. So a config that loads keeps, in one
file of :mod:`sysmon_rules.diskcache`'s folder, what the evaluator is built from:

- the rule table, as plain data; each location without the file's name (put back on load, so the
  same bytes under another name are the same entry and ``--explain`` names the file given);
- the index's matchers (``engine.index.matchers_used``): their words, implied words and regex
  programs (``engine.regexdata``), so a warm start does not parse the regexes again.

The file's name is a digest of everything that changes them: a format number, the SHA-256 of the
config's bytes, the platform, ``sysmon_compatible``, whether the bytes have a name, the digest of
the package's code and data (every module, the schema files, the grammar) and the interpreter
build; an edited config, an option or an upgrade is another name, so a stale entry is never read.
The session environment (``--env``) is not in it: it is applied when the table is compiled for
matching, and a matcher is found by its own words. A config that does not load is never cached
(its error comes from loading it, each time); a file that is damaged, foreign or not what this
code writes is ignored and replaced. Validation's warnings are not part of a replay's output, so
there are none to keep.
"""

from __future__ import annotations

import functools
import hashlib
import os
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..diskcache import cache_folder, digest_of, keep_newest, read_cached, used, writable, write_cached
from ..errors import Location
from ..ruletable import Aggregation, RuleFilter, RuleSet, RuleTable

if TYPE_CHECKING:
    from ..engine import Evaluator
    from ..engine.index import SavedMatcher
    from ..schema.model import Platform

_FORMAT = 1
_PREFIX = "config-"
_KEEP = 32  # entries kept, the most recently used (sysmon-modular's is 0.7 MB)


def cached_evaluator(data: bytes, *, path: str | None, platform: Platform, environment: dict[str, str] | None,
                     sysmon_compatible: bool) -> Evaluator:
    """The evaluator of rules ``data`` (``replaying.evaluator_from``), from the cache when it
    holds these bytes loaded with these options by this code; loaded and kept otherwise. Its
    plans are built on first use (a replay builds them while its first batch is read)."""
    from ..engine import Evaluator

    where = _entry_path(data, platform, sysmon_compatible, named=path is not None)
    if where is not None:
        table = _restore(read_cached(where), path)
        if table is not None:
            used(where)
            return Evaluator(table, environment=environment, platform=platform, eager=False)
    from ..engine.index import matchers_used
    from ..rulesource import load_rules

    keep = where is not None and writable(where.parent)  # else nothing is kept: load only
    watching: AbstractContextManager[list[SavedMatcher]] = matchers_used() if keep else nullcontext([])
    with watching as matchers:
        rules = load_rules(data, label=path, platform=platform, sysmon_compatible=sysmon_compatible)
        evaluator = Evaluator(rules.table, environment=environment, platform=rules.platform, eager=False)
        for _ in evaluator.prepare_batches() if keep else ():  # the batch lookups' matchers too (kept by it)
            pass
    if keep and where is not None:
        write_cached(where, {"format": _FORMAT, "table": _table_data(evaluator.table, path), "matchers": matchers})
        keep_newest(where.parent, f"{_PREFIX}*.marshal", _KEEP)
    return evaluator


def _entry_path(data: bytes, platform: str, sysmon_compatible: bool, *, named: bool) -> Path | None:
    folder = cache_folder()
    code = _code_digest() if folder is not None else None
    if folder is None or code is None:
        return None
    from ..engine.regexdata import ENGINE

    # named: a location is kept as "the file's name" only if there is one (unnamed bytes: an entry of their own)
    key = digest_of(_FORMAT, hashlib.sha256(data).hexdigest(), platform, sysmon_compatible, named, code, ENGINE)
    return folder / f"{_PREFIX}{key}.marshal"


@functools.cache
def _code_digest() -> str | None:
    """A digest of every file the package is made of (modules, schema files, grammar); None when
    one cannot be read (no cache then)."""
    from importlib import resources

    return files_digest([Path(__file__).parents[1], Path(str(resources.files("sysmon_rules.schema_data"))),
                         Path(str(resources.files("sysmon_rules.grammars")))])


def files_digest(roots: list[Path]) -> str | None:
    """A digest of the names and contents of the modules, schema files and grammars under
    ``roots`` (compiled bytecode left out); None when one cannot be read."""
    digest = hashlib.sha256()
    try:
        for root in roots:
            start = len(str(root)) + 1
            for folder, subfolders, files in os.walk(root):
                subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
                for name in sorted(f for f in files if f.endswith((".py", ".txt", ".lark"))):
                    file = os.path.join(folder, name)
                    with open(file, "rb") as stream:
                        content = stream.read()
                    digest.update(f"{file[start:]}\0{len(content)}\0".replace(os.sep, "/").encode())
                    digest.update(content)
    except (OSError, ValueError):
        return None
    return digest.hexdigest()


# -- the rule table as plain data (tuples, strings, numbers), locations without the file's name --

def _location_data(location: Location | None, path: str | None) -> tuple[Any, ...] | None:
    if location is None:
        return None
    # the file's own name is put back on load: 1; no name: 0; any other name as written
    named: int | str = 1 if location.path == path else 0 if location.path is None else location.path
    return named, location.line, location.column, location.node_path


def _table_data(table: RuleTable, path: str | None) -> tuple[Any, ...]:
    return (table.binary_version, table.schema_version, tuple(
        (s.event_id, s.rule_default, s.combine,
         tuple((f.field_id, f.condition, f.value, f.name, f.aggregation_id, _location_data(f.location, path))
               for f in s.filters),
         tuple((a.id, a.name, a.combine) for a in s.aggregations),
         _location_data(s.location, path))
        for s in table.rule_sets))


def _restore(entry: object, path: str | None) -> RuleTable | None:
    """The rule table a cache entry holds, its matchers made the index's; None for anything else."""
    if not isinstance(entry, dict) or entry.get("format") != _FORMAT or entry.keys() != {"format", "table", "matchers"}:
        return None
    from ..engine.index import restore_matchers

    locations: dict[tuple[Any, ...] | None, Location | None] = {None: None}

    def place(data: tuple[Any, ...] | None) -> Location | None:
        found = locations.get(data)
        if found is None:
            named, line, column, node_path = data  # type: ignore[misc]
            if not (isinstance(line, int) and isinstance(column, int) and isinstance(node_path, str)):
                raise TypeError("not a location")
            name = path if named == 1 else None if named == 0 else named
            if name is not None and not isinstance(name, str):
                raise TypeError("not a location")
            found = locations[data] = Location(name, line, column, node_path)
        return found

    try:
        binary_version, schema_version, sets = entry["table"]
        table = RuleTable(binary_version, schema_version, tuple(
            RuleSet(event_id, rule_default, combine,
                    tuple(RuleFilter(*flt[:5], location=place(flt[5])) for flt in filters),  # type: ignore[misc]
                    tuple(Aggregation(*agg) for agg in aggregations), place(where))
            for event_id, rule_default, combine, filters, aggregations, where in sets))
        if not _plain(table):
            return None
        restore_matchers(entry["matchers"])
    except (TypeError, ValueError, KeyError, IndexError):
        return None
    return table


def _plain(table: RuleTable) -> bool:
    """Every field of the right type: what a table built by loading holds."""
    return isinstance(table.binary_version, int) and isinstance(table.schema_version, int) and all(
        type(s.event_id) is int and type(s.rule_default) is int and type(s.combine) is int
        and all(type(f.field_id) is int and type(f.condition) is int and type(f.value) is str
                and type(f.name) is str and type(f.aggregation_id) is int for f in s.filters)
        and all(type(a.id) is int and type(a.name) is str and type(a.combine) is int for a in s.aggregations)
        for s in table.rule_sets)


__all__ = ["cached_evaluator"]
