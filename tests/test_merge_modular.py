"""``merge --style sysmon-modular``: upstream's own build outputs, reproduced from its own tree and script."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import sysmon_rules as sr
from sysmon_rules.cli import main
from sysmon_rules.merging import merge
from sysmon_rules.merging.builds import BUILDS
from sysmon_rules.merging.psscript import ScriptError, read_script
from sysmon_rules.merging.sources import SourceError, read_list

A9FF298 = "corpus/sysmon-modular-a9ff298"
HEAD = "corpus/configs/sysmon-modular"
LISTS = "0_custom_configuration"

# The committed config -> the invocation that rebuilds it (template, include list, exclude list).
INVOCATIONS = {
    "sysmonconfig-with-filedelete.xml": (None, None, None),
    "sysmonconfig.xml": (None, None, "file_delete_modules.txt"),
    "sysmonconfig-excludes-only.xml": ("VerboseLogging", "all_exclude_modules.txt", None),
    "sysmonconfig-mde-augment.xml": ("MDEaugment", None, None),
}


@pytest.fixture(scope="module")
def tree(shared_dir: Path) -> Path:
    return shared_dir / A9FF298


@pytest.mark.parametrize("committed", sorted(INVOCATIONS))
def test_rebuilds_each_committed_config_byte_for_byte(tree: Path, committed: str) -> None:
    template, include, exclude = INVOCATIONS[committed]
    result = merge([tree], style="sysmon-modular", template=template or "general",
                   include_list=str(tree / LISTS / include) if include else None,
                   exclude_list=str(tree / LISTS / exclude) if exclude else None)
    expected = (tree / committed).read_bytes()
    assert sr.to_blob(result.config) == sr.to_blob(sr.load(tree / committed))
    assert result.data() == expected


@pytest.mark.parametrize("name", sorted(BUILDS))
def test_each_published_build_is_its_committed_config(tree: Path, name: str) -> None:
    # The named build is the explicit invocation above, and rebuilds its committed config.
    result = merge([tree], style="sysmon-modular", build=name)
    assert result.build == name
    assert result.data() == (tree / BUILDS[name].config).read_bytes()


def test_cli_plain_build_is_the_published_default(tree: Path, tmp_path: Path) -> None:
    # No build, template or list: upstream's default, every module but the FileDelete list's.
    out = tmp_path / "X.xml"
    run = CliRunner().invoke(main, ["merge", "--style", "sysmon-modular", str(tree), "-o", str(out)])
    assert run.exit_code == 0, run.output
    assert "build default: 8 module(s) left out by file_delete_modules.txt" in run.stderr
    assert sr.to_blob(sr.load(out)) == sr.to_blob(sr.load(tree / "sysmonconfig.xml"))
    every = merge([tree], style="sysmon-modular", template="general")  # the CI step: every module
    assert every.build is None and every.data() == (tree / "sysmonconfig-with-filedelete.xml").read_bytes()
    left_out = set(every.modules) - set(merge([tree], style="sysmon-modular").modules)
    assert {Path(m).parent.name for m in left_out} == {"23_file_delete"} and len(left_out) == 8


def test_a_tree_without_the_filedelete_list_merges_every_module_into_its_default(tree: Path,
                                                                                tmp_path: Path) -> None:
    bare = tmp_path / "tree"
    shutil.copytree(tree, bare, ignore=shutil.ignore_patterns("file_delete_modules.txt"))
    result = merge([bare], style="sysmon-modular")
    assert result.build == "default"
    assert "every module, the checkout has no 0_custom_configuration/file_delete_modules.txt" in \
        next(d.message for d in result.diagnostics if d.code == "build")
    assert result.data() == (tree / "sysmonconfig-with-filedelete.xml").read_bytes()
    # The excludes-only build needs its include list: without it, a one-line error naming the checkout.
    lacking = tmp_path / "lacking"
    shutil.copytree(tree, lacking, ignore=shutil.ignore_patterns("all_exclude_modules.txt"))
    with pytest.raises(SourceError, match=r"no 0_custom_configuration/all_exclude_modules\.txt") as raised:
        merge([lacking], style="sysmon-modular", build="excludes-only")
    assert raised.value.location.path == str(lacking)


def test_a_build_and_a_template_or_list_together_are_refused(tree: Path) -> None:
    with pytest.raises(SourceError, match="not both"):
        merge([tree], style="sysmon-modular", build="default", template="MDEaugment")
    with pytest.raises(SourceError, match="style sysmon-modular"):
        merge([tree], build="default")
    run = CliRunner().invoke(main, ["merge", "--style", "sysmon-modular", str(tree), "--build", "mde-augment",
                                    "--exclude-list", str(tree / LISTS / "file_delete_modules.txt"), "-o", "x.xml"])
    assert run.exit_code == 2 and len(run.stderr.strip().splitlines()) == 1 and "not both" in run.stderr


def test_check_names_the_modules_changed_since_the_head_trees_build(shared_dir: Path, tree: Path) -> None:
    head = shared_dir / HEAD
    args = ["merge", "--style", "sysmon-modular", str(head), "--script", str(tree / "Merge-SysmonXml.ps1"),
            "--exclude-list", str(tree / LISTS / "file_delete_modules.txt"),
            "--check", str(head / "sysmonconfig.xml")]
    run = CliRunner().invoke(main, args)
    assert run.exit_code == 1
    named = {line.split(":")[0] for line in run.stdout.splitlines() if "missing or different" in line}
    assert str(head / "7_image_load" / "include_minidumpwritedump.xml") in named
    assert str(head / "17_18_pipe_event" / "include_Havoc_C2.xml") in named
    assert all(Path(p).is_file() for p in named) and len(named) >= 5


def test_check_passes_on_the_config_the_build_committed(tree: Path) -> None:
    args = ["merge", "--style", "sysmon-modular", str(tree), "--template", "MDEaugment",
            "--check", str(tree / "sysmonconfig-mde-augment.xml")]
    run = CliRunner().invoke(main, args)
    assert run.exit_code == 0, run.output
    assert "up to date" in run.stdout


def test_templates_are_read_from_the_checkouts_script(tree: Path, tmp_path: Path) -> None:
    # A fork whose general template logs ClipboardChange differently and hashes with md5 only.
    text = (tree / "Merge-SysmonXml.ps1").read_text("utf-8")
    fork = text.replace("<HashAlgorithms>*</HashAlgorithms>", "<HashAlgorithms>md5</HashAlgorithms>", 1)
    script = tmp_path / "Merge-SysmonXml.ps1"
    script.write_text(fork, "utf-8")
    folder = tree / "1_process_creation"
    result = merge([folder / "include_bitsadmin.xml", folder / "exclude_splunk.xml"], style="sysmon-modular",
                   script=str(script))
    assert result.config.option("HashAlgorithms").value == "md5"  # type: ignore[union-attr]
    parsed = read_script(tree / "Merge-SysmonXml.ps1")
    assert set(parsed.templates) == {"general", "VerboseLogging", "MDEaugment"}
    assert parsed.event_keys[0] == "ProcessCreate" and "FileExecutableDetected" in parsed.event_keys


def test_a_script_without_the_known_merge_loop_is_refused(tmp_path: Path) -> None:
    script = tmp_path / "Merge-SysmonXml.ps1"
    script.write_text("function Merge-AllSysmonXml { }\n", "utf-8")
    with pytest.raises(ScriptError, match=r"Merge-SysmonXml\.ps1"):
        read_script(script)


def test_module_lists_in_both_encodings(tree: Path, tmp_path: Path) -> None:
    utf16 = read_list(tree / LISTS / "all_exclude_modules.txt")  # UTF-16LE, BOM, CRLF, backslashes
    assert utf16[0] == (1, "1_process_creation/exclude_adobe_acrobat.xml")
    utf8 = read_list(tree / LISTS / "file_delete_modules.txt")  # UTF-8, LF, slashes
    assert all(entry.startswith("23_file_delete/") for _, entry in utf8) and len(utf8) == 8
    no_bom = tmp_path / "l.txt"
    no_bom.write_bytes("\\7_image_load\\include_lsass.xml\r\n".encode("utf-16-le"))
    assert read_list(no_bom) == [(1, "7_image_load/include_lsass.xml")]


MODULE = """<Sysmon schemaversion="4.22">
  <HashAlgorithms>md5</HashAlgorithms>
  <EventFiltering>
    <RuleGroup name="pair" groupRelation="and">
      <ProcessCreate onmatch="include">
        <Image condition="end with">a.exe</Image>
        <User condition="is">x</User>
      </ProcessCreate>
    </RuleGroup>
    <RuleGroup groupRelation="or">
      <NetworkConnect>
        <DestinationPort condition="is">22</DestinationPort>
      </NetworkConnect>
    </RuleGroup>
    <DnsQuery onmatch="exclude">
      <QueryName condition="end with">.local</QueryName>
    </DnsQuery>
  </EventFiltering>
