"""Hidden checks for exercise 3 · compute the two-layer output by hand.

References are the network computed in float64 NumPy, which is what Keras' Dense
layers compute (tests/test_references.py shows it on random stacks), without
TensorFlow in the judge; the known mistakes are recognised by recomputing the
network the mistaken way.
While the student's functions run, the runner forbids Keras layer and model
calls (probe `forbid_keras_calls`).
"""

from __future__ import annotations

import numpy as np

from grader.judge.families import name_family, swapped_arguments
from grader.judge.feedback import Mistake, fmt
from grader.judge.values import Returned
from grader.runner.client import StudentRaised

# Printed by a run of the course's notebook (Dense(2) -> Dense(1), 500 epochs of SGD
# on y = 2x - 1), as kept in a public copy of it; in float32 they give exactly
# 18.999996 at x = 10, the prediction the course shows.
COURSE_LAYER_1 = [np.array([[1.141897, 0.32763204]], np.float32), np.array([-0.4088987, -0.16436072], np.float32)]
COURSE_LAYER_2 = [np.array([[1.5629493], [0.6570553]], np.float32), np.array([-0.2529167], np.float32)]
COURSE_X, COURSE_OUTPUT = 10.0, 18.999996

FORBIDDEN = "KerasCallForbidden"  # the runner-side guard's exception (probes/ex3_two_layer.py)
SIGNIFICANT = 1e-3  # a known mistake is named only when it changes the answer by more than this


# -- references ---------------------------------------------------------------


def _forward(layers, x, *, relu_hidden=False, relu_output=False, bias=True, transpose=False, bias_sign=1.0,
             clip=np.maximum) -> np.ndarray:
    """The network in float64, optionally computed the mistaken way."""
    values = np.asarray(x, np.float64).reshape(-1)
    for i, (kernel, b) in enumerate(layers):
        kernel = np.asarray(kernel, np.float64)
        values = values @ (kernel.T if transpose else kernel) + (bias_sign * np.asarray(b, np.float64) if bias else 0.0)
        last = i == len(layers) - 1
        if (relu_output if last else relu_hidden):
            values = clip(values, 0.0)
    return values


def _forward_relu_skipping_last_hidden(layers, x) -> np.ndarray:
    """ReLU after every hidden layer but the last hidden one."""
    values = _forward(layers[:-2], x, relu_hidden=True, relu_output=True)
    return _forward(layers[-2:], values)


def _stack(rng: np.random.Generator, n_inputs: int, widths: list[int]) -> list[list[np.ndarray]]:
    """Random Dense weights, scaled so that values stay near 1 through the stack."""
    layers, fan_in = [], n_inputs
    for units in widths:
        kernel = rng.normal(0, 1 / np.sqrt(fan_in), (fan_in, units)).astype(np.float32)
        layers.append([kernel, rng.normal(0, 0.5, units).astype(np.float32)])
        fan_in = units
    return layers


def _distinct(ref: np.ndarray, other: np.ndarray) -> bool:
    return bool(np.max(np.abs(ref - other)) > SIGNIFICANT * max(1.0, float(np.max(np.abs(ref)))))


def _close(got: np.ndarray, ref: np.ndarray, rtol: float) -> bool:
    return got.shape == ref.shape and bool(np.all(np.abs(got - ref) <= rtol * max(1.0, float(np.max(np.abs(ref))))))


