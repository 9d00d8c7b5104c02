"""Render the notebook card of a real report in headless Chromium: docs/notebook-card.png (used by the README).

Grades a loss that sums instead of averaging (tests/scenarios/ex1_loss/sum_instead_of_mean: the
file `check(1)` builds for such a notebook), puts `check()`'s HTML card for it on a page styled
like a notebook's output area, and takes a screenshot with the system's Chromium (Debian:
`apt-get install chromium`).

    python docs/notebook_card.py [--out docs/notebook-card.png] [--chromium chromium]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader import api  # noqa: E402
from grader.web import card  # noqa: E402

SUBMISSION = ROOT / "tests" / "scenarios" / "ex1_loss" / "sum_instead_of_mean" / "submission"
PAGE = """<!doctype html><html><head><meta charset="utf-8"></head>
<body style="margin:0;background:#fff">
<div style="display:flex;padding:12px 16px 4px 8px;font-family:monospace;font-size:13px">
  <div style="width:64px;color:#303f9f;text-align:right;padding-right:8px">[7]:</div>
  <div style="flex:1;background:#f5f5f5;border:1px solid #e0e0e0;padding:6px 8px">check(1)</div></div>
<div style="display:flex;padding:0 16px 12px 8px">
  <div style="width:64px;color:#d84315;font-family:monospace;font-size:13px;text-align:right;padding:8px 8px 0 0">[7]:</div>
  <div style="flex:1">{card}</div></div>
</body></html>"""


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "notebook-card.png")
    p.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser") or "chromium")
    p.add_argument("--size", default="980,640")
    args = p.parse_args()
    report = api.grade(SUBMISSION, [1], seed=1234, submission_id="notebook").model_dump(mode="json")
    with tempfile.TemporaryDirectory(prefix="grader-card-") as tmp:
        page = Path(tmp) / "card.html"
        page.write_text(PAGE.format(card=card.report_html(report)), encoding="utf-8")
        subprocess.run([args.chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        "--hide-scrollbars", f"--user-data-dir={tmp}/profile", f"--window-size={args.size}",
                        f"--screenshot={args.out}", page.as_uri()], check=True, capture_output=True, timeout=120)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
