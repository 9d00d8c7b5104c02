"""The judge-side helpers of exercises 4 and 5 on hostile or broken inputs: refuse, never crash."""

from __future__ import annotations

import io
import os
import signal
import json
import tempfile
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest

from grader.checks import ex4_perceptron
from grader.checks.support import tflite_facts
from grader.checks.support import c_array_harness, keras_file
from grader.checks.support.keras_file import UnsafeModel, check_known, read_config
from grader.checks.support.worker import OPEN_FILES, Worker
from grader.runner.launch import Zygote, helpers_from


def _keras_zip(config: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("config.json", json.dumps(config))
        z.writestr("metadata.json", "{}")
    return buf.getvalue()


def _layer(class_name: str, module: str = "keras.layers", **config) -> dict:
    return {"module": module, "class_name": class_name, "config": config, "registered_name": None}


def _sequential(*layers: dict) -> dict:
    return {"module": "keras", "class_name": "Sequential", "config": {"layers": list(layers)}, "registered_name": None}


PERCEPTRON = _sequential(_layer("InputLayer", batch_shape=[None, 3]), _layer("Dense", units=1, activation="sigmoid"))


def test_a_perceptron_config_is_accepted():
    check_known(read_config(_keras_zip(PERCEPTRON)))


@pytest.mark.parametrize(
    "config, words",
    [
        (_sequential(_layer("Lambda", function={"class_name": "__lambda__", "config": {"code": "..."}})), "Lambda"),
        (_sequential({"module": "student", "class_name": "MyDense", "config": {}, "registered_name": "Custom>MyDense"}),
         "MyDense"),
        (_sequential(_layer("Dense", units=1, activation={"module": "builtins", "class_name": "function",
                                                          "config": "evil", "registered_name": "function"})),
         "function"),
        (_sequential(_layer("Dense", units=1, activation="os.system")), "activation"),
    ],
)
def test_code_carrying_configs_are_refused(config, words):
    with pytest.raises(UnsafeModel, match=words):
        check_known(read_config(_keras_zip(config)))


def _zip_with(name: str, size: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("config.json", json.dumps(PERCEPTRON))
        z.writestr(name, b"\0" * size)
    return buf.getvalue()


@pytest.mark.parametrize(
    "data",
    [b"", b"not a zip", _keras_zip(PERCEPTRON)[:40], _zip_with("../evil.py", 10), _zip_with("model.weights.h5", 80 << 20)],
)
def test_unreadable_or_oversized_files_are_refused(data):
    with pytest.raises(UnsafeModel):
        read_config(data)


@pytest.mark.skipif(not c_array_harness.gcc_available(), reason="gcc is not installed")
def test_c_array_facts():
    data = bytes(range(256)) * 3
    body = ", ".join(f"0x{b:02x}" for b in data)
    good = f"__attribute__((aligned(16))) const unsigned char m[] = {{{body}}};\nunsigned int m_len = {len(data)};\n"
    facts = c_array_harness.inspect_c_array(good, "m", len(data))
    assert (facts.compile_error, facts.link_error, facts.length, facts.data, facts.alignment) == (
        None, None, len(data), data, 16)
    unaligned = good.replace("__attribute__((aligned(16))) ", "")
    assert c_array_harness.inspect_c_array(unaligned, "m", len(data)).alignment == 1
    no_len = good.split("\n")[0]
    assert "m_len" in c_array_harness.inspect_c_array(no_len, "m", len(data)).link_error
    broken = good.replace("};", "}")
    assert c_array_harness.inspect_c_array(broken, "m", len(data)).compile_error.startswith("line 2: error:")


def test_a_constructor_in_student_c_runs_sandboxed_and_cannot_hang_the_judge():
    if not c_array_harness.gcc_available():
        pytest.skip("gcc is not installed")
    source = ("const unsigned char m[] = {1};\nunsigned int m_len = 1;\n"
              "__attribute__((constructor)) static void spin(void) { for (;;) {} }\n")
    facts = c_array_harness.inspect_c_array(source, "m", 1)
    assert facts.run_error and facts.data is None


@pytest.mark.parametrize("model", [b"", b"garbage" * 100, b"\x1c\x00\x00\x00TFL3" + b"\xff" * 500])
def test_hostile_flatbuffers_fail_in_the_worker_not_here(model):
    run = tflite_facts.run_interpreter(model, "litert")
    assert run.facts is None and run.error



# --- exercise 4's models are loaded in a worker process, never here ---------------------------


def _saved_perceptron(n_features: int = 3) -> bytes:
    import keras

    model = keras.Sequential([keras.Input(shape=(n_features,)), keras.layers.Dense(1, activation="sigmoid")])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z, tempfile.TemporaryDirectory() as tmp:
        model.save(Path(tmp) / "m.keras")
        with zipfile.ZipFile(Path(tmp) / "m.keras") as saved:
            for name in saved.namelist():
                data = saved.read(name)
                if name == "model.weights.h5":  # keep the HDF5 signature, garble the rest
                    data = data[:8] + bytes((b * 7 + 13) % 256 for b in data[8:])
                z.writestr(name, data)
    return buf.getvalue()


def _fake_worker(tmp_path, body: str, seconds: float = 30) -> Worker:
    script = tmp_path / "fake_worker.py"
    script.write_text("import sys\nfor line in sys.stdin:\n" + textwrap.indent(textwrap.dedent(body), "    "))
    return Worker(script, seconds=seconds)


def test_corrupted_weights_in_a_valid_keras_file_are_refused_by_the_worker():
    with keras_file.loader() as worker:
        [result] = keras_file.read_models(worker, [_saved_perceptron()], np.zeros((4, 3), np.float32))
    assert isinstance(result, UnsafeModel) and str(result).startswith("Keras could not load your saved model:")


@pytest.fixture(scope="module")
def zygote():
    with Zygote() as z:
        yield z


@pytest.fixture(params=["spawned", "forked"])
def helpers(request):
    """Helper scripts spawned (`python -I`), or forked from a zygote as the judge does."""
    if request.param == "spawned":
        yield None
        return
    if not hasattr(__import__("os"), "fork"):
        pytest.skip("the zygote needs fork()")
    zygote = request.getfixturevalue("zygote")
    with helpers_from(zygote):
        yield zygote


def test_a_helper_runs_with_its_limits_in_its_directory_and_sees_nothing_else(tmp_path, helpers):
    body = """
        import json, os, resource, sys
        print(json.dumps({"cwd": os.getcwd(), "fds": sorted(int(f) for f in os.listdir("/proc/self/fd")),
                          "nofile": resource.getrlimit(resource.RLIMIT_NOFILE)[0], "env": sorted(os.environ),
                          "tensorflow": "tensorflow" in sys.modules, "session": os.getsid(0) == os.getpid()}),
              flush=True)
    """
    with _fake_worker(tmp_path, body) as worker:
        answer = worker.ask({})
    assert answer.error is None, answer.error
    facts = answer.result
    assert Path(facts["cwd"]) == worker.directory and facts["session"] and facts["nofile"] == OPEN_FILES
    assert facts["fds"][:3] == [0, 1, 2] and len(facts["fds"]) <= 4  # + the directory listing's own fd
    assert "HOME" not in facts["env"] and "PYTHONPATH" not in facts["env"]
    assert facts["tensorflow"] == (helpers is not None)  # forked: imported already, nothing to pay


@pytest.mark.usefixtures("helpers")
@pytest.mark.parametrize("body, words", [
    ("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n", "the loader crashed (signal 11)"),
    ("import time\ntime.sleep(60)\n", "the loader did not finish within 1 s"),
    ("print('not json', flush=True)\n", "the loader sent back an unreadable answer"),
    ("raise SystemExit('HDF5: bad superblock')\n", "the loader stopped with an error: HDF5: bad superblock"),
])
def test_a_worker_that_crashes_or_hangs_refuses_the_model_and_the_next_request_gets_a_fresh_one(tmp_path, body, words):
    perceptron = _keras_zip(PERCEPTRON)
    with _fake_worker(tmp_path, body, seconds=1) as worker:
        for _ in range(2):
            [result] = keras_file.read_models(worker, [perceptron])
            assert isinstance(result, UnsafeModel)
            assert str(result) == f"Your model file could not be loaded: {words}."


def test_refused_configs_never_reach_the_worker(tmp_path):
    lambda_layer = _sequential(_layer("Lambda", function={"class_name": "__lambda__", "config": {"code": "..."}}))
    with _fake_worker(tmp_path, "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n") as worker:
        [result] = keras_file.read_models(worker, [_keras_zip(lambda_layer)])
    assert "Lambda" in str(result)


class _Student:
    """Just enough of the `student` fixture for exercise 4's architecture check: probes return these bytes."""

    def __init__(self, data: bytes):
        self.cache, self.data = {}, data

    def probe(self, name, *args, **kwargs):
        facts = {"type": "keras.src.models.sequential.Sequential", "keras": self.data}
        return type("Returned", (), {"plain": lambda _: facts})()


def test_a_loader_crash_fails_the_check_with_a_message_and_the_judge_goes_on(tmp_path):
    student = _Student(_keras_zip(PERCEPTRON))
    crashing = _fake_worker(tmp_path, "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n")
    with crashing as worker, pytest.raises(AssertionError, match=r"^Your model file could not be loaded: the loader crashed"):
        ex4_perceptron.check_architecture(student, {}, worker)


def test_with_a_zygote_the_keras_loader_stays_warm_from_one_submission_to_the_next(zygote):
    perceptron = _keras_zip(PERCEPTRON)  # no weights: Keras refuses it, which is an answer all the same
    pids = []
    with helpers_from(zygote):
        for _ in range(2):  # exercise 4 of two submissions
            with keras_file.loader() as worker:
                [result] = keras_file.read_models(worker, [perceptron])
                assert str(result).startswith("Keras could not load your saved model:")
                pids.append(worker._process.pid)
    assert pids[0] == pids[1] and worker._process.poll() is None
    os.kill(pids[0], signal.SIGKILL)  # a warm loader that died between two submissions is replaced
    worker._process.wait(timeout=10)
    with helpers_from(zygote), keras_file.loader() as again:
        [result] = keras_file.read_models(again, [perceptron])
    assert again is worker and again._process.pid != pids[0]
    assert str(result).startswith("Keras could not load your saved model:")


def test_what_a_zygote_keeps_is_closed_with_it_and_a_helper_is_replaced_after_max_requests(tmp_path):
    zygote = Zygote()  # never started: keeping needs no process
    worker = zygote.kept("echo", lambda: _fake_worker(tmp_path, "print('{}', flush=True)\n"))
    worker.max_requests = 2
    assert worker.ask({}).result == {} and zygote.kept("echo", lambda: None) is worker
    first = worker._process.pid
    assert worker.ask({}).result == {} and worker._process is None  # its second answer was its last
    assert worker.ask({}).result == {} and worker._process.pid != first
    zygote.close()
    assert not worker.directory.exists()
