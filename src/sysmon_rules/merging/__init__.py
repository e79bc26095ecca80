"""Merging module files into one config: ``merge(sources, style=...) -> MergeResult``.

``style="union"`` (the default) builds a config that means exactly what the modules mean
together (:mod:`.union`); ``style="sysmon-modular"`` repeats sysmon-modular's own PowerShell
build (:mod:`.modular`), templates read from the checkout's ``Merge-SysmonXml.ps1``, and warns
wherever that build changes what a module means. :func:`.check.check` compares a committed
config with what the merge builds now.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from ..errors import Diagnostic, Location, SourceError, SysmonRulesError
from ..validation import load, loads
from . import builds, conflicts, modular, psscript, union
from .dotnet import load_module as load_module_dom
from .modules import Module, load_module
from .result import MergeResult, iter_filters, render_union
from .sources import apply_lists, discover, is_checkout

__all__ = ["STYLES", "MergeResult", "merge"]

STYLES = ("union", "sysmon-modular")
# Out-File's UTF-8 files start with a BOM; upstream's committed configs do.
_OUT_FILE_ENCODING = "utf-8-sig"


def merge(sources: Sequence[str | os.PathLike[str]], *, style: str = "union", template: str | None = None,
          include_list: str | None = None, exclude_list: str | None = None, script: str | None = None,
          platform: str = "windows", skip_invalid: bool = False, annotate: bool | None = None,
          order: str = "lower", template_from: str | None = None, build: str | None = None) -> MergeResult:
    """Merge module files, folders or sysmon-modular checkouts (see docs/merge.md).

    ``template``: for ``union`` a config file whose options (and schemaversion) the output takes;
    for ``sysmon-modular`` ``general``, ``VerboseLogging``, ``MDEaugment`` or an XML file.
    ``include_list`` / ``exclude_list``: module lists relative to the (first) checkout.
    ``script``: the Merge-SysmonXml.ps1 to read (default: the checkout's own).
    ``template_from``: with no script in the checkout and none given, a build of it (the config
    ``--check`` compares) whose emptied event elements are the general template (see
    :func:`.psscript.script_from_build`).
    ``skip_invalid``: a module Sysmon rejects is skipped with a warning instead of an error.
    ``annotate``: comments naming each module (default: on for union, off for sysmon-modular,
    whose default output is upstream's, byte for byte).
    ``order``: how module paths fold case when sorted, ``lower`` (upstream's builds since 2021-09-29)
    or ``upper`` (before); see :mod:`.sources`.
    ``build``: one of sysmon-modular's published builds (:mod:`.builds`), which sets the template
    and lists; a checkout merged with none of build, template or lists gets ``default``.
    """
    if style not in STYLES:
        raise SysmonRulesError(f"unknown merge style {style!r} (one of {', '.join(STYLES)})")
    paths = [Path(s) for s in sources]
    if not paths:
        raise SourceError("no SOURCE given")
    base = next((p for p in paths if is_checkout(p)), None)
    chosen = _build_for(style, build, base, template, include_list, exclude_list)
    if chosen is not None:
        template, include_list, exclude_list = chosen.template, chosen.include_list, chosen.exclude_list
    found = discover(paths, order)
    modules = found
    if include_list or exclude_list:
        if base is None:
            raise SourceError("a module list needs a sysmon-modular checkout among the sources",
                              Location(include_list or exclude_list))
        modules = apply_lists(modules, base, include_list, exclude_list, order)
    if not modules:
        raise SourceError("the module lists leave no module to merge", Location(include_list or exclude_list))
    names = [m.as_posix() for m in modules]
    if style == "sysmon-modular":
        result = _modular(names, base, template, script, bool(annotate), template_from)
        if chosen is None:
            return result
        note = Diagnostic("build", "info", chosen.summary(len(modules), len(found)),
                          Location(chosen.exclude_list or chosen.include_list))
        return replace(result, build=chosen.build, diagnostics=(note, *result.diagnostics))
    return _union(names, template, platform, skip_invalid, True if annotate is None else annotate)


# -- sysmon-modular ------------------------------------------------------------------------------

def _build_for(style: str, build: str | None, base: Path | None, template: str | None,
               include_list: str | None, exclude_list: str | None) -> builds.Invocation | None:
    """The published build a sysmon-modular merge repeats, if any (see :mod:`.builds`)."""
    custom = template is not None or include_list is not None or exclude_list is not None
    if build is None:
        if style != "sysmon-modular" or base is None or custom:
            return None
        build = "default"
    elif style != "sysmon-modular":
        raise SourceError("a build is one of sysmon-modular's: it needs style sysmon-modular")
    elif custom:
        raise SourceError(f"build {build!r} sets the template and module lists: give the build or those, not both")
    return builds.invocation(build, base)


def _script_for(base: Path | None, script: str | None, template_from: str | None) -> psscript.ModularScript:
    if script is None:
        own = base / psscript.SCRIPT_NAME if base is not None else None
        if own is not None and own.is_file():
            script = str(own)
        elif template_from is not None:
            return psscript.script_from_build(template_from)
        else:
            raise psscript.ScriptError(f"no {psscript.SCRIPT_NAME} in the checkout: give one with --script",
                                       Location(str(base) if base else None))
    return psscript.read_script(script)


def _modular(modules: list[str], base: Path | None, template: str | None, script: str | None,
             annotate: bool, template_from: str | None = None) -> MergeResult:
    parsed = _script_for(base, script, template_from)
    name = template or psscript.GENERAL
    if name not in psscript.TEMPLATE_NAMES:  # a template file of one's own
        try:
            text = Path(name).read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise SourceError(f"cannot read template: {exc.strerror or exc}", Location(name)) from exc
        parsed = replace(parsed, templates={name: text}, template_lines={name: 1}, path=name)
    built = modular.build(modules, parsed, name, annotate=annotate)
    try:
        config = loads(built.text)
    except SysmonRulesError as exc:  # name the module the offending element came from
        found = built.origins.get(exc.location.line)
        if found is None:
            raise SysmonRulesError(f"the merged config is one Sysmon rejects: {exc}") from exc
        first = exc.as_diagnostics()[0]
        placed = SysmonRulesError(f"{first.message} (line {exc.location.line} of the merged config)",
                                  Location(modules[found[0]], found[1]))
        placed.code = first.code  # the validator's own code, not a generic one
        raise placed from exc
    origins = tuple((flt, _origin(modules, built.origins, flt)) for _, flt in iter_filters(config))
    changes: list[Diagnostic] = list(built.changes)
    for path in modules:
        doc = load_module_dom(path)
        changes.extend(modular.meaning_changes(path, doc, parsed, config.schema_version))
    return MergeResult("sysmon-modular", config, built.text, tuple(modules), origins, tuple(changes),
                       encoding=_OUT_FILE_ENCODING)


def _origin(modules: list[str], origins: dict[int, tuple[int, int]], flt: object) -> Location:
    line = getattr(flt, "location", Location()).line
    found = origins.get(line)
    return Location(modules[found[0]], found[1]) if found else Location()


def _in_module(annotated: str, platform: str) -> SysmonRulesError:
    """The error of a merged union Sysmon rejects, placed at the module its line came from."""
    try:
        loads(annotated, platform=platform)
    except SysmonRulesError as exc:
        failed = exc
    else:  # only the text without module comments fails: say so without a module
        return SysmonRulesError("the merged config is one Sysmon rejects")
    lines = annotated.splitlines()[: max(failed.location.line, 1)]
    marker = "<!-- module: "
    module = next((line.strip()[len(marker):-4] for line in reversed(lines) if line.strip().startswith(marker)), None)
    where = Location(module) if module else Location()
    return SysmonRulesError(f"the merged config is one Sysmon rejects (line {failed.location.line}): "
                            f"{failed.message}", where)


# -- union ---------------------------------------------------------------------------------------

def _load_all(paths: list[str], platform: str, skip_invalid: bool) -> tuple[list[Module], list[Diagnostic]]:
    loaded: list[Module] = []
    notes: list[Diagnostic] = []
    for path in paths:
        try:
            module, warnings = load_module(path, platform="linux" if platform == "linux" else "windows")
        except SysmonRulesError as exc:
            if not skip_invalid:
                raise
            notes.append(Diagnostic("module-skipped", "warning", f"skipped: {exc.message}", exc.location))
            continue
        loaded.append(module)
        notes.extend(w for w in warnings if w.severity != "info")
    if not loaded:
        raise SourceError("no module left to merge", Location(paths[0] if paths else None))
    return loaded, notes


def _union(paths: list[str], template: str | None, platform: str, skip_invalid: bool,
           annotate: bool) -> MergeResult:
    modules, notes = _load_all(paths, platform, skip_invalid)
    base_config = load(template, platform=platform) if template else None
    version = conflicts.output_version(modules, base_config)
    options, option_notes = conflicts.merged_options(modules, base_config)
    sections, set_notes = union.union_sections(modules, version)
    header = [f"sysmon-rules merge, union style: {len(modules)} module(s), schemaversion {version} "
              "(the newest any module needs)",
              "modules are listed in reverse merge order: Sysmon tries every exclude set before any include "
              "set, and include sets from the bottom of this file up, so when include sets of two modules "
              "match, the module first in merge order (last here) names the event",
              f"options: {'from the template ' + template if template else 'the first module setting each'}"]
    text = render_union(version, options, sections, header, annotate=annotate)
    try:
        config = loads(text, platform=platform)
    except SysmonRulesError as exc:  # e.g. one module's option that the output's version lacks
        raise _in_module(render_union(version, options, sections, header, annotate=True), platform) from exc
    origins = tuple((flt, src.location if src.location.path else Location())
                    for (_, flt), src in zip(iter_filters(config), union.section_filters(sections), strict=True))
    diagnostics = (*notes, *option_notes, *set_notes, *conflicts.conflicts([s for s in reversed(sections) if s.module]))
    return MergeResult("union", config, text, tuple(m.path for m in modules), origins, diagnostics)
