"""Benchmark events as heavy as a real fleet's: half real Sysmon records, half built from the config.

The real half is every Sysmon record of the EVTX corpus (all its fields, real value lengths). The
built half takes, for each filter of the config, a real record of the filter's event id (so every
other field keeps its real value) and puts into the filter's field a value that meets (or just
misses) the filter: the value with its case changed, inside a longer value as the condition asks
(prefix for ``end with``, suffix for ``begin with``, both for ``contains``), one token of a
``contains any``/``is any`` list, a number next to a ``less than``/``more than`` bound. These are
the events the differential tests draw, made here with a seeded ``random.Random`` so every run of
the benchmark reads the same bytes.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from pathlib import Path

from sysmon_rules import load
from sysmon_rules.events import Event
from sysmon_rules.model import Config, Filter, Rule
from sysmon_rules.schema import newest

_PADDING = "abcdefghijklmnopqrstuvwxyz0123456789\\._- "


def _pad(rng: random.Random, low: int = 4, high: int = 60) -> str:
    return "".join(rng.choice(_PADDING) for _ in range(rng.randint(low, high)))


def _case(rng: random.Random, value: str) -> str:
    mode = rng.randrange(3)
    return value.lower() if mode == 0 else value.upper() if mode == 1 else value


def _meets(rng: random.Random, flt: Filter) -> str:
    """A value for which the filter's condition holds (or, for the negated ones, a fresh value)."""
    condition = (flt.condition or "is").lower()
    data = flt.value
    if condition in ("contains any", "is any", "contains all", "excludes any", "excludes all"):
        tokens = [t for t in data.split(";") if t] or [data]
        data = rng.choice(tokens) if condition != "contains all" else _pad(rng, 1, 8).join(tokens)
    if condition in ("is", "is any"):
        value = data
    elif condition in ("contains", "contains any", "contains all"):
        value = _pad(rng) + data + _pad(rng)
    elif condition == "begin with":
        value = data + _pad(rng)
    elif condition == "end with":
        value = _pad(rng) + data
    elif condition == "image":
        value = data if "\\" in data else "C:\\Program Files\\" + _pad(rng, 3, 12).replace("\\", "") + "\\" + data
    elif condition in ("less than", "more than"):
        if data.isdigit():
            step = rng.randint(1, 9) * (1 if condition == "more than" else -1)
            value = str(max(0, int(data) + step))
        else:
            value = data + "~" if condition == "more than" else data[:-1] or "!"
    else:  # is not, excludes, not begin with, not end with: a fresh long value
        value = _pad(rng, 20, 80)
    return _case(rng, value)


def _filters(config: Config) -> list[tuple[str, tuple[Filter, ...]]]:
    """(element, filters that must hold together) for every filter and every AND Rule."""
    found: list[tuple[str, tuple[Filter, ...]]] = []
    for _group, rules in config.event_rules():
        for item in rules.items:
            if isinstance(item, Rule):
                if (item.group_relation or "or").lower() == "and":
                    found.append((rules.element, item.filters))
                else:
                    found.extend((rules.element, (flt,)) for flt in item.filters)
            else:
                found.append((rules.element, (item,)))
    return found


def built_events(config_path: Path, real: list[Event], count: int, seed: int = 19) -> list[Event]:
    """``count`` events from the config's own values on top of real records of the same id."""
    rng = random.Random(seed)
    config = load(config_path)
    schema = newest("windows")
    by_id: dict[int, list[Event]] = defaultdict(list)
    for event in real:
        by_id[event.event_id].append(event)
    targets = []
    for element, filters in _filters(config):
        ids = [e.id for e in schema.rule_elements.get(element, ())]
        bases = [e for i in ids for e in by_id.get(i, ())]
        if bases:
            targets.append((filters, bases))
    events: list[Event] = []
    while len(events) < count:
        filters, bases = targets[len(events) % len(targets)]
        base = rng.choice(bases)
        fields = dict(base.fields)
        for flt in filters:
            if flt.field in fields:
                fields[flt.field] = _meets(rng, flt)
        events.append(Event(base.event_id, fields))
    return events


def mixed_lines(config_path: Path, real: list[Event], count: int) -> list[str]:
    """``count`` JSON lines ``{"EventID", "fields"}``: real records and built ones, interleaved."""
    half = count // 2
    reals = (real * (half // max(1, len(real)) + 1))[:half]
    built = built_events(config_path, real, count - half)
    mixed = [e for pair in zip(reals, built, strict=False) for e in pair] + built[len(reals):]
    return [json.dumps({"EventID": e.event_id, "fields": dict(e.fields)}) for e in mixed]
