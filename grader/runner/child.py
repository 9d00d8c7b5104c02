"""The runner child: imports one student file and calls into it on request.

Started by the judge as `python -I child.py ...` in a fresh working directory,
with limits applied, stdout/stderr captured by the judge, and two pipes for
requests and responses. It imports nothing from the judge or the hidden
checks; what it sends back is plain data (see protocol.py).

Requests:  {"op": "call",  "function": f, "args": [...], "kwargs": {...}}
           {"op": "probe", "probe": p,    "args": [...], "kwargs": {...}}
Responses: {"outcome": "ready" | "returned" | "raised" | "no_function", ...}
"""

from __future__ import annotations

import argparse
import errno
import importlib.util
import json
import os
import random
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sandbox  # noqa: E402  (the runner's own directory, nothing else; the standard library only)

if __name__ == "__main__" and "--limits" in sys.argv:
    sandbox.namespaces.enter_user()  # while single-threaded: NumPy and TensorFlow start threads on import
import protocol  # noqa: E402

del sys.path[0]

MAX_STR = 4000  # exception messages shown to the student
MAX_RETURNED_STR = 4 * 1024 * 1024  # a returned str (C source, say) crosses whole, or not at all
MAX_ITEMS = 10000
MAX_BYTES = 64 * 1024 * 1024
_tf = None


def _quiet_tensorflow():
    """Import TensorFlow once, before the student's code, quietly."""
    global _tf
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        import tensorflow as tf
    except ImportError:
        return
    tf.get_logger().setLevel("ERROR")
    _tf = tf


def _set_seeds(seed: int) -> None:
    random.seed(seed)
    import numpy as np

    np.random.seed(seed)
    if _tf is not None:
        _tf.random.set_seed(seed)
        try:
            import keras

            keras.utils.set_random_seed(seed)
        except Exception:
            pass


# -- describing what student code returned, as plain data ------------------


def _type_name(v: object) -> str:
    t = type(v)
    mod = getattr(t, "__module__", "") or ""
    name = getattr(t, "__qualname__", t.__name__)
    if _tf is not None:
        if isinstance(v, _tf.Variable):
            return "tf.Variable"
        if _tf.is_tensor(v):
            return "tf.Tensor"
    if mod == "numpy":
        return f"numpy.{name}"
    if mod in ("builtins", "__main__") or not mod:
        return name
    return f"{mod.split('.')[0]}.{name}" if mod.split(".")[0] in ("keras", "tensorflow") else name


def _numpy_scalar_types() -> set:
    import numpy as np

    return set(np.sctypeDict.values())


def describe(v: object, depth: int = 0) -> dict:
    import numpy as np

    t = type(v)
    d: dict = {"type": _type_name(v)}
    if depth > 8:
        return {**d, "kind": "object"}
    if v is None:
        return {**d, "kind": "none"}
    if t in (bool, int, float, str):
        if t is int and abs(v) > 2**63:
            return {**d, "kind": "object"}
        if t is str and len(v) > MAX_RETURNED_STR:
            return {**d, "kind": "object", "note": f"{len(v)} characters: too long"}
        return {**d, "kind": t.__name__, "value": v}
    if t is bytes:
        if len(v) > MAX_BYTES:
            return {**d, "kind": "object", "note": f"{len(v)} bytes: too large"}
        return {**d, "kind": "bytes", "value": v}
    if t is np.ndarray:
        if v.dtype.kind not in "biufc" or v.nbytes > MAX_BYTES:
            return {**d, "kind": "object", "dtype": str(v.dtype)}
        return {**d, "kind": "ndarray", "value": v}
    if t in _numpy_scalar_types():
        arr = np.asarray(v)
        if arr.dtype.kind not in "biufc":
            return {**d, "kind": "object"}
        return {**d, "kind": "numpy_scalar", "value": arr}
    if _tf is not None and (isinstance(v, _tf.Variable) or (_tf.is_tensor(v) and hasattr(v, "numpy"))):
        try:
            arr = np.asarray(v.numpy())
        except Exception:
            return {**d, "kind": "object"}
        if arr.dtype.kind not in "biufc" or arr.nbytes > MAX_BYTES:
            return {**d, "kind": "object", "dtype": str(arr.dtype)}
        return {**d, "kind": "variable" if isinstance(v, _tf.Variable) else "tensor", "value": arr}
    if t in (list, tuple):
        if len(v) > MAX_ITEMS:
            return {**d, "kind": "object", "note": f"{len(v)} items: too many"}
        return {**d, "kind": t.__name__, "value": [describe(i, depth + 1) for i in v]}
    if t is dict and all(type(k) is str for k in v) and len(v) <= MAX_ITEMS:
        return {**d, "kind": "dict", "value": {k: describe(i, depth + 1) for k, i in v.items()}}
    return {**d, "kind": "object"}


def _safe_str(e: BaseException) -> str:
    try:
        s = str(e)
    except BaseException:
        s = "(the exception's message could not be read)"
    return s if len(s) <= MAX_STR else s[:MAX_STR] + "..."