def _mistaken(layers, x, hidden_activation) -> list[tuple[str, np.ndarray, str]]:
    """The network as each known mistake computes it, with what the student reads."""
    relu = hidden_activation == "relu"
    found = [("biases_forgotten", _forward(layers, x, relu_hidden=relu, bias=False),
              "Your output is what the network gives with every bias left out. After the weighted sum, each neuron "
              "adds its bias: the second item of each layer's [kernel, bias].")]
    if all(k.shape[0] == k.shape[1] for k, _ in layers):
        found.append(("kernel_transposed", _forward(layers, x, relu_hidden=relu, transpose=True),
                      "Your output is what the network gives with every kernel transposed. A kernel has shape "
                      "(inputs, units): kernel[i][j] is the weight from input i into neuron j, so a layer computes "
                      "x @ kernel (not kernel @ x)."))
    found.append(("bias_subtracted", _forward(layers, x, relu_hidden=relu, bias_sign=-1.0),
                  "Your output is what the network gives with every bias subtracted: a neuron adds its bias to "
                  "the weighted sum of its inputs."))
    if np.asarray(x).size == np.asarray(layers[-1][1]).size:
        found.append(("input_unchanged", np.asarray(x, np.float64).reshape(-1),
                      "Your network_output returned its input unchanged: apply each layer in turn, feeding each "
                      "layer's output into the next."))
    found.append(("weights_ignored", np.asarray(layers[-1][1], np.float64),
                  "Your output is the last layer's bias alone: each layer first multiplies its inputs by its "
                  "kernel (x @ kernel), then adds the bias."))
    if relu:
        found += [
            ("relu_as_minimum", _forward(layers, x, relu_hidden=True, clip=np.minimum),
             "Your hidden layers keep the negative values and zero the positive ones: ReLU is max(0, value)."),
            ("relu_on_output", _forward(layers, x, relu_hidden=True, relu_output=True),
             "Your output has ReLU applied to the last layer too. ReLU goes after the hidden layers only: "
             "the output layer stays linear, so it can be negative."),
            ("relu_never_applied", _forward(layers, x),
             "Your output is what the network gives with no ReLU at all. With hidden_activation=\"relu\", "
             "apply max(0, value) to the outputs of every layer but the last."),
        ]
        if len(layers) >= 3:
            found.append(("relu_on_wrong_layers", _forward_relu_skipping_last_hidden(layers, x),
                          "Your output skips ReLU on one of the hidden layers: it goes after every layer but the last."))
    else:
        found.append(("relu_when_linear", _forward(layers, x, relu_hidden=True),
                      "Your output has ReLU applied although hidden_activation is None: without an activation "
                      "every layer is linear."))
    return found


# -- calling the student --------------------------------------------------------


def _by_hand(student) -> None:
    student.probe("forbid_keras_calls", what="setting up the by-hand rule")


def _call(student, function: str, *args) -> Returned:
    """Call the student, naming the mistakes that show as exceptions."""
    try:
        return student.call(function, *args)
    except StudentRaised as e:
        if e.exc_type == FORBIDDEN:
            raise Mistake("keras_model_call", f"Your {function} called a Keras layer or model ({e.message.split(' is ')[0]}). "
                          "This exercise is about doing the arithmetic yourself: multiply the inputs by each "
                          "kernel, add each bias, apply the activation, with NumPy or plain Python.") from None
        if (e.exc_type == "IndexError" and "out of bounds" in e.message) or (
                e.exc_type in ("ValueError", "InvalidArgumentError")
                and any(s in e.message for s in ("mismatch", "not aligned", "size-incompatible"))):
            raise Mistake("kernel_transposed", f"Your {function} raised {e.exc_type}: {e.message}. A kernel has shape "
                          "(inputs, units): kernel[i][j] is the weight from input i into neuron j. Did you use it "
                          "transposed, kernel[j][i] or kernel @ x?") from None
        if (e.exc_type == "IndexError" and "list index out of range" in e.message) or (
                e.exc_type in ("ValueError", "TypeError") and "unpack" in e.message):
            raise Mistake("weights_layout", f"Your {function} raised {e.exc_type}: {e.message}. Each layer's "
                          "get_weights() is a list of two arrays, [kernel, bias]: the kernel has shape (inputs, "
                          "units), the bias shape (units,).") from None
        raise


def _returned(student, function: str, *args) -> Returned:
    r = _call(student, function, *args)
    if r.kind == "none":
        raise Mistake("returned_none", f"Your {function} returned None: compute the network's output and "
                      "`return` it.")
    return r


