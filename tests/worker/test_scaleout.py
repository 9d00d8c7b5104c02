"""Scale-out on a real Redis: `grade serve --broker` + `grade worker` processes, and what they survive.

The tests share one cluster (redis-server, the service, two workers) and run in
order: each leaves every submission finished. Every one checks the promise of
the contract: a submission answered 201 ends `done` with exactly one report
(the service logs `job_done` once per submission; a duplicate or late result is
logged as ignored, never recorded).
"""

from __future__ import annotations

import base64
import io
import signal
import time
import zipfile
from collections import Counter

from tests.worker.conftest import ROOT, SOLUTION, STUB, SUMMED, VISIBILITY_S, slow, wait_for

PERCEPTRON = (ROOT / "solutions" / "ex4_perceptron" / "perceptron.py").read_text()
# Exercise 4's solution training for twice the test's visibility timeout: a long job, alive throughout.
LONG_TRAINING = PERCEPTRON.replace(
    "    return model.fit(x, y, epochs=30, batch_size=32, verbose=0)\n",
    "    import time\n"
    f"    end = time.monotonic() + {2 * VISIBILITY_S + 1}\n"
    "    history = model.fit(x, y, epochs=30, batch_size=32, verbose=0)\n"
    "    while time.monotonic() < end:\n"
    "        model.fit(x, y, epochs=1, batch_size=32, verbose=0)\n"
    "    return history\n")


def zipped(files: dict[str, str]) -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return base64.b64encode(buf.getvalue()).decode()


def assert_one_report_each(service, ids) -> None:
    done = Counter(e["id"] for e in service.events("job_done"))
    assert all(done[sid] == 1 for sid in ids), {sid: done[sid] for sid in ids}


def test_two_workers_grade_a_mix(cluster):
    service = cluster.service
    expected = {}
    for n in range(3):
        expected[service.submit(SOLUTION + f"\n# {n}\n")] = 10.0
    expected[service.submit(STUB)] = 0.0
    expected[service.submit(SUMMED)] = None  # partly wrong: the sum-instead-of-mean mistake is named
    with service.client() as c:
        r = c.post("/v1/submissions", json={"archive": zipped({"ex1_loss/loss.py": SOLUTION}), "exercises": [1]})
    assert r.status_code == 201, r.text
    expected[r.json()["id"]] = 10.0

    found = service.wait_done(list(expected), timeout=120)
    for sid, score in expected.items():
        obj = found[sid]
        assert obj["status"] == "done" and obj["attempts"] == 1, obj
        report = obj["report"]
        assert report["submission"] == sid and report["exercises"][0]["slug"] == "ex1_loss"
        if score is not None:
            assert obj["score"] == score, obj
    summed = found[[s for s, v in expected.items() if v is None][0]]["report"]["exercises"][0]
    assert 0 < summed["score"] < 10 and any(c.get("mistake") == "sum_instead_of_mean" for c in summed["checks"])
    stub = found[[s for s, v in expected.items() if v == 0.0][0]]["report"]["exercises"][0]
    assert stub["status"] == "not_attempted"
    # A worker's banner and messages are its log, on stderr; its stdout stays empty.
    assert all("[config]" in w.text() and w.stdout.read_bytes() == b"" for w in cluster.workers)
    # Both workers graded (prefetch 1: a busy one-slot worker takes no second job).
    assert all(w.succeeded() for w in cluster.workers), [len(w.succeeded()) for w in cluster.workers]
    assert_one_report_each(service, expected)
    with service.client() as c:
        health = c.get("/v1/health").json()
    assert health["queued"] == 0 and health["running"] == 0


def test_broker_outage_service_answers_201_and_catches_up(cluster):
    service, redis = cluster.service, cluster.redis
    running = service.submit(slow(2, "in flight when the broker stops"))
    cluster.holder(running, cluster.workers)
    redis.stop()
    start = time.monotonic()
    during = [service.submit(SOLUTION + f"\n# outage {n}\n") for n in range(4)]  # each asserts 201
    with service.client() as c:
        assert c.get("/v1/health").status_code == 200
    time.sleep(max(0.0, 3 - (time.monotonic() - start)))
    redis.start()
    ids = [running, *during]
    found = service.wait_done(ids, timeout=90)
    assert all(found[sid]["status"] == "done" and found[sid]["score"] == 10.0 for sid in ids), found
    assert_one_report_each(service, ids)
    assert service.events("broker_unavailable") or service.events("results_unavailable")


