"""What a merge returns: the config, its text, the diagnostics, and where every filter came from."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ..errors import Diagnostic, Location
from ..model import Config, EventRules, Filter, Option, Rule, RuleGroup
from ..xml.writer import Writer, comment
from .union import Section


@dataclass(frozen=True, slots=True)
class MergeResult:
    """A merged config.

    ``config`` is the output as Sysmon reads it back (locations point into ``text``); ``origins``
    pairs every filter of ``config``, in document order, with the module file:line it came from
    (``Location()`` for a filter the merge itself added); ``modules`` lists the module files in
    merge order; ``encoding`` is how ``text`` is written to a file; ``build`` names the
    sysmon-modular published build it repeats (:mod:`.builds`), if any.
    """

    style: str
    config: Config
    text: str
    modules: tuple[str, ...]
    origins: tuple[tuple[Filter, Location], ...]
    diagnostics: tuple[Diagnostic, ...] = ()
    encoding: str = "utf-8"
    build: str | None = None

    def data(self) -> bytes:
        """The bytes to write: deterministic for the same inputs."""
        return self.text.encode(self.encoding)

    def to_dict(self) -> dict[str, object]:
        """Modules, diagnostics and every filter with its event, onmatch and module file:line
        (``merge --format json``)."""
        filters = [
            {"event": ev.element, "onmatch": ev.onmatch, "field": flt.field, "condition": flt.condition or "is",
             "value": flt.value, "name": flt.name, "module": loc.path, "line": loc.line}
            for (ev, flt), (_, loc) in zip(iter_filters(self.config), self.origins, strict=True)
        ]
        return {"style": self.style, "build": self.build, "schemaversion": self.config.schema_version,
                "modules": list(self.modules), "diagnostics": [str(d) for d in self.diagnostics], "filters": filters}


def iter_filters(config: Config) -> Iterator[tuple[EventRules, Filter]]:
    """Every filter of a config in document order, with its event element."""
    for _, ev in config.event_rules():
        for item in ev.items:
            for flt in (item.filters if isinstance(item, Rule) else (item,)):
                yield ev, flt


def render_union(version: str, options: Sequence[Option], sections: Sequence[Section],
                 notes: Sequence[str], *, annotate: bool = True) -> str:
    """The union output: header notes, options, then each module's nodes after a comment naming it."""
    writer = Writer()
    writer.emit(0, f'<Sysmon{writer.attrs([("schemaversion", version)])}>')
    for option in options:
        writer.option(option)
    writer.emit(1, "<EventFiltering>")
    for section in sections:
        if section.module is None:
            writer.emit(2, comment("added by the merge: one set that includes every event of a type "
                                   "with two or more exclude sets and no include set"))
        elif annotate:
            writer.emit(2, comment(f"module: {section.module.path}"))
        for node in section.nodes:
            if isinstance(node, RuleGroup):
                writer.group(node)
            else:
                writer.event(2, node)
    writer.emit(1, "</EventFiltering>")
    writer.emit(0, "</Sysmon>")
    head = ['<?xml version="1.0" encoding="UTF-8"?>', *(comment(n) for n in notes)]
    return "\n".join(head + writer.lines) + "\n"
