"""Keep TensorFlow's own chatter off the student's terminal.

Importing TensorFlow, probing for CUDA and converting to TFLite write C++ log lines,
CUDA notices and the converter's `fully_quantize: ...` straight to file descriptors 1
and 2, before any Python logging is configured, and environment variables do not
silence all of them (absl logs before it is initialised). So the judge captures both
descriptors around the few calls that chatter, drops those lines and passes every
other line on to stderr (stdout is reserved for `--json`).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import warnings

NOISE = re.compile(
    rb"^(\s*"
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    rb"|[IWEF]\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] .*"
    rb"|.*oneDNN custom operations are on.*"
    rb"|.*To enable the following instructions: .*"
    rb"|.*This TensorFlow binary is optimized to use available CPU instructions.*"
    rb"|fully_quantize: \d+, inference_type: .*"
    rb"|Saved artifact at '.*'\. The following endpoints are available:"
    rb"|\* Endpoint '.*'"
    rb"|(Output Type|Captures):"
    rb"|  (\S+( \(\w+\))?: )?TensorSpec\(.*\))\r?$"
)


@contextlib.contextmanager
def tensorflow_quiet():
    """Run the block with fds 1 and 2 captured; afterwards write its non-noise lines to stderr."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    with tempfile.TemporaryFile() as captured, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Statistics for quantized inputs were expected")
        for fd in saved:
            os.dup2(captured.fileno(), fd)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            for fd, copy in saved.items():
                os.dup2(copy, fd)
                os.close(copy)
            captured.seek(0)
            kept = [line for line in captured.read().splitlines(keepends=True) if not NOISE.match(line.rstrip(b"\r\n"))]
            if kept:
                os.write(2, b"".join(kept))
