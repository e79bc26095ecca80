"""A rule's typical events: each selection's own literals with realistic values around them.

The witnesses of the search are the shortest values that decide; a person asks instead "will the
events this rule is written for be logged?". A typical event takes one case of the detection
(one alternative of every OR, so every alternative of the widest OR is used once), turns each
field's literals into a value Sysmon would write (``\\wmic.exe`` at the end of an image becomes
``c:\\windows\\system32\\wmic.exe``; command-line needles follow the quoted image; registry keys
start at a hive), and fills every other field of the event with a realistic value: the process
the rule is about (``OriginalFileName`` and ``Image`` agree, the command line starts with the
image) and a usual parent (Explorer, a command shell, PowerShell: one event each). An event
that does not satisfy the detection (both the formula and the independent pySigma check) is
left out; a field whose realistic value would break the case falls back to the solver's value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from ..events import Event
from ..witness.domains import TYPICAL, domain_examples, field_domain, in_domain, realize
from .detection import fieldrefs
from .fieldsolve import core_view, solve_field
from .formula import And, Atom, Const, Formula, Or, atoms, evaluate
from .sigmacheck import sigma_matches

MAX_CASES = 16
_PROGRAM_FILE = re.compile(r"[a-z0-9_. ()-]{1,60}\.(?:exe|com)")
_PROGRAM = re.compile(r"[a-z][a-z0-9_-]{1,30}(?:\.exe|\.com)?")
_PARENTS = ("c:\\windows\\explorer.exe", "c:\\windows\\system32\\cmd.exe",
            "c:\\windows\\system32\\windowspowershell\\v1.0\\powershell.exe")
_BASE = {"Image": "c:\\windows\\system32", "ParentImage": "c:\\windows\\system32",
         "SourceImage": "c:\\windows\\system32", "TargetImage": "c:\\windows\\system32",
         "ImageLoaded": "c:\\windows\\system32", "TargetFilename": "c:\\users\\user\\appdata\\local\\temp",
         "CurrentDirectory": "c:\\users\\user", "TargetObject": "hklm\\software", "PipeName": "",
         "Device": "\\device\\harddiskvolume2"}
_LEAF = {"Image": "app.exe", "ParentImage": "app.exe", "SourceImage": "app.exe", "TargetImage": "app.exe",
         "ImageLoaded": "module.dll", "TargetFilename": "file.tmp", "TargetObject": "value"}
_ROOT_FOLDERS = frozenset({"windows", "users", "program files", "program files (x86)", "programdata", "perflogs",
                           "$recycle.bin", "temp"})
_COMMAND_LINES = {"CommandLine": "Image", "ParentCommandLine": "ParentImage"}
_IMAGE_NAMES = {"OriginalFileName": ("Image", "ImageLoaded")}
_LINKED = frozenset(_COMMAND_LINES) | frozenset(_IMAGE_NAMES)  # the fields _linked can give


def cases(formula: Formula, limit: int = MAX_CASES) -> list[tuple[Atom, ...]]:
    """Up to ``limit`` conjunctions of atoms, the k-th taking alternative k of every OR."""
    width = min(_widest(formula), limit)
    out: dict[tuple[Atom, ...], None] = {}
    for k in range(max(width, 1)):
        picked: list[Atom] = []
        if _pick(formula, k, picked):
            out[tuple(picked)] = None
    return list(out)


def _widest(formula: Formula) -> int:
    if isinstance(formula, Or):
        return max(len(formula.items), *(_widest(f) for f in formula.items))
    if isinstance(formula, And):
        return max((_widest(f) for f in formula.items), default=1)
    return 1


def _pick(formula: Formula, k: int, into: list[Atom]) -> bool:
    if isinstance(formula, Atom):
        into.append(formula)
        return True
    if isinstance(formula, And):
        return all(_pick(f, k, into) for f in formula.items)
    if isinstance(formula, Or):
        return _pick(formula.items[k % len(formula.items)], k, into)
    return isinstance(formula, Const) and formula.value


def typical_events(event_id: int, field_names: tuple[str, ...], detection: Formula,
                   trees: list[object]) -> list[Event]:
    """Realistic events of ``event_id`` that satisfy ``detection`` (and the pySigma trees)."""
    out: dict[frozenset[tuple[str, str]], Event] = {}
    rejected: set[frozenset[tuple[str, str]]] = set()  # the checks below are pure: each event once
    subject = _subject(detection)
    refs = [r for t in trees for r in fieldrefs(t, field_names)]  # type: ignore[arg-type]
    contexts = _contexts(event_id, field_names)
    for case in cases(detection):
        tested = _case_values(event_id, field_names, case, subject)
        if tested is None:
            continue  # no realistic value meets the case's tests on some field
        by_field, values = tested
        rest = [(n, by_field.get(n)) for n in field_names if n not in values and n != "RuleName"]
        for context in contexts:
            fields = _filled(event_id, rest, by_field, values, context)
            if fields is None:
                continue
            _refer(fields, refs)
            key = frozenset(fields.items())
            if key in out or key in rejected:
                continue
            if not (all(in_domain(event_id, k, v) for k, v in fields.items())
                    # no realistic event takes this case (e.g. an image "\\x.exe" without a folder)
                    and evaluate(detection, lambda f, get=fields.get: get(f) or "-")  # type: ignore[misc]
                    and any(sigma_matches(t, event_id, fields) for t in trees)):
                rejected.add(key)
                continue
            out[key] = Event(event_id, fields)
    return list(out.values())


def _refer(fields: dict[str, str], refs: list[tuple[str, str, bool]]) -> None:
    """Make the rule's field references hold: equal fields share a value, unequal ones differ
    (another account, for users: the usual case of a process started across accounts)."""
    for left, right, equal in refs:
        if equal and right in fields:
            fields[left] = fields[right]
        elif not equal and fields.get(left, "-") == fields.get(right, "-"):
            fields[left] = "nt authority\\system" if fields.get(left) != "nt authority\\system" else "desktop-1\\admin"


def _contexts(event_id: int, names: tuple[str, ...]) -> list[dict[str, str]]:
    """The usual surroundings a rule does not fix: each usual parent, each event type Sysmon writes."""
    out: list[dict[str, str]] = [{}]
    if "ParentImage" in names:
        out = [{**c, "ParentImage": p} for c in out for p in _PARENTS]
    if "EventType" in names:
        kinds = field_domain(event_id, "EventType").values
        out = [{**c, "EventType": k} for c in out for k in kinds] if kinds else out
    return out


def _holding(tests: list[Atom]) -> Callable[[str], bool]:
    return lambda value: all(a.holds(value) for a in tests)


def _subject(detection: Formula) -> str | None:
    """The process a rule is about: the first image its detection names (a path end or a PE name)."""
    for atom in atoms(detection):
        if atom.negated or atom.field not in ("Image", "OriginalFileName") or atom.kind not in ("eq", "suffix"):
            continue
        value = str(atom.value)
        name = value.rsplit("\\", 1)[-1]
        if not _PROGRAM_FILE.fullmatch(name):
            continue
        if atom.field == "Image" and value[1:3] == ":\\":
            return value
        if atom.field == "OriginalFileName" or value.startswith("\\"):
            return f"{_BASE['Image']}\\{name}"
    return None


def _case_values(event_id: int, names: tuple[str, ...], case: tuple[Atom, ...],
                 subject: str | None = None) -> tuple[dict[str, list[Atom]], dict[str, str]] | None:
    """The case's atoms by field, and realistic values of the fields it tests (the same in every context)."""
    by_field: dict[str, list[Atom]] = {}
    for atom in case:
        by_field.setdefault(atom.field, []).append(atom)
    values: dict[str, str] = {}
    wanted = [f for f in by_field if f in names and any(not a.negated for a in by_field[f])]
    # Images first, then the images their PE name or command line imply, then the command lines.
    for name in [f for f in wanted if f not in _COMMAND_LINES]:
        value = _realize(event_id, name, by_field[name], values)
        if value is None:
            return None
        values[name] = value
    original = values.get("OriginalFileName")
    for name in ("Image", "ImageLoaded"):
        if name in names and name not in values and original not in (None, "-", "?"):
            values[name] = f"{_BASE[name]}\\{original}"
    for name in [f for f in wanted if f in _COMMAND_LINES]:
        image = _COMMAND_LINES[name]
        if image in names and image not in values:
            # The program the command line names, else (for the process itself) the rule's own process.
            for program in (_program(by_field[name]), subject if image == "Image" else None):
                if program and all(a.holds(program) for a in by_field.get(image, ())):
                    values[image] = program
                    break
        value = _realize(event_id, name, by_field[name], values)
        if value is None:
            return None
        values[name] = value
    return by_field, values


