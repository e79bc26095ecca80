"""Both pySigma majors: 1.x is installed (with the Sysmon pipeline); 2.x is run by this test.

No release of pysigma-pipeline-sysmon supports pySigma 2.x, so the category table coverage uses
then is a copy of the pipeline's (``logsource.PIPELINE_TABLE``), kept equal to it here. The second
test installs pySigma 2.x into a folder of its own (pip ``--target``), runs coverage in a
subprocess that sees that pySigma first and no Sysmon pipeline, and compares every rule's status
and evidence with the same run under the installed pySigma 1.x.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sysmon_rules.readiness import coverage, read_rules
from sysmon_rules.readiness.logsource import PIPELINE_TABLE, windows_categories

_RUN = r"""
import json, sys
sys.modules["sigma.pipelines.sysmon"] = None  # not installable next to pySigma 2.x
import importlib.metadata
from sysmon_rules.readiness import coverage
report = coverage(sys.argv[1], sys.argv[2:])
print(json.dumps({"pysigma": importlib.metadata.version("pysigma"),
                  "rules": {r.path: [r.status, r.grade, r.evidence.to_dict() if r.evidence else None]
                            for r in report.rules}}))
"""


def test_the_builtin_category_table_is_the_pipelines() -> None:
    pytest.importorskip("sigma.pipelines.sysmon")
    assert windows_categories() == PIPELINE_TABLE


def test_pysigma_2_gives_the_same_coverage(shared_dir: Path, tmp_path: Path) -> None:
    import importlib.metadata

    if not importlib.metadata.version("pysigma").startswith("1."):
        pytest.skip("this environment runs pySigma 2.x itself")
    target = tmp_path / "pysigma2"
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--target", str(target),
                                "pysigma>=2,<3"], capture_output=True, text=True, timeout=900)
    if installed.returncode != 0:
        pytest.skip(f"cannot install pySigma 2.x here: {installed.stderr.strip().splitlines()[-1:]}")
    sigma = shared_dir / "corpus" / "sigma"
    rules = [str(sigma / "rules" / "windows" / f) for f in ("process_creation", "dns_query", "registry")]
    rules.append(str(sigma / "rules-emerging-threats"))
    config = str(shared_dir / "corpus" / "configs" / "sysmon-modular" / "sysmonconfig.xml")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), os.environ.get("PYTHONPATH", "")])}
    ran = subprocess.run([sys.executable, "-c", _RUN, config, *rules], capture_output=True, text=True, env=env,
                         timeout=1800)
    assert ran.returncode == 0, ran.stderr[-2000:]
    other = json.loads(ran.stdout)
    assert other["pysigma"].startswith("2.")
    here = coverage(config, read_rules(rules))
    mine = {r.path: [r.status, r.grade, r.evidence.to_dict() if r.evidence else None] for r in here.rules}
    assert len(mine) > 1000
    assert other["rules"] == mine
