"""The notebook extractor: which cells' code becomes the student file, and which is never run."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader import catalog
from grader.notebook import assemble, build, extract, ipynb
from grader.web import card
from grader.workspace import MARKER
from grader.notebook.submission import stub, student_file

ROOT = Path(__file__).resolve().parent.parent


def cells(*sources: str) -> list[tuple[int, str]]:
    return list(enumerate(sources, start=1))


def built(exercise: int, *sources: str) -> assemble.Built:
    ex = catalog.exercise(exercise)
    result = student_file(ex, extract.scan(cells(*sources)), "test.ipynb")
    assert result is not None
    ast.parse(result.source)  # always a valid Python file
    return result


def defined(source: str) -> dict[str, str]:
    """Top-level name -> the statement's source, for what the built file defines."""
    tree = ast.parse(source)
    out = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            out[node.name] = ast.get_source_segment(source, node)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                out[alias.asname or alias.name.split(".")[0]] = ast.get_source_segment(source, node)
        elif isinstance(node, ast.Assign):
            out[node.targets[0].id] = ast.get_source_segment(source, node)
    return out


def test_a_function_redefined_in_a_later_cell_the_latest_counts():
    result = built(1, "import tensorflow as tf",
                   "def loss(p, t):\n    return tf.reduce_sum(p - t)",
                   "print(loss([1], [2]))",
                   "def loss(p, t):\n    return tf.reduce_mean(tf.square(p - t))")
    assert "reduce_mean" in result.source and "reduce_sum" not in result.source
    assert "print(" not in result.source


def test_helpers_and_constants_used_come_along_unused_ones_and_their_imports_do_not():
    result = built(1, "import tensorflow as tf\nimport matplotlib.pyplot as plt\nimport numpy as np",
                   "SCALE = 2 ** -1\nUNUSED = [1, 2]\nNAME, OTHER = 'a', 3",
                   "def unused_plot(h):\n    plt.plot(h)",
                   "def flat(x):\n    return tf.reshape(x, [-1]) * SCALE / SCALE",
                   "def loss(p, t):\n    return tf.reduce_mean(tf.square(flat(p) - flat(t)))")
    names = defined(result.source)
    assert set(names) == {"tf", "SCALE", "flat", "loss"}
    assert list(names)[-2:] == ["flat", "loss"]  # a dependency before what uses it


def test_decorators_keep_their_lines_and_their_names():
    result = built(1, "import functools\nimport tensorflow as tf",
                   "def traced(f):\n    @functools.wraps(f)\n    def inner(*a):\n        return f(*a)\n    return inner",
                   "@traced\n@tf.function(reduce_retracing=True)\ndef loss(p, t):\n    return tf.reduce_mean(tf.square(p - t))")
    names = defined(result.source)
    assert {"functools", "tf", "traced", "loss"} <= set(names)
    assert result.source.index("@traced") < result.source.index("def loss")


def test_a_class_and_what_its_methods_use():
    result = built(2, "import tensorflow as tf\nRATE_FLOOR = 1e-9",
                   "class Stepper:\n    def __init__(self, rate):\n        self.rate = max(rate, RATE_FLOOR)\n"
                   "    def step(self, var, grad):\n        var.assign_sub(self.rate * grad)",
                   "def train(model, xs, ys, learning_rate):\n    with tf.GradientTape() as tape:\n"
                   "        current = tf.reduce_mean(tf.square(model(xs) - ys))\n"
                   "    dw, db = tape.gradient(current, [model.w, model.b])\n    s = Stepper(learning_rate)\n"
                   "    s.step(model.w, dw)\n    s.step(model.b, db)\n    return current")
    assert {"tf", "RATE_FLOOR", "Stepper", "train", "fit"} <= set(defined(result.source))
    assert result.found == ["train"] and result.stubbed == ["fit"]
    assert "NotImplementedError" in defined(result.source)["fit"]  # the stub's own fit: "not attempted"


def test_parameters_and_locals_are_not_globals():
    """A parameter named like a notebook global (a trained `model`) does not pull that global in."""
    result = built(4, "import keras\nmodel = keras.Sequential()\nx = [[1.0]]",
                   "def predict_classes(model, x):\n    probabilities = model.predict(x)\n    return (probabilities > 0.5).astype(int).ravel()")
    assert set(defined(result.source)) == {"predict_classes", "build_perceptron", "train_perceptron"}
    assert "Sequential()" not in result.source and "x = " not in result.source


def test_shell_magic_and_top_level_code_are_left_out_and_reported():
    scanned = extract.scan(cells("!pip install foo\nimport tensorflow as tf",
                                 "%%time\nfor i in range(10): pass",
                                 "def loss(p, t):\n    return tf.reduce_mean(p - t)\nimport os\nos._exit(0)",
                                 "history = model.fit(x, y, epochs=1000)",
                                 "check(1)",
                                 "def broken(:\n    pass"))
    assert scanned.describe_left_out() == ("cells 1 (in part: shell and magic lines), 2 (shell and magic lines), "
                                           "3 (in part: top-level code), 4 (top-level code), 6 (does not parse)")
    assert {n for n, c in scanned.chunks.items() if c.kind != extract.ASSIGNED} == {"tf", "loss", "os"}
    assert scanned.chunks["history"].kind == extract.ASSIGNED  # graded only if a graded function used it


