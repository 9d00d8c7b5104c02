"""Run a TFLite flatbuffer in an interpreter, in a throw-away process.

The judge never loads a submitted flatbuffer itself: a hostile or malformed
model, or a tensor arena that is too small, can crash an interpreter's native
code. The judge runs this file as a script (`python -I tflite_worker.py`,
through `worker.Worker`: limits and a timeout), one request per process; it
imports nothing from the grader.

    stdin:  one line {"model": "<path>", "interpreter": "litert" | "litert_ref" | "tflm",
                      "arena_size": 4096, "inputs": [[int or float, ...], ...] or null}
    stdout: one line, a JSON object (see `main`)
"""

import json
import sys

import numpy as np


def _quant(details):
    params = details.get("quantization_parameters") or {}
    scales = np.asarray(params.get("scales", []), dtype=np.float64).ravel().tolist()
    zero_points = np.asarray(params.get("zero_points", []), dtype=np.int64).ravel().tolist()
    return {"scales": scales, "zero_points": zero_points}


def _describe(details):
    return {
        "dtype": np.dtype(details["dtype"]).name,
        "shape": [int(d) for d in details["shape"]],
        **_quant(details),
    }


def _litert(model, reference_kernels):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    kind = OpResolverType.BUILTIN_REF if reference_kernels else OpResolverType.AUTO
    interpreter = Interpreter(model_content=model, experimental_op_resolver_type=kind)
    facts = {
        "tensors": [
            {"index": int(t["index"]), "name": t["name"], **_describe(t)} for t in interpreter.get_tensor_details()
        ],
        "ops": [
            {"name": op["op_name"], "inputs": [int(i) for i in op["inputs"]], "outputs": [int(i) for i in op["outputs"]]}
            for op in interpreter._get_ops_details()
        ],
        "input": _describe(interpreter.get_input_details()[0]),
        "output": _describe(interpreter.get_output_details()[0]),
        "n_inputs": len(interpreter.get_input_details()),
        "n_outputs": len(interpreter.get_output_details()),
    }
    interpreter.allocate_tensors()
    input_index = interpreter.get_input_details()[0]["index"]
    output_index = interpreter.get_output_details()[0]["index"]

    def run(x):
        interpreter.set_tensor(input_index, x)
        interpreter.invoke()
        return interpreter.get_tensor(output_index)

    return facts, run


def _tflm(model, arena_size):
    from tflite_micro.python.tflite_micro import runtime

    interpreter = runtime.Interpreter.from_bytes(model, arena_size=arena_size)
    facts = {"input": _describe(interpreter.get_input_details(0)), "output": _describe(interpreter.get_output_details(0))}

    def run(x):
        interpreter.set_input(x, 0)
        interpreter.invoke()
        return interpreter.get_output(0)

    return facts, run


def main():
    request = json.loads(sys.stdin.readline())
    with open(request["model"], "rb") as f:
        model = f.read()
    if request["interpreter"] == "tflm":
        facts, run = _tflm(model, int(request["arena_size"]))
    else:
        facts, run = _litert(model, request["interpreter"] == "litert_ref")
    facts["interpreter"] = request["interpreter"]
    if request.get("inputs") is not None:
        dtype = np.dtype(facts["input"]["dtype"])
        shape = facts["input"]["shape"]
        outputs = [np.asarray(run(np.asarray(x, dtype=dtype).reshape(shape))).ravel().tolist() for x in request["inputs"]]
        facts["outputs"] = outputs
    sys.stdout.write(json.dumps(facts) + "\n")


if __name__ == "__main__":
    main()
