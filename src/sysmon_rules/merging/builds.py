"""sysmon-modular's published builds: which template and module list makes each committed config.

Upstream publishes four merged configs, each made by ``Merge-AllSysmonXml`` from the same tree.
The script's ``-ExcludeList`` / ``-IncludeList`` need ``-BasePath``, whose rule list is sorted by
``Sort-Object`` (the ``lower`` order of :mod:`.sources`), and upstream's builds have used them
since its ``0_custom_configuration/file_delete_modules.txt`` appeared (2021-09-29): the default
config leaves out the FileDelete modules, whose archived copies fill disks (the general
template's own comment: "Default set to disabled due to disk space implications"), and
``sysmonconfig-with-filedelete.xml`` keeps them. A tree without that list (older trees, forks)
merges every module into its default, as upstream's builds did before.

A build is chosen with ``build=NAME``; with no build, template or list given, a checkout gets
``default``. Verified against upstream's committed configs; see docs/merge.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import Location, SourceError
from .psscript import GENERAL, MDE, VERBOSE

LISTS = "0_custom_configuration"


@dataclass(frozen=True, slots=True)
class Build:
    """One published config: its template and the lists (relative to the checkout) it applies.

    ``optional_exclude``: the exclude list is applied when the checkout has it, and the build is
    every module otherwise; a missing ``include`` list is an error.
    """

    name: str
    config: str
    template: str
    include: str | None = None
    exclude: str | None = None
    optional_exclude: bool = False


BUILDS: dict[str, Build] = {b.name: b for b in (
    Build("default", "sysmonconfig.xml", GENERAL, exclude=f"{LISTS}/file_delete_modules.txt",
          optional_exclude=True),
    Build("with-filedelete", "sysmonconfig-with-filedelete.xml", GENERAL),
    Build("excludes-only", "sysmonconfig-excludes-only.xml", VERBOSE, include=f"{LISTS}/all_exclude_modules.txt"),
    Build("mde-augment", "sysmonconfig-mde-augment.xml", MDE),
)}


@dataclass(frozen=True, slots=True)
class Invocation:
    """What a build means for one checkout: the template and the list files to apply."""

    build: str
    template: str
    include_list: str | None
    exclude_list: str | None
    absent_exclude: str | None = None  # the optional exclude list this checkout lacks

    def summary(self, merged: int, found: int) -> str:
        """One phrase for the CLI's summary line: the build and what its lists did."""
        if self.exclude_list is not None:
            return f"build {self.build}: {found - merged} module(s) left out by {Path(self.exclude_list).name}"
        if self.absent_exclude is not None:
            return f"build {self.build}: every module, the checkout has no {self.absent_exclude}"
        return f"build {self.build}"


def invocation(name: str, base: Path | None) -> Invocation:
    """The template and list files of build ``name`` in checkout ``base``."""
    build = BUILDS.get(name)
    if build is None:
        raise SourceError(f"unknown build {name!r} (one of {', '.join(BUILDS)})")
    if base is None:
        raise SourceError(f"build {name!r} needs a sysmon-modular checkout among the sources")
    include = _list(base, build.include, required=True)
    exclude = _list(base, build.exclude, required=not build.optional_exclude)
    absent = build.exclude if build.exclude is not None and exclude is None else None
    return Invocation(name, build.template, include, exclude, absent)


def _list(base: Path, relative: str | None, *, required: bool) -> str | None:
    if relative is None:
        return None
    path = base / relative
    if path.is_file():
        return str(path)
    if required:
        raise SourceError(f"this checkout has no {relative}", Location(str(base)))
    return None
