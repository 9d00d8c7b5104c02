"""`grade worker`: grading on any machine that reaches the broker (Celery on Redis).

    celery_app.py  the Celery app and every reliability setting (light: no TensorFlow)
    tasks.py       the grading task; each Celery child drives one warm pool worker
    leases.py      a live worker renews its hold on its jobs at the broker, so a dead one's come back in seconds
    cli.py         `grade worker --broker redis://... [--concurrency N]`

The service (`grade serve --broker`) sends jobs by task name with
`grader.service.broker`, which imports only `celery_app`, never `tasks`.
"""
