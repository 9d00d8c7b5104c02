"""A generated class for measuring `grade report --similarity`: many solution styles, planted copies.

Each independent student writes every function of the five exercises into the shipped stub,
choosing for each step of it one of several phrasings, naming variables their own way,
commenting or not, keeping or deleting docstrings, and adding a few personal statements
(prints, asserts, guards). Planted copies take one student's choices and then:
  renamed    every variable renamed, functions reordered, comments changed, docstrings dropped or kept;
  added      the same, plus one to three statements added here and there.
The code is never run: it only has to be Python a student could have written.

    generate(n_independent, n_renamed, n_added, seed) -> (sources, planted)
    write(directory, sources)   # one folder per submission, files at their exercise paths

`python bench/classgen.py DIR [--students N]` writes a class to DIR.
"""

from __future__ import annotations

import ast
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261206
NAMES = ["a", "b", "c", "d", "e", "f", "g", "h", "k", "m", "n", "o", "p", "q", "r", "s", "t", "u", "v", "w", "z",
         "val", "tmp", "res", "out", "acc", "cur", "nxt", "prev", "data", "arr", "vec", "mat", "item", "elem", "step",
         "part", "piece", "total", "value", "result", "output", "hidden", "layer", "weights", "kernel", "bias", "grad",
         "grads", "pred", "preds", "target", "diff", "delta", "err", "sq", "mse", "history", "hist", "losses", "model2",
         "inp", "lab", "labels", "probs", "proba", "score", "buf", "raw", "chunk", "lines", "text", "words", "cnt"]
COMMENTS = ["# compute it", "# step by step", "# the main part", "# as in the course", "# TODO check this",
            "# works on my machine", "# convert first", "# see lecture 3", "# careful with shapes", "# done",
            "# this is the tricky bit", "# from the notebook", "# keep it in tensorflow", "# loop over layers"]

