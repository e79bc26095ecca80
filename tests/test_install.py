"""The package as users install it, and the CI job of docs/diff.md as users copy it.

One clean virtual environment per run: the docs job's own install step (``pip install
"sysmon-rules @ git+${{ vars.SYSMON_RULES_GIT }}"``) run on a git repository of this working tree,
so pip builds the wheel and installs it without extras, from PyPI (pip's cache makes reruns
quick). Then every command runs there: those of the base install work, those needing an extra say
in one line which to install. The job's shell steps then run in a scratch git repository with a
config at its root and one in a folder, as SwiftOnSecurity's, sysmon-modular's and Nextron's
repositories keep them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
_EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")
_GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def _job() -> dict[str, object]:
    """The GitHub Actions job in docs/diff.md, parsed."""
    text = (ROOT / "docs" / "diff.md").read_text("utf-8")
    block = re.search(r"```yaml\n(name: sysmon-config-diff\n.*?)```", text, re.S)
    assert block is not None, "docs/diff.md lost its CI job"
    job: dict[str, object] = yaml.safe_load(block.group(1))
    return job


def _steps() -> dict[str, dict[str, object]]:
    jobs = _job()["jobs"]
    assert isinstance(jobs, dict)
    return {str(step.get("name", step.get("uses", ""))): step for step in jobs["diff"]["steps"]}


def _expand(text: str, values: Mapping[str, str]) -> str:
    """GitHub's ``${{ ... }}`` expressions; one the test does not know fails it (a new one needs a look)."""
    return _EXPRESSION.sub(lambda m: values[m.group(1)], text)


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **_GIT_ENV}, capture_output=True, text=True,
                          check=True)
    return done.stdout.strip()


def _run_step(step: dict[str, object], cwd: Path, values: Mapping[str, str], path: str,
              extra: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """A ``run:`` step as the runner runs it: bash -eo pipefail, its env expanded, our PATH first."""
    env = {**os.environ, **_GIT_ENV, **(extra or {}), "PATH": path}
    env.update({k: _expand(str(v), values) for k, v in dict(step.get("env") or {}).items()})  # type: ignore[call-overload]
    script = _expand(str(step["run"]), values)
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900, check=False)


def _source_repository(target: Path) -> str:
    """A git repository of this working tree (tracked and new files, as committed in CI); its commit."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    _git(target, "init", "-q")
    _git(target, "add", "-A")
    _git(target, "commit", "-q", "-m", "snapshot")
    return _git(target, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin folder of a clean venv where the docs job's install step installed sysmon-rules, no extras."""
    work = tmp_path_factory.mktemp("install")
    source = work / "sysmon-rules"
    source.mkdir()
    commit = _source_repository(source)
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    # a current pip, as actions/setup-python brings (pip 23's parser refuses a git+file:/// requirement)
    subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True,
                   capture_output=True)
    done = _run_step(_steps()["Install sysmon-rules"], work, {"vars.SYSMON_RULES_GIT": f"file://{source}@{commit}"},
                     f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return bin_dir


def _cli(bin_dir: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(bin_dir / "sysmon-rules"), *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300, check=False)


def test_every_command_runs_without_extras(installed: Path, tmp_path: Path) -> None:
    python = installed / "python"
    for module in ("sigma", "altair", "dask"):  # really without the extras
        probe = subprocess.run([str(python), "-c", f"import {module}"], capture_output=True, check=False)
        assert probe.returncode != 0, f"{module} is installed: the test needs a venv without extras"
    config, events = str(EXAMPLES / "sysmonconfig.xml"), str(EXAMPLES / "events.jsonl")
    blob = tmp_path / "rules.bin"
    works = [
        ["validate", config],
        ["lint", config],
        ["compile", config, "-o", str(blob)],
        ["decompile", str(blob), "-o", str(tmp_path / "back.xml")],
        ["dump", str(blob)],
        ["schema"],
        ["evaluate", config, events, "--format", "json"],
        ["test", str(EXAMPLES / "sysmonconfig.sysmon-test.yaml")],
        ["merge", str(EXAMPLES / "modules"), "-o", str(tmp_path / "merged.xml")],
        ["diff", config, str(blob)],
    ]
    for args in works:
        done = _cli(installed, *args)
        assert done.returncode == 0, (args, done.stderr)
        assert "error[" not in done.stderr, (args, done.stderr)
    needs = [
        (["coverage", config, "--sigma", str(tmp_path)], "sigma"),
        (["report", config, "-o", str(tmp_path / "r.html")], "report"),
        (["evaluate", config, events, "--scheduler", "local"], "distributed"),
    ]
    for args, extra in needs:
        done = _cli(installed, *args)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.count("\n") == 1 and "error[missing-extra]" in done.stderr, (args, done.stderr)
        assert f"pip install 'sysmon-rules[{extra}]'" in done.stderr, (args, done.stderr)
    assert _cli(installed, "--version").returncode == 0


def test_the_extras_table_names_what_pyproject_declares() -> None:
    """cli/extras.py's module table against the extras the package declares (one fact, checked)."""
    import tomllib

    from sysmon_rules.cli.extras import DISTRIBUTION_MODULES, extra_for

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["optional-dependencies"]
    assert extras["all"] == ["sysmon-rules[" + ",".join(k for k in extras if k not in ("all", "test")) + "]"]
    for extra, requirements in extras.items():
        if extra in ("all", "test"):
            continue
        for requirement in requirements:
            name = re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0]
            modules = DISTRIBUTION_MODULES[name]
            assert all(extra_for(module) == extra for module in modules), (extra, name)