def test_assignments_the_functions_use_are_graded_in_notebook_order_the_rest_never_runs():
    result = built(1, "import tensorflow as tf\nmse = tf.keras.losses.MeanSquaredError()\nSCALE = 1.0",
                   "def flat(x):\n    return tf.reshape(tf.cast(x, tf.float32), [-1])",
                   "history = model.fit(x, y)\nscaled = SCALE * 2",
                   "pair = (mse, flat)\nunused = tf.zeros(3)",
                   "def loss(p, t):\n    return pair[0](flat(t), flat(p)) * scaled")
    names = defined(result.source)
    assert set(names) == {"tf", "mse", "SCALE", "flat", "scaled", "pair", "loss"}
    order = [n for n in names if n in ("mse", "scaled", "pair")]
    assert order == ["mse", "scaled", "pair"]  # in notebook order, each after what it reads
    assert result.graded == {("mse", 1), ("scaled", 3), ("pair", 4)}
    scanned = extract.scan(cells("import tensorflow as tf\nmse = tf.keras.losses.MeanSquaredError()\nSCALE = 1.0",
                                 "def flat(x):\n    return tf.reshape(tf.cast(x, tf.float32), [-1])",
                                 "history = model.fit(x, y)\nscaled = SCALE * 2",
                                 "pair = (mse, flat)\nunused = tf.zeros(3)",
                                 "def loss(p, t):\n    return pair[0](flat(t), flat(p)) * scaled"))
    assert scanned.describe_left_out(result.graded) == "cells 3 (in part: top-level code), 4 (in part: top-level code)"


@pytest.mark.parametrize("cell", [
    "data = np.load('x.npy')\nmse = make(data)",  # `make` is defined by nothing graded
    "for i in range(3):\n    mse = i\nmse = mse + 1",  # reads an earlier binding of itself
    "mse = open('secret').read()",  # a builtin that reaches outside
])
def test_an_assignment_reading_anything_else_is_never_run(cell):
    result = built(1, "import numpy as np", cell, "def loss(p, t):\n    return mse")
    assert "mse =" not in result.source and not result.graded


