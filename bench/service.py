"""`grade serve` on loopback: latency, throughput, overhead, memory, and a burst.

A bounded run (it stops by itself), on 127.0.0.1 only, exercise 1 (the quick one):
  latency     --requests sequential `POST /v1/submissions?wait=120`, warm pool, 1 worker:
              p50 / p95 end to end (request sent -> report received);
  overhead    the same submissions graded by a warm `grader.api.Grader` in a process of
              its own, interleaved one for one with the service requests: ratio of medians;
  throughput  --throughput submissions posted at once, with --workers 1 and then 2:
              submissions per minute from the first accepted to the last finished;
  memory      the web process's peak RSS (VmHWM) over the whole run;
  burst       --burst submissions posted at once from 8 threads (server with --queue-max 50,
              the default rate limit): every answer must be 201, 429 or 503, every 201
              must end `done`, and no other 5xx.

    python bench/service.py [--requests 20] [--throughput 24] [--burst 200]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from _util import GRADE, PY, ROOT, machine, verdict

SOLUTION = (ROOT / "solutions" / "ex1_loss" / "loss.py").read_text()
SUM_NOT_MEAN = SOLUTION.replace("tf.reduce_mean(", "tf.reduce_sum(")

DIRECT = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from grader.api import Grader
    with Grader() as g:
        print("ready", flush=True)
        for line in sys.stdin:
            start = time.perf_counter()
            g.grade(Path(line.strip()), exercises=[1], submission_id="direct")
            print(json.dumps(time.perf_counter() - start), flush=True)
""")


def source(i: int) -> str:
    return (SOLUTION if i % 3 else SUM_NOT_MEAN) + f"\n# submission {i}\n"


