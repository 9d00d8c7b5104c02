"""Exercise 5: the student's own int8 conversion, got once per submission, with its feedback.

`quantize(model, x_sample)` runs in the runner (the exercise's probe) once per submission;
when it raised or returned something other than the model's bytes, the known reasons (no
representative dataset, float64 samples, a generator or a list where a function belongs,
no optimizations, a path, None...) are named here, for every check that needs the model.
"""

from __future__ import annotations

from grader.checks.support import tflite_facts
from grader.judge.feedback import Mistake
from grader.runner.client import StudentError, StudentRaised


def _no_representative_dataset(error: StudentRaised) -> bool:
    return "representative_dataset" in (error.message or "") and "full integer" in (error.message or "").lower()


def student_tflite(student, exercise, reference_cache) -> bytes:
    """The bytes the student's quantize returned, computed once; a failure fails every check that needs them."""
    cache = student.cache
    if "student" not in cache:
        try:
            facts = student.probe("quantize", tflite_facts.weights(exercise), tflite_facts.sample(), what="quantize()", needs=["quantize"])
            cache["student"] = facts.plain()
        except StudentError as e:
            cache["student"] = e
    result = cache["student"]
    if isinstance(result, StudentRaised) and _no_representative_dataset(result):
        raise Mistake(
            "no_representative_dataset",
            "Your quantize() raised: the converter needs calibration data for full-integer quantization "
            f"({result.exc_type}: {result.message.strip().splitlines()[0]}). Set "
            "`converter.representative_dataset = representative_dataset(x_sample)` so it can measure "
            "the range of every activation.",
        )
    if isinstance(result, StudentRaised) and "FLOAT64 but expected type FLOAT32" in (result.message or ""):
        raise Mistake(
            "float64_samples",
            "Your quantize() raised: the converter got float64 samples from your representative dataset "
            "where the model takes float32 ('Got value of type FLOAT64 but expected type FLOAT32'). "
            "Convert the samples with `.astype(np.float32)`.",
        )
    if isinstance(result, StudentRaised) and "'generator' object is not callable" in (result.message or ""):
        raise Mistake(
            "generator_not_function",
            "Your quantize() raised: the converter got a generator object where it wants a function it can call "
            f"for a fresh generator ({result.exc_type}: {result.message.strip().splitlines()[0]}). Your "
            "representative_dataset yields the items itself, so calling it gives a generator: hand the converter "
            "a function that makes one, `lambda: representative_dataset(x_sample)`.",
        )
    if isinstance(result, StudentRaised) and "'list' object is not callable" in (result.message or ""):
        raise Mistake(
            "list_not_generator",
            "Your quantize() raised: the converter got a list where it wants a function it can call for a fresh "
            f"generator ({result.exc_type}: {result.message.strip().splitlines()[0]}). Make representative_dataset "
            "yield the items instead of collecting them in a list.",
        )
    if isinstance(result, StudentRaised) and "Unsupported value from dataset" in (result.message or ""):
        raise Mistake(
            "bare_array",
            "Your quantize() raised: the converter wants each item of the representative dataset to be a list "
            "holding the model's inputs, `[sample]`, and got a bare array ('Unsupported value from dataset').",
        )
    if isinstance(result, StudentRaised) and "must be tf.float32" in (result.message or ""):
        raise Mistake(
            "no_optimizations",
            "Your quantize() raised: int8 input and output types need a quantized model, and the converter was not "
            f"asked to quantize ({result.exc_type}: {result.message.strip().splitlines()[0]}). Set "
            "`converter.optimizations = [tf.lite.Optimize.DEFAULT]`.",
        )
    if isinstance(result, StudentRaised) and any(f"'{name}' object is not iterable" in (result.message or "") or
                                                 f"type '{name}' is not iterable" in (result.message or "")
                                                 for name in ("Optimize", "OpsSet")):
        raise Mistake(
            "setting_not_a_list",
            f"Your quantize() raised {result.exc_type}: {result.message.strip().splitlines()[0]}. "
            "converter.optimizations and converter.target_spec.supported_ops are lists: `[tf.lite.Optimize.DEFAULT]`, "
            "`[tf.lite.OpsSet.TFLITE_BUILTINS_INT8]`.",
        )
    if isinstance(result, BaseException):
        raise result
    if result.get("type") == "NoneType":
        raise Mistake("returned_none", "Your quantize() returned None: return the bytes that converter.convert() "
                      "gives back.")
    if "path" in result:
        raise Mistake(
            "path_instead_of_bytes",
            f"Your quantize() returned a path ({result['path']!r}, a {result['type']}), not the model. "
            "Return the bytes themselves: the result of `converter.convert()`.",
        )
    if "bytes" not in result:
        raise AssertionError(
            f"quantize() should return the flatbuffer as bytes (what converter.convert() returns); "
            f"yours returned a {result['type']}."
        )
    return result["bytes"]


# --- interpreters, in a worker process -----------------------------------------------------
