"""Columnar evaluation: every row of an Arrow table decided at once, exactly as ``decide()`` would.

Why this is exact: ``decide()`` reads an event only through its filters' tests on folded field
values. For each (event id, field) the plan reads, every distinct value gets a *class*: the set
of that field's filters whose test it passes (candidates found through the plan's index, then
confirmed by the test itself). Two rows of one event id with the same class on every field pass
the same tests, so ``decide()`` gives them the same decision and RuleName. Each distinct
combination of classes (a *signature*) is therefore decided once and the answer broadcast to
the others: by ``decide()``'s own set walk (``setwalk.decide_plan``), given for each field one
value of its class and that value's candidates in the plan's index, so first match and RuleName
order are ``decide()``'s.

Why it is fast: real logs repeat Image, ParentImage, User, ... heavily, so each distinct value
is classified once per filter set (and remembered across batches), and rows are only combined
and looked up in Arrow's C++ kernels.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from ..errors import SysmonRulesError
from ..events import Event
from .compiled import CFilter, CGroup
from .conditions import folded_value
from .decision import NO_RULES_DECISIONS
from .index import Hit, Probe, Row, lookup
from .setwalk import decide_plan
from .slots import NEVER_FILTERED

if TYPE_CHECKING:
    from .decision import Decision
    from .evaluate import Evaluator
    from .index import Plan

EVENT_ID = "EventID"
DECISIONS = ("include", "exclude")
RESULT_SCHEMA = pa.schema([
    ("decision", pa.dictionary(pa.int8(), pa.string())),
    ("rule_name", pa.dictionary(pa.int32(), pa.string())),
    ("rule_set", pa.int32()),  # position of the deciding set in the rule table, null if none
])
# Signatures are combined in int64; re-number them before a product could overflow.
_KEY_LIMIT = 1 << 62
# Classified values kept per (event id, field) before the memo starts afresh (bounded memory).
_MEMO_LIMIT = 1 << 18


class FieldClasses:
    """The classes of one field's values for one event id's plan (see the module docstring).

    ``row`` is the plan's own lookups for the field: a class's candidate hits in the plan are
    those of any one of its values (``hits``), since a candidate that fails its test changes
    nothing in the walk."""

    def __init__(self, filters: list[CFilter], row: Row) -> None:
        self.filters = filters
        self.row = row
        self.ids: dict[frozenset[int], int] = {frozenset(): 0}
        self.memo: dict[str, int] = {}
        self.values: list[str | None] = [None]  # per class: one folded value that has it
        self._hits: dict[int, list[Hit]] = {}
        self._index: tuple[Row, list[int]] | None = None  # built when a value first needs it

    def _lookups(self) -> tuple[Row, list[int]]:
        if self._index is None:
            probe = Probe(-1)
            always = [i for i, f in enumerate(self.filters) if not probe.register(f, (i, 0))]
            self._index = probe.row(""), always
        return self._index

    def of(self, raw: str | None) -> int:
        value = folded_value(raw or "")
        found = self.memo.get(value)
        if found is None:
            if len(self.memo) >= _MEMO_LIMIT:
                self.memo.clear()
            row, always = self._lookups()
            candidates = {hit[0] for hit in lookup(row, value)}.union(always)
            passed = frozenset(i for i in candidates if self.filters[i].test(value))  # type: ignore[misc]
            found = self.memo[value] = self.ids.setdefault(passed, len(self.ids))
            if found == len(self.values):
                self.values.append(value)
            elif self.values[found] is None:
                self.values[found] = value
        return found

    def hits(self, class_id: int) -> list[Hit]:
        """The plan's candidate hits for values of this class."""
        found = self._hits.get(class_id)
        if found is None:
            found = self._hits[class_id] = lookup(self.row, self.value(class_id))
        return found

    def value(self, class_id: int) -> str:
        """A folded value of this class (classes are only ever named after a value had them)."""
        value = self.values[class_id]
        assert value is not None, "a class named before any value had it"
        return value


def _live_filters(plan: Plan) -> dict[int, list[CFilter]]:
    """Per field id, the filters whose outcome depends on the value (valid, alive, testable)."""
    by_field: dict[int, list[CFilter]] = {}
    for k, cset in enumerate(plan.sets):
        for item in cset.items:
            for flt in item.filters if isinstance(item, CGroup) else (item,):
                if flt.field_id in plan.valid[k] and not flt.dead and flt.test is not None:
                    by_field.setdefault(flt.field_id, []).append(flt)
    return by_field


