"""One test in a real headless browser: a platform's course page frames the tool, the student
uploads a file in the iframe, and the result card appears there.

Debian's Chromium and chromedriver (`apt-get install chromium chromium-driver`) with selenium;
skipped, saying so, where they are absent.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from tests.lti.conftest import SOLUTION, wait_for

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")
if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
    pytest.skip("Chromium or chromedriver is absent (Debian: apt-get install chromium chromium-driver)",
                allow_module_level=True)


@pytest.fixture
def browser():
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="lti-chromium-")
    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 f"--user-data-dir={profile}", "--window-size=1200,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_the_tool_in_the_lms_iframe_takes_an_upload_and_shows_the_card(lti_world, ex1_link, browser, tmp_path):
    from selenium.webdriver.common.by import By

    tool, a, _ = lti_world
    upload = tmp_path / "loss.py"
    upload.write_text(SOLUTION)
    browser.get(f"{a.url}/course?link={ex1_link}&user=stu-browser&name=Katherine")
    frame = browser.find_element(By.ID, "tool")
    browser.switch_to.frame(frame)
    wait_for(lambda: browser.find_elements(By.NAME, "file"), seconds=30)
    assert "Katherine" in browser.page_source
    browser.find_element(By.NAME, "file").send_keys(str(upload))
    browser.find_element(By.CSS_SELECTOR, "form[enctype='multipart/form-data'] button[type=submit]").click()
    try:
        card = wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".tinyml-grader-card"), seconds=120, step=0.5)
    except AssertionError:
        raise AssertionError(f"no card in the iframe; it shows {browser.current_url}:\n{browser.page_source[-3000:]}")
    assert "Correct" in card[0].text and "10 / 10" in card[0].text
    browser.switch_to.default_content()
    assert browser.find_element(By.TAG_NAME, "h1").text == "TinyML 101"  # still the LMS's page around it
    wait_for(lambda: [s for s in a.state()["scores"] if s["userId"] == "stu-browser"], seconds=30)