WEIGHT_NAMES = [("kernel_1[0][0]", 0, 0, (0, 0)), ("kernel_1[0][1]", 0, 0, (0, 1)), ("bias_1[0]", 0, 1, (0,)),
                ("bias_1[1]", 0, 1, (1,)), ("kernel_2[0][0]", 1, 0, (0, 0)), ("kernel_2[1][0]", 1, 0, (1, 0)),
                ("bias_2[0]", 1, 1, (0,))]


def _misused_weights(student, layer_1, layer_2, x: float, got: float) -> tuple[list[str], list[str]]:
    """Which weights the student's output ignores, and which it responds to the wrong way.

    Each weight in turn is raised by 1: the network's output is linear in each weight, so the
    change of the student's output must equal the change of the network's.
    """
    ignored, misused = [], []
    for name, layer, item, index in WEIGHT_NAMES:
        layers = [[np.array(w, np.float32, copy=True) for w in layer_1], [np.array(w, np.float32, copy=True) for w in layer_2]]
        layers[layer][item][index] += 1.0
        expected = float(_forward(layers, [x])[0] - _forward([layer_1, layer_2], [x])[0])
        changed = _call(student, "two_layer_output", *layers, x).as_float("two_layer_output()") - got
        if not np.isclose(changed, expected, rtol=1e-3, atol=1e-4):
            (ignored if abs(changed) < 1e-6 else misused).append(name)
    return ignored, misused


def _two_layer_of(k11, k12, b11, b12, k21, k22, b2, x) -> float:
    return k21 * (k11 * x + b11) + k22 * (k12 * x + b12) + b2


def _name_family_two_layer(got: float, ref: float, layer_1, layer_2, x: float, context: str) -> None:
    """Name the family of a wrong two_layer_output: a constant factor, a sign, or two weights swapped."""
    name_family(got, ref, "your two_layer_output", context, IDEAS)
    (k1, b1), (k2, b2) = layer_1, layer_2
    weights = [float(k1[0][0]), float(k1[0][1]), float(b1[0]), float(b1[1]), float(k2[0][0]), float(k2[1][0]),
               float(b2[0]), float(x)]
    names = [w[0] for w in WEIGHT_NAMES] + ["x"]
    pair = swapped_arguments(_two_layer_of, weights, names, got)
    if pair is not None:
        raise Mistake("swapped", f"Your output is what the network gives with {pair[0]} and {pair[1]} swapped: "
                      f"each has its own place. {IDEAS['swapped']} {context}")


IDEAS = {  # what each family means for a network computed by hand
    "constant_factor": "Every weight is used once, as it is: look for a factor or a divisor of your own, or a "
                       "term counted twice.",
    "sign_flipped": "A neuron adds its bias to the weighted sum of its inputs: look for a minus sign.",
    "swapped": "Each value has its own role: a kernel entry weights one input on its way into one neuron, a "
               "bias is added to one neuron's sum. Check which value you take from where.",
    "collapsed_by_reduction": "A layer gives one value per neuron: its weighted sums run over the inputs only, "
                              "never over the neurons.",
}