# Each function: a list of steps; each step: alternative phrasings. {x} placeholders are the student's names.
STYLES: dict[str, dict[str, list[list[str]]]] = {
    "ex1_loss": {"loss": [
        ["{p} = tf.convert_to_tensor(predicted_y, dtype=tf.float32)\n{t} = tf.convert_to_tensor(target_y, dtype=tf.float32)",
         "{p} = tf.cast(predicted_y, tf.float32)\n{t} = tf.cast(target_y, tf.float32)",
         "{p}, {t} = [tf.cast(v, tf.float32) for v in (predicted_y, target_y)]",
         "{p} = tf.constant(predicted_y, dtype=tf.float32)\n{t} = tf.constant(target_y, dtype=tf.float32)"],
        ["{p} = tf.reshape({p}, [-1])\n{t} = tf.reshape({t}, [-1])",
         "{p} = tf.reshape({p}, (-1,))\n{t} = tf.reshape({t}, (-1,))",
         "{p} = tf.squeeze({p})\n{t} = tf.squeeze({t})",
         "{t} = tf.reshape({t}, tf.shape({p}))"],
        ["return tf.reduce_mean(tf.square({p} - {t}))",
         "{d} = {p} - {t}\nreturn tf.reduce_mean({d} * {d})",
         "{d} = tf.math.squared_difference({p}, {t})\nreturn tf.reduce_mean({d})",
         "{d} = ({p} - {t}) ** 2\nreturn tf.reduce_sum({d}) / tf.cast(tf.size({d}), tf.float32)"],
    ]},
    "ex2_train_step": {
        "train": [
            ["with tf.GradientTape() as {tape}:\n    {l} = loss(model(xs), ys)",
             "with tf.GradientTape() as {tape}:\n    {pr} = model(xs)\n    {l} = loss({pr}, ys)",
             "with tf.GradientTape(persistent=True) as {tape}:\n    {l} = loss(model(xs), ys)",
             "with tf.GradientTape() as {tape}:\n    {tape}.watch([model.w, model.b])\n    {l} = loss(model(xs), ys)"],
            ["{dw}, {db} = {tape}.gradient({l}, [model.w, model.b])",
             "{g} = {tape}.gradient({l}, [model.w, model.b])\n{dw} = {g}[0]\n{db} = {g}[1]",
             "{dw} = {tape}.gradient({l}, model.w)\n{db} = {tape}.gradient({l}, model.b)"],
            ["model.w.assign_sub(learning_rate * {dw})\nmodel.b.assign_sub(learning_rate * {db})",
             "for {v}, {gr} in zip([model.w, model.b], [{dw}, {db}]):\n    {v}.assign_sub(learning_rate * {gr})",
             "model.w.assign(model.w - learning_rate * {dw})\nmodel.b.assign(model.b - learning_rate * {db})",
             "model.b.assign_sub({db} * learning_rate)\nmodel.w.assign_sub({dw} * learning_rate)"],
            ["return {l}", "return float({l})", "return {l}.numpy()", "return tf.identity({l})"],
        ],
        "fit": [
            ["{h} = []\nfor {i} in range(epochs):\n    {h}.append(float(train(model, xs, ys, learning_rate)))\nreturn {h}",
             "return [float(train(model, xs, ys, learning_rate)) for {i} in range(epochs)]",
             "{h} = []\nfor {i} in range(epochs):\n    {c} = train(model, xs, ys, learning_rate)\n    {h}.append(float({c}))\nreturn {h}",
             "{h} = [0.0] * epochs\nfor {i} in range(epochs):\n    {h}[{i}] = float(train(model, xs, ys, learning_rate))\nreturn {h}",
             "{i} = 0\n{h} = []\nwhile {i} < epochs:\n    {h}.append(float(train(model, xs, ys, learning_rate)))\n    {i} += 1\nreturn {h}"],
        ],
    },
    "ex3_two_layer": {
        "two_layer_output": [
            ["{k1}, {b1} = layer_1_weights\n{k2}, {b2} = layer_2_weights",
             "{k1} = layer_1_weights[0]\n{b1} = layer_1_weights[1]\n{k2} = layer_2_weights[0]\n{b2} = layer_2_weights[1]",
             "{k1}, {b1} = np.asarray(layer_1_weights[0]), np.asarray(layer_1_weights[1])\n{k2}, {b2} = np.asarray(layer_2_weights[0]), np.asarray(layer_2_weights[1])"],
            ["{h} = x * {k1}[0] + {b1}",
             "{h} = np.dot(np.array([[x]]), {k1}) + {b1}",
             "{h1} = {k1}[0][0] * x + {b1}[0]\n{h2} = {k1}[0][1] * x + {b1}[1]\n{h} = np.array([{h1}, {h2}])",
             "{h} = np.array([x]) @ {k1} + {b1}"],
            ["{o} = {h} @ {k2} + {b2}\nreturn float({o}.reshape(-1)[0])",
             "{o} = np.dot({h}, {k2}) + {b2}\nreturn float(np.squeeze({o}))",
             "{o} = {h}[0] * {k2}[0][0] + {h}[1] * {k2}[1][0] + {b2}[0]\nreturn float({o})",
             "return float(np.sum({h} * {k2}[:, 0]) + {b2}[0])"],
        ],
        "network_output": [
            ["{a} = np.asarray(x, dtype=float)", "{a} = np.array(x, dtype=np.float64)", "{a} = np.asarray(x).astype(float)",
             "{a} = np.array(x)"],
            ["for {i}, ({k}, {b}) in enumerate(layer_weights):\n    {a} = {a} @ {k} + {b}\n    if hidden_activation == 'relu' and {i} < len(layer_weights) - 1:\n        {a} = np.maximum({a}, 0)",
             "{n} = len(layer_weights) - 1\nfor {i} in range(len(layer_weights)):\n    {k}, {b} = layer_weights[{i}]\n    {a} = np.dot({a}, {k}) + {b}\n    if {i} != {n} and hidden_activation == 'relu':\n        {a} = np.where({a} > 0, {a}, 0)",
             "for {k}, {b} in layer_weights[:-1]:\n    {a} = {a} @ {k} + {b}\n    if hidden_activation == 'relu':\n        {a} = np.maximum(0, {a})\n{k}, {b} = layer_weights[-1]\n{a} = {a} @ {k} + {b}",
             "for {i}, {w} in enumerate(layer_weights):\n    {a} = np.matmul({a}, {w}[0]) + {w}[1]\n    if hidden_activation is not None and {i} + 1 < len(layer_weights):\n        {a} = {a} * ({a} > 0)"],
            ["return {a}", "return np.asarray({a}).reshape(-1)", "return np.ravel({a})", "return np.array({a}, dtype=float).flatten()"],
        ],
    },
    "ex4_perceptron": {
        "build_perceptron": [
            ["{m} = keras.Sequential([keras.Input(shape=(n_features,)), keras.layers.Dense(1, activation='sigmoid')])",
             "{m} = keras.Sequential()\n{m}.add(keras.Input(shape=(n_features,)))\n{m}.add(keras.layers.Dense(1, activation='sigmoid'))",
             "{i} = keras.Input(shape=(n_features,))\n{o} = keras.layers.Dense(1, activation='sigmoid')({i})\n{m} = keras.Model({i}, {o})",
             "{m} = keras.Sequential([keras.Input(shape=(n_features,)), keras.layers.Dense(1), keras.layers.Activation('sigmoid')])"],
            ["{m}.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])",
             "{m}.compile(optimizer=keras.optimizers.Adam(learning_rate=0.05), loss='binary_crossentropy')",
             "{m}.compile(loss=keras.losses.BinaryCrossentropy(), optimizer=keras.optimizers.SGD(0.1))",
             "{m}.compile(optimizer='sgd', loss=keras.losses.BinaryCrossentropy(), metrics=['accuracy'])"],
            ["return {m}"],
        ],
        "train_perceptron": [
            ["return model.fit(x, y, epochs=50, verbose=0)",
             "{h} = model.fit(x, y, epochs=100, batch_size=16, verbose=0)\nreturn {h}",
             "{h} = model.fit(np.asarray(x), np.asarray(y), epochs=30, batch_size=8, validation_split=0.1, verbose=0)\nreturn {h}",
             "{c} = keras.callbacks.EarlyStopping(monitor='loss', patience=5)\nreturn model.fit(x, y, epochs=200, callbacks=[{c}], verbose=0)"],
        ],
        "predict_classes": [
            ["{p} = model.predict(x, verbose=0)\nreturn (({p} > 0.5).astype(int)).flatten()",
             "return (model.predict(x, verbose=0)[:, 0] > 0.5).astype(np.int64)",
             "{p} = model(x).numpy().reshape(-1)\nreturn np.where({p} > 0.5, 1, 0)",
             "{p} = model.predict(x, verbose=0)\n{l} = np.zeros(len({p}), dtype=int)\nfor {i} in range(len({p})):\n    if {p}[{i}][0] > 0.5:\n        {l}[{i}] = 1\nreturn {l}"],
        ],
    },
    "ex5_quantize": {
        "representative_dataset": [
            ["for {r} in x_sample[:100]:\n    yield [np.array({r}, dtype=np.float32).reshape(1, -1)]",
             "for {i} in range(min(100, len(x_sample))):\n    yield [x_sample[{i}:{i} + 1].astype(np.float32)]",
             "def {gen}():\n    for {r} in x_sample[:100]:\n        yield [np.expand_dims({r}, 0).astype(np.float32)]\nreturn {gen}",
             "{d} = tf.data.Dataset.from_tensor_slices(x_sample.astype(np.float32)).batch(1).take(100)\nfor {r} in {d}:\n    yield [{r}]"],
        ],
        "quantize": [
            ["{c} = tf.lite.TFLiteConverter.from_keras_model(model)",
             "{c} = tf.lite.TFLiteConverter.from_keras_model(model=model)"],
            ["{c}.optimizations = [tf.lite.Optimize.DEFAULT]", "{c}.optimizations = {{tf.lite.Optimize.DEFAULT}}"],
            ["{c}.representative_dataset = lambda: representative_dataset(x_sample)",
             "def {rep}():\n    return representative_dataset(x_sample)\n{c}.representative_dataset = {rep}",
             "{c}.representative_dataset = representative_dataset(x_sample)"],
            ["{c}.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]\n{c}.inference_input_type = tf.int8\n{c}.inference_output_type = tf.int8",
             "{c}.inference_input_type = tf.int8\n{c}.inference_output_type = tf.int8\n{c}.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]",
             "{c}.target_spec.supported_types = [tf.int8]\n{c}.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]\n{c}.inference_input_type = tf.int8\n{c}.inference_output_type = tf.int8"],
            ["return {c}.convert()", "{t} = {c}.convert()\nreturn {t}", "{t} = {c}.convert()\nreturn bytes({t})"],
        ],
        "to_c_array": [
            ["{h} = ', '.join('0x%02x' % {b} for {b} in tflite_model)",
             "{h} = ', '.join(f'0x{{{b}:02x}}' for {b} in tflite_model)",
             "{h} = ''\nfor {i}, {b} in enumerate(tflite_model):\n    if {i} % 12 == 0:\n        {h} += '\\n  '\n    {h} += '0x%02x, ' % {b}",
             "{parts} = []\nfor {b} in bytes(tflite_model):\n    {parts}.append(hex({b}))\n{h} = ','.join({parts})"],
            ["{s} = 'alignas(16) const unsigned char ' + var_name + '[] = {{' + {h} + '}};\\n'\n{s} += 'unsigned int ' + var_name + '_len = ' + str(len(tflite_model)) + ';\\n'\nreturn {s}",
             "return (f'alignas(16) const unsigned char {{var_name}}[] = {{{{{{{h}}}}}}};\\n'\n        f'unsigned int {{var_name}}_len = {{len(tflite_model)}};\\n')",
             "{s} = []\n{s}.append('const unsigned char %s[] __attribute__((aligned(16))) = {{' % var_name)\n{s}.append({h})\n{s}.append('}};')\n{s}.append('unsigned int %s_len = %d;' % (var_name, len(tflite_model)))\nreturn '\\n'.join({s})"],
        ],
    },
}

