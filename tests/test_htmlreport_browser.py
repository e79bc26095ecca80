"""The report in a real browser: headless Chromium (Debian's chromium + chromium-driver) via selenium.

The page must load with no console message, draw every plot, and show the numbers of
`sysmon-rules evaluate --format json` for the same run; a full-page screenshot is kept under the
test's tmp path. Without Chromium the test skips locally and fails under CI (`.ci/run` installs it).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sysmon_rules.readiness import STATUSES
from test_htmlreport import corpus_coverage, corpus_report, per_change_page, resolve, shown

__all__ = ["corpus_report"]  # the fixture, shared with test_htmlreport

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1280,1000"]
DRAW_TIMEOUT = 60  # seconds; the page normally draws in about one


def _binaries() -> tuple[str, str]:
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if browser is None or driver is None:
        message = "headless Chromium not installed (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(message + " and CI is set")
        pytest.skip(message)
    return browser, driver


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if os.environ.get("CI"):  # under CI a missing selenium fails, as a missing browser does
        from selenium import webdriver
    else:
        webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    binary, driver = _binaries()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in [*FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    chrome = webdriver.Chrome(service=Service(driver), options=options)
    try:
        yield chrome
    finally:
        chrome.quit()


def _open(chrome: Any, page: Path) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    chrome.get(page.as_uri())
    WebDriverWait(chrome, DRAW_TIMEOUT).until(
        lambda c: c.execute_script("return document.body.dataset.chartsDrawn") == "true")


def _drawn(chrome: Any) -> dict[str, tuple[str, int, float]]:
    """Every plot: whether it drew, its marks (bars, tiles, points, labels) and its height."""
    charts = chrome.execute_script(
        "return Array.from(document.querySelectorAll('.chart')).map(e => [e.dataset.chart, e.dataset.drawn,"
        "e.querySelectorAll('svg .mark-rect path, svg .mark-symbol path, svg .mark-text text').length,"
        "e.getBoundingClientRect().height])")
    for name, drawn, marks, height in charts:
        assert drawn == "true" and marks > 0 and height > 50, (name, drawn, marks, height)
    return {name: (drawn, marks, height) for name, drawn, marks, height in charts}


def test_corpus_report_in_chromium(corpus_report: tuple[Path, dict[str, Any]], browser: Any, tmp_path: Path) -> None:
    page, doc = corpus_report
    _open(browser, page)
    assert browser.get_log("browser") == []  # no error, no warning, nothing logged at all
    assert set(_drawn(browser)) == {
        "filters-by-event", "decisions-by-event", "logged-over-time", "hosts", "noisiest-rule-names", "flips-by-event",
        "volume-compared", "rule-name-moves", "readiness-statuses", "attack-heatmap"}
    # The numbers as the browser shows them (rendered text, collapsed sections included).
    numbers = browser.execute_script(
        "return Array.from(document.querySelectorAll('[data-json]')).map(e => [e.dataset.json, e.textContent])")
    assert len(numbers) > 100
    for pointer, text in numbers:
        assert shown(text) == resolve(doc, pointer), pointer
    readiness = browser.execute_script(
        "return Array.from(document.querySelectorAll('[data-coverage]')).map(e => [e.dataset.coverage, e.textContent])")
    assert len(readiness) == 1 + len(STATUSES)  # the total and one tile per status
    for pointer, text in readiness:
        assert shown(text) == resolve(corpus_coverage(), pointer), pointer
    tiles = browser.execute_script(
        "return Array.from(document.querySelectorAll('#replay .tile')).map(e => e.innerText.split('\\n'))")
    assert [f"{doc['events']:,}", "events read"] in tiles and [f"{doc['included']:,}", "logged"] in tiles
    _screenshot(browser, tmp_path / "report.png")


def _screenshot(chrome: Any, path: Path) -> None:
    height = chrome.execute_script("return document.documentElement.scrollHeight")
    chrome.set_window_size(1280, min(height, 16000))
    chrome.save_screenshot(str(path))
    chrome.set_window_size(1280, 1000)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 50_000


def test_per_change_report_in_chromium(browser: Any, tmp_path: Path) -> None:
    _open(browser, per_change_page(tmp_path))
    assert browser.get_log("browser") == []
    assert {"flips-by-event", "rule-name-moves", "flips-by-change"} <= set(_drawn(browser))
    _screenshot(browser, tmp_path / "per-change.png")
