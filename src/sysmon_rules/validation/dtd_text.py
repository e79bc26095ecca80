"""The DTD text Sysmon generates for a schema version (``manifest.tt``: ``GetDtdFormat``).

The same element tree ``DtdChecker`` walks, written out as Sysmon builds it: ``Sysmon`` (attribute
``schemaversion``) holds ``EventFiltering`` and the config options; ``EventFiltering`` holds
``RuleGroup`` and every rule element; a rule element holds ``Rule`` and its fields; ``Rule``
holds every field of every rule element. Declarations come depth first, each once, in Sysmon's
order, so an XML editor given this file checks what Windows Sysmon checks. (Sysmon's generator
repeats in ``Rule``'s content the names of fields several events share; listing each once
accepts exactly the same documents and keeps the content model deterministic for editors.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..schema import SchemaVersion

_ONMATCH = "(include|exclude) #IMPLIED"


@dataclass
class _Node:
    name: str
    content: str | None = None  # EMPTY / (#PCDATA) for leaves declared by data
    attributes: list[tuple[str, str]] = field(default_factory=list)
    children: list[_Node] = field(default_factory=list)

    def lines(self) -> list[str]:
        if self.content is not None:
            return [f"<!ELEMENT {self.name} {self.content}>"]
        names = [c.name for c in self.children] or ["#PCDATA"]
        out = [f"<!ELEMENT {self.name} ({'|'.join(names)})*>"]
        out += [f"<!ATTLIST {self.name} {a} {d}>" for a, d in self.attributes]
        for child in self.children:
            out += child.lines()
        return list(dict.fromkeys(out))


def _tree(schema: SchemaVersion) -> _Node:
    data = {name: _Node(name, attributes=[("condition", f'CDATA "{schema.default_condition}"'),
                                          ("name", "CDATA #IMPLIED")])
            for name in schema.all_field_names}
    rule = _Node("Rule", attributes=[("groupRelation", "CDATA #IMPLIED"), ("name", "CDATA #IMPLIED")],
                 children=list(data.values()))
    events = []
    for name, series in schema.rule_elements.items():
        fields = dict.fromkeys(f.name for event in series for f in event.fields)
        events.append(_Node(name, attributes=[("onmatch", _ONMATCH), ("default", _ONMATCH)],
                            children=[rule, *(data[f] for f in fields)]))
    group = _Node("RuleGroup", attributes=[("groupRelation", "(and|or) #REQUIRED"), ("name", "CDATA #IMPLIED")],
                  children=events)
    filtering = _Node("EventFiltering", children=[group, *events])
    options = [_Node(element, "EMPTY" if option.argument == "none" else "(#PCDATA)")
               for element, option in schema.config_options.items()]
    return _Node("Sysmon", attributes=[("schemaversion", "CDATA #REQUIRED")], children=[filtering, *options])


def dtd_lines(schema: SchemaVersion) -> list[str]:
    """The declarations, one per line (Sysmon wraps them in ``<!DOCTYPE Sysmon [ ... ]>``)."""
    return _tree(schema).lines()


def dtd_text(schema: SchemaVersion) -> str:
    """A standalone ``.dtd`` file for configs of this schema version."""
    header = f"<!-- Sysmon configuration DTD, schema {schema.label} (as Sysmon generates it) -->"
    return "\n".join([header, *dtd_lines(schema)]) + "\n"


def doctype(schema: SchemaVersion) -> str:
    """The internal subset Sysmon prepends to a config before validating it."""
    return "<!DOCTYPE Sysmon [\n" + "\n".join(dtd_lines(schema)) + "\n]>\n"
