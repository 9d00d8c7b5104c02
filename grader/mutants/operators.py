"""Mutation operators: each turns one node of a correct solution into a plausible wrong one.

An operator is a function `op(node) -> [(token, replacement), ...]`: `token` is a short,
stable description of the change ("Sub>Add", "reduce_mean>reduce_sum"), `replacement` a
function that takes the node (in a fresh copy of the tree) and returns what replaces it
(`None` drops a statement; a list replaces one statement with several). The standard
operators come first, then the ones modelled on how beginners go wrong with TensorFlow,
Keras and NumPy.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable

Replacement = Callable[[ast.AST], "ast.AST | list[ast.stmt] | None"]
Operator = Callable[[ast.AST], list[tuple[str, Replacement]]]

# -- standard operators ---------------------------------------------------------

ARITH = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.Pow: ast.Mult,
         ast.MatMult: ast.Mult, ast.FloorDiv: ast.Div}
COMPARE = {ast.Lt: [ast.LtE, ast.Gt], ast.LtE: [ast.Lt], ast.Gt: [ast.GtE, ast.Lt], ast.GtE: [ast.Gt],
           ast.Eq: [ast.NotEq], ast.NotEq: [ast.Eq], ast.In: [ast.NotIn], ast.NotIn: [ast.In],
           ast.Is: [ast.IsNot], ast.IsNot: [ast.Is]}


def _name(x: object) -> str:
    return type(x).__name__


def _text(node) -> bool:
    """A string expression (a literal, an f-string, or a sum with one): `-` on it can only raise."""
    def text(n) -> bool:
        return (isinstance(n, ast.JoinedStr) or (isinstance(n, ast.Constant) and isinstance(n.value, str))
                or (isinstance(n, ast.BinOp) and (text(n.left) or text(n.right))))
    return text(node.left) or text(node.right)


def arith(node):
    """Swap an arithmetic operator (+ -, * /, ** -> *, @ -> *)."""
    if isinstance(node, ast.BinOp) and type(node.op) in ARITH and not _text(node):
        new = ARITH[type(node.op)]
        return [(f"{_name(node.op)}>{new.__name__}", lambda n, new=new: ast.BinOp(n.left, new(), n.right))]
    if isinstance(node, ast.AugAssign) and type(node.op) in ARITH and not _text(ast.BinOp(node.target, node.op, node.value)):
        new = ARITH[type(node.op)]
        return [(f"{_name(node.op)}=>{new.__name__}=", lambda n, new=new: ast.AugAssign(n.target, new(), n.value)),
                (f"{_name(node.op)}=>=", lambda n: ast.Assign([n.target], n.value, lineno=n.lineno))]
    return []


def operand(node):
    """Keep one operand of + - * / (a forgotten bias, a forgotten weight, a forgotten term)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
        return [("left", lambda n: n.left), ("right", lambda n: n.right)]
    return []


def unary(node):
    """Drop a unary minus or a `not`."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not)):
        return [(f"drop_{_name(node.op)}", lambda n: n.operand)]
    return []


def compare(node):
    """Swap a comparison operator (< <=, > >=, == !=, in / not in, is / is not)."""
    if not (isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in COMPARE):
        return []
    return [(f"{_name(node.ops[0])}>{new.__name__}", lambda n, new=new: ast.Compare(n.left, [new()], n.comparators))
            for new in COMPARE[type(node.ops[0])]]


def boolean(node):
    """Swap `and`/`or`; swap the branches of a conditional expression."""
    if isinstance(node, ast.BoolOp):
        new = ast.Or if isinstance(node.op, ast.And) else ast.And
        return [(f"{_name(node.op)}>{new.__name__}", lambda n, new=new: ast.BoolOp(new(), n.values))]
    if isinstance(node, ast.IfExp):
        return [("swap_branches", lambda n: ast.IfExp(n.test, n.orelse, n.body))]
    return []


def constant(node):
    """Change a number: an int by one either way, a float halved, doubled or zeroed; flip a bool."""
    if not isinstance(node, ast.Constant):
        return []
    v = node.value
    if isinstance(v, bool):
        return [(f"{v}>{not v}", lambda n: ast.Constant(not n.value))]
    if isinstance(v, int):
        return [(f"{v}>{w}", lambda n, w=w: ast.Constant(w)) for w in (v + 1, v - 1)]
    if isinstance(v, float):
        news = [v / 2, v * 2, 0.0] if v else [1.0]
        return [(f"{v!r}>{w!r}", lambda n, w=w: ast.Constant(w)) for w in news]
    return []


def _dotted(node) -> bool:
    """A module-level name such as `tf.float32`: a setting, not a value."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name) and node.id in ("tf", "np", "keras")


