"""Screenshots of the LTI pages in headless Chromium: docs/lti-task.png, lti-student.png, lti-instructor.png.

Starts `grade serve --public-url` and the test platform (tests/lti/platform_server.py, on
lti1p3platform) on 127.0.0.1, places exercise 1 by deep linking, and drives Debian's
Chromium and chromedriver with selenium: a student opens the course page, which frames
the tool (its task page: lti-task.png), uploads a loss that sums instead of averaging (the scenario
tests/scenarios/ex1_loss/sum_instead_of_mean) and gets the card; then the instructor's
view of the link. Needs the test extra (selenium, lti1p3platform).

    python docs/lti_pages.py [--out-dir docs]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

from tests.lti import conftest as lti  # noqa: E402

MISTAKE = ROOT / "tests" / "scenarios" / "ex1_loss" / "sum_instead_of_mean" / "submission" / "loss.py"


def chromium(profile: str, size: str) -> webdriver.Chrome:
    options = Options()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
                 f"--user-data-dir={profile}", f"--window-size={size}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out-dir", type=Path, default=ROOT / "docs")
    args = p.parse_args()
    base = Path(tempfile.mkdtemp(prefix="lti-pages-"))
    tool = lti.Tool(base / "tool" / "data")
    tool.data.mkdir(parents=True)
    platform = lti.Platform(base / "platform", tool, "docs-client")
    driver = None
    try:
        platform.register_with(tool)
        tool.start()
        link = lti.Browser().deep_link(platform, "1")["links"][0]
        for user, name in (("s-1", "Ada Lovelace"), ("s-2", "Alan Turing")):  # a class for the instructor's view
            b = lti.Browser()
            b.result(b.upload(b.launch(platform, user=user, link=link, name=name), "loss.py", lti.SOLUTION))
        driver = chromium(str(base / "profile"), "1100,1250")
        driver.get(f"{platform.url}/course?link={link}&user=s-3&name=Grace")
        driver.switch_to.frame(driver.find_element(By.ID, "tool"))
        lti.wait_for(lambda: driver.find_elements(By.NAME, "file"), seconds=30)
        driver.switch_to.default_content()
        task = args.out_dir / "lti-task.png"
        driver.save_screenshot(str(task))
        driver.switch_to.frame(driver.find_element(By.ID, "tool"))
        driver.find_element(By.NAME, "file").send_keys(str(MISTAKE))
        driver.find_element(By.CSS_SELECTOR, "form[enctype='multipart/form-data'] button[type=submit]").click()
        lti.wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, ".tinyml-grader-card"), seconds=120, step=0.5)
        driver.switch_to.default_content()
        student = args.out_dir / "lti-student.png"
        driver.save_screenshot(str(student))
        lti.wait_for(lambda: len(platform.state()["scores"]) >= 3, seconds=30)
        httpx_page = f"{platform.url}/start?kind=resource&user=t-1&role=instructor&link={link}&name=Teacher"
        driver.set_window_size(1100, 700)
        driver.get(httpx_page)
        lti.wait_for(lambda: "Class view" in driver.title, seconds=30)
        instructor = args.out_dir / "lti-instructor.png"
        driver.save_screenshot(str(instructor))
    finally:
        if driver is not None:
            driver.quit()
        tool.stop()
        platform.stop()
        shutil.rmtree(base, ignore_errors=True)
    for path in (task, student, instructor):
        print(f"wrote {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
