"""``;`` lists with empty tokens: exact against the widening rule, and linear in memory."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import sysmon_rules as sr
from sysmon_rules.collectors import read
from sysmon_rules.engine.conditions import contains, list_needles


def _widened(data: str) -> list[str]:
    """The rule as Sysmon states it: every token, an empty one widened to the rest of the data."""
    needles, start = [], 0
    for token in data.split(";")[:-1]:
        needles.append(token or data[start:])
        start += len(token) + 1
    return [*needles, data[start:]]


_TEXT = st.text(alphabet="ab;", max_size=12)


@given(_TEXT, _TEXT)
def test_reduced_needles_decide_as_every_widened_token(data: str, value: str) -> None:
    full = _widened(data)
    assert any(contains(value, n) for n in list_needles(data)) == any(contains(value, n) for n in full)
    assert all(contains(value, n) for n in list_needles(data, every=True)) == all(contains(value, n) for n in full)


def test_sixty_thousand_semicolons_stay_small(shared_dir: Path) -> None:
    fuzz = shared_dir / "fuzz"
    code = ("import sys, sysmon_rules as sr\n"
            "from sysmon_rules.collectors import read\n"
            "ev = sr.Evaluator(sr.load(sys.argv[1]))\n"
            "print([ev.decide(e).decision for e in read(sys.argv[2])])\n"
            "print(int(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM'))))")
    config = fuzz / "config_contains-any-60000-semicolons_quadratic-memory.xml"
    done = subprocess.run([sys.executable, "-c", code, str(config), str(fuzz / "events.jsonl")],
                          capture_output=True, text=True, timeout=120, check=True)
    decisions, rss_kb = done.stdout.splitlines()
    assert int(rss_kb) < 300_000  # VmHWM of the child itself (ru_maxrss would carry pytest's peak); 1.8 GB before
    # 60,000 ";" decide as one ";" does: both lists end in the empty token, so "any non-empty value".
    text = config.read_text("utf-8")
    small = sr.Evaluator(sr.loads(re.sub(r">;+<", ">;<", text)))
    assert decisions == str([small.decide(e).decision for e in read(fuzz / "events.jsonl")])
