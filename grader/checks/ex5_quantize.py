"""Hidden checks for exercise 5: quantize the sine model for a microcontroller.

The student's `quantize` runs once per grade, in the runner (a probe builds the
sine model there); its flatbuffer is cached in `reference_cache` and shared by
the checks. Submitted flatbuffers are only ever loaded by interpreters in a
throw-away worker process (`tflite_worker.py`), and the student's C array is
compiled and read back by `c_array_harness`, also in child processes. The judge
imports no TensorFlow: the float model's outputs are computed in NumPy, its own
int8 conversion in a helper process (`keras_references`).
"""

from __future__ import annotations


import numpy as np

from grader.checks.support import tflite_facts
from grader.checks.support.student_tflite import student_tflite
from grader.checks.support.c_array_harness import CArrayFacts
from grader.judge.feedback import Mistake, fmt
from grader.runner.client import StudentRaised

def check_representative_dataset(student, rng):
    """representative_dataset(x_sample) is a generator function yielding [float32 array (1, n_features)] from the sample."""
    for n, features in ((40, 1), (12, 3)):
        x_sample = rng.uniform(0.0, 2 * np.pi, size=(n, features))
        try:
            facts = student.probe("representative_items", x_sample, n + 10, what="representative_dataset()",
                                  needs=["representative_dataset"]).plain()
        except StudentRaised as e:
            if "'NoneType' object is not iterable" in e.message:
                raise Mistake("nothing_yielded", "Your representative dataset's generator function yields nothing "
                              "(calling it gives None): put a `yield` inside the loop over the samples.") from None
            raise
        if "items" not in facts and facts["returned"] == "NoneType":
            raise Mistake("nothing_yielded", "representative_dataset(x_sample) returned None: it should yield the "
                          "items (a generator function, with `yield` in its loop) or return a generator function.")
        if "items" not in facts:
            if facts["returned"] in ("list", "tuple", "numpy.ndarray"):
                raise Mistake(
                    "list_not_generator",
                    f"representative_dataset(x_sample) returned a {facts['returned']}; the converter takes a "
                    "function it can call for a fresh generator of items. Yield the items one by one from "
                    "representative_dataset (quantize then passes `lambda: representative_dataset(x_sample)`), "
                    "or return an inner generator function.",
                )
            raise AssertionError(
                f"representative_dataset(x_sample) should yield the items (a generator function) or return a "
                f"generator function; yours returned a {facts['returned']}."
            )
        items = facts["items"]
        assert items, "Your representative dataset yielded nothing: yield one item per sample."
        expected_shape = [1, features]
        for item in items:
            kind = item["type"]
            if "items" not in item:
                if item.get("shape") is not None:
                    raise Mistake(
                        "bare_array",
                        f"Each item must be a list holding one array, `[sample]`; yours yielded a bare {kind} "
                        f"of shape {tuple(item['shape'])}. The converter rejects that ('Unsupported value from "
                        "dataset'): yield `[sample]`.",
                    )
                raise AssertionError(f"Each item should be a list holding one float32 array; yours yielded a {kind}.")
            assert item["length"] == 1, (
                f"Each item should be a list of exactly one array (the model has one input); yours yielded a "
                f"{kind} of {item['length']} elements."
            )
            inner = item["items"][0]
            assert inner.get("shape") is not None, (
                f"The list you yield should hold a NumPy array; it held a {inner['type']}."
            )
            if inner["dtype"] == "float64":
                raise Mistake(
                    "float64_samples",
                    "Your samples are float64 (NumPy's default); the model's input is float32 and the converter "
                    "refuses float64 ('Got value of type FLOAT64 but expected type FLOAT32'). Convert with "
                    "`.astype(np.float32)`.",
                )
            assert inner["dtype"] == "float32", f"Each sample should be float32; yours is {inner['dtype']}."
            if inner["shape"] != expected_shape:
                raise Mistake("wrong_sample_shape", f"Each sample should have shape (1, n_features) = "
                              f"{tuple(expected_shape)} for a sample of {features} feature(s): a batch of one, as "
                              f"the model's input takes it. Yours has shape {tuple(inner['shape'])}.")
            row = np.asarray(inner["value"], dtype=np.float64).ravel()
            assert np.isclose(x_sample, row, rtol=1e-6, atol=1e-6).all(axis=1).any(), (
                f"Each yielded sample should be a row of x_sample; {fmt(row)} is not one of them."
            )
        wanted = min(n, 100)
        assert len(items) >= wanted, (
            f"For a sample of {n} rows your generator yielded only {len(items)} item(s); yield every row "
            "(up to a few hundred) so the converter sees the whole range of inputs."
        )


