"""The embedded schema files as statements: parsed with the Lark grammar, kept in a cache.

``grammars/schema.lark`` defines the format (see docs/schema-format.md); :func:`parse` turns one
file into its statements, plain tuples, lists, dicts and strings:

- ``("header", (version, {attribute: value}))``, always first;
- ``("filters", ({"default": condition}, "is,is not,..."))``;
- ``("options", [name, ...])`` and ``("events", [id, ...])``: a full order;
- ``("option", ((attribute, value), ...))``;
- ``("event", (((attribute, value), ...), [((attribute, value), ...), ...]))``: the event's
  attributes and its ``data`` lines.

Parsing every version (the newest schema is the whole chain of deltas) took a quarter of a
second, on every start. :func:`parse_all` therefore keeps the statements of all files in one
cache file, named by a digest of everything they are derived from: the files' text, the
grammar, and this module's source (the statements' shape). Any change there is a new name, so a
stale cache is never read; a cache file that does not check out (its payload digest, its names)
is parsed afresh. The folder and the file checks are :mod:`sysmon_rules.diskcache`'s. Caches of
other versions of the files are left alone (another installed version of the package may use them).
"""

from __future__ import annotations

import functools
import hashlib
import marshal
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..diskcache import CACHE_ENV, cache_folder, read_cached, write_cached

if TYPE_CHECKING:
    from lark import Lark

Statement = tuple[str, Any]
_PREFIX = "schema-statements-"
__all__ = ["CACHE_ENV", "Statement", "cache_folder", "parse", "parse_all"]


def _grammar() -> str:
    return resources.files("sysmon_rules.grammars").joinpath("schema.lark").read_text("utf-8")


@functools.cache
def _parser() -> Lark:
    # lark (and its grammar compilation) only on a cache miss: a warm start never imports it.
    from lark import Lark, Token, Transformer

    def unquote(token: Token) -> str:
        text = str(token)
        if text.startswith('"'):
            return text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        return text

    class ToStatements(Transformer[Token, object]):
        def attr(self, items: list[Token]) -> tuple[str, str]:
            return str(items[0]), unquote(items[1])

        def header(self, items: list[object]) -> Statement:
            return "header", (str(items[0]), dict(items[1:]))  # type: ignore[arg-type]

        def filters(self, items: list[object]) -> Statement:
            return "filters", (dict([items[0]]), unquote(items[1]))  # type: ignore[arg-type]

        def options(self, items: list[Token]) -> Statement:
            return "options", [str(t) for t in items]

        def events(self, items: list[Token]) -> Statement:
            return "events", [str(t) for t in items]

        def option(self, items: list[tuple[str, str]]) -> Statement:
            return "option", tuple(items)

        def data(self, items: list[tuple[str, str]]) -> tuple[str, str, object]:
            return "data", "", tuple(items)

        def event(self, items: list[object]) -> Statement:
            attrs = tuple(i for i in items if isinstance(i, tuple) and len(i) == 2)
            data = [i[2] for i in items if isinstance(i, tuple) and len(i) == 3]
            return "event", (attrs, data)

        def start(self, items: list[object]) -> list[object]:
            return items

    # The transformer runs inside the LALR parser: no parse tree is built (a third of the time).
    return Lark(_grammar(), parser="lalr", transformer=ToStatements())


def parse(text: str) -> list[Statement]:
    """The statements of one schema file (a ``lark`` error for text outside the grammar)."""
    statements = _parser().parse(text)
    assert isinstance(statements, list)
    return statements


def parse_all(texts: Mapping[str, str]) -> dict[str, list[Statement]]:
    """:func:`parse` of every file (name -> text), from the cache when it holds exactly these."""
    folder = cache_folder()
    if folder is None:
        return {name: parse(text) for name, text in texts.items()}
    path = folder / f"{_PREFIX}{_key(texts)}.marshal"
    cached = read_cached(path)
    if isinstance(cached, dict) and cached.keys() == texts.keys():
        return cached
    parsed = {name: parse(text) for name, text in texts.items()}
    write_cached(path, parsed)
    return parsed


def _key(texts: Mapping[str, str]) -> str:
    digest = hashlib.sha256(marshal.dumps((marshal.version, _grammar(), Path(__file__).read_bytes())))
    for name, text in texts.items():
        digest.update(marshal.dumps((name, text)))
    return digest.hexdigest()[:32]
