# The assessment service (`grade serve`) and its workers (`grade worker`), installed from the
# wheel as on any machine: the image holds the grader and the course, never solutions/.
#
#   docker build -t tinyml-grader .
#   docker run -p 127.0.0.1:8000:8000 -v grader-data:/srv/grader tinyml-grader
#   docker run tinyml-grader grade worker --broker redis://default:PASS@redis:6379/0 --concurrency 4
#
# NOT BUILT on the machine this was written on: no container engine runs there. What it does
# (build the wheel, install it into a Python 3.11 with gcc) is what tests/test_wheel.py does
# in a venv. See docs/deploy.md for the compose file that uses it.

FROM python:3.11-slim AS wheel
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY grader grader
COPY exercises exercises
RUN python -m pip install --no-cache-dir build && python -m build --wheel --outdir /dist .

FROM python:3.11-slim
# Exercise 5 compiles the student's C array with gcc.
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
COPY --from=wheel /dist /dist
RUN python -m pip install --no-cache-dir /dist/*.whl && rm -rf /dist
# Runners get their own namespaces and uid only when the grader runs as root (see docs/security.md).
WORKDIR /srv/grader
EXPOSE 8000
CMD ["grade", "serve", "--host", "0.0.0.0", "--port", "8000", "--data", "/srv/grader"]
