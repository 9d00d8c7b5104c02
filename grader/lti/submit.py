"""A student's upload on an LTI link, queued exactly like `POST /v1/submissions`.

The upload becomes the body of the HTTP API (`SubmissionIn`: `files`, or a base64
`archive` for a .zip or a notebook) and goes through the same checks, rate limit, queue
limit and durable `create` as the API's; the submission is owned by the key name
`lti:<platform id>`, so no API key ever sees it. Its link to the launch (link, `sub`) is
written right after, in the web process.
"""

from __future__ import annotations

import base64
import time
from pathlib import PurePosixPath

from grader import catalog
from grader.lti.launch import Refused
from grader.service import submissions
from grader.service.errors import ApiError
from grader.service.limits import check_queue

MAX_UPLOAD = submissions.LIMITS.max_total_bytes


def body_of(exercise: str, filename: str | None, data: bytes | None, source: str | None) -> submissions.SubmissionIn:
    """The API body for an upload (a file named `filename`) or pasted `source`, on a link of `exercise`."""
    chosen = catalog.select(None if exercise == "all" else [int(exercise)])
    exercises = None if exercise == "all" else [chosen[0].id]
    if data:
        if len(data) > MAX_UPLOAD:
            raise Refused(413, f"the file is larger than {MAX_UPLOAD // (1024 * 1024)} MiB")
        suffix = PurePosixPath(filename or "").suffix.lower()
        if suffix in (".zip", ".ipynb"):
            return submissions.SubmissionIn(archive=base64.b64encode(data).decode(), exercises=exercises)
        if suffix != ".py":
            raise Refused(422, "upload a .py file, a notebook (.ipynb) or a .zip of your files")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise Refused(422, "the .py file is not UTF-8 text") from None
        name = PurePosixPath(filename or "").name
        if len(chosen) == 1:
            name = chosen[0].file  # whatever it was called, it is this exercise's file
        elif name not in {ex.file for ex in chosen}:
            raise Refused(422, "on this link a .py file must be named as an exercise's file "
                               f"({', '.join(ex.file for ex in chosen)}); or upload a .zip or a notebook")
        return submissions.SubmissionIn(files={name: text}, exercises=exercises)
    if source and source.strip():
        if len(chosen) != 1:
            raise Refused(422, "paste code on a one-exercise link; here upload a .zip or a notebook")
        return submissions.SubmissionIn(files={chosen[0].file: source}, exercises=exercises)
    raise Refused(422, "choose a file to upload or paste your code")


def queue(service, platform_id: int, user: str, body: submissions.SubmissionIn, metadata: dict) -> str:
    """Check and store the submission, wake the dispatcher; its id. Refused with the API's status on a problem.

    The rate limit is the service's per-key rate, counted per student (a class submits at the deadline)."""
    received = time.time()
    key_name = f"lti:{platform_id}"
    body = body.model_copy(update={"metadata": metadata})
    try:
        exercises = submissions.check_fields(body, service.config.metadata_bytes)
        service.limiter.take(f"{key_name}:{user}", None)
        check_queue(service.store.counts()["queued"], service.config.queue_max, service.dispatcher.slots)
        row, _ = submissions.create(service.store, key_name, body, exercises, submissions.request_hash(body, exercises), received)
    except ApiError as e:
        raise Refused(e.status, e.message) from None
    service.dispatcher.wake()
    return row["id"]


def metadata(link: dict, sub: str) -> dict:
    return {"lti": {"link": link["id"], "resource_link_id": link["resource_link_id"], "user": sub}}