def test_constants_keep_their_exact_text_and_a_cell_too_large_to_read_is_named():
    """A string holding U+2028 (a line break for str.splitlines, not for Python) and multi-byte characters is kept
    as written; a cell over MAX_CELL_CHARS is not parsed (1M one-line statements take about 2.5 GB)."""
    big = "x = 1\n" * (extract.MAX_CELL_CHARS // 6 + 1)
    scanned = extract.scan(cells('A = "é\u2028ü"; B, C = (1,\n  "ü"), 3', big, "y = [1, 2]\n" * 5000))
    assert scanned.chunks["A"].source == 'A = "é\u2028ü"\n' and scanned.chunks["B"].source == 'B = (1,\n  "ü")\n'
    assert scanned.chunks["y"].source == "y = [1, 2]\n" and "x" not in scanned.chunks
    assert scanned.describe_left_out() == "cell 2 (over 1,000,000 characters: too large to read)"


def test_a_function_in_a_cell_that_does_not_parse_is_graded_as_written():
    """The student then reads their syntax error, as with a .py file, instead of "not attempted"."""
    scanned = extract.scan(cells("import tensorflow as tf", "def loss(p, t)\n    return tf.reduce_mean(p - t)"))
    result = student_file(catalog.exercise(1), scanned, "test.ipynb")
    assert result is not None and result.found == ["loss"]
    with pytest.raises(SyntaxError, match="expected ':'"):
        compile(result.source, "loss.py", "exec")


def test_no_function_of_the_exercise_means_no_file():
    assert student_file(catalog.exercise(3), extract.scan(cells("import numpy as np", "def other(): pass")), "x") is None


def test_free_names_follow_python_scopes():
    source = ("@deco(ARG)\ndef f(a, b=DEFAULT):\n    global counter\n    counter += 1\n    local = [g(i) for i in a]\n"
              "    def inner():\n        return local, h\n    return inner, np.pi\n")
    assert extract.free_names(source) == {"deco", "ARG", "DEFAULT", "counter", "g", "h", "np"}


def test_stubs_come_from_the_exercise_stub():
    chunk = stub(catalog.exercise(2))("fit")
    assert chunk.source.startswith("def fit(model, xs, ys, epochs, learning_rate):")


@pytest.mark.parametrize("text, message", [
    (b'{"cells": [1,', "not valid JSON (line 1"),
    (b"[1, 2]", "no list of cells"),
    (b'{"nbformat": 3, "worksheets": []}', "old notebook (nbformat 3)"),
    (b"\xff\xfe", "not UTF-8"),
    (b'{"cells": [{"cell_type": "code", "source": 5}]}', "cell 1 has no readable source"),
    (b'{"cells": [{"cell_type": "code", "source": "x = 1\\ny = \'\\ud800\'"}]}', "cell 1, line 2 holds '\\ud800'"),
])
def test_unreadable_notebooks_say_why(text: bytes, message: str):
    with pytest.raises(ipynb.NotebookError) as e:
        ipynb.code_cells(text, "work.ipynb")
    assert message in str(e.value) and "work.ipynb" in str(e.value)


def test_cells_are_numbered_in_notebook_order_and_setup_cells_skipped():
    document = {"cells": [{"cell_type": "code", "metadata": {"tags": ["grader-setup"]}, "source": "%pip install x"},
                          {"cell_type": "markdown", "source": "# hi"},
                          {"cell_type": "code", "source": ["import numpy as np\n", "x = 1"]}], "nbformat": 4}
    assert ipynb.code_cells(json.dumps(document).encode(), "n.ipynb") == [(3, "import numpy as np\nx = 1")]


def test_the_exercise_notebooks_are_in_sync_with_their_readme_and_stub():
    assert build.outdated() == [], "run: python -m grader.notebook.build"
    for ex in catalog.exercises():
        document = json.loads((ex.directory / f"{ex.slug}.ipynb").read_text())
        sources = ["".join(c["source"]) for c in document["cells"]]
        assert sources[-1] == f"check({ex.id})" and "%pip install" in sources[0]
        assert build.colab_url(ex) in (ex.directory / "README.md").read_text()


def test_importing_grader_stays_light():
    code = ("import sys\nfrom grader import check, hint\nimport grader.web.card, grader.notebook.extract\n"
            "grader.web.card.report_html({'exercises': []})\nheavy = [m for m in ('tensorflow', 'numpy', 'pytest', 'keras') if m in sys.modules]\n"
            "assert not heavy, heavy\nprint('ok')")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == "ok", run.stderr


def test_the_card_escapes_every_string_from_the_report():
    evil = "<script>alert(1)</script>"
    check = {"name": evil, "id": "x", "status": "failed", "score": 0, "max_score": 1, "message": evil, "hint": evil,
             "mistake": evil}
    report = {"score": 0, "max_score": 1, "seed": 1, "exercises": [
        {"id": 1, "slug": "ex1_loss", "title": evil, "status": "failed", "score": 0, "max_score": 1, "message": evil,
         "output": evil, "checks": [check]}], "environment": {"notes": [evil]}}
    html = card.report_html(report)
    assert "<script" not in html and html.count("&lt;script&gt;") == 8


def test_check_explains_what_it_cannot_grade_without_running_anything(tmp_path, monkeypatch):
    from grader import check

    (tmp_path / MARKER).write_text("")  # a workspace: check() records its result in its .grader/state.json
    monkeypatch.chdir(tmp_path)
    assert "unknown exercise '9'" in repr(check(9)) and check(9).report is None
    assert "los is not one of its functions" in check(1, los=len)._repr_html_()
    scale = 2.0

    def loss(p, t):
        return scale * (p - t)

    (ex,) = check(1, loss=loss).report["exercises"]
    assert ex["status"] == "error" and "`loss` is defined inside another function" in ex["message"]
    assert json.loads((tmp_path / ".grader" / "state.json").read_text())["results"]["ex1_loss"]["status"] == "error"


def test_check_in_a_plain_python_process_names_a_function_without_source(tmp_path):
    """A function defined in `python -c` has no source to read: the student is told where to define it, no traceback."""
    program = "def loss(p, t):\n    return 0\nfrom grader import check\nprint(check(1).report['exercises'][0]['message'])"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-c", program], cwd=tmp_path, capture_output=True, text=True, env=env,
                         timeout=60)  # fmt: skip
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    assert "`loss` was defined in a `python -c` string or exec()" in run.stdout and "define it in a .py" in run.stdout


def test_a_line_starting_with_percent_inside_python_is_python_and_futures_stay():
    result = built(1, "from __future__ import annotations\nimport tensorflow as tf",
                   'def loss(p, t):\n    label = ("mse %s"\n             % "x")\n    return tf.reduce_mean(p - t)')
    assert '% "x")' in result.source and result.source.index("from __future__") < result.source.index("import tensorflow")


def test_a_line_of_the_built_file_is_named_by_its_cell_and_line():
    from grader.notebook.where import relabel

    result = built(3, "import numpy as np\nW = np.ones(2)",
                   "print('training')\n\ndef two_layer_output(l1, l2, x):\n    h = x * l1[0] + l1[1]\n"
                   "    return float(h @ undefined_name)")
    lines = result.source.splitlines()
    at = next(i for i, line in enumerate(lines, 1) if "undefined_name" in line)
    assert result.cell_line(at) == (2, 5)
    message = f"Your code raised NameError: name 'undefined_name' is not defined (two_layer.py, line {at}: `...`)."
    assert relabel(message, "two_layer.py", result) == (
        "Your code raised NameError: name 'undefined_name' is not defined (cell 2, line 5: `...`).")
    header = next(i for i, line in enumerate(lines, 1) if "built by the grader" in line)
    assert result.cell_line(header) is None  # the grader's own lines keep the file's name
