"""Environment-variable expansion of rule data, as Windows Sysmon does it in user mode.

On load, Windows Sysmon tags every filter whose (lowercased) data holds a ``%``; when such a
filter is checked, the data is expanded with the environment of the event's logon session,
lowercased and limited to MAX_PATH characters. If the expansion fails the filter does not match.
The Linux build never expands. Offline there is one session: the ``environment`` mapping given to
the evaluator (an absent mapping is an empty environment, so ``%VAR%`` stays literal).
"""

from __future__ import annotations

from collections.abc import Mapping

from .conditions import fold

MAX_PATH = 260  # WCHARs of the expansion buffer, terminator included


def expand(data: str, environment: Mapping[str, str]) -> str | None:
    """``ExpandEnvironmentStrings`` over ``data``: the folded result, or None when it fails.

    Variable names are case-insensitive; an unknown ``%NAME%`` and a lone ``%`` stay as written.
    The result must fit MAX_PATH (with its terminator), counted in UTF-16 units.
    """
    table = {fold(name): value for name, value in environment.items()}
    out: list[str] = []
    pos = 0
    while pos < len(data):
        start = data.find("%", pos)
        end = data.find("%", start + 1) if start >= 0 else -1
        if start < 0 or end < 0:
            out.append(data[pos:])
            break
        name = data[start + 1 : end]
        if name and fold(name) in table:
            out.append(data[pos:start])
            out.append(table[fold(name)])
            pos = end + 1
        else:
            # Not a variable: keep the first '%' and retry from the second, which may open one.
            out.append(data[pos:end])
            pos = end
    result = fold("".join(out))
    if len(result.encode("utf-16-le", "surrogatepass")) // 2 + 1 > MAX_PATH:
        return None
    return result
