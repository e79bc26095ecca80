"""YAML for test files, read defensively: bounded nesting, no alias expansion blow-up, and every
failure (bad UTF-8, a NUL, ``!!int x``, deep nesting) one ``file:line: message``.

The data is plain (dicts, lists, scalars); every mapping carries its line under ``__line__``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import Location, SysmonRulesError
from ..fileio import read_input

# Test files nest four levels (file, cases, case, fields); far deeper is damage or an attack,
# and PyYAML composes recursively (2,000 levels took 2-5 s to end in RecursionError).
MAX_DEPTH = 64
# Each alias may be referenced at most this many times in total: anchors for shared fields work,
# a "billion laughs" chain does not.
MAX_ALIASES = 100


class YamlError(SysmonRulesError):
    """A test file that is not readable YAML; the message names file:line."""


def _loader() -> type:
    import yaml

    class Loader(yaml.SafeLoader):
        """SafeLoader recording each mapping's line and turning constructor crashes into errors."""

        aliases = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                self.aliases += 1
                if self.aliases > MAX_ALIASES:
                    mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                    raise yaml.composer.ComposerError(None, None, f"more than {MAX_ALIASES} aliases", mark)
            return super().compose_node(parent, index)

        def construct_object(self, node: Any, deep: bool = False) -> Any:
            try:
                return super().construct_object(node, deep)
            except (ValueError, TypeError, OverflowError, LookupError) as exc:  # `!!int x`, `!!int ""`, `!!bool x`
                raise yaml.constructor.ConstructorError(None, None, f"{node.tag} {node.value!r}: {exc}",
                                                        node.start_mark) from exc

    def construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
        mapping = loader.construct_mapping(node, deep=True)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    return Loader


def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise YamlError(f"not UTF-8 (byte 0x{data[exc.start]:02x})", Location(where, line)) from exc


def _check_flow_depth(text: str, where: str) -> None:
    """Refuse deep ``[``/``{`` nesting from the raw text: PyYAML's scanner is quadratic in it
    (4,000 ``[`` took 0.5 s to yield its first 70 events). Quotes are not tracked, so a bracket
    inside a string counts too: only an absurd file reaches the limit that way."""
    depth = 0
    for index, char in enumerate(text):
        if char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlError(f"nested more than {MAX_DEPTH} levels deep",
                                Location(where, text.count("\n", 0, index) + 1))
        elif char in "]}" and depth:
            depth -= 1


def _check_depth(text: str, where: str) -> None:
    """Refuse deep nesting from the event stream (iterative) before the recursive composer runs."""
    import yaml

    _check_flow_depth(text, where)
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark is not None else 0
                raise YamlError(f"nested more than {MAX_DEPTH} levels deep", Location(where, line))
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _line_of(exc: Exception, text: str) -> int:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        return int(mark.line) + 1
    position = getattr(exc, "position", None)  # ReaderError (a NUL, a control character)
    return text.count("\n", 0, position) + 1 if isinstance(position, int) else 0


def _message(exc: Exception) -> str:
    character = getattr(exc, "character", None)
    if isinstance(character, str) and character:  # ReaderError: which character, not only why
        return f"unacceptable character #x{ord(character):04x}: {getattr(exc, 'reason', '')}"
    text = getattr(exc, "problem", None) or str(exc)
    return " ".join(str(text).split())  # PyYAML's own text may span lines


def load_yaml(path: str | Path) -> Any:
    """The YAML document of a file; YamlError naming file:line for anything wrong with it."""
    import yaml

    where = str(path)
    data = read_input(path, stdin=False)  # an unreadable file is io's FileAccessError, as everywhere
    text = _decode(data, where)
    try:
        _check_depth(text, where)
        return yaml.load(text, Loader=_loader())
    except yaml.YAMLError as exc:
        raise YamlError(f"not valid YAML: {_message(exc)}", Location(where, _line_of(exc, text))) from exc
