"""The class report in a real headless Chromium (Debian's), from file://, with the network off.

It must request nothing (the DevTools log of requests holds the page itself only, and the
Resource Timing API lists no resource), show the numbers of class.json, and sort and filter
with its script. Skipped, with the reason, where chromium or chromedriver is not installed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from grader import classreport
from tests import classreport_fixture as fx

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

pytestmark = pytest.mark.skipif(not (Path(CHROMIUM).exists() and Path(DRIVER).exists()),
                                reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (the test extra)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
                "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"):  # any request would fail
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions",
                           {"offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0})
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    directory = tmp_path_factory.mktemp("class")
    data = classreport.build(fx.reports(), roster={"s1": {"name": "Ada", "section": "A"}})
    (directory / "class.html").write_text(classreport.render_html(data), encoding="utf-8")
    return directory / "class.html", json.loads(classreport.to_json(data))


def _requests(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def test_the_page_requests_nothing_and_shows_the_numbers_of_class_json(browser, page):
    from selenium.webdriver.common.by import By

    path, data = page
    browser.get_log("performance")
    browser.get(path.as_uri())
    assert browser.find_element(By.TAG_NAME, "h1").text == "Class report: 6 submissions"
    assert [u for u in _requests(browser) if u != path.as_uri()] == [], "the page requests nothing but itself"
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0

    def cell(css: str) -> str:
        return browser.find_element(By.CSS_SELECTOR, css).text

    assert cell('#total-table tr[data-exercise="total"] td[data-k="mean"]') == f"{data['total']['mean']:.2f}"
    assert cell('#total-table tr[data-exercise="total"] td[data-k="median"]') == f"{data['total']['median']:.2f}"
    for ex in data["exercises"]:
        for status, n in ex["status_counts"].items():
            assert cell(f'#status-table tr[data-exercise="{ex["id"]}"] td[data-k="{status}"]') == str(n)
        for c in ex["checks"]:
            row = f'table.cr-checks[data-exercise="{ex["id"]}"] tr[data-check="{c["id"]}"]'
            for k in ("attempted", "passed", "failed", "error"):
                assert cell(f'{row} td[data-k="{k}"]') == str(c[k])
            for k in ("difficulty", "discrimination"):
                assert cell(f'{row} td[data-k="{k}"]') == ("n/a" if c[k] is None else f"{c[k]:.2f}")
        for m in ex["mistakes"]:
            assert cell(f'table.cr-mistakes[data-exercise="{ex["id"]}"] tr[data-mistake="{m["name"]}"] td[data-k="count"]') == str(m["count"])
    rows = browser.find_elements(By.CSS_SELECTOR, "#students-table tbody tr")
    assert [r.get_attribute("data-submission") for r in rows] == [s["submission"] for s in data["students"]]
    assert len(browser.find_elements(By.CSS_SELECTOR, "figure.cr-chart[role=img] > svg")) == 3
    assert browser.find_element(By.ID, "csv-link").get_attribute("href").startswith("data:text/csv")


def test_the_script_sorts_and_filters(browser, page):
    from selenium.webdriver.common.by import By

    path, data = page
    browser.get(path.as_uri())
    total = browser.find_elements(By.CSS_SELECTOR, "#students-table thead th")[3]
    assert total.text.startswith("total")
    total.click()
    total.click()  # descending
    order = [r.get_attribute("data-submission") for r in browser.find_elements(By.CSS_SELECTOR, "#students-table tbody tr")]
    by_score = sorted(data["students"], key=lambda s: -s["score"])
    assert order[:2] == [s["submission"] for s in by_score[:2]] == ["s1", "s4"]
    box = browser.find_element(By.CSS_SELECTOR, "input.cr-filter")
    box.send_keys("Ada")
    visible = [r for r in browser.find_elements(By.CSS_SELECTOR, "#students-table tbody tr") if r.is_displayed()]
    assert [r.get_attribute("data-submission") for r in visible] == ["s1"]