def check_flatbuffer(student, exercise, reference_cache):
    """quantize(model, x_sample) returns the bytes of a TFLite flatbuffer that LiteRT can load."""
    model = student_tflite(student, exercise, reference_cache)
    assert len(model) >= 8 and model[4:8] == b"TFL3", (
        f"quantize() should return a TFLite flatbuffer (its bytes 4-8 read 'TFL3'); your {len(model)} bytes "
        f"start with {model[:8]!r}."
    )
    tflite_facts.litert_facts(model, reference_cache)


def check_int8_tensors(student, exercise, reference_cache):
    """Input and output are int8, every tensor is int8 except int32 biases, no float operators remain."""
    facts = tflite_facts.litert_facts(student_tflite(student, exercise, reference_cache), reference_cache)
    io = {facts["input"]["dtype"], facts["output"]["dtype"]}
    tensors = {t["index"]: t for t in facts["tensors"]}
    float_activation = any(
        tensors[op["inputs"][0]]["dtype"].startswith("float")
        for op in facts["ops"]
        if op["name"] in ("FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D") and op["inputs"]
    )
    fix = (
        "For full-integer quantization set `converter.optimizations = [tf.lite.Optimize.DEFAULT]`, "
        "`converter.representative_dataset`, `converter.target_spec.supported_ops = "
        "[tf.lite.OpsSet.TFLITE_BUILTINS_INT8]` and `converter.inference_input_type = "
        "converter.inference_output_type = tf.int8`."
    )
    if float_activation:
        raise Mistake(
            "dynamic_range_only",
            "Your model still computes in float32: its layers take float32 activations "
            f"(input {facts['input']['dtype']}, output {facts['output']['dtype']}). `Optimize.DEFAULT` alone is "
            "dynamic-range quantization (at most the weights become int8, and for a model this small not even "
            f"those). {fix}",
        )
    if io == {"uint8"} or "uint8" in io:
        raise Mistake(
            "uint8_io",
            f"Your model's input is {facts['input']['dtype']} and its output {facts['output']['dtype']}; TensorFlow "
            "Lite Micro's int8 kernels expect int8 (uint8 is the legacy scheme). Use "
            "`converter.inference_input_type = converter.inference_output_type = tf.int8`.",
        )
    if any(d.startswith("float") for d in io):
        raise Mistake(
            "float_io",
            f"Your weights and activations are int8, but the model's input is {facts['input']['dtype']} and its "
            f"output {facts['output']['dtype']}: the converter left float QUANTIZE/DEQUANTIZE steps at the ends, "
            "which a microcontroller without a float unit cannot afford. Set "
            "`converter.inference_input_type = converter.inference_output_type = tf.int8`.",
        )
    biases = {op["inputs"][2] for op in facts["ops"] if len(op["inputs"]) > 2 and op["inputs"][2] >= 0}
    wrong = [
        f"{t['name']} ({t['dtype']})"
        for t in facts["tensors"]
        if t["dtype"] != ("int32" if t["index"] in biases else "int8")
    ]
    assert not wrong, (
        f"Every tensor should be int8 except the int32 biases; these are not: {', '.join(wrong[:5])}. {fix}"
    )
    float_ops = sorted(
        {
            op["name"]
            for op in facts["ops"]
            if any(tensors[i]["dtype"].startswith("float") for i in op["inputs"] + op["outputs"] if i >= 0)
        }
    )
    assert not float_ops, f"These operators still work on float values: {', '.join(float_ops)}. {fix}"


