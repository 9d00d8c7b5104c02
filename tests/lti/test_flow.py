"""The LTI tool against a real platform on 127.0.0.1: registration, deep linking, a student's
launch and upload, the score at the platform, the instructor's view, outages and restarts."""

from __future__ import annotations

import json
import stat

import httpx

from tests.lti.conftest import SOLUTION, STUB, Browser, Platform, grade, wait_for


def test_tool_config_jwks_and_key_file(lti_world):
    tool, _, _ = lti_world
    shown = grade("lti", "tool-config", "--public-url", tool.url, "--json", data=tool.data)
    assert shown.returncode == 0, shown.stderr
    doc = json.loads(shown.stdout)
    assert doc["login"] == f"{tool.url}/lti/login" and doc["register"] == f"{tool.url}/lti/register"
    served = httpx.get(f"{tool.url}/lti/jwks").json()
    assert served == doc["jwks_keys"] and served["keys"][0]["kty"] == "RSA" and "d" not in served["keys"][0]
    assert stat.S_IMODE((tool.data / "lti_keys.json").stat().st_mode) == 0o600
    listed = json.loads(grade("lti", "platforms", "--json", data=tool.data).stdout)
    assert {p["client_id"] for p in listed} >= {"tool-at-a", "tool-at-b"}


def test_deep_linking_one_exercise(lti_world):
    _, a, _ = lti_world
    made = Browser().deep_link(a, "3")
    (item,) = made["items"]
    assert item["type"] == "ltiResourceLink" and item["custom"] == {"exercise": "3"}
    assert item["lineItem"]["scoreMaximum"] == 10 and item["lineItem"]["resourceId"] == "ex3_two_layer"
    assert "two-layer" in item["lineItem"]["label"].lower() or "Exercise 3" in item["lineItem"]["label"]
    claims = made["claims"]
    assert claims["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == {"opaque": "kept"}
    assert claims["aud"] == a.url and claims["iss"] == "tool-at-a"
    assert claims["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] == "deploy-1"


def test_deep_linking_all(lti_world):
    _, a, _ = lti_world
    (item,) = Browser().deep_link(a, "all")["items"]
    assert item["custom"] == {"exercise": "all"}
    assert item["lineItem"]["scoreMaximum"] == 50 and item["lineItem"]["resourceId"] == "all"


def test_a_student_launches_uploads_and_the_score_lands_once(lti_world, ex1_link):
    tool, a, _ = lti_world
    student = Browser()
    page = student.launch(a, user="stu-1", link=ex1_link, name="Ada Lovelace")
    assert page.status_code == 200, page.text
    assert "frame-ancestors 'self' " + a.url in page.headers["content-security-policy"]
    assert "lti_session=" in page.headers["set-cookie"] and "HttpOnly" in page.headers["set-cookie"]
    assert "mean squared error" in page.text.lower()  # the README, rendered
    stub = httpx.get(f"{tool.url}/lti/stub/1")
    assert stub.text == STUB and 'filename="loss.py"' in stub.headers["content-disposition"]
    before = len(a.state()["scores"])
    status = student.upload(page, "my_loss.py", SOLUTION)
    assert status.status_code == 200 and "/lti/status/" in str(status.url)
    done = student.result(status)
    assert '<div class="tinyml-grader-card"' in done.text and "Correct" in done.text
    sid = str(done.url).rsplit("/", 1)[1]
    scores = wait_for(lambda: a.state()["scores"][before:] or None)
    (score,) = scores
    graded_at = tool.db("SELECT graded_at FROM submissions WHERE id = ?", (sid,))[0]["graded_at"]
    assert score["userId"] == "stu-1" and score["scoreGiven"] == 10 and score["scoreMaximum"] == 10
    assert score["activityProgress"] == "Completed" and score["gradingProgress"] == "FullyGraded"
    from grader.lti.ags import iso_ms

    assert score["timestamp"] == iso_ms(graded_at) and "\n" not in score["comment"]
    again = student.launch(a, user="stu-1", link=ex1_link)
    assert "Your earlier attempts" in again.text and "sent" in again.text
    teacher = Browser().launch(a, user="teacher-1", role="instructor", link=ex1_link)
    assert "Class view" in teacher.text and "Ada Lovelace" in teacher.text


def test_the_web_process_never_loads_tensorflow(lti_world):
    """After launches, uploads and scores (the tests above), the service's own process holds no TensorFlow."""
    tool, _, _ = lti_world
    maps = open(f"/proc/{tool.proc.pid}/maps").read()
    assert "tensorflow" not in maps and "_multiarray" not in maps


def test_the_platform_storage_carries_the_state_when_the_cookie_is_refused(lti_world, ex1_link):
    """A launch with `lti_storage_target`: the login page puts the state in the platform's storage,
    and a launch that arrives without the tool's cookie reads it back before it is accepted.
    (The page's postMessage script is what a browser runs; here its two answers are posted by hand.)"""
    tool, a, _ = lti_world
    from tests.lti.conftest import forms

    browser = Browser()
    r = browser.client.get(f"{a.url}/start", params={"user": "stu-5", "link": ex1_link, "storage": "1"})
    assert r.status_code == 200 and "lti.put_data" in r.text and str(r.url).startswith(tool.url)
    put = forms(r.text)[0]
    assert put["method"] == "get" and put["action"] == f"{a.url}/auth"
    to_tool = forms(browser.client.get(put["action"], params=put["fields"]).text)[0]
    cookieless = httpx.Client()  # the browser kept the tool's cookie out of the iframe
    check = cookieless.post(to_tool["action"], data=to_tool["fields"])
    assert check.status_code == 200 and "lti.get_data" in check.text and "lti_session=" not in check.headers.get(
        "set-cookie", "")
    again = forms(check.text)[0]["fields"]
    wrong = cookieless.post(to_tool["action"], data={**again, "storage_state": "something-else"})
    assert wrong.status_code == 403
    right = cookieless.post(to_tool["action"], data={**again, "storage_state": again["state"]})
    assert right.status_code == 200 and "Submit for grading" in right.text
    # without the cookie, the page's forms carry the session (its script adds it), and it works
    session = right.text.split('"session": "')[1].split('"')[0]
    status = cookieless.post(f"{tool.url}/lti/submit", data={"session": session, "source": STUB},
                             follow_redirects=False)
    assert status.status_code == 303 and "/lti/status/" in status.headers["location"]


def test_one_token_for_several_scores(lti_world, ex1_link):
    tool, a, _ = lti_world
    student = Browser()
    page = student.launch(a, user="stu-2", link=ex1_link)
    before = a.state()
    for source in (STUB, SOLUTION):
        student.result(student.upload(page, "loss.py", source))
    after = wait_for(lambda: (s := a.state()) and len(s["scores"]) >= len(before["scores"]) + 2 and s)
    mine = [s for s in after["scores"] if s["userId"] == "stu-2"]
    assert sorted(s["scoreGiven"] for s in mine) == [0, 10]
    assert after["token_requests"] - before["token_requests"] <= 1 and after["token_requests"] >= 1


def test_platform_down_then_up_the_score_lands_after_retries(lti_world, ex1_link):
    tool, a, _ = lti_world
    student = Browser()
    page = student.launch(a, user="stu-3", link=ex1_link)
    a.set(down=True)
    try:
        done = student.result(student.upload(page, "loss.py", SOLUTION))
        sid = str(done.url).rsplit("/", 1)[1]
        wait_for(lambda: tool.db("SELECT attempts FROM lti_scores WHERE submission_id = ? AND attempts >= 2",
                                 (sid,)))
        assert not [s for s in a.state()["scores"] if s["userId"] == "stu-3"]
    finally:
        a.set(down=False)
    wait_for(lambda: [s for s in a.state()["scores"] if s["userId"] == "stu-3"], seconds=30)
    row = tool.db("SELECT state, error FROM lti_scores WHERE submission_id = ?", (sid,))[0]
    assert row["state"] == "sent"
    assert len([s for s in a.state()["scores"] if s["userId"] == "stu-3"]) == 1


def test_a_refused_score_shows_in_the_class_view_and_can_be_sent_again(lti_world, ex1_link):
    tool, a, _ = lti_world
    student = Browser()
    page = student.launch(a, user="stu-4", link=ex1_link, name="Grace Hopper")
    a.set(score_status=400)
    try:
        done = student.result(student.upload(page, "loss.py", SOLUTION))
        sid = str(done.url).rsplit("/", 1)[1]
        wait_for(lambda: tool.db("SELECT 1 FROM lti_scores WHERE submission_id = ? AND state = 'failed'", (sid,)))
    finally:
        a.set(score_status=None)
    attempts = tool.db("SELECT attempts FROM lti_scores WHERE submission_id = ?", (sid,))[0]["attempts"]
    assert attempts == 1  # a 400 is not retried
    teacher = Browser()
    view = teacher.launch(a, user="teacher-1", role="instructor", link=ex1_link)
    assert "refused by the LMS" in view.text and "not enrolled" in view.text
    from tests.lti.conftest import forms

    resend = next(f for f in forms(view.text) if f["action"].endswith("/lti/resend"))
    assert resend["fields"]["submission"] == sid
    teacher.client.post(resend["action"], data=resend["fields"])
    wait_for(lambda: [s for s in a.state()["scores"] if s["userId"] == "stu-4"])


def test_two_platforms_are_isolated(lti_world, ex1_link):
    tool, a, b = lti_world
    link_b = ex1_link  # the same resource link id on both platforms: still two links in the tool
    httpx.post(f"{b.url}/control/link", json={"link": link_b, "custom": {"exercise": "1"}}).raise_for_status()
    before_a = len(a.state()["scores"])
    student = Browser()
    page = student.launch(b, user="stu-1", link=link_b)  # the same user id as on A
    assert "Your earlier attempts" not in page.text
    student.result(student.upload(page, "loss.py", STUB))
    wait_for(lambda: [s for s in b.state()["scores"] if s["userId"] == "stu-1"])
    assert len(a.state()["scores"]) == before_a
    teacher_b = Browser().launch(b, user="teacher-b", role="instructor", link=link_b)
    assert "Ada Lovelace" not in teacher_b.text and "Grace Hopper" not in teacher_b.text
    links = tool.db("SELECT platform_id FROM lti_links WHERE resource_link_id = ?", (ex1_link,))
    assert len({r["platform_id"] for r in links}) == 2


def test_a_link_without_a_line_item_gets_one_made_once(lti_world):
    """A link made in the LMS by hand (no deep linking), whose launches name no line item: the tool finds
    or makes the link's line item in the context's line items service, once, and posts there."""
    tool, a, _ = lti_world
    httpx.post(f"{a.url}/control/link", json={"link": "by-hand", "custom": {"exercise": "1"},
                                              "lineitem": False}).raise_for_status()
    student = Browser()
    page = student.launch(a, user="stu-6", link="by-hand")
    for source in (STUB, SOLUTION):
        student.result(student.upload(page, "loss.py", source))
    mine = wait_for(lambda: (s := [x for x in a.state()["scores"] if x["userId"] == "stu-6"]) and len(s) == 2 and s)
    state = a.state()
    made = [n for n, item in state["lineitems"].items() if item.get("resourceLinkId") == "by-hand"]
    assert len(made) == 1 and state["lineitems_made"] == 1
    assert {s["lineitem"] for s in mine} == set(made)
    assert state["lineitems"][made[0]]["scoreMaximum"] == 10 and state["lineitems"][made[0]]["resourceId"] == "ex1_loss"


def test_dynamic_registration_then_a_deep_link(lti_world, tmp_path):
    tool, _, _ = lti_world
    c = Platform(tmp_path / "platform-c", None, None)
    try:
        admin = Browser()
        done = admin.client.get(f"{c.url}/register-tool", params={"tool_register": f"{tool.url}/lti/register"})
        assert done.status_code == 200, done.text
        assert "org.imsglobal.lti.close" in done.text
        state = c.state()
        (asked,) = state["registrations"]
        assert asked["jwks_uri"] == f"{tool.url}/lti/jwks" and asked["token_endpoint_auth_method"] == "private_key_jwt"
        listed = json.loads(grade("lti", "platforms", "--json", data=tool.data).stdout)
        mine = next(p for p in listed if p["issuer"] == c.url)
        assert mine["client_id"] == state["client_id"] and mine["deployment_ids"] == ["deploy-1"]
        item = Browser().deep_link(c, "2")["items"][0]
        assert item["custom"] == {"exercise": "2"}
    finally:
        c.stop()


def test_service_killed_between_grading_and_posting_sends_once_after_restart(lti_world, ex1_link):
    tool, a, _ = lti_world
    student = Browser()
    page = student.launch(a, user="stu-9", link=ex1_link)
    a.set(down=True)
    try:
        done = student.result(student.upload(page, "loss.py", SOLUTION))
        sid = str(done.url).rsplit("/", 1)[1]
        wait_for(lambda: tool.db("SELECT 1 FROM lti_scores WHERE submission_id = ? AND attempts >= 1", (sid,)))
        tool.kill9()
    finally:
        a.set(down=False)
    graded_at = tool.db("SELECT graded_at FROM submissions WHERE id = ?", (sid,))[0]["graded_at"]
    tool.start()
    mine = wait_for(lambda: [s for s in a.state()["scores"] if s["userId"] == "stu-9"], seconds=60)
    import time

    time.sleep(2)  # a second post would come now
    mine = [s for s in a.state()["scores"] if s["userId"] == "stu-9"]
    from grader.lti.ags import iso_ms

    assert len(mine) == 1 and mine[0]["timestamp"] == iso_ms(graded_at)


def test_the_instructor_opens_the_class_report_of_the_link(lti_world, ex1_link):
    from tests.lti.conftest import forms

    tool, a, _ = lti_world
    teacher = Browser()
    view = teacher.launch(a, user="teacher-1", role="instructor", link=ex1_link)
    form = next(f for f in forms(view.text) if f["action"].endswith("/lti/class-report"))
    page = teacher.client.post(form["action"], data=form["fields"])
    assert page.status_code == 200 and "Ada Lovelace" in page.text
    maps = open(f"/proc/{tool.proc.pid}/maps").read()
    assert "_multiarray" not in maps and "matplotlib" not in maps