def _two_layer(student, layer_1, layer_2, x: float, rtol: float) -> None:
    got = _returned(student, "two_layer_output", layer_1, layer_2, x).as_float("two_layer_output()")
    ref = _forward([layer_1, layer_2], [x])[0]
    if _close(np.array(got), np.array(ref), rtol):
        return
    # 8 digits: the course's 18.999996 must not print as 19.
    expected = f"For x = {fmt(x)} the network gives {fmt(ref, 8)}; your two_layer_output returned {fmt(got, 8)}."
    if _distinct(np.array(ref), np.array(COURSE_OUTPUT)) and np.isclose(got, COURSE_OUTPUT, rtol=1e-6):
        raise Mistake("hardcoded_output", f"{expected} That is the course's answer for x = 10 with its weights: "
                      "compute the output from the weights and the x you are given.")
    k1, b1 = layer_1
    k2, b2 = layer_2
    swapped = [_forward([[k1, b1], [k2[::-1], b2]], [x]), _forward([[k1[:, ::-1], b1], [k2, b2]], [x])]
    known = [(name, alt, why) for name, alt, why in _mistaken([layer_1, layer_2], [x], None)
             if name == "biases_forgotten"]
    known += [("neurons_swapped", alt, "Your output is what the network gives with the two neurons' weights swapped. "
               "kernel[i][j] is the weight from input i into neuron j: in layer 1, neuron 1 uses kernel_1[0][0] "
               "and neuron 2 kernel_1[0][1]; in layer 2, neuron 1's output is weighted by kernel_2[0][0] and "
               "neuron 2's by kernel_2[1][0].") for alt in swapped]
    known.append(("input_unchanged", np.array([float(x)]), "Your two_layer_output returned its input x unchanged: "
                  "the layers' weights and biases never reached it. Apply layer 1 to x, then layer 2 to what layer "
                  "1 gives."))
    for name, alt, why in known:
        if _distinct(np.array([ref]), alt) and _close(np.array([got]), alt, 1e-4):
            raise Mistake(name, f"{why} {expected}")
    _name_family_two_layer(got, ref, layer_1, layer_2, x, expected)
    ignored, misused = _misused_weights(student, layer_1, layer_2, x, got)
    idea = ("Trace the network on paper one neuron at a time: which input does each weight multiply, and whose "
            "output does each weight of layer 2 scale?")
    if len(ignored) == len(WEIGHT_NAMES):
        raise Mistake("weights_ignored", f"Your two_layer_output gives the same output whatever the weights: compute "
                      f"it from layer_1_weights and layer_2_weights. {idea} {expected}")
    if ignored and not misused:
        raise Mistake("weight_ignored", f"Your output does not change when {' or '.join(ignored)} changes: every "
                      f"weight and bias of the network counts. {idea} {expected}")
    if ignored or misused:
        raise Mistake("weight_misused", f"Your output does not respond as the network does to "
                      f"{', '.join(ignored + misused)}: one of them is used in the wrong place or with the wrong "
                      f"sign. {idea} {expected}")
    raise AssertionError(expected)


def _network(student, layers, x, hidden_activation, rtol: float) -> None:
    args = (layers, x) if hidden_activation is None else (layers, x, hidden_activation)
    got = _returned(student, "network_output", *args).as_array("network_output()").astype(np.float64)
    ref = _forward(layers, x, relu_hidden=hidden_activation == "relu")
    shape = " -> ".join(f"Dense({k.shape[1]}{', relu' if hidden_activation and i < len(layers) - 1 else ''})"
                        for i, (k, _) in enumerate(layers))
    n_inputs = len(np.asarray(x).reshape(-1))
    setting = f"For {shape} on {n_inputs} input{'s' if n_inputs > 1 else ''} (hidden_activation={hidden_activation!r})"
    if got.size != ref.size:
        message = (f"{setting}, expected {ref.size} output values, one per neuron of the last layer; "
                   f"your network_output returned an array of shape {got.shape}.")
        name_family(got, ref, "your network_output", message, IDEAS)
        raise AssertionError(message)
    got = got.reshape(-1)
    if _close(got, ref, rtol):
        return
    expected = f"the network gives {fmt(ref)}; your network_output returned {fmt(got)}."
    for name, alt, why in _mistaken(layers, x, hidden_activation):
        if _distinct(ref, alt) and _close(got, alt, 1e-4):
            raise Mistake(name, f"{why} {setting}, {expected}")
    name_family(got, ref, "your network_output", f"{setting}, {expected}", IDEAS)
    raise AssertionError(f"{setting}, {expected}")


def _relu_case(rng: np.random.Generator, n_inputs: int, widths: list[int]):
    """A random relu stack and input on which ReLU in the wrong place changes the answer."""
    for _ in range(200):
        layers = _stack(rng, n_inputs, widths)
        x = rng.normal(0, 2, n_inputs).astype(np.float32)
        ref = _forward(layers, x, relu_hidden=True)
        if _distinct(ref, _forward(layers, x, relu_hidden=True, relu_output=True)) and (
                len(layers) == 1 or _distinct(ref, _forward(layers, x))):
            return layers, x
    raise RuntimeError("no distinguishing relu case found")  # the grader's fault: widen the search


