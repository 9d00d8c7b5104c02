"""Compile a student's C array with gcc, link a harness against it, read it back.

Everything built from the student's source is untrusted: gcc and the binaries
run as child processes in a fresh temporary directory, with a clean
environment, resource limits and a timeout. The harness writes the array's
bytes to a file; the judge compares them.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

GCC_SECONDS = 30
RUN_SECONDS = 10
_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LC_ALL": "C"}

_LINK_HARNESS = """\
#include <stdio.h>
extern const unsigned char {var}[];
extern const unsigned int {var}_len;
int main(void) {{
    FILE *out = fopen("array.bin", "wb");
    if (!out) return 3;
    fwrite({var}, 1, {n}, out);
    fclose(out);
    printf("%u\\n", {var}_len);
    return 0;
}}
"""

_INFO_HARNESS = """\
#include "student.c"
#include <stdio.h>
int main(void) {{
    printf("%lu %lu\\n", (unsigned long)sizeof({var}), (unsigned long)__alignof__({var}));
    return 0;
}}
"""


@dataclass
class CArrayFacts:
    """What gcc and the harness found out about one C source."""

    gcc_found: bool = True
    compile_error: str | None = None
    link_error: str | None = None
    info_error: str | None = None
    run_error: str | None = None
    length: int | None = None
    data: bytes | None = None
    sizeof: int | None = None
    alignment: int | None = None


def gcc_available() -> bool:
    return shutil.which("gcc") is not None


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (RUN_SECONDS, RUN_SECONDS))
    resource.setrlimit(resource.RLIMIT_FSIZE, (16 << 20, 16 << 20))
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def _run(cmd: list[str], cwd: Path, seconds: float, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=seconds,
        preexec_fn=_limits, check=False,
    )


def first_error(stderr: bytes, workdir: Path) -> str:
    """gcc's first error line, with the temporary directory taken out."""
    text = stderr.decode("utf-8", "replace").replace(str(workdir) + os.sep, "")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    found = next((ln for ln in lines if re.search(r"\berror\b|undefined reference|multiple definition", ln)), None)
    found = found or (lines[0] if lines else "gcc failed without a message")
    return re.sub(r"^student\.c:(\d+):\d+: ", r"line \1: ", found)[:300]


def _gcc(args: list[str], workdir: Path) -> subprocess.CompletedProcess:
    return _run(["gcc", "-std=gnu17", "-x", "c", *args], workdir, GCC_SECONDS, _ENV)


def inspect_c_array(source: str, var: str, n: int) -> CArrayFacts:
    """Compile `source` as C, check `var`/`var_len` through a linked harness, read `n` bytes."""
    facts = CArrayFacts()
    if not gcc_available():
        facts.gcc_found = False
        return facts
    with tempfile.TemporaryDirectory(prefix="grader-c-") as tmp:
        work = Path(tmp)
        (work / "student.c").write_text(source, encoding="utf-8")
        (work / "link.c").write_text(_LINK_HARNESS.format(var=var, n=n), encoding="utf-8")
        (work / "info.c").write_text(_INFO_HARNESS.format(var=var), encoding="utf-8")
        try:
            built = _gcc(["-c", "student.c", "-o", "student.o"], work)
            if built.returncode != 0:
                facts.compile_error = first_error(built.stderr, work)
                return facts
            linked = _run(["gcc", "link.c", "student.o", "-o", "link"], work, GCC_SECONDS, _ENV)
            if linked.returncode != 0:
                facts.link_error = first_error(linked.stderr, work)
            else:
                ran = _run(["./link"], work, RUN_SECONDS, {})
                if ran.returncode != 0:
                    facts.run_error = f"the harness stopped with exit status {ran.returncode}"
                else:
                    facts.length = int(ran.stdout.split()[-1])
                    facts.data = (work / "array.bin").read_bytes()
            info = _gcc(["info.c", "-o", "info"], work)
            if info.returncode != 0:
                facts.info_error = first_error(info.stderr, work)
            else:
                ran = _run(["./info"], work, RUN_SECONDS, {})
                if ran.returncode == 0:
                    facts.sizeof, facts.alignment = (int(v) for v in ran.stdout.split()[-2:])
                else:
                    facts.info_error = f"the harness stopped with exit status {ran.returncode}"
        except subprocess.TimeoutExpired as e:
            facts.run_error = f"`{' '.join(e.cmd)}` did not finish within {e.timeout:g} s"
        except (ValueError, OSError) as e:
            facts.run_error = f"the harness output could not be read ({e})"
    return facts