# Personal statements a student may add; `{x}` is one of the function's own names.
TOUCHES = ["print('debug', {x})", "assert {x} is not None", "{y} = {x}", "if {x} is None:\n    raise ValueError('missing input')",
           "print(type({x}))", "{y} = len(str({x}))", "# print({x})"]
ADDED = ["print('here')", "{y} = 0", "{y} = None", "import math", "{y} = [0] * 3", "print('ok', {x})"]


def _names(rng: random.Random) -> dict:
    return _NameMap(rng)


class _NameMap(dict):
    """Placeholder -> the student's name for it, drawn the first time it is used."""

    def __init__(self, rng: random.Random):
        super().__init__()
        self.rng = rng

    def __missing__(self, key: str) -> str:
        taken = set(self.values())
        choice = self.rng.choice([n for n in NAMES if n not in taken] or [f"v{len(self)}"])
        if self.rng.random() < 0.3:
            choice = f"{choice}_{self.rng.randrange(10)}"
        self[key] = choice
        return choice


def _stub_parts(slug: str, file: str) -> tuple[list[str], dict[str, tuple[str, list[str]]], list[str]]:
    """The stub as: lines before the first student function, each function's (def line, docstring lines), the rest."""
    text = (ROOT / "exercises" / slug / file).read_text(encoding="utf-8")
    lines = text.splitlines()
    tree = ast.parse(text)
    functions = {}
    first = None
    last = 0
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in STYLES[slug]:
            first = first if first is not None else node.lineno - 1
            doc = node.body[0]
            has_doc = isinstance(doc, ast.Expr) and isinstance(getattr(doc, "value", None), ast.Constant)
            end = doc.end_lineno if has_doc else node.lineno
            functions[node.name] = (lines[node.lineno - 1], lines[node.lineno:end])
            last = node.end_lineno
    return lines[:first], functions, lines[last:]


