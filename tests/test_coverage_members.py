"""Long include/exclude lists as one indexed test: the same answers as the plain disjunction."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sysmon_rules as sr
from sysmon_rules.readiness import coverage, read_rules
from sysmon_rules.readiness import members as members_module
from sysmon_rules.readiness.members import Members

_TEXT = st.text(alphabet="ab.c", max_size=6)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["eq", "prefix", "suffix", "contains"]), _TEXT.filter(bool)), max_size=12),
       _TEXT, _TEXT, _TEXT)
def test_members_index_is_the_disjunction(items: list[tuple[str, str]], value: str, prefix: str, suffix: str) -> None:
    by = {k: frozenset(d for kind, d in items if kind == k) for k in ("eq", "prefix", "suffix", "contains")}
    index = Members(by["eq"], by["prefix"], by["suffix"], by["contains"])

    def meets(kind: str, data: str, text: str) -> bool:
        return {"eq": text == data, "prefix": text.startswith(data), "suffix": text.endswith(data),
                "contains": data in text}[kind]

    assert index.matches(value) == any(meets(k, d, value) for k, d in items)
    # forced: every value with this prefix and suffix meets a member, so e.g. prefix+suffix does.
    if index.forced(prefix, suffix, []) is not None:
        assert index.matches(prefix + "x" + suffix) and index.matches(prefix + suffix + prefix + "x" + suffix)
    # compatible: a member left out is met by no value with this prefix and suffix (checked on samples).
    kept = set(index.compatible(None, prefix, suffix))
    for middle in ("", "x", "a.b", "cc"):
        text = prefix + middle + suffix
        for kind, data in items:
            if meets(kind, data, text):
                assert (kind, data) in kept


def _dns_config(count: int, seed: int = 7) -> sr.Config:
    rng = random.Random(seed)
    words = ["cdn", "static", "api", "edge", "update", "mail", "microsoft", "azurewebsites"]
    domains = sorted({f".{rng.choice(words)}{rng.randrange(10 ** 6)}.{rng.choice(['com', 'net', 'io'])}"
                      for _ in range(count)} | {".github.io", ".ngrok.io", "azurewebsites.net"})
    body = "".join(f'<QueryName condition="end with">{d}</QueryName>' for d in domains)
    return sr.loads('<Sysmon schemaversion="4.90"><EventFiltering><RuleGroup groupRelation="or">'
                    f'<DnsQuery onmatch="exclude">{body}</DnsQuery></RuleGroup></EventFiltering></Sysmon>')


@pytest.fixture(scope="module")
def dns_rules(shared_dir: Path) -> list[object]:
    sigma = shared_dir / "corpus" / "sigma"
    rules = read_rules([sigma / "rules" / "windows" / "dns_query"])
    return [r for r in rules if r.rule is not None]


def test_grouped_and_plain_lists_agree(dns_rules: list[object], monkeypatch: pytest.MonkeyPatch) -> None:
    """A 300-exclude list: statuses with the index equal those of the plain disjunction."""
    config = _dns_config(300)
    grouped = {r.id: r.status for r in coverage(config, dns_rules, captures=False).rules}
    monkeypatch.setattr("sysmon_rules.readiness.config.GROUP_AT", 10 ** 9)
    assert members_module.GROUP_AT == 64
    plain = {r.id: r.status for r in coverage(config, dns_rules, captures=False).rules}
    decided = {k for k, v in plain.items() if v != "unsupported"}
    assert len(decided) > 15
    assert {k: grouped[k] for k in decided} == {k: plain[k] for k in decided}


def test_every_dns_rule_is_decided_against_50000_excludes(dns_rules: list[object]) -> None:
    report = coverage(_dns_config(50_000), dns_rules, captures=False)
    assert [r.path for r in report.rules if r.status == "unsupported"] == []
    assert {r.status for r in report.rules} <= {"logged", "partial", "dropped-in-practice", "dropped"}
