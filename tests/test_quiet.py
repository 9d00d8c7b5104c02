"""TensorFlow's own chatter never reaches the student's terminal from the grader's processes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from grader.judge.quiet import tensorflow_quiet

ROOT = Path(__file__).resolve().parent.parent
CHATTER = re.compile(
    r"absl|I0000|W0000|E0000|cuda|oneDNN|cpu_feature_guard|fully_quantize|TensorSpec|Saved artifact"
    r"|UserWarning|warnings\.warn|site-packages/tensorflow",
    re.IGNORECASE,
)


def test_quiet_drops_tensorflow_lines_and_keeps_the_rest(capfd) -> None:
    with tensorflow_quiet():
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n")
        os.write(2, b"E0000 00:00:1795999625.084867   23291 cuda_platform.cc:52] failed call to cuInit: INTERNAL\n")
        os.write(1, b"fully_quantize: 0, inference_type: 6, input_inference_type: INT8, output_inference_type: INT8\n")
        os.write(2, b"something else went wrong\n")
    out, err = capfd.readouterr()
    assert out == ""
    assert err == "something else went wrong\n"


def test_grading_the_solutions_prints_no_tensorflow_chatter() -> None:
    """The judge imports TensorFlow, probes CUDA and converts a model: none of it shows on stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    done = subprocess.run([sys.executable, "-m", "grader", "exercise", "all", "--submission", "solutions", "--json"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["score"] == 50.0
    chatter = [line for line in done.stderr.splitlines() if CHATTER.search(line)]
    assert not chatter, "\n".join(chatter)