def check_accuracy(student, exercise, reference_cache, rng, tol):
    """Dequantized outputs follow the float model, within a couple of steps of the judge's own int8 conversion."""
    model = student_tflite(student, exercise, reference_cache)
    facts = tflite_facts.litert_facts(model, reference_cache)
    x = tflite_facts.test_inputs(rng)
    expected = tflite_facts.float_outputs(tflite_facts.weights(exercise), x)
    reference = tflite_facts.reference_tflite(exercise, reference_cache)
    ref_facts = tflite_facts.litert_facts(reference, reference_cache)
    ref_run = tflite_facts.outputs(reference, "litert", x, ref_facts["input"], reference_cache)
    assert ref_run.error is None, f"The grader could not run its reference model: {ref_run.error}"
    step = ref_facts["output"]["scales"][0]
    reference_values = tflite_facts.from_model_output(ref_run.facts["values"], ref_facts["output"])
    run = tflite_facts.outputs(model, "litert", x, facts["input"], reference_cache)
    assert run.error is None, f"LiteRT could not run your model: {run.error}."
    got = tflite_facts.from_model_output(run.facts["values"], facts["output"])
    how = "dequantized " if tflite_facts.is_quantized(facts["output"]) else ""
    far = np.abs(got - expected)
    worst = int(np.argmax(far))
    assert far[worst] <= tol["keras_steps"] * step, (
        f"Your model's {how}outputs should stay within {tol['keras_steps']:g} quantization steps "
        f"({tol['keras_steps'] * step:.4f}) of the float Keras model; at x = {x[worst]:.4f} it gives "
        f"{got[worst]:.4f} where the float model gives {expected[worst]:.4f}. Check that the representative "
        "dataset covers the inputs' whole range."
    )
    if not tflite_facts.is_quantized(facts["output"]):
        return  # a float output is compared with the float model only; int8_tensors says what is wrong
    off = np.abs(got - reference_values) / step
    worst = int(np.argmax(off))
    assert off[worst] <= tol["reference_steps"] + 1e-6, (
        f"Your model's {how}outputs should be within {tol['reference_steps']:g} quantization steps of a standard "
        f"int8 conversion of the same model; at x = {x[worst]:.4f} yours is {off[worst]:.1f} steps away "
        f"({got[worst]:.4f})."
    )


def check_size(student, exercise, reference_cache, tol):
    """The flatbuffer fits the size budget of a small microcontroller."""
    model = student_tflite(student, exercise, reference_cache)
    tflite_facts.litert_facts(model, reference_cache)  # a few bytes that are no model fit any budget: credit a model only
    limit = int(tol["model_bytes_max"])
    assert len(model) <= limit, (
        f"Your model is {len(model)} bytes; it should be at most {limit} bytes (an int8 sine model is about "
        "3.5 KB). Quantize it fully and convert only the model."
    )