FILES = {"ex1_loss": "loss.py", "ex2_train_step": "train_step.py", "ex3_two_layer": "two_layer.py",
         "ex4_perceptron": "perceptron.py", "ex5_quantize": "quantize.py"}


def _choose(rng: random.Random) -> dict:
    """One student's solution: for every function, a phrasing per step and where personal statements go."""
    plan = {}
    for slug, functions in STYLES.items():
        for fn, steps in functions.items():
            plan[(slug, fn)] = {"steps": [rng.randrange(len(alts)) for alts in steps],
                                "touches": [(rng.randrange(len(steps) + 1), rng.randrange(len(TOUCHES)))
                                            for _ in range(rng.choice([0, 0, 1, 1, 2, 3]))]}
        plan[(slug, "order")] = list(functions)
        if rng.random() < 0.5:
            rng.shuffle(plan[(slug, "order")])
    return plan


def _render(plan: dict, rng: random.Random, added: int = 0) -> dict[str, str]:
    """The files of a plan, with fresh names, comments and docstring choices (and `added` statements)."""
    names = _names(rng)
    keep_docs = rng.random() < 0.7
    comment_rate = rng.choice([0.0, 0.2, 0.5])
    extra_at = {}
    keys = [k for k in plan if k[1] != "order"]
    for _ in range(added):
        key = rng.choice(keys)
        extra_at.setdefault(key, []).append((rng.randrange(len(STYLES[key[0]][key[1]]) + 1), rng.randrange(len(ADDED))))
    files = {}
    for slug, functions in STYLES.items():
        head, stub_fns, tail = _stub_parts(slug, FILES[slug])
        out = list(head)
        for fn in plan[(slug, "order")]:
            choice = plan[(slug, fn)]
            def_line, doc = stub_fns[fn]
            body: list[str] = []
            fn_names = [v for v in names.values()] or ["x"]
            for s, alts in enumerate(functions[fn] + [[""]]):
                for pos, t in choice["touches"]:
                    if pos == s:
                        body.append(TOUCHES[t].format(x=rng.choice(fn_names), y=names[f"touch{t}{s}"]))
                for pos, t in extra_at.get((slug, fn), []):
                    if pos == s:
                        body.append(ADDED[t].format(x=rng.choice(fn_names), y=names[f"added{t}{s}"]))
                if s < len(functions[fn]):
                    if rng.random() < comment_rate:
                        body.append(rng.choice(COMMENTS))
                    body.append(alts[choice["steps"][s]].format_map(names))
            out += [def_line] + (doc if keep_docs else []) + ["    " + ln for b in body for ln in b.split("\n")] + ["", ""]
        files[slug] = "\n".join(out + tail).rstrip() + "\n"
    return files


