"""``Event`` refuses wrong types where they are made, not deep inside the evaluator."""

from __future__ import annotations

import pytest

import sysmon_rules as sr


@pytest.mark.parametrize("event_id, fields, message", [
    ("1", {}, r"event_id must be an int, got str '1' \(use int\(\.\.\.\)\)"),
    (True, {}, "event_id must be an int, got bool"),
    (1.0, {}, "event_id must be an int, got float"),
    (1, [("Image", "x")], "fields must be a mapping"),
])
def test_wrong_types_are_a_type_error_at_construction(event_id: object, fields: object, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        sr.Event(event_id, fields)  # type: ignore[arg-type]


def test_a_right_event_is_decided() -> None:
    config = sr.loads('<Sysmon schemaversion="4.90"><EventFiltering><ProcessCreate onmatch="include">'
                      '<Image condition="end with">cmd.exe</Image></ProcessCreate></EventFiltering></Sysmon>')
    assert sr.Evaluator(config).decide(sr.Event(1, {"Image": "C:\\cmd.exe"})).decision == "include"