def check_micro(student, exercise, reference_cache, rng, tol, note):
    """Runs on the TensorFlow Lite Micro interpreter within the arena budget and agrees with LiteRT within one step."""
    model = student_tflite(student, exercise, reference_cache)
    facts = tflite_facts.litert_facts(model, reference_cache)
    arena = int(tol["tflm_arena_bytes"])
    micro, name = ("tflm", "TensorFlow Lite Micro") if tflite_facts.tflm_available() else ("litert_ref", "LiteRT reference kernels")
    x = tflite_facts.test_inputs(rng, 16)
    run = tflite_facts.outputs(model, micro, x, facts["input"], reference_cache, arena_size=arena)
    assert run.error is None, (
        f"Your model did not run on {name} with a {arena}-byte tensor arena: {run.error}."
    )
    baseline = tflite_facts.outputs(model, "litert", x, facts["input"], reference_cache)
    assert baseline.error is None, f"LiteRT could not run your model: {baseline.error}."
    got = tflite_facts.from_model_output(run.facts["values"], facts["output"])
    expected = tflite_facts.from_model_output(baseline.facts["values"], facts["output"])
    # One step of the output's scale; a float output is dequantized inside, so use the reference's.
    if tflite_facts.is_quantized(facts["output"]):
        step = facts["output"]["scales"][0]
    else:
        step = tflite_facts.litert_facts(tflite_facts.reference_tflite(exercise, reference_cache), reference_cache)["output"]["scales"][0]
    steps = np.abs(got - expected) / step
    worst = int(np.argmax(steps))
    assert steps[worst] <= tol["micro_steps"] + 1e-6, (
        f"On {name} your model gave {got[worst]:.4f} at x = {x[worst]:.4f} where LiteRT gives "
        f"{expected[worst]:.4f}: {steps[worst]:.1f} quantization steps apart, more than {tol['micro_steps']:g}."
    )
    if micro != "tflm":
        note(f"exercise 5: tflite-micro is not installed here, so the micro check ran on {name} instead")


def _c_facts(student, exercise, reference_cache) -> tuple[CArrayFacts, int]:
    cache = student.cache
    model = tflite_facts.reference_tflite(exercise, reference_cache)
    if "c_array" not in cache:
        source = student.probe("c_source", model, tflite_facts.C_VAR, what="to_c_array()", needs=["to_c_array"]).plain()
        if source.get("type") == "NoneType":
            cache["c_array"] = Mistake("returned_none", "Your to_c_array() returned None: build the C source as a "
                                       "str and `return` it.")
        elif "text" not in source:
            cache["c_array"] = AssertionError(
                f"to_c_array() should return the C source as a str; yours returned a {source['type']}."
            )
        else:
            cache["c_array"] = tflite_facts.inspect_c_array_cached(source["text"].decode("utf-8"), len(model), reference_cache)
            cache["c_text"] = source["text"].decode("utf-8")
    facts = cache["c_array"]
    if isinstance(facts, BaseException):
        raise facts
    if not facts.gcc_found:
        import pytest

        pytest.skip("gcc is not installed on this machine, so the C array could not be compiled")
    if facts.compile_error:
        raise Mistake("c_does_not_compile", f"gcc could not compile your C source: {facts.compile_error}")
    return facts, len(model)


