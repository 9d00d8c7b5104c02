"""The LTI tool on loopback: launch latency, score delay, web process memory.

A bounded run on 127.0.0.1 (ports 18750-18799): `grade serve --public-url` (one grading
slot) and the test platform (tests/lti/platform_server.py, on lti1p3platform); the link
is placed by deep linking, exercise 1.
  launch   --launches student launches on a warm service; each is the whole OIDC flow, and
           the time measured is the tool's answer to `POST /lti/launch` (validation, session,
           the student page with the rendered README): p50 / p95;
  score    --uploads solutions uploaded one after another: the delay from the end of
           grading (the submission's graded_at) to the score's arrival at the platform
           (the platform's clock; same machine): median / max;
  memory   the web process's peak RSS (VmHWM) after the run, and its CPU time.

    python bench/lti.py [--launches 100] [--uploads 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _util import ROOT, machine, verdict

sys.path.insert(0, str(ROOT))
from tests.lti import conftest as lti  # noqa: E402  the platform and the form-following client of the tests

lti.PORTS = iter(range(18750, 18800))


def p95(xs: list[float]) -> float:
    return sorted(xs)[max(0, int(round(0.95 * len(xs))) - 1)]


def proc_status(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--launches", type=int, default=100)
    ap.add_argument("--uploads", type=int, default=5)
    args = ap.parse_args()
    print(f"machine: {machine()}")
    base = Path(tempfile.mkdtemp(prefix="bench-lti-"))
    tool = lti.Tool(base / "tool" / "data")
    tool.data.mkdir(parents=True)
    platform = lti.Platform(base / "platform", tool, "bench-client")
    try:
        platform.register_with(tool)
        tool.start()
        link = lti.Browser().deep_link(platform, "1")["links"][0]
        student = lti.Browser()
        page = student.launch(platform, user="bench-student", link=link)
        student.result(student.upload(page, "loss.py", lti.SOLUTION))  # warm: TensorFlow in the worker
        times = []
        for n in range(args.launches + 5):
            b = lti.Browser()
            r = b.client.get(f"{platform.url}/start", params={"user": f"bench-{n}", "link": link})
            form = lti.forms(r.text)[0]
            start = time.perf_counter()
            answer = b.client.post(form["action"], data=form["fields"])
            took = time.perf_counter() - start
            assert answer.status_code == 200, answer.text
            if n >= 5:  # the first few warm the templates and the connection pool
                times.append(took * 1000)
        delays = []
        for n in range(args.uploads):
            before = len(platform.state()["scores"])
            done = student.result(student.upload(page, "loss.py", lti.SOLUTION))
            sid = str(done.url).rsplit("/", 1)[1]
            lti.wait_for(lambda: len(platform.state()["scores"]) > before, seconds=60, step=0.02)
            received = platform.state()["scores"][before]["received_at"]
            graded = tool.db("SELECT graded_at FROM submissions WHERE id = ?", (sid,))[0]["graded_at"]
            delays.append(received - graded)
        rss = proc_status(tool.proc.pid, "VmHWM")
        cpu = cpu_s(tool.proc.pid)
        tokens = platform.state()["token_requests"]
    finally:
        tool.stop()
        platform.stop()
        shutil.rmtree(base, ignore_errors=True)
    launch95 = p95(times)
    print(f"launch   {len(times)} launches: p50 {statistics.median(times):.1f} ms, p95 {launch95:.1f} ms, "
          f"max {max(times):.1f} ms (goal p95 <= 200 ms: {verdict(launch95 <= 200)})")
    print(f"score    {len(delays)} scores: grading end -> platform median {statistics.median(delays):.3f} s, "
          f"max {max(delays):.3f} s (goal <= 2 s: {verdict(max(delays) <= 2)}); token requests {tokens}")
    print(f"memory   web process peak RSS {rss:.0f} MiB (goal <= 150 MiB: {verdict(rss <= 150)}); "
          f"its CPU time over the run {cpu:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
