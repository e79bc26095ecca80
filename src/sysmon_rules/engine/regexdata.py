"""A compiled regex as plain data and back, for the compiled-config cache.

``re.compile`` parses a pattern in Python; the prefix-tree patterns of a real config (hundreds of
alternatives) took a third of a warm start. What it hands to the C engine is a list of integers
(the pattern's program), and the C engine checks any program it is given before it accepts it
("invalid SRE code"), so a program kept from an earlier run can be handed over again without the
parse. That hand-over is CPython's internal ``_sre.compile``: whatever does not fit exactly (another
interpreter, another version, a changed signature) makes :func:`from_data` answer None, and the
caller compiles the text as usual. Data is only ever reused by the interpreter build that wrote it
(:data:`ENGINE` is part of the cache key).
"""

from __future__ import annotations

import re
import sys
from array import array
from importlib import import_module
from typing import Any

_sre: Any = None
try:  # CPython's regex engine (internal: no type stubs); elsewhere every pattern is compiled from its text
    _sre = import_module("_sre")
    ENGINE: tuple[object, ...] = (sys.implementation.name, sys.version, _sre.MAGIC, _sre.CODESIZE)
except (ImportError, AttributeError):  # pragma: no cover - not CPython
    ENGINE = (sys.implementation.name, sys.version, None)

_CODE = "I" if array("I").itemsize == 4 else "L"  # the engine's code words are 32 bits (CODESIZE 4)

# (pattern text, flags, program as bytes of 32-bit words, group count); no named groups
RegexData = tuple[str, int, bytes, int]


def to_data(pattern: re.Pattern[str]) -> RegexData | None:
    """``pattern``'s program, compiled again from its text (once, when the cache is written), or
    None when this interpreter cannot hand programs over."""
    if _sre is None or pattern.groupindex or getattr(_sre, "CODESIZE", 0) != 4:
        return None
    try:
        _compiler, _parser = import_module("re._compiler"), import_module("re._parser")
        parsed = _parser.parse(pattern.pattern, pattern.flags)
        code = array(_CODE, map(int, _compiler._code(parsed, pattern.flags)))
        return pattern.pattern, pattern.flags | parsed.state.flags, code.tobytes(), parsed.state.groups - 1
    except Exception:  # an internal that changed: no data, the text is compiled on load
        return None


def from_data(data: object) -> re.Pattern[str] | None:
    """The compiled regex ``data`` (from :func:`to_data`) holds; None when it cannot be used."""
    if _sre is None or not isinstance(data, tuple) or len(data) != 4:
        return None
    text, flags, program, groups = data
    if not (isinstance(text, str) and isinstance(flags, int) and isinstance(program, bytes)
            and isinstance(groups, int) and len(program) % 4 == 0):
        return None
    code = array(_CODE)
    code.frombytes(program)
    try:
        compiled = _sre.compile(text, flags, code.tolist(), groups, {}, (None,) * (groups + 1))
    except Exception:  # refused (invalid program) or another signature
        return None
    return compiled if isinstance(compiled, re.Pattern) else None


__all__ = ["ENGINE", "RegexData", "from_data", "to_data"]