def check_c_array(student, exercise, reference_cache):
    """to_c_array(model, var_name) compiles with gcc and defines var_name and var_name_len holding the model's bytes."""
    facts, n = _c_facts(student, exercise, reference_cache)
    asked = f"to_c_array(model, var_name={tflite_facts.C_VAR!r})"
    if facts.link_error:
        if f"{tflite_facts.C_VAR}_len" in facts.link_error:
            raise Mistake(
                "missing_len",
                f"A program using {asked} could not find `unsigned int {tflite_facts.C_VAR}_len` (the linker said: "
                f"{facts.link_error}). Define the length next to the array, as `xxd -i` does.",
            )
        if f"`{tflite_facts.C_VAR}'" in facts.link_error:
            raise Mistake(
                "array_missing",
                f"A program using {asked} could not find the array `{tflite_facts.C_VAR}` (the linker said: "
                f"{facts.link_error}). Define the array, named after var_name.",
            )
        raise AssertionError(f"A program using {asked} could not be linked against your C: {facts.link_error}.")
    assert facts.run_error is None, f"The test program built from your C did not run: {facts.run_error}."
    if facts.length != n:
        raise Mistake(
            "wrong_length",
            f"`{tflite_facts.C_VAR}_len` is {facts.length}, but the model has {n} bytes: it must be exactly the number of "
            "bytes in the array (len(tflite_model)).",
        )
    if facts.data != bytes(tflite_facts.reference_tflite(exercise, reference_cache)):
        model = tflite_facts.reference_tflite(exercise, reference_cache)
        first = next(i for i, (a, b) in enumerate(zip(facts.data, model)) if a != b)
        held = f" (the array holds {facts.sizeof} bytes)" if facts.sizeof is not None else ""
        size = facts.sizeof if facts.sizeof is not None else n
        name, why = (("bytes_missing", "some of the model's bytes are missing") if size < n else
                     ("bytes_extra", "it holds more bytes than the model") if size > n else
                     ("bytes_out_of_order", "the bytes are not in the model's order")
                     if sorted(facts.data) == sorted(model) else ("wrong_bytes", "they are not the model's bytes"))
        raise Mistake(
            name,
            f"The array `{tflite_facts.C_VAR}` should hold the model's bytes in order{held}: {why}; byte {first} is "
            f"0x{facts.data[first]:02x} where the model has 0x{model[first]:02x}. Write every byte once, in "
            "order, whatever the number per line.",
        )
    _check_declarations(student.cache.get("c_text", ""))
    default = student.probe("c_source", b"\x01\x02", what="to_c_array()", needs=["to_c_array"]).plain()
    assert "g_model_len" in default.get("text", b"").decode("utf-8"), (
        "to_c_array(tflite_model) should use var_name='g_model' by default (array `g_model`, length `g_model_len`)."
    )


def _check_declarations(text: str) -> None:
    """The array and its length are declared as the microcontroller build expects (the `xxd -i` types)."""
    import re

    array = re.search(rf"([\w\s()]*?)\b{tflite_facts.C_VAR}\s*\[", text)
    words = set(re.findall(r"\w+", array.group(1))) if array else set()
    if array and not ("const" in words and ({"unsigned", "char"} <= words or "uint8_t" in words)):
        raise Mistake(
            "array_declaration",
            f"Your array is declared `{' '.join(array.group(1).split())} {tflite_facts.C_VAR}[]`; declare it `const unsigned char "
            f"{tflite_facts.C_VAR}[]`: bytes 0-255 (unsigned char), and const so that a microcontroller keeps the model in flash "
            "instead of copying it into its scarce RAM.",
        )
    length = re.search(rf"([\w\s]*?)\b{tflite_facts.C_VAR}_len\b", text)
    if length and "unsigned" not in length.group(1).split():
        raise Mistake(
            "array_declaration",
            f"Your length is declared `{' '.join(length.group(1).split())} {tflite_facts.C_VAR}_len`; declare it `unsigned int "
            f"{tflite_facts.C_VAR}_len`, as `xxd -i` does: a byte count is never negative.",
        )


def check_c_array_aligned(student, exercise, reference_cache):
    """The C array is declared 16-byte aligned, as TensorFlow Lite Micro needs to read a model in place."""
    facts, n = _c_facts(student, exercise, reference_cache)
    # Alignment counts for the array that holds the model, not for a placeholder.
    holds_model = (facts.data == tflite_facts.reference_tflite(exercise, reference_cache) if facts.data is not None
                   else facts.sizeof in (None, n))
    assert holds_model, (
        f"Your array `{tflite_facts.C_VAR}` does not hold the model's {n} bytes: align the array that holds every byte of "
        "the model."
    )
    assert facts.alignment is not None, (
        f"The grader could not read the alignment of `{tflite_facts.C_VAR}` from your C: {facts.info_error}."
    )
    if facts.alignment < 16:
        raise Mistake(
            "missing_alignment",
            f"Your array `{tflite_facts.C_VAR}` is declared with {facts.alignment}-byte alignment; TensorFlow Lite Micro reads the "
            "model in place and needs it 16-byte aligned. Declare it `alignas(16)` (from <stdalign.h>) or add "
            "`__attribute__((aligned(16)))`.",
        )