class BatchDecider:
    """``Evaluator.decide_batch`` for one evaluator; keeps the value classes between batches."""

    def __init__(self, evaluator: Evaluator) -> None:
        self.evaluator = evaluator
        self._fields: dict[int, dict[str, FieldClasses]] = {}  # event id -> field name -> classes
        self._set_index = {id(s): i for i, s in enumerate(evaluator.table.rule_sets)}
        self._decided: dict[tuple[int, ...], Decision] = {}  # (event id, class per field) -> decision
        # per event id: the values and hits of the fields no class stands for (RuleName, unread)
        self._starts: dict[int, tuple[dict[int, str], list[Hit]]] = {}

    def decide(self, data: pa.Table | pa.RecordBatch) -> pa.Table:
        """Decision, RuleName and deciding set per row (``RESULT_SCHEMA``), in row order."""
        if isinstance(data, pa.Table):
            batches = [self._batch(b) for b in data.unify_dictionaries().to_batches()]
            return pa.Table.from_batches(batches, RESULT_SCHEMA) if batches else RESULT_SCHEMA.empty_table()
        return pa.Table.from_batches([self._batch(data)], RESULT_SCHEMA)

    def _batch(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        if batch.num_rows == 0:
            return pa.RecordBatch.from_pylist([], schema=RESULT_SCHEMA)
        ids = _event_ids(batch)
        id_codes = pc.fill_null(ids.indices, pa.scalar(0, ids.indices.type)).cast(pa.int64())
        id_values: list[int] = ids.dictionary.to_pylist()
        key = id_codes
        radix = len(id_values)
        by_name: dict[str, pa.Array | int | None] = {}  # per row classes; one class for all; absent
        for name in self._names(id_values):
            column = batch.column(name) if name in batch.schema.names else None
            if column is None or column.null_count == len(column):
                by_name[name] = None
                continue  # absent on every row: one class per event id, which the key already has
            classes, width = self._classify(column, name, id_codes, id_values)
            if width <= 1:
                by_name[name] = 0
                continue
            by_name[name] = classes
            if radix * width >= _KEY_LIMIT:
                key, radix = _renumber(key)
            key = pc.add(pc.multiply(key, _int64(width)), classes)
            radix *= width
        signatures = pc.dictionary_encode(key)
        first = _first_rows(signatures.indices, len(signatures.dictionary))
        return self._columns(self._decide_rows(ids, first, by_name), signatures.indices)

    def prepare(self, event_id: int) -> None:
        """Build what deciding rows of this id needs (its plan, each field's lookups) ahead of them."""
        for classes in self._classes_for(event_id).values():
            classes._lookups()

    def _names(self, id_values: list[int]) -> list[str]:
        names: set[str] = set()
        for event_id in id_values:
            names.update(self._classes_for(event_id))
        return sorted(names)

    def _classes_for(self, event_id: int) -> dict[str, FieldClasses]:
        found = self._fields.get(event_id)
        if found is None:
            found = {}
            if event_id not in NEVER_FILTERED:
                plan = self.evaluator.plan(event_id)
                live = _live_filters(plan)
                found = {name: FieldClasses(live[fid], row)
                         for (fid, name), row in zip(plan.fields, plan.rows, strict=True)
                         if name is not None and fid in live}
            self._fields[event_id] = found
        return found

    def _classify(self, column: pa.Array, name: str, id_codes: pa.Array,
                  id_values: list[int]) -> tuple[pa.Array, int]:
        """Per row, the class of its value of ``name`` (for its event id), and how many there are."""
        encoded = _dictionary(column)
        codes, values = encoded.indices.cast(pa.int64()), encoded.dictionary.to_pylist()
        width = len(values) + 1  # the last code stands for an absent value
        pairs = pc.add(pc.multiply(id_codes, _int64(width)), pc.fill_null(codes, _int64(len(values))))
        distinct = pc.dictionary_encode(pairs)
        values.append(None)  # code len(values): absent
        # per event id (by its code): the classifier of this field's values, None when no filter reads it
        classify = [field.of if (field := self._classes_for(e).get(name)) is not None else None for e in id_values]
        classes = []
        for pair in distinct.dictionary.to_pylist():
            id_code, code = divmod(pair, width)
            of = classify[id_code]
            classes.append(of(values[code]) if of is not None else 0)
        return pc.take(pa.array(classes, pa.int64()), distinct.indices), max(classes) + 1

    def _decide_rows(self, ids: pa.DictionaryArray, rows: list[int],
                     by_name: dict[str, pa.Array | int | None]) -> list[Decision]:
        """The decision of each given row's signature (one row per signature).

        A signature's decision is remembered by its event id and classes (class ids last across
        batches), so a signature seen in an earlier batch is not decided again."""
        chosen = pa.array(rows, pa.int64())
        event_ids: list[int] = ids.take(chosen).dictionary_decode().to_pylist()
        at = {n: c.take(chosen).to_pylist() if isinstance(c, pa.Array) else c for n, c in by_name.items()}
        # per event id, for each field its filters read: the rows' classes (a list), the one class of
        # every row (an int), or None (absent on every row), with the class of an absent value
        reads = {e: [(at[n], classes.of(None)) for n, classes in self._classes_for(e).items()] for e in set(event_ids)}
        keys = [(event_id, *(absent if found is None else found if isinstance(found, int) else found[row]
                             for found, absent in reads[event_id]))
                for row, event_id in enumerate(event_ids)]
        decided = self._decided
        todo = [key for key in dict.fromkeys(keys) if key not in decided]
        if len(decided) + len(todo) > _MEMO_LIMIT:
            decided.clear()
        for key in todo:
            decided[key] = self._decide_classes(key)
        return [decided[key] for key in keys]

    def _decide_classes(self, key: tuple[int, ...]) -> Decision:
        """``decide()`` for any event with these classes: each field's value is one of its class
        (the filters' tests give the same answers) and its candidates are that value's."""
        event_id = key[0]
        if event_id in NEVER_FILTERED:
            return self.evaluator.decide(Event.read(event_id, {}))
        plan = self.evaluator.plan(event_id)
        if not plan.sets:
            return NO_RULES_DECISIONS[plan.default]
        start = self._starts.get(event_id)
        if start is None:
            start = self._starts[event_id] = _absent_start(plan, self._classes_for(event_id))
        values, hits = dict(start[0]), list(start[1])
        for classes, class_id in zip(self._classes_for(event_id).values(), key[1:], strict=True):
            values[classes.row[0]] = classes.value(class_id)
            hits += classes.hits(class_id)
        hits.sort()
        return decide_plan(plan, values, hits)

    def _columns(self, decided: list[Decision], signature: pa.Array) -> pa.RecordBatch:
        names = sorted({d.rule_name for d in decided if d.rule_name is not None})
        name_index = {n: i for i, n in enumerate(names)}
        verdict = pc.take(pa.array([DECISIONS.index(d.decision) for d in decided], pa.int8()), signature)
        named = pc.take(pa.array([name_index.get(d.rule_name) if d.rule_name is not None else None
                                  for d in decided], pa.int32()), signature)
        sets = pc.take(pa.array([self._set_index.get(id(d.rule_set)) if d.rule_set is not None else None
                                 for d in decided], pa.int32()), signature)
        return pa.RecordBatch.from_arrays([
            pa.DictionaryArray.from_arrays(verdict, pa.array(DECISIONS, pa.string())),  # typed: no inference
            # Arrow strings are UTF-8: a lone surrogate (a blob's RuleName) is written escaped, as stdout does.
            pa.DictionaryArray.from_arrays(named, pa.array([_utf8(n) for n in names], pa.string())),
            sets,
        ], schema=RESULT_SCHEMA)


def _absent_start(plan: Plan, classes: dict[str, FieldClasses]) -> tuple[dict[int, str], list[Hit]]:
    """What ``decide()`` reads of the fields no class stands for: the RuleName field, unset while
    deciding, and fields no live filter reads, all read as absent (``-``); and ``plan.always``."""
    classified = {c.row[0] for c in classes.values()}
    values: dict[int, str] = {}
    hits = list(plan.always)
    for row in plan.rows:
        if row[0] not in classified:
            values[row[0]] = folded_value("")
            hits += lookup(row, values[row[0]])
    return values, hits


def _event_ids(batch: pa.RecordBatch) -> pa.DictionaryArray:
    if EVENT_ID not in batch.schema.names:
        raise SysmonRulesError(f"a batch to decide needs an {EVENT_ID!r} column "
                               f"(it has: {', '.join(batch.schema.names) or 'none'})")
    column = batch.column(EVENT_ID)
    if column.null_count:
        raise SysmonRulesError(f"{column.null_count} row(s) without an {EVENT_ID}")
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if not pa.types.is_integer(column.type):
        try:
            column = pc.cast(column, pa.int64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise SysmonRulesError(f"the {EVENT_ID} column holds something other than integers: {exc}") from None
    return pc.dictionary_encode(column)


def _dictionary(column: pa.Array) -> pa.DictionaryArray:
    """The column dictionary-encoded, values as strings (as the collectors render them)."""
    if pa.types.is_dictionary(column.type):
        if pa.types.is_string(column.type.value_type) or pa.types.is_large_string(column.type.value_type):
            return column
        column = column.dictionary_decode()
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        column = pc.cast(column, pa.string())
    return pc.dictionary_encode(column)


def _renumber(key: pa.Array) -> tuple[pa.Array, int]:
    encoded = pc.dictionary_encode(key)
    return encoded.indices.cast(pa.int64()), len(encoded.dictionary)


def _first_rows(signature: pa.Array, count: int) -> list[int]:
    """The first row of each signature, in signature order (``index_in`` answers the first)."""
    found: list[int] = pc.index_in(pa.array(range(count), signature.type), value_set=signature).to_pylist()
    return found


def rows(table: pa.Table | pa.RecordBatch) -> Iterator[tuple[str, str | None]]:
    """``(decision, rule_name)`` per row of a :data:`RESULT_SCHEMA` table, for tests and printing."""
    yield from zip(table.column("decision").to_pylist(), table.column("rule_name").to_pylist(), strict=True)


def _utf8(text: str) -> str:
    """``text``, or its lone surrogates as ``\\udXXX`` escapes when it has any (not UTF-8 encodable)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _int64(value: int) -> pa.Scalar:
    # A typed scalar: a Python int makes pyarrow probe for optional modules on every call.
    return pa.scalar(value, pa.int64())
