"""Diff benchmark: `sysmon_rules.diff` on real config pairs and on the sizes issue 25 names.

Each row: CPU seconds (user + sys of this process), peak RSS, the verdict, changes, witnesses,
changes proven without effect, unknown ones, event ids proven equivalent, against a named
target. Targets (one core, idle machine):

- sysmon-modular build (its PowerShell build, ``merge --style sysmon-modular``) against the
  union merge of the same tree (a9ff298 and HEAD in shared/corpus): a decided verdict with
  witnesses in < 10 s;
- each folder of modules of that tree, its sysmon-modular build against its union: < 2 s;
- a 100,000-filter config against its own decompile: "equivalent" in < 5 s;
- the real pairs of the corpus (< 30 s each), with and without replayed events.

Prints a table; quote it with the load average. Exit 1 when a target is missed.
"""

from __future__ import annotations

import os
import resource
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SYSMON_RULES_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus"
MODULAR = CORPUS / "sysmon-modular-a9ff298"
HEAD = CORPUS / "configs" / "sysmon-modular"
SCRIPT = MODULAR / "Merge-SysmonXml.ps1"  # HEAD's tree ships no script: its templates are the same
PAIRS = [
    ("sysmon-modular a9ff298 -> HEAD", "sysmon-modular-a9ff298/sysmonconfig.xml",
     "configs/sysmon-modular/sysmonconfig.xml"),
    ("sysmon-modular default -> excludes-only", "sysmon-modular-a9ff298/sysmonconfig.xml",
     "sysmon-modular-a9ff298/sysmonconfig-excludes-only.xml"),
    ("SwiftOnSecurity -> Nextron export", "configs/swiftonsecurity/sysmonconfig-export.xml",
     "configs/nextron/sysmonconfig-export.xml"),
]


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def big_config(filters: int) -> str:
    """Eight event types, include and exclude, six conditions, names on two of three filters."""
    conditions = ["is", "contains", "begin with", "end with", "image", "contains any"]
    places = [("ProcessCreate", "CommandLine"), ("ProcessCreate", "Image"), ("FileCreate", "TargetFilename"),
              ("NetworkConnect", "DestinationHostname"), ("RegistryEvent", "TargetObject"),
              ("DnsQuery", "QueryName"), ("ImageLoad", "ImageLoaded"), ("PipeEvent", "PipeName")]
    parts = ['<Sysmon schemaversion="4.90"><EventFiltering>']
    for g, (element, field) in enumerate(places):
        for onmatch in ("include", "exclude"):
            parts.append(f'<RuleGroup name="" groupRelation="or"><{element} onmatch="{onmatch}">')
            for i in range(filters // len(places) // 2):
                name = f' name="r{g}_{i % 50}"' if i % 3 else ""
                parts.append(f'<{field}{name} condition="{conditions[i % 6]}">v{g}_{onmatch[0]}_{i}.x</{field}>')
            parts.append(f"</{element}></RuleGroup>")
    parts.append("</EventFiltering></Sysmon>")
    return "".join(parts)


class Table:
    def __init__(self) -> None:
        self.missed: list[str] = []
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"{'case':<52} {'cpu s':>7} {'target':>7} {'MiB':>6} {'changes':>8} {'witness':>8} {'none':>5} "
              f"{'unknown':>8} {'ids':>6} verdict")

    def row(self, label: str, target: float, run: Callable[[], object], want: set[str]) -> None:
        before = cpu()
        result = run()
        spent = cpu() - before
        s = result.to_dict()["summary"]  # type: ignore[attr-defined]
        events = result.events  # type: ignore[attr-defined]
        proven = sum(1 for v in events if v.status == "equivalent")
        verdict = result.verdict  # type: ignore[attr-defined]
        ok = spent <= target and verdict in want
        if not ok:
            self.missed.append(label)
        print(f"{label:<52} {spent:>7.2f} {target:>7.1f} {peak_mib():>6.0f} {s['changes']:>8} {s['witnesses']:>8} "
              f"{s['none']:>5} {s['unknown']:>8} {proven:>3}/{len(events):<2} {verdict}{'' if ok else '  MISSED'}")


def main() -> int:
    if not MODULAR.exists():
        print("skipped: corpus not found")
        return 0
    import sysmon_rules as sr
    from sysmon_rules.diffing import diff

    table = Table()
    decided = {"different", "equivalent"}
    for label, tree in (("a9ff298", MODULAR), ("HEAD", HEAD)):
        build = sr.merge([str(tree)], style="sysmon-modular", script=str(SCRIPT)).config
        union = sr.merge([str(tree)], skip_invalid=True).config
        for names in (True, False):
            table.row(f"{label} build vs union{'' if names else ', names ignored'}", 10.0,
                      lambda b=build, u=union, n=names: diff(b, u, ignore_rule_names=not n), decided)
    folders = [p for p in MODULAR.iterdir() if p.is_dir() and p.name[0].isdigit() and p.name[0] != "0"]
    for folder in sorted(p for p in folders if len(list(p.glob("*.xml"))) > 1):  # (the build needs two)
        build = sr.merge([str(folder)], style="sysmon-modular", script=str(SCRIPT)).config
        union = sr.merge([str(folder)], skip_invalid=True).config
        table.row(f"folder {folder.name} ({len(list(folder.glob('*.xml')))} modules)", 2.0,
                  lambda b=build, u=union: diff(b, u), decided)
    config = sr.loads(big_config(100_000))
    again = sr.decompile(sr.compile_config(config).data).config
    table.row("100,000 filters vs its decompile", 5.0, lambda: diff(config, again), {"equivalent"})
    for label, old, new in PAIRS:
        table.row(label, 30.0, lambda o=old, n=new: diff(CORPUS / o, CORPUS / n), decided)
    sys.path.insert(0, str(ROOT / "tests"))
    from test_engine_corpus import corpus_events

    events = list(corpus_events())
    for label, old, new in PAIRS:
        table.row(f"{label}, {len(events)} events replayed", 30.0,
                  lambda o=old, n=new: diff(CORPUS / o, CORPUS / n, events=events), decided)
    if table.missed:
        print("missed:", ", ".join(table.missed))
    return 1 if table.missed else 0


if __name__ == "__main__":
    sys.exit(main())