class Server:
    def __init__(self, workers: int, where: Path, extra: list[str] = ()):
        self.data = where / f"data-{workers}"
        made = subprocess.run([*GRADE, "keys", "create", "bench", "--json", "--data", str(self.data)], cwd=ROOT,
                              capture_output=True, text=True, check=True)
        self.key = json.loads(made.stdout)["key"]
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(where / f"serve-{workers}.log", "wb")
        self.proc = subprocess.Popen([*GRADE, "serve", "--port", str(self.port), "--data", str(self.data),
                                      "--workers", str(workers), *extra], cwd=ROOT, stdout=self.log, stderr=self.log)
        self.client = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.key}"}, timeout=180)
        deadline = time.monotonic() + 60
        while True:
            try:
                if self.client.get("/v1/health").status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.1)

    def post(self, i: int, wait: float | None = 120) -> httpx.Response:
        return self.client.post("/v1/submissions" + (f"?wait={wait}" if wait else ""),
                                json={"files": {"loss.py": source(i)}, "exercises": [1]})

    def peak_rss_mib(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> float:
        rss = self.peak_rss_mib()
        self.client.close()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        self.log.close()
        return rss


def warm(server: Server, workers: int) -> None:
    with ThreadPoolExecutor(workers) as pool:
        for _ in range(2):
            assert all(r.json()["status"] == "done" for r in pool.map(lambda i: server.post(i), range(workers)))


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def latency_and_overhead(server: Server, n: int, where: Path) -> tuple[list[float], list[float]]:
    direct = subprocess.Popen([PY, "-c", DIRECT], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    assert direct.stdout.readline().strip() == "ready"
    service, alone = [], []
    for i in range(-2, n):  # two rounds of warm-up for the direct Grader's caches too
        folder = where / f"direct-{i}"
        folder.mkdir()
        (folder / "loss.py").write_text(source(i))
        direct.stdin.write(f"{folder}\n")
        direct.stdin.flush()
        took = json.loads(direct.stdout.readline())
        start = time.perf_counter()
        r = server.post(i)
        e2e = time.perf_counter() - start
        assert r.status_code == 201 and r.json()["status"] == "done", r.text
        if i >= 0:
            service.append(e2e)
            alone.append(took)
    direct.stdin.close()
    direct.wait(timeout=60)
    return service, alone


def throughput(server: Server, n: int) -> float:
    ids = [server.post(1000 + i, wait=None).json()["id"] for i in range(n)]
    subs = [server.client.get(f"/v1/submissions/{sid}?wait=120").json() for sid in ids]
    assert all(s["status"] == "done" for s in subs)
    first = min(_ts(s["created_at"]) for s in subs)
    last = max(_ts(s["finished_at"]) for s in subs)
    return n / (last - first) * 60


def _ts(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def burst(server: Server, n: int) -> tuple[Counter, int, int]:
    def one(i: int) -> httpx.Response:
        return server.post(5000 + i, wait=None)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(one, range(n)))
    codes = Counter(r.status_code for r in answers)
    accepted = [r.json()["id"] for r in answers if r.status_code == 201]
    done = sum(server.client.get(f"/v1/submissions/{sid}?wait=120").json()["status"] == "done" for sid in accepted)
    missing_retry_after = sum(1 for r in answers if r.status_code in (429, 503) and "retry-after" not in r.headers)
    return codes, len(accepted) - done, missing_retry_after


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=20)
    p.add_argument("--throughput", type=int, default=24)
    p.add_argument("--burst", type=int, default=200)
    args = p.parse_args()
    print(f"machine: {machine()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-service-") as tmp:
        where = Path(tmp)
        one = Server(1, where)
        warm(one, 1)
        service, alone = latency_and_overhead(one, args.requests, where)
        tput1 = throughput(one, args.throughput)
        rss1 = one.stop()
        two = Server(2, where, ["--queue-max", "50"])
        warm(two, 2)
        tput2 = throughput(two, args.throughput)
        codes, lost, no_retry_after = burst(two, args.burst) if args.burst else (Counter(), 0, 0)
        rss2 = two.stop()

    p50 = statistics.median(service)
    ratio = p50 / statistics.median(alone)
    rss = max(rss1, rss2)
    bad_5xx = sum(n for c, n in codes.items() if c >= 500 and c != 503)
    unexpected = sum(n for c, n in codes.items() if c not in (201, 429, 503))
    rows = [
        ("POST ?wait p50 (exercise 1, warm, 1 worker)", f"{p50:.3f} s", "<= 0.5 s", p50 <= 0.5),
        ("POST ?wait p95", f"{pct(service, 95):.3f} s", "", None),
        ("warm Grader.grade direct, median", f"{statistics.median(alone):.3f} s", "", None),
        ("service overhead (p50 / direct median)", f"{ratio:.3f}", "<= 1.05", ratio <= 1.05),
        ("throughput, 1 worker", f"{tput1:.1f} /min", "", None),
        ("throughput, 2 workers", f"{tput2:.1f} /min ({tput2 / tput1:.2f}x)", ">= 1.8x", tput2 / tput1 >= 1.8),
        ("web process peak RSS", f"{rss:.0f} MiB", "<= 150 MiB", rss <= 150),
    ]
    if args.burst:
        shown = ", ".join(f"{c}: {n}" for c, n in sorted(codes.items()))
        rows.append((f"burst of {args.burst} (2 workers, queue cap 50)", shown, "201/429/503 only",
                     unexpected == 0 and no_retry_after == 0))
        rows.append(("  accepted and not done (lost)", str(lost), "0", lost == 0))
        rows.append(("  5xx other than 503", str(bad_5xx), "0", bad_5xx == 0))
    print(f"\n{'measure':<48}{'figure':>26}   {'target':<18}verdict")
    for name, figure, target, ok in rows:
        print(f"{name:<48}{figure:>26}   {target:<18}{'' if ok is None else verdict(ok)}")
    print(f"\n{args.requests} latency requests (interleaved with the direct Grader), "
          f"{args.throughput} submissions per throughput run; load average now {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    sys.exit(main())