def _filled(event_id: int, rest: list[tuple[str, list[Atom] | None]], by_field: dict[str, list[Atom]],
            tested: dict[str, str], context: dict[str, str]) -> dict[str, str] | None:
    """The case's values with every other field of the event (``rest``, with the case's atoms on
    it) filled in ``context``, in the event's field order; None when a field cannot be filled."""
    values = dict(tested)
    for name, on_field in rest:
        if not on_field:  # the first realistic option there is
            value = context.get(name) or (name in _LINKED and _linked(name, values)) or _usual(event_id, name)
            if value:
                values[name] = value
            continue
        options = [context.get(name, ""), _linked(name, values) or "", TYPICAL.get(name, ""),
                   *domain_examples(event_id, name)]
        value = next((o for o in options if o and all(a.holds(o) for a in on_field)), None)
        if value is None:
            value = solve_field(on_field).value
        if value is None:
            return None
        values[name] = value
    for name, value in values.items():  # a solver's fallback moved into its field's domain
        if not in_domain(event_id, name, value):
            values[name] = realize(event_id, name, value, _holding(by_field.get(name, []))) or value
    return values


@lru_cache(maxsize=1024)
def _usual(event_id: int, name: str) -> str | None:
    """The value a field the rule does not test takes when no context or link gives one."""
    return next((o for o in (TYPICAL.get(name, ""), *domain_examples(event_id, name)) if o), None)


