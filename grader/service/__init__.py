"""`grade serve`: the grader as an HTTP service for LMSs, CI jobs and course sites.

The web process (FastAPI on uvicorn) holds the keys and the state, one SQLite
database under `--data`; it never imports TensorFlow, NumPy, the grading API or
student code. Grading happens in the warm-worker pool's processes (`grader.pool`),
driven by the dispatcher's slot threads through leases in the database.

    app.py        the routes (thin)           store.py      SQLite: keys, submissions, leases
    config.py     the settings of a service   submissions.py  the request's files checked and stored
    dispatch.py   leases + the pool           callbacks.py  signed webhooks, retried, SSRF-checked
    limits.py     body size, rate, queue cap  metrics.py    Prometheus
    keys.py       API keys                    server.py     uvicorn, lifespan, signals, logs
    (`grade serve` and `grade keys` are in grader/cli/service.py)
"""