def arg_order(node):
    """Swap the two positional arguments of a call on two values (f(a, b) -> f(b, a))."""
    if (isinstance(node, ast.Call) and len(node.args) == 2 and not any(isinstance(a, ast.Starred) for a in node.args)
            and not any(isinstance(a, (ast.Constant, ast.List, ast.Tuple)) or _dotted(a) for a in node.args)):
        return [("swap", lambda n: ast.Call(n.func, [n.args[1], n.args[0]], n.keywords))]
    return []


def keyword_drop(node):
    """Leave out a keyword argument (its default applies)."""
    if not isinstance(node, ast.Call):
        return []
    return [(f"drop_{kw.arg}", lambda n, i=i: ast.Call(n.func, n.args, n.keywords[:i] + n.keywords[i + 1:]))
            for i, kw in enumerate(node.keywords) if kw.arg]


def _callee(node) -> str | None:
    if isinstance(node, ast.Call):
        f = node.func
        return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
    return None


# Calls that wrap a value (they take it first and give back a transformed one).
WRAPPERS = {"square", "abs", "sqrt", "cast", "convert_to_tensor", "reshape", "float", "asarray", "array", "maximum",
            "relu", "sigmoid", "reduce_mean", "reduce_sum", "mean", "sum", "transpose", "ravel", "flatten", "squeeze",
            "astype", "constant", "numpy", "int"}
REDUCTIONS = {"reduce_mean", "reduce_sum", "mean", "sum", "reduce_max", "max", "min", "argmax"}


def call_nesting(node):
    """Swap the nesting order of two wrapping calls (f(g(x)) -> g(f(x)))."""
    if not (_callee(node) in WRAPPERS and node.args and _callee(node.args[0]) in WRAPPERS
            and isinstance(node.func, ast.Attribute) == isinstance(node.args[0].func, ast.Attribute)):
        return []

    def swap(n):
        outer, inner = n, n.args[0]
        return ast.Call(inner.func, [ast.Call(outer.func, [inner.args[0], *outer.args[1:]], outer.keywords),
                                     *inner.args[1:]], inner.keywords)
    return [(f"{_callee(node)}<>{_callee(node.args[0])}", swap)]


def reduction(node):
    """Reduction arguments: add or change `axis`, add `keepdims=True`, drop `axis`."""
    if _callee(node) not in REDUCTIONS or not isinstance(node.func, ast.Attribute):
        return []
    found = []
    axes = [i for i, kw in enumerate(node.keywords) if kw.arg == "axis"]
    if not axes and len(node.args) == 1:
        found += [(f"axis={a}", lambda n, a=a: ast.Call(n.func, n.args, [*n.keywords, ast.keyword("axis", ast.Constant(a))]))
                  for a in (0, 1)]
    if not any(kw.arg == "keepdims" for kw in node.keywords):
        found.append(("keepdims", lambda n: ast.Call(n.func, n.args, [*n.keywords, ast.keyword("keepdims", ast.Constant(True))])))
    return found


def _docstring(node, parent) -> bool:
    return isinstance(parent, ast.Expr) and isinstance(node, ast.Constant) and isinstance(node.value, str)


def statement(node):
    """Drop a statement, or run it twice (an update or an append made twice)."""
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return []
    found = []
    if isinstance(node, (ast.Assign, ast.AugAssign, ast.Expr, ast.With, ast.For, ast.If)):
        found.append(("drop", lambda n: None))
    if isinstance(node, ast.AugAssign) or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
        found.append(("twice", lambda n: [n, copy.deepcopy(n)]))
    return found


def returned(node):
    """Return None instead of the value."""
    if isinstance(node, ast.Return) and node.value is not None and not (
            isinstance(node.value, ast.Constant) and node.value.value is None):
        return [("None", lambda n: ast.Return(ast.Constant(None)))]
    return []


STANDARD: dict[str, Operator] = {
    "arith": arith, "operand": operand, "unary": unary, "compare": compare, "boolean": boolean,
    "constant": constant, "arg_order": arg_order, "keyword": keyword_drop, "nesting": call_nesting,
    "reduction": reduction, "statement": statement, "return": returned,
}

# -- how beginners go wrong with TensorFlow, Keras and NumPy -------------------------