def test_the_ci_job_in_docs_diff_md(installed: Path, tmp_path: Path) -> None:
    repo = tmp_path / "configs"
    repo.mkdir()
    _git(repo, "init", "-q")
    config = (EXAMPLES / "sysmonconfig.xml").read_text("utf-8")
    (repo / "sysmonconfig.xml").write_text(config, "utf-8")  # at the root, as upstream repositories keep it
    (repo / "host groups").mkdir()
    (repo / "host groups" / "sysmonconfig-servers.xml").write_text(config, "utf-8")  # and in a folder, with a space
    (repo / "samples").mkdir()
    shutil.copy(EXAMPLES / "events.jsonl", repo / "samples" / "events.jsonl")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    base = _git(repo, "rev-parse", "HEAD")
    for name in ("sysmonconfig.xml", "host groups/sysmonconfig-servers.xml"):
        (repo / name).write_text(config.replace("cmd.exe", "pwsh.exe"), "utf-8")
    (repo / "sysmonconfig-new.xml").write_text(config, "utf-8")  # added: nothing to diff against
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "change")
    # why the job uses a :(glob) pathspec: the plain one needs a folder and misses the root config
    plain = _git(repo, "diff", "--name-only", base, "HEAD", "--", "**/sysmonconfig*.xml")
    assert "sysmonconfig.xml" not in plain.splitlines()

    fake_bin = tmp_path / "fake-bin"
    fake_bin.mkdir()
    (fake_bin / "gh").write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$GH_ARGS"\n', "utf-8")
    (fake_bin / "gh").chmod(0o755)
    path = os.pathsep.join([str(fake_bin), str(installed), os.environ["PATH"]])
    values = {"github.event.pull_request.base.sha": base, "github.event.pull_request.number": "7",
              "github.token": "token"}
    steps = _steps()
    diffed = _run_step(steps["Diff every changed config against the base branch"], repo, values, path)
    assert diffed.returncode == 0, diffed.stdout + diffed.stderr
    comment = (repo / "comment.md").read_text("utf-8")
    assert comment.count("### Sysmon config diff: **different**") == 2, comment
    assert "#### sysmonconfig.xml\n" in comment and "#### host groups/sysmonconfig-servers.xml\n" in comment
    assert "sysmonconfig-new.xml" not in comment
    gh_args = tmp_path / "gh-args"
    posted = _run_step(steps["Post the comment"], repo, values, path, {"GH_ARGS": str(gh_args)})
    assert posted.returncode == 0, posted.stderr
    assert gh_args.read_text("utf-8").split("\n")[:5] == ["pr", "comment", "7", "--body-file", "comment.md"]


def test_the_ci_job_stops_on_unreadable_input(installed: Path, tmp_path: Path) -> None:
    """Exit 2 (a config that is not one, no samples folder) fails the job; 1 and 3 do not."""
    repo = tmp_path / "configs"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "sysmonconfig.xml").write_text((EXAMPLES / "sysmonconfig.xml").read_text("utf-8"), "utf-8")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    base = _git(repo, "rev-parse", "HEAD")
    (repo / "sysmonconfig.xml").write_text("<Sysmon", "utf-8")
    _git(repo, "commit", "-q", "-am", "broken")
    path = os.pathsep.join([str(installed), os.environ["PATH"]])
    done = _run_step(_steps()["Diff every changed config against the base branch"], repo,
                     {"github.event.pull_request.base.sha": base}, path)
    assert done.returncode == 2 and "error[" in done.stderr, done.stderr