def raised(e: BaseException, student_file: str) -> dict:
    """The student-facing account of an exception: type, message, line in *their* file."""
    line, code = None, ""
    if isinstance(e, SyntaxError) and e.filename == student_file:
        line, code = e.lineno, (e.text or "").strip()
    for frame in traceback.extract_tb(e.__traceback__):
        if frame.filename == student_file:
            line, code = frame.lineno, (frame.line or "").strip()
    message = e.msg if isinstance(e, SyntaxError) else _safe_str(e)
    reply = {
        "outcome": "raised",
        "exc_type": type(e).__name__,
        "message": message,
        "line": line,
        "code": code[:200],
        "not_implemented": isinstance(e, NotImplementedError),
    }
    limit = _limit_hit(e)
    if limit:
        reply["limit"] = limit
    return reply


def _limit_hit(e: BaseException) -> str | None:
    """Which sandbox limit (if any) this exception is the symptom of."""
    if isinstance(e, MemoryError):
        return "memory"
    if isinstance(e, OSError):
        return {errno.EFBIG: "file", errno.EMFILE: "open_files", errno.EAGAIN: "processes"}.get(e.errno)
    if isinstance(e, RuntimeError) and "can't start new thread" in _safe_str(e):
        return "processes"
    return None


# -- the request loop --------------------------------------------------------


def _markers() -> dict:
    def tensor(a):
        return _tf.constant(a) if _tf is not None else a

    def variable(a):
        return _tf.Variable(a) if _tf is not None else a

    return {"$tensor": tensor, "$variable": variable}


def _load(path: str, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def serve(req_fd: int, resp_fd: int, student_file: str, probes_file: str | None, seed: int,
          limits: dict | None = None) -> None:
    reader = protocol.Reader(req_fd)

    def send(msg: dict) -> None:
        for stream in (sys.stdout, sys.stderr):  # what the student printed lands before the reply
            try:
                stream.flush()
            except Exception:
                pass
        try:
            protocol.write_message(resp_fd, msg)
        except protocol.ProtocolError as e:
            protocol.write_message(resp_fd, {"outcome": "raised", "exc_type": "TypeError",
                                             "message": f"the value cannot be graded: {e}",
                                             "line": None, "code": "", "not_implemented": False})

    name = os.path.splitext(os.path.basename(student_file))[0]
    probes = _load(probes_file, "_grader_probes") if probes_file else None
    notes = sandbox.enter(limits, keep_fds=(req_fd, resp_fd), needed=_needed_paths(student_file)) if limits else []
    send({"outcome": "prepared", "notes": notes})  # the import clock starts now, not while TensorFlow loads
    _set_seeds(seed)
    try:
        module = _load(student_file, name)
    except BaseException as e:  # noqa: BLE001  (student code: anything can come out)
        send(raised(e, student_file))
        return
    send({"outcome": "ready", "functions": sorted(k for k, v in vars(module).items() if callable(v))})

    while True:
        try:
            req = reader.read_blocking(markers=_markers())
        except EOFError:
            return
        if req.get("op") == "call":
            fn = getattr(module, req["function"], None)
            if not callable(fn):
                send({"outcome": "no_function", "function": req["function"]})
                continue
            target, args = fn, req.get("args", [])
        elif req.get("op") == "probe" and probes is not None and callable(getattr(probes, req["probe"], None)):
            target, args = getattr(probes, req["probe"]), [module, *req.get("args", [])]
        else:
            send({"outcome": "raised", "exc_type": "RuntimeError", "message": f"bad request {req.get('op')}",
                  "line": None, "code": "", "not_implemented": False})
            continue
        _set_seeds(seed)
        start = time.perf_counter()
        try:
            value = target(*args, **req.get("kwargs", {}))
            reply = {"outcome": "returned", "value": describe(value)}
        except BaseException as e:  # noqa: BLE001
            reply = raised(e, student_file)
        reply["seconds"] = time.perf_counter() - start
        send(reply)


def _needed_paths(student_file: str) -> tuple[str, ...]:
    """What the runner still reads once the sandbox is up: never hidden, and must stay readable."""
    import numpy

    paths = [student_file, os.path.dirname(os.path.abspath(__file__)), os.path.dirname(numpy.__file__)]
    if _tf is not None:
        paths.append(os.path.dirname(_tf.__file__))
    return tuple(paths)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--req-fd", type=int, required=True)
    p.add_argument("--resp-fd", type=int, required=True)
    p.add_argument("--student", required=True)
    p.add_argument("--probes")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limits", type=json.loads, help="JSON: the sandbox's limits (see sandbox.enter)")
    a = p.parse_args(argv)
    if a.limits:
        sandbox.namespaces.enter_user()  # forked from the zygote: single-threaded, whatever it imported
    _quiet_tensorflow()
    serve(a.req_fd, a.resp_fd, a.student, a.probes, a.seed, a.limits)
    # Leave without running student atexit handlers or flushing into a closed pipe.
    os._exit(0)


if __name__ == "__main__":
    main()