</Sysmon>
"""


def test_every_change_of_meaning_is_a_warning_with_file_and_line(tmp_path: Path, tree: Path) -> None:
    module = tmp_path / "1_x" / "m.xml"
    module.parent.mkdir()
    module.write_text(MODULE, "utf-8")
    other = tree / "1_process_creation" / "include_bitsadmin.xml"
    result = merge([module, other], style="sysmon-modular", script=str(tree / "Merge-SysmonXml.ps1"))
    found = {(d.code, d.location.line) for d in result.diagnostics if d.location.path == str(module)}
    assert found == {("options-dropped", 2), ("schemaversion-dropped", 1), ("relation-widened", 4),
                     ("name-dropped", 4), ("onmatch-defaulted", 11), ("filters-dropped", 15)}
    evaluator = sr.Evaluator(result.config)
    # Widened: either filter alone now includes, and the RuleGroup's name is gone.
    assert evaluator.decide(sr.Event(1, {"Image": "C:\\a.exe"})).decision == "include"
    assert evaluator.decide(sr.Event(1, {"Image": "C:\\a.exe"})).rule_name is None
    alone = sr.Evaluator(sr.load(module, sysmon_compatible=True))
    assert alone.decide(sr.Event(1, {"Image": "C:\\a.exe"})).decision == "exclude"


def test_fewer_than_two_modules_is_upstreams_error(tree: Path) -> None:
    with pytest.raises(sr.SysmonRulesError, match="At least 2"):
        merge([tree / "1_process_creation" / "include_bitsadmin.xml"], style="sysmon-modular",
              script=str(tree / "Merge-SysmonXml.ps1"))


def test_provenance_names_module_and_line(tree: Path) -> None:
    folder = tree / "1_process_creation"
    modules = [folder / "include_bitsadmin.xml", folder / "exclude_splunk.xml"]
    result = merge(modules, style="sysmon-modular", script=str(tree / "Merge-SysmonXml.ps1"))
    where = {flt.value: loc for flt, loc in result.origins}
    assert where["bitsadmin.exe"].path == modules[0].as_posix()
    line = where["bitsadmin.exe"].line
    assert "bitsadmin.exe" in modules[0].read_text("utf-8").splitlines()[line - 1]


def test_annotated_output_names_modules_and_compiles_the_same(tree: Path) -> None:
    folder = tree / "1_process_creation"
    modules = [folder / "include_bitsadmin.xml", folder / "exclude_splunk.xml"]
    plain = merge(modules, style="sysmon-modular", script=str(tree / "Merge-SysmonXml.ps1"))
    annotated = merge(modules, style="sysmon-modular", script=str(tree / "Merge-SysmonXml.ps1"), annotate=True)
    assert sr.to_blob(plain.config) == sr.to_blob(annotated.config)
    assert all(f"<!-- module: {m.as_posix()} -->" in annotated.text for m in modules)


def test_module_docstring_examples_run() -> None:
    import doctest

    from sysmon_rules.merging import sources

    result = doctest.testmod(sources)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize(("order", "first"), [("lower", "include_a_b.xml"), ("upper", "include_ab.xml")])
def test_module_order_folds_case_as_upstreams_builds_did(tmp_path: Path, tree: Path, order: str, first: str) -> None:
    folder = tmp_path / "1_process_creation"
    folder.mkdir()
    for name in ("include_ab.xml", "include_a_b.xml"):
        (folder / name).write_text(
            f'<Sysmon schemaversion="4.90"><EventFiltering><RuleGroup groupRelation="or">'
            f'<ProcessCreate onmatch="include"><Image name="{name}" condition="end with">x.exe</Image>'
            f"</ProcessCreate></RuleGroup></EventFiltering></Sysmon>", "utf-8")
    result = merge([tmp_path], style="sysmon-modular", script=str(tree / "Merge-SysmonXml.ps1"), order=order)
    assert Path(result.modules[0]).name == first
    assert sr.Evaluator(result.config).decide(sr.Event(1, {"Image": "C:\\x.exe"})).rule_name == first


def test_what_upstreams_build_changes_in_the_a9ff298_modules(tree: Path) -> None:
    result = merge([tree], style="sysmon-modular", build="with-filedelete")  # every module
    found = {(d.code, d.severity, Path(d.location.path or "").name) for d in result.diagnostics
             if d.code not in ("schemaversion-dropped", "build")}
    assert found == {
        ("options-dropped", "warning", "include_windowsupdate_autostart.xml"),  # HashAlgorithms, CheckRevocation
        ("options-dropped", "warning", "include_interesting_files.xml"),  # ArchiveDirectory
        ("name-dropped", "warning", "include_windows_disabling_security_services.xml"),
        ("name-dropped", "info", "exclude_rdp_over_udp.xml"),  # an exclude set: the name is never seen
        ("misplaced-rules", "warning", "include_cve_2021_40444.xml"),  # <FileCreate> where EventFiltering belongs
    }
    # The dropped RuleGroup name, as the module alone and the build's own output report it:
    event = sr.Event(13, {"TargetObject": "HKLM\\SOFTWARE\\Microsoft\\Windows Script\\Settings\\AmsiEnable"})
    module = tree / "12_13_14_registry_event" / "include_windows_disabling_security_services.xml"
    assert sr.Evaluator(sr.load(module)).decide(event).rule_name == "Disabling Security Service"
    assert sr.Evaluator(sr.load(tree / "sysmonconfig.xml")).decide(event) == sr.Decision("include", None)


def test_the_mde_template_drops_what_dns_and_driver_excludes_leave(tree: Path) -> None:
    result = merge([tree], style="sysmon-modular", template="MDEaugment")
    rest = sorted(d.message.split("<")[1].split(" ")[0] for d in result.diagnostics if d.code == "template-drops-rest")
    assert rest == ["DnsQuery", "DriverLoad"]
    committed = sr.Evaluator(sr.load(tree / "sysmonconfig-mde-augment.xml"))
    query = sr.Event(22, {"QueryName": "evil.example.com", "Image": "C:\\x.exe"})
    assert committed.decide(query).decision == "exclude"  # no match in two sets: dropped
    assert sr.Evaluator(sr.load(tree / "sysmonconfig.xml")).decide(query).decision == "include"


def test_event_types_missing_from_the_scripts_list_vanish_with_a_warning(tree: Path, tmp_path: Path,
                                                                        project_root: Path) -> None:
    # An older or forked script without DnsQuery in $Rules: its rules are never merged.
    text = (tree / "Merge-SysmonXml.ps1").read_text("utf-8")
    block = "        DnsQuery = [ordered]@{\n            include = @()\n            exclude = @()\n        }\n"
    assert block in text.replace("\r\n", "\n")
    script = tmp_path / "Merge-SysmonXml.ps1"
    script.write_text(text.replace("\r\n", "\n").replace(block, ""), "utf-8")
    assert "DnsQuery" not in read_script(script).event_keys
    modules = [project_root / "examples" / "modules" / n for n in ("exclude_updates.xml", "include_shells.xml")]
    result = merge(modules, style="sysmon-modular", script=str(script))
    dropped = [d for d in result.diagnostics if d.code == "event-dropped"]
    assert [(Path(d.location.path or "").name, d.location.line) for d in dropped] == [("exclude_updates.xml", 5)]
    assert not any(ev.element == "DnsQuery" and ev.items for _, ev in result.config.event_rules())


def test_check_without_a_script_reads_the_template_back_from_the_build(shared_dir: Path, tree: Path,
                                                                      tmp_path: Path) -> None:
    # A checkout without Merge-SysmonXml.ps1: the build being checked holds the general template.
    bare = tmp_path / "tree"
    shutil.copytree(tree, bare, ignore=shutil.ignore_patterns("Merge-SysmonXml.ps1"))
    plain = CliRunner().invoke(main, ["merge", "--style", "sysmon-modular", str(bare),
                                      "--check", str(bare / "sysmonconfig.xml")])
    assert plain.exit_code == 0, plain.output
    every = CliRunner().invoke(main, ["merge", "--style", "sysmon-modular", str(bare), "--build", "with-filedelete",
                                      "--check", str(bare / "sysmonconfig-with-filedelete.xml")])
    assert every.exit_code == 0, every.output
    listed = CliRunner().invoke(main, ["merge", "--style", "sysmon-modular", str(bare), "--exclude-list",
                                       str(bare / LISTS / "file_delete_modules.txt"),
                                       "--check", str(bare / "sysmonconfig.xml")])
    assert listed.exit_code == 0, listed.output
    head = shared_dir / HEAD
    assert not (head / "Merge-SysmonXml.ps1").exists()
    stale = CliRunner().invoke(main, ["merge", "--style", "sysmon-modular", str(head),
                                      "--check", str(head / "sysmonconfig.xml")])
    assert stale.exit_code == 1
    named = {line.split(":")[0] for line in stale.stdout.splitlines() if "missing or different" in line}
    assert str(head / "17_18_pipe_event" / "include_Havoc_C2.xml") in named
    # Without --check there is nothing to read a template from: the one-line error stays.
    build = CliRunner().invoke(main, ["merge", "--style", "sysmon-modular", str(head), "-o", str(tmp_path / "x.xml")])
    assert build.exit_code == 2 and "no Merge-SysmonXml.ps1 in the checkout" in build.output