# -- checks ---------------------------------------------------------------------


def check_course_weights(student, tol):
    """The course's printed weights give 18.999996 at x = 10, and the same network's outputs at other x."""
    _by_hand(student)
    for x in (10, -1.0, 0.0, 4.0):  # x = 10 first, a Python int as the course writes it: the course's 18.999996
        _two_layer(student, COURSE_LAYER_1, COURSE_LAYER_2, x, tol["float32_rtol"])


def check_two_layer_random(student, rng, tol):
    """two_layer_output agrees with a Keras Dense(2) -> Dense(1) model for random weights and inputs."""
    _by_hand(student)
    for _ in range(4):
        layer_1, layer_2 = _stack(rng, 1, [2, 1])
        _two_layer(student, layer_1, layer_2, float(np.float32(rng.uniform(-10, 10))), tol["float32_rtol"])


def check_network_linear(student, rng, tol):
    """network_output agrees with Keras models for random stacks of 1 to 4 linear Dense layers."""
    _by_hand(student)
    cases = [(3, [3, 3, 3])]  # square kernels: a transposed kernel gives a wrong answer, not an error
    for n_layers in (1, 2, int(rng.integers(3, 5))):
        cases.append((int(rng.integers(1, 6)), [int(w) for w in rng.integers(1, 9, n_layers)]))
    for i, (n_inputs, widths) in enumerate(cases):
        layers = _stack(rng, n_inputs, widths)
        x = rng.normal(0, 2, n_inputs).astype(np.float32)
        # x as the course's callers build it: float32 arrays, a list, a float64 np.array of Python floats.
        _network(student, layers, x.tolist() if i == 1 else x.astype(np.float64) if i == 2 else x, None,
                 tol["float32_rtol"])


def check_network_relu(student, rng, tol):
    """network_output with hidden_activation="relu" agrees with Keras, including Dense(4, relu) -> Dense(3, relu) -> Dense(1)."""
    _by_hand(student)
    cases = [(int(rng.integers(1, 6)), [4, 3, 1]), (int(rng.integers(1, 6)), [int(rng.integers(2, 9)), 2]),
             (int(rng.integers(1, 6)), [int(w) for w in rng.integers(1, 9, int(rng.integers(3, 5)))]),
             (int(rng.integers(1, 6)), [int(rng.integers(1, 9))])]
    for n_inputs, widths in cases:
        layers, x = _relu_case(rng, n_inputs, widths)
        _network(student, layers, x, "relu", tol["float32_rtol"])


def check_output_shape(student, rng):
    """network_output returns a 1-D NumPy array with one value per neuron of the last layer."""
    _by_hand(student)
    for widths in ([4, 3], [3, 1]):
        layers = _stack(rng, 2, widths)
        x = rng.normal(0, 2, 2).astype(np.float32)
        r = _call(student, "network_output", layers, x)
        units = widths[-1]
        if r.kind in ("tensor", "variable"):
            raise AssertionError(f"Your network_output returned {r.describe()}: return a NumPy array "
                                 "(np.asarray(...), or .numpy() on a tensor).")
        assert r.kind == "ndarray", (f"For a last layer of {units} neurons your network_output returned "
                                     f"{r.describe()}: return a 1-D NumPy array of shape ({units},).")
        got = r.as_array("network_output()").astype(np.float64)
        assert r.shape == (units,), (f"For a last layer of {units} neurons your network_output returned an array "
                                     f"of shape {r.shape}: return shape ({units},), one value per neuron "
                                     "(.reshape(-1) removes an extra dimension).")
        # The right shape counts only for values computed from the network (right, or a known mistake's).
        ref = _forward(layers, x)
        computed = [ref] + [alt for _, alt, _ in _mistaken(layers, x, None)]
        assert any(_close(got, alt, 1e-4) for alt in computed), (
            f"For a last layer of {units} neurons your network_output returned {fmt(got)}, of the right shape, "
            f"but the network gives {fmt(ref)}: compute the values from the weights and x.")