def _program(atoms: list[Atom]) -> str | None:
    """The image a command line names first (``wmic product …`` -> ``…\\wmic.exe``), when it names one."""
    _, prefix, needles, _ = _parts(atoms)
    words = (prefix or (needles[0] if needles else "")).strip().strip('"').split(" ", 1)
    first = words[0]
    if not _PROGRAM.fullmatch(first) or (len(words) == 1 and not first.endswith((".exe", ".com"))):
        return None
    return f"{_BASE['Image']}\\{first if first.endswith(('.exe', '.com')) else first + '.exe'}"


def _linked(name: str, values: dict[str, str]) -> str | None:
    """A field that follows from another: the command line from the image, the PE name from the path."""
    image = values.get(_COMMAND_LINES.get(name, ""))
    if image:
        return f'"{image}"'
    for source in _IMAGE_NAMES.get(name, ()):
        if values.get(source):
            return values[source].rsplit("\\", 1)[-1]
    return None


def _realize(event_id: int, name: str, atoms: list[Atom], values: dict[str, str]) -> str | None:
    """A realistic value meeting every atom on the field, else the solver's, else None."""
    for build in _BUILDERS:
        candidate = build(event_id, name, atoms, values)
        if candidate is not None and all(a.holds(candidate) for a in atoms):
            return candidate
    return solve_field(atoms).value


def _parts(atoms: list[Atom]) -> tuple[str | None, str, list[str], str]:
    core = [a for a in core_view(atoms) if not a.negated]
    eq = next((str(a.value) for a in core if a.kind == "eq"), None)
    prefix = max((str(a.value) for a in core if a.kind == "prefix"), key=len, default="")
    suffix = max((str(a.value) for a in core if a.kind == "suffix"), key=len, default="")
    needles = list(dict.fromkeys(str(a.value) for a in core if a.kind == "contains"))
    needles = [n for n in needles if n not in prefix and n not in suffix]
    return eq, prefix, needles, suffix


def _joined(start: str, pieces: list[str], sep: str) -> str:
    value = start
    for piece in pieces:
        if value and not value.endswith(sep) and not piece.startswith((sep, ":")):
            value += sep
        value += piece
    return value


def _as_path(event_id: int, name: str, atoms: list[Atom], values: dict[str, str]) -> str | None:
    eq, prefix, needles, suffix = _parts(atoms)
    if eq is not None:
        return eq
    if name not in _BASE:
        return None
    leaf = _LEAF.get(name, "")
    if suffix.startswith(".") and leaf:
        suffix = leaf.rsplit(".", 1)[0] + suffix
    tail = [*needles, suffix or leaf]
    start = prefix
    if not start:
        first = next((p for p in tail if p), "")
        start = _base(name, first)
    return _joined(start, [p for p in tail if p], "\\")


def _base(name: str, first: str) -> str:
    """Where a value without a prefix starts, given its first literal piece."""
    if first[1:3] == ":\\" or first.startswith("\\\\"):
        return ""  # already absolute
    if first.startswith(":\\"):
        return "c"
    if name == "TargetObject":
        head = first.lstrip("\\").split("\\", 1)[0]
        return {"software": "hklm", "system": "hklm", "services": "hklm\\system\\currentcontrolset",
                "control": "hklm\\system\\currentcontrolset", "currentcontrolset": "hklm\\system",
                "microsoft": "hklm\\software", "classes": "hklm\\software",
                "policies": "hklm\\software"}.get(head, _BASE[name])
    head = first.lstrip("\\").split("\\", 1)[0]
    if first.startswith("\\") and head in _ROOT_FOLDERS:
        return "c:"
    return _BASE[name]


def _as_command(event_id: int, name: str, atoms: list[Atom], values: dict[str, str]) -> str | None:
    eq, prefix, needles, suffix = _parts(atoms)
    if eq is not None or name not in _COMMAND_LINES:
        return eq
    image = values.get(_COMMAND_LINES[name]) or TYPICAL[_COMMAND_LINES[name]]
    named = not prefix and needles and _program([Atom(name, "contains", needles[0])]) == image
    start = prefix or ("" if named else f'"{image}"')
    return _joined(start, [p for p in [*needles, suffix] if p], " ")


def _as_text(event_id: int, name: str, atoms: list[Atom], values: dict[str, str]) -> str | None:
    eq, prefix, needles, suffix = _parts(atoms)
    if eq is not None:
        return eq
    if not (prefix or needles or suffix):
        examples = domain_examples(event_id, name)
        return next((e for e in examples if all(a.holds(e) for a in atoms)), None)
    return _joined(prefix, [p for p in [*needles, suffix] if p], " ")


_BUILDERS: tuple[Callable[[int, str, list[Atom], dict[str, str]], str | None], ...] = (
    _as_path, _as_command, _as_text)