def test_service_killed_while_workers_finish_loses_no_report(cluster):
    service = cluster.service
    ids = [service.submit(slow(1.5, f"restart {n}")) for n in range(4)]
    cluster.holder(ids[0], cluster.workers)
    service.kill9()
    time.sleep(4)  # the workers go on grading and store their reports in the result backend
    service.start()
    found = service.wait_done(ids, timeout=90)
    for sid in ids:
        assert found[sid]["status"] == "done" and found[sid]["score"] == 10.0, found[sid]
    # The jobs at the broker were adopted, not graded again: one attempt each.
    assert [found[sid]["attempts"] for sid in ids] == [1, 1, 1, 1]
    assert service.events("broker_jobs_adopted")
    assert_one_report_each(service, ids)


def test_sigterm_hands_the_running_job_back(cluster):
    service = cluster.service
    sid = service.submit(slow(8, "sigterm"))
    holder = cluster.holder(sid, cluster.workers)
    time.sleep(1)
    holder.proc.send_signal(signal.SIGTERM)
    holder.proc.wait(timeout=30)  # soft shutdown: 1 s for the job here, then it is handed back
    other = [w for w in cluster.workers if w is not holder and w.proc.poll() is None]
    found = service.wait_done([sid], timeout=60)[sid]
    assert found["status"] == "done" and found["score"] == 10.0, found
    assert found["attempts"] == 2, found  # the interrupted delivery counts
    token_seen = [w for w in other if w.succeeded()]
    assert token_seen
    assert_one_report_each(service, [sid])


def test_kill9_of_a_worker_mid_job_is_redelivered_and_finished_once(cluster):
    service = cluster.service
    cluster.add_worker()  # back to two live workers
    live = [w for w in cluster.workers if w.proc.poll() is None]
    assert len(live) == 2
    sid = service.submit(slow(3, "kill -9"))
    victim = cluster.holder(sid, live)
    time.sleep(1)
    victim.kill9()
    start = time.monotonic()
    found = service.wait_done([sid], timeout=VISIBILITY_S + 60)[sid]
    assert found["status"] == "done" and found["score"] == 10.0, found
    assert found["attempts"] >= 2, found
    survivor = next(w for w in live if w is not victim)
    assert service.token(sid) is None and survivor.succeeded()
    assert_one_report_each(service, [sid])
    assert time.monotonic() - start < VISIBILITY_S + 45


def wait_for_token(service, sid: str) -> str:
    return wait_for(f"a lease for {sid}", lambda: service.token(sid), 30)


def live_workers(cluster, n: int) -> list:
    while len(cluster.live()) < n:
        cluster.add_worker()
    return cluster.live()


def test_a_job_longer_than_the_visibility_timeout_stays_with_its_live_worker(cluster):
    service = cluster.service
    live = live_workers(cluster, 2)
    assert LONG_TRAINING != PERCEPTRON
    with service.client() as c:
        r = c.post("/v1/submissions", json={"files": {"perceptron.py": LONG_TRAINING}, "exercises": [4]})
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    token = wait_for_token(service, sid)
    holder = cluster.holder(sid, live)
    found = service.wait_done([sid], timeout=300)[sid]
    assert found["status"] == "done" and found["attempts"] == 1, found
    # The idle worker beside it never received the job: the holder renewed its hold all along.
    assert [w for w in live if token in w.received()] == [holder]
    assert token in holder.succeeded() and "could not renew" not in holder.text()
    assert_one_report_each(service, [sid])


def test_kill9_of_every_worker_then_a_new_one_finishes_each_job_once(cluster):
    service = cluster.service
    live = live_workers(cluster, 2)
    ids = [service.submit(slow(4, f"every worker killed {n}")) for n in range(2)]
    tokens = {wait_for_token(service, sid) for sid in ids}
    holders = {cluster.holder(sid, live) for sid in ids}
    assert len(holders) == 2  # one job each (one slot, prefetch 1)
    time.sleep(1)
    for w in live:
        w.kill9()  # the whole machine's worth: every main process and its children
    fresh = cluster.add_worker()
    # Within the visibility timeout of the kill (plus a sweep), then each job's grading.
    found = service.wait_done(ids, timeout=VISIBILITY_S + 120)
    for sid in ids:
        assert found[sid]["status"] == "done" and found[sid]["score"] == 10.0, found[sid]
        assert found[sid]["attempts"] == 2, found[sid]  # the killed delivery counts
    assert {service.token(sid) for sid in ids} == {None}
    assert tokens <= fresh.succeeded()
    assert_one_report_each(service, ids)
