"""`schema --format xsd|dtd`: the XSD and DTD agree with the validator on every real config.

Two independent engines judge each corpus config and each of Sysmon's own invalid-config cases:
xmlschema against the generated XSD, and libxml2 (lxml) against the generated DTD. Their verdicts
must equal our validator's, except for findings ``XSD_CANNOT_SAY`` names.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
import xmlschema
from click.testing import CliRunner
from lxml import etree

from sysmon_rules.cli import main
from sysmon_rules.errors import SysmonRulesError
from sysmon_rules.schema import SchemaVersion, dtd_schema_for, parse_version, schema_for
from sysmon_rules.validation import iter_errors
from sysmon_rules.validation.dtd import DtdChecker
from sysmon_rules.validation.dtd_text import dtd_text
from sysmon_rules.validation.xsd import XSD_CANNOT_SAY, xsd_text
from sysmon_rules.xml.reader import build_config, parse_document


@functools.cache
def _xsd(version: str) -> xmlschema.XMLSchema10:
    return xmlschema.XMLSchema10(xsd_text(schema_for(version, "windows")))


@functools.cache
def _dtd(version: str) -> etree.DTD:
    return etree.DTD(_as_file(dtd_text(schema_for(version, "windows"))))


def _as_file(text: str) -> object:
    import io

    return io.BytesIO(text.encode("utf-8"))


def _schema_of(data: bytes) -> SchemaVersion | None:
    root = parse_document(data).root
    packed = parse_version(root.get("schemaversion"))
    try:
        return dtd_schema_for(packed, "windows") if packed is not None else None
    except SysmonRulesError:
        return None


def _inputs(shared_dir: Path) -> list[tuple[str, bytes]]:
    corpus = sorted((shared_dir / "corpus" / "configs").rglob("*.xml"))
    found = [(str(p.relative_to(shared_dir)), p.read_bytes()) for p in corpus]
    for line in (shared_dir / "conformance" / "invalid" / "cases.jsonl").read_text("utf-8").splitlines():
        case = json.loads(line)
        found.append((case["id"], case["config_xml"].encode("utf-8")))
    assert len(found) == 404 + 7
    return found


def test_xsd_verdict_is_the_validators_on_every_corpus_config(shared_dir: Path) -> None:
    unsayable: dict[str, set[str]] = {}
    rejected = xsd_rejected = 0
    for name, data in _inputs(shared_dir):
        codes = {d.code for d in iter_errors(data) if d.severity == "error"}
        rejected += bool(codes)
        schema = _schema_of(data)
        if schema is None:  # no XSD applies: which one would is the validator's question
            assert codes and codes <= set(XSD_CANNOT_SAY), name
            unsayable[name] = codes
            continue
        xsd_valid = _xsd(schema.version).is_valid(data.decode("utf-8-sig"))
        xsd_rejected += not xsd_valid
        if xsd_valid != (not codes):
            assert xsd_valid and codes <= set(XSD_CANNOT_SAY), (name, codes)
            unsayable[name] = codes
    assert rejected >= 3 + 5  # the corpus's three DTD rejections, Sysmon's own invalid cases
    assert xsd_rejected == rejected - len(unsayable)
    # What the XSD cannot say, among these inputs: Sysmon's three over-long RuleName cases (a name a
    # filter inherits from its Rule or RuleGroup, limited in UTF-8 bytes). Everything else agrees.
    assert sorted(unsayable) == ["a-very-long-field-name", "a-very-long-rulegroup-name", "a-very-long-sub-rule-name"]
    assert set().union(*unsayable.values()) == {"name-too-long"}


def test_the_dtd_text_judges_as_the_dtd_checker_does(shared_dir: Path) -> None:
    disagree = []
    for name, data in _inputs(shared_dir):
        schema = _schema_of(data)
        if schema is None:
            continue
        doc = parse_document(data)
        checker = list(DtdChecker(doc, schema).check())
        libxml2 = _dtd(schema.version).validate(doc.root)
        if libxml2 != (not checker):
            disagree.append((name, [d.message for d in checker][:1]))
    assert disagree == []


def test_the_dtd_has_sysmons_declarations() -> None:
    text = dtd_text(schema_for("4.90", "windows"))
    assert '<!ATTLIST RuleGroup groupRelation (and|or) #REQUIRED>' in text
    assert '<!ATTLIST ProcessCreate onmatch (include|exclude) #IMPLIED>' in text
    assert '<!ATTLIST Image condition CDATA "is">' in text
    assert "<!ELEMENT CaptureClipboard EMPTY>" in text and "<!ELEMENT HashAlgorithms (#PCDATA)>" in text
    assert text.count("<!ELEMENT Image ") == 1


def test_cli_writes_either_for_a_version(tmp_path: Path) -> None:
    runner = CliRunner()
    xsd = runner.invoke(main, ["schema", "--format", "xsd", "--version", "4.50"])
    assert xsd.exit_code == 0 and 'name="FileDelete"' in xsd.stdout and "FileDeleteDetected" not in xsd.stdout
    dtd = runner.invoke(main, ["schema", "--format", "dtd"])
    assert dtd.exit_code == 0 and "FileExecutableDetected" in dtd.stdout and "DriverQueueSize" in dtd.stdout
    assert runner.invoke(main, ["schema", "--format", "dtd", "--version", "all"]).exit_code == 2


@pytest.mark.parametrize("condition", ["Contains Any", "END WITH", ""])
def test_conditions_match_case_insensitively_as_sysmon_does(condition: str) -> None:
    config = (f'<Sysmon schemaversion="4.90"><EventFiltering><ProcessCreate onmatch="include">'
              f'<Image condition="{condition}">x</Image></ProcessCreate></EventFiltering></Sysmon>')
    assert _xsd("4.90").is_valid(config)
    assert not _xsd("4.90").is_valid(config.replace(f'"{condition}"', '"ends with"'))
    assert not list(iter_errors(config.encode()))
    assert build_config(parse_document(config.encode())).schema_version == "4.90"