# name -> what a beginner writes instead (an attribute or a bare name)
CONFUSED_NAMES = {
    "reduce_mean": ["reduce_sum"], "reduce_sum": ["reduce_mean"], "mean": ["sum"], "sum": ["mean"],
    "square": ["abs"], "assign_sub": ["assign_add"], "assign_add": ["assign_sub"],
    "float32": ["float64"], "int8": ["uint8", "float32"], "maximum": ["minimum"],
    "matmul": ["multiply"], "dot": ["multiply"], "float": ["int"],
    "TFLITE_BUILTINS_INT8": ["TFLITE_BUILTINS"],
}
CONFUSED_STRINGS = {
    "sigmoid": ["relu", "linear", "softmax"], "relu": ["sigmoid"], "binary_crossentropy": ["mse", "hinge"],
    "float32": ["float64", "int32"],
}


def confused_name(node):
    """Use the function or type a beginner confuses with the right one (reduce_sum for reduce_mean, ...)."""
    if isinstance(node, ast.Attribute) and node.attr in CONFUSED_NAMES:
        return [(f"{node.attr}>{w}", lambda n, w=w: ast.Attribute(n.value, w, n.ctx)) for w in CONFUSED_NAMES[node.attr]]
    if isinstance(node, ast.Name) and node.id in CONFUSED_NAMES and isinstance(node.ctx, ast.Load):
        return [(f"{node.id}>{w}", lambda n, w=w: ast.Name(w, n.ctx)) for w in CONFUSED_NAMES[node.id]]
    return []


def confused_string(node):
    """A Keras name confused with another ('relu' for 'sigmoid', 'mse' for 'binary_crossentropy', dtypes)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in CONFUSED_STRINGS:
        return [(f"{node.value}>{w}", lambda n, w=w: ast.Constant(w)) for w in CONFUSED_STRINGS[node.value]]
    return []


def dropped_call(node):
    """Forget a wrapping call: f(x, ...) -> x (a missing square, cast, reshape, activation, reduction)."""
    if _callee(node) not in WRAPPERS:
        return []
    if isinstance(node.func, ast.Attribute) and not _dotted(node.func):  # a method: x.astype(...) -> x
        return [(f"drop_{_callee(node)}", lambda n: n.func.value)]
    if node.args and not isinstance(node.args[0], ast.Starred):  # a function: f(x, ...) -> x
        return [(f"drop_{_callee(node)}", lambda n: n.args[0])]
    return []


def swapped_index(node):
    """Index a kernel the wrong way round: k[i][j] -> k[j][i] (a transposed kernel)."""
    if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Subscript)
            and ast.dump(node.slice) != ast.dump(node.value.slice)):
        return [("transpose", lambda n: ast.Subscript(ast.Subscript(n.value.value, n.slice, ast.Load()),
                                                      n.value.slice, n.ctx))]
    return []


def transposed_operand(node):
    """Transpose the right-hand side of a matrix product (x @ W.T)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
        return [("transpose", lambda n: ast.BinOp(n.left, n.op, ast.Attribute(n.right, "T", ast.Load())))]
    return []


def unwrapped_list(node):
    """A one-item list given as the item itself (yield x instead of yield [x])."""
    if isinstance(node, ast.List) and len(node.elts) == 1 and not isinstance(node.elts[0], ast.Starred):
        return [("unwrap", lambda n: n.elts[0])]
    return []


def dropped_word(node):
    """Leave a word out of a string (a C declaration without `alignas(16)` or `const`)."""
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return []
    words = node.value.split(" ")
    if len([w for w in words if w]) < 2:
        return []
    return [(f"drop_word{i}", lambda n, i=i: ast.Constant(" ".join(words[:i] + words[i + 1:])))
            for i, w in enumerate(words) if w]


def _updates(func: ast.FunctionDef) -> bool:
    return any(_callee(n) in ("assign_sub", "assign_add", "apply_gradients") for n in ast.walk(func))


def recomputed_return(node):
    """Return the value recomputed after the update (the loss after the step instead of before it)."""
    if not (isinstance(node, ast.FunctionDef) and _updates(node) and node.body
            and isinstance(node.body[-1], ast.Return) and isinstance(node.body[-1].value, ast.Name)):
        return []
    name = node.body[-1].value.id
    assigns = [n for n in ast.walk(node) if isinstance(n, ast.Assign) and len(n.targets) == 1
               and isinstance(n.targets[0], ast.Name) and n.targets[0].id == name]
    if not assigns:
        return []

    def recompute(n):
        n.body.insert(len(n.body) - 1, copy.deepcopy(assigns[0]))
        return n
    return [("after_update", recompute)]


BEGINNER: dict[str, Operator] = {
    "confused_name": confused_name, "confused_string": confused_string, "dropped_call": dropped_call,
    "swapped_index": swapped_index, "transposed": transposed_operand, "unwrapped_list": unwrapped_list,
    "dropped_word": dropped_word, "recomputed_return": recomputed_return,
}

OPERATORS: dict[str, Operator] = {**STANDARD, **BEGINNER}