def generate(n_independent: int, n_renamed: int, n_added: int, seed: int = SEED
             ) -> tuple[dict[str, dict[str, str]], list[tuple[str, str, str]]]:  # fmt: skip
    """`sources` ({id: {slug: source}}) and the planted pairs (original, copy, kind)."""
    rng = random.Random(seed)
    plans = {f"student{n:04d}": _choose(rng) for n in range(n_independent)}
    sources = {sid: _render(plan, random.Random(rng.random())) for sid, plan in plans.items()}
    planted = []
    originals = sorted(plans)
    for kind, count in (("renamed", n_renamed), ("added", n_added)):
        for n in range(count):
            src = rng.choice(originals)
            copy_plan = dict(plans[src])
            for slug, functions in STYLES.items():
                order = list(functions)
                rng.shuffle(order)
                copy_plan[(slug, "order")] = order
            cid = f"copy{kind}{n:04d}"
            sources[cid] = _render(copy_plan, random.Random(rng.random()), rng.randint(1, 3) if kind == "added" else 0)
            planted.append((src, cid, kind))
    return sources, planted


def write(directory: Path, sources: dict[str, dict[str, str]]) -> None:
    for sid, files in sources.items():
        for slug, text in files.items():
            path = directory / sid / slug / FILES[slug]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    target = Path(sys.argv[1])
    n = int(sys.argv[sys.argv.index("--students") + 1]) if "--students" in sys.argv else 200
    srcs, pairs = generate(n, n // 20, n // 20)
    write(target, srcs)
    print(f"wrote {len(srcs)} submissions to {target}; planted pairs: {len(pairs)}")
