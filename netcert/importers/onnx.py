"""An ONNX model as an exact netcert network: the graph walked symbolically, node by node.

Every tensor is either a constant (exact rationals: an initializer's floats are the dyadic
rationals they store) or a symbolic tensor of affine forms of the input (``layers.Form``).
Linear operators (Gemm, MatMul, Add, Sub, Mul and Div by constants, Conv, AveragePool,
BatchNormalization, Concat and the reshaping ones) compose forms exactly; Relu, LeakyRelu,
Clip and MaxPool (max(a, b) = a + relu(b - a)) make neurons through ``layers.Builder``, the
builder ``from_layers`` uses, so the same weights give the same network by either route.

The input is one tensor; its first axis is the batch when it is dynamic (or 1), every other
axis must be static, and a point of the dataset is that tensor's values in C order. Casts of
input-dependent values are the identity: netcert evaluates in exact arithmetic, not in float32.
A final Softmax or Sigmoid, an ArgMax and scikit-learn's label and ZipMap outputs are dropped
for a classification claim (the class of the largest score is unchanged) and recorded.
Anything else is refused with one line naming the operator, its node and why.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from pathlib import Path

import networkx as nx
import numpy as np

from netcert.errors import InputError, UsageError
from netcert.exact import Rat, float_to_rat, mpq
from netcert.formats import files
from netcert.importers.layers import ONE, ZERO, Builder, Form, as_form, exact, exact_array, label_string
from netcert.ir import keys

MISSING_EXTRA = "the ONNX importer needs the onnx package: pip install 'netcert[onnx]'"

NOT_EXACT = {
    "Tanh": "tanh",
    "Sigmoid": "the logistic function",
    "Exp": "exp",
    "Log": "log",
    "Sqrt": "the square root",
    "Pow": "a power",
    "Erf": "erf",
    "Gelu": "GELU",
    "Elu": "exp",
    "Selu": "exp",
    "Softplus": "log(1 + exp)",
    "HardSigmoid": "its clipping on a float grid",
    "Softmax": "exp",
    "LogSoftmax": "exp and log",
    "Sin": "sin",
    "Cos": "cos",
}
"""Operators whose value on a rational input is in general not rational: why each is refused."""


class Unsupported(Exception):
    """An operator that cannot be imported exactly, with the reason (becomes one InputError line)."""


# ---------------------------------------------------------------- values


@dataclass
class Const:
    """A tensor that does not depend on the input: exact rationals, integers, or strings."""

    data: np.ndarray  # dtype object (mpq elements) for numbers, a numpy str array for strings
    kind: str  # "float", "int" or "str"


@dataclass
class Sym:
    """A tensor of affine forms of the input (elements are Form or mpq)."""

    data: np.ndarray


@dataclass
class Scores:
    """A monotone map (softmax or sigmoid) of class scores ``base`` along their last axis."""

    kind: str
    base: np.ndarray
    classes: list | None = None


@dataclass
class Label:
    """The class of the largest score of ``base`` (ArgMax), then mapped to labels."""

    kind: str | None
    base: np.ndarray
    classes: list | None = None


Value = Const | Sym | Scores | Label


def _obj(data: np.ndarray) -> np.ndarray:
    out = np.empty(np.shape(data), dtype=object)
    out[...] = data
    return out


def _sym_data(v: Value) -> np.ndarray:
    if isinstance(v, Sym):
        return v.data
    if isinstance(v, Const) and v.kind != "str":
        return v.data
    raise Unsupported("expects a numeric tensor")


def _ints(v: Value | None, what: str) -> list[int]:
    if not isinstance(v, Const) or v.kind == "str":
        raise Unsupported(f"{what} must be a constant (it depends on the input, so the shape does not resolve)")
    out = []
    for q in v.data.reshape(-1):
        if q.denominator != 1:
            raise Unsupported(f"{what} must hold integers")
        out.append(int(q))
    return out


# ---------------------------------------------------------------- reading


def import_onnx(path: str | Path, *, classes: Sequence[object] | None = None) -> nx.DiGraph:
    """The exact network of the ONNX model at ``path`` (read through the bounded reader).

    ``classes`` labels the outputs when the model does not (or overrides its labels); a
    problem with the file or an operator that cannot be exact is an ``InputError`` naming it.
    """
    try:
        import onnx
        from google.protobuf.message import DecodeError
    except ImportError:
        raise UsageError(MISSING_EXTRA) from None
    raw = files.read_bytes(path, gunzip=False)
    model = onnx.ModelProto()
    try:
        model.ParseFromString(raw)
    except (DecodeError, ValueError, RuntimeError) as e:
        raise InputError(f"{path}: not a readable ONNX file (invalid protobuf: {str(e)[:120]})") from None
    if not model.HasField("graph") or not model.graph.node:
        raise InputError(f"{path}: not an ONNX model (no graph, or a graph without nodes)")
    try:
        onnx.checker.check_model(model)
    except Exception as e:  # the checker's classes vary between onnx versions
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise InputError(f"{path}: not a valid ONNX model: {first[:200]}") from None
    return _Walker(str(path), model, onnx).run(classes)


class _Walker:
    """One pass over the nodes in order (ONNX graphs are topologically sorted)."""

    def __init__(self, source: str, model: Any, onnx_module: Any) -> None:
        self.source, self.model, self.onnx = source, model, onnx_module
        self.values: dict[str, Value] = {}
        self.builder: Builder | None = None

    def fail(self, message: str) -> InputError:
        return InputError(f"{self.source}: {message}")

    def run(self, classes: Sequence[object] | None) -> nx.DiGraph:
        graph = self.model.graph
        for tensor in graph.initializer:
            self.values[tensor.name] = self._initializer(tensor)
        self._input(graph)
        for k, node in enumerate(graph.node):
            name = node.name or f"#{k}"
            ins = [self.values.get(i) if i else None for i in node.input]
            for i, v in zip(node.input, ins, strict=True):
                if i and v is None:
                    raise self.fail(f"node {name!r} ({node.op_type}) reads {i!r}, which no node computes")
            attrs = {a.name: self.onnx.helper.get_attribute_value(a) for a in node.attribute}
            try:
                outs = self._apply(node, ins, attrs)
            except Unsupported as e:
                raise self.fail(f"operator {node.op_type} (node {name!r}) cannot be imported exactly: {e}") from None
            except (TypeError, ZeroDivisionError) as e:
                raise self.fail(f"operator {node.op_type} (node {name!r}) cannot be imported exactly: {e}") from None
            except (ValueError, IndexError) as e:
                raise self.fail(
                    f"operator {node.op_type} (node {name!r}): shapes do not fit ({str(e)[:120]})"
                ) from None
            for out_name, value in zip(node.output, outs, strict=False):
                if out_name:
                    self.values[out_name] = value
        return self._network(graph, classes)

    # -- tensors

    def _initializer(self, tensor: Any) -> Const:
        name = tensor.name
        if tensor.data_location == self.onnx.TensorProto.EXTERNAL:
            raise self.fail(f"initializer {name!r} is stored in an external file; netcert reads one file")
        try:
            array = self.onnx.numpy_helper.to_array(tensor)
        except Exception as e:
            raise self.fail(f"initializer {name!r} is unreadable ({str(e)[:100]})") from None
        return self._const(array, f"initializer {name!r}")

    def _const(self, array: np.ndarray, what: str) -> Const:
        array = np.asarray(array)
        if array.dtype.kind in "US":
            return Const(array.astype(str), "str")
        if array.dtype.kind == "O":
            raise self.fail(f"{what}: not a numeric tensor")
        if array.dtype.kind not in "fiub" and array.dtype.name not in ("bfloat16",):
            if array.dtype.kind == "V":  # float8 and bfloat16 through ml_dtypes: widen, which is exact
                array = array.astype(np.float32)
            else:
                raise self.fail(f"{what}: unsupported dtype {array.dtype}")
        kind = "float" if array.dtype.kind not in "iub" else "int"
        if kind == "float" and array.dtype.kind != "f":
            array = array.astype(np.float32)
        try:
            return Const(exact_array(array.astype(np.int64) if array.dtype.kind == "b" else array, ""), kind)
        except InputError as e:
            raise self.fail(f"{what}{str(e)}") from None

    def _input(self, graph: Any) -> None:
        initial = {t.name for t in graph.initializer}
        inputs = [i for i in graph.input if i.name not in initial]
        if len(inputs) != 1:
            raise self.fail(f"netcert imports a model of one input tensor; this one has {len(inputs)}")
        inp = inputs[0]
        if not inp.type.HasField("tensor_type") or not inp.type.tensor_type.HasField("shape"):
            raise self.fail(f"input {inp.name!r} has no tensor shape: the dynamic shape does not resolve")
        dims = []
        for axis, dim in enumerate(inp.type.tensor_type.shape.dim):
            static = dim.HasField("dim_value") and dim.dim_value > 0
            if axis == 0 and len(inp.type.tensor_type.shape.dim) > 1 and (not static or dim.dim_value == 1):
                dims.append(1)  # the batch: one point at a time
            elif static:
                dims.append(dim.dim_value)
            else:
                label = dim.dim_param or "unknown"
                raise self.fail(
                    f"input {inp.name!r}: axis {axis} is dynamic ({label!r}) and does not resolve; "
                    "only the batch axis (the first) may be"
                )
        if not dims:
            raise self.fail(f"input {inp.name!r} is a scalar; a point needs at least one coordinate")
        if len(dims) > 1 and inp.type.tensor_type.shape.dim[0].HasField("dim_value") and dims[0] != 1:
            raise self.fail(f"input {inp.name!r} has a fixed batch of {dims[0]}; export it with a dynamic batch")
        d = math.prod(dims)
        self.builder = Builder(d)
        self.values[inp.name] = Sym(_obj_from_list(self.builder.inputs(), dims))

    def _network(self, graph: Any, classes: Sequence[object] | None) -> nx.DiGraph:
        return _network_of(self, graph, classes)

    # -- operators

    def _apply(self, node: Any, ins: list, attrs: dict) -> list[Value]:
        op = node.op_type
        if node.domain not in ("", "ai.onnx", "ai.onnx.ml"):
            raise Unsupported(f"custom operator of domain {node.domain!r}")
        handler = OPS.get(op)
        if handler is None:
            if op in NOT_EXACT:
                raise Unsupported(
                    f"{NOT_EXACT[op]} of a rational is in general irrational (only a final "
                    "Softmax or Sigmoid of a classifier's scores can be dropped)"
                )
            raise Unsupported("not an operator netcert reads (it reads: " + ", ".join(sorted(OPS)) + ")")
        if any(isinstance(v, (Scores, Label)) for v in ins) and op not in AFTER_SCORES:
            raise Unsupported("a classifier's final Softmax, Sigmoid or ArgMax must be the last map of its scores")
        return handler(self, ins, attrs, node)


def _obj_from_list(items: list, shape: Sequence[int]) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out.reshape(tuple(shape))


def _is_sym(v: Value | None) -> bool:
    return isinstance(v, Sym)


def _result(w: _Walker, data: np.ndarray, *ins: Value | None) -> Value:
    """Sym when any operand depended on the input, else Const of the operands' kind."""
    if any(_is_sym(v) for v in ins):
        return Sym(data)
    kinds = {v.kind for v in ins if isinstance(v, Const)}
    return Const(data, "float" if "float" in kinds else "int")


def _builder(w: _Walker) -> Builder:
    assert w.builder is not None
    return w.builder


# -- elementwise


def _binary(op: str) -> Callable:
    def run(w: _Walker, ins: list, attrs: dict, node: Any) -> list[Value]:
        a, b = ins
        if op == "Sub" and isinstance(b, Scores) and isinstance(a, Const) and b.kind == keys.SIGMOID:
            if any(q != 1 for q in a.data.reshape(-1)):
                raise Unsupported("only 1 - sigmoid(z) = sigmoid(-z) is a map of the scores")
            return [Scores(b.kind, _obj(-b.base), b.classes)]
        if isinstance(a, (Scores, Label)) or isinstance(b, (Scores, Label)):
            raise Unsupported("a classifier's final Softmax, Sigmoid or ArgMax must be the last map of its scores")
        x, y = _sym_data(a), _sym_data(b)
        if op == "Add":
            data = x + y
        elif op == "Sub":
            data = x - y
        elif op == "Mul":
            if _is_sym(a) and _is_sym(b):
                raise Unsupported("the product of two input-dependent tensors is not piecewise linear")
            data = x * y
        else:
            if _is_sym(b):
                raise Unsupported("a division by an input-dependent tensor is not piecewise linear")
            if any(q == 0 for q in np.asarray(y).reshape(-1)):
                raise Unsupported("division by zero")
            if isinstance(a, Const) and isinstance(b, Const) and a.kind == b.kind == "int":
                data = _obj(np.vectorize(lambda p, q: mpq(int(p / q)), otypes=[object])(x, y))  # ONNX truncates
            else:
                data = x / y
        return [_result(w, _obj(data), a, b)]

    return run


def _identity(w: _Walker, ins: list, attrs: dict, node: Any) -> list[Value]:
    return [ins[0]]


def _cast(w: _Walker, ins: list, attrs: dict, node: Any) -> list[Value]:
    v, to = ins[0], attrs.get("to")
    floats = {
        w.onnx.TensorProto.FLOAT,
        w.onnx.TensorProto.DOUBLE,
        w.onnx.TensorProto.FLOAT16,
        w.onnx.TensorProto.BFLOAT16,
    }
    if isinstance(v, (Scores, Label)):
        return [v]
    if isinstance(v, Sym):
        if to not in floats:
            raise Unsupported("a cast of an input-dependent tensor to integers rounds it")
        return [v]  # exact arithmetic: the cast of the data is the identity
    if v.kind == "str":
        return [v]
    if to in floats:
        dtype = {w.onnx.TensorProto.FLOAT: np.float32, w.onnx.TensorProto.FLOAT16: np.float16}.get(to, np.float64)
        for q in v.data.reshape(-1):
            if exact(dtype(float(q)), "cast") != q:
                raise Unsupported("the cast rounds a constant")
        return [Const(v.data, "float")]
    return [Const(_obj(np.vectorize(lambda q: mpq(int(q)), otypes=[object])(v.data)), "int")]


def _neg(w: _Walker, ins: list, attrs: dict, node: Any) -> list[Value]:
    return [_result(w, _obj(-_sym_data(ins[0])), ins[0])]


def _dropout(w: _Walker, ins: list, attrs: dict, node: Any) -> list[Value]:
    if len(node.output) > 1 and node.output[1]:
        raise Unsupported("Dropout's mask output is not part of an inference network")
    return [ins[0]]


def _activation(activation: str, slope: Callable[[dict], object] | None = None) -> Callable:
    def run(w: _Walker, ins: list, attrs: dict, node: Any) -> list[Value]:
        v = ins[0]
        s = None if slope is None else exact(slope(attrs), "alpha")
        if isinstance(v, Const):
            fn = {keys.RELU: lambda q: max(q, ZERO), keys.LEAKY_RELU: lambda q: q if q >= 0 else s * q}[activation]
            return [Const(_obj(np.vectorize(fn, otypes=[object])(v.data)), v.kind)]
        return [Sym(_neurons(w, v.data, activation, s))]

    return run


def _neurons(w: _Walker, data: np.ndarray, activation: str, slope: Rat | None = None) -> np.ndarray:
    flat = [as_form(f) for f in data.reshape(-1)]
    return _obj_from_list(_builder(w).neurons(flat, activation, slope), data.shape)


def _clip(w: _Walker, ins: list, attrs: dict, node: Any) -> list[Value]:
    """min(max(x, lo), hi) = hi - relu(hi - (lo + relu(x - lo))): two layers of ReLUs."""
    v = ins[0]
    lo = attrs.get("min") if len(ins) < 2 or ins[1] is None else _scalar_const(ins[1], "min")
    hi = attrs.get("max") if len(ins) < 3 or ins[2] is None else _scalar_const(ins[2], "max")
    if not _is_sym(v):
        raise Unsupported("Clip of a constant")
    data = v.data
    if lo is not None:
        lo = exact(lo, "min") if not isinstance(lo, Rat) else lo
        data = _obj(lo + _neurons(w, _obj(data - lo), keys.RELU))
    if hi is not None:
        hi = exact(hi, "max") if not isinstance(hi, Rat) else hi
        data = _obj(hi - _neurons(w, _obj(hi - data), keys.RELU))
    return [Sym(data)]


def _scalar_const(v: Value, what: str) -> Rat:
    if not isinstance(v, Const) or v.data.size != 1:
        raise Unsupported(f"its {what} must be a constant scalar")
    return v.data.reshape(-1)[0]


# -- shapes


def _shape_of(v: Value) -> tuple[int, ...]:
    if isinstance(v, (Const, Sym)):
        return tuple(v.data.shape)
    raise Unsupported("expects a tensor")


def _relabel(v: Value, shape: Sequence[int]) -> Value:
    if isinstance(v, Const):
        return Const(v.data.reshape(tuple(shape)), v.kind)
    if isinstance(v, Sym):
        return Sym(v.data.reshape(tuple(shape)))
    if isinstance(v, Scores) and math.prod(shape) == v.base.size:
        return v  # one point: the scores are relabelled, not reordered
    if isinstance(v, Label):
        return v
    raise Unsupported("reshapes a classifier's scores")


def _reshape(w: _Walker, ins: list, attrs: dict, node: Any) -> list[Value]:
    v, target = ins[0], _ints(ins[1], "the target shape")
    old = _shape_of(v) if isinstance(v, (Const, Sym)) else (1, _scores_base(v).size)
    shape = [old[i] if s == 0 and not attrs.get("allowzero", 0) else s for i, s in enumerate(target)]
    if shape.count(-1) > 1:
        raise Unsupported("more than one -1 in the target shape")
    if -1 in shape:
        known = math.prod(s for s in shape if s != -1)
        shape[shape.index(-1)] = math.prod(old) // known if known else 0
    if math.prod(shape) != math.prod(old):
        raise Unsupported(f"cannot reshape {list(old)} to {shape}")
    return [_relabel(v, shape)]


def _scores_base(v: Value) -> np.ndarray:
    return v.base if isinstance(v, (Scores, Label)) else _sym_data(v)


def _flatten(w: _Walker, ins: list, attrs: dict, node: Any) -> list[Value]:
    v = ins[0]
    if isinstance(v, (Scores, Label)):
        return [v]
    shape = _shape_of(v)
    axis = attrs.get("axis", 1) % (len(shape) + 1) if shape else 0
    return [_relabel(v, (math.prod(shape[:axis]), math.prod(shape[axis:])))]


def _axes(ins: list, attrs: dict, rank: int) -> list[int] | None:
    axes = attrs.get("axes")
    if len(ins) > 1 and ins[1] is not None:
        axes = _ints(ins[1], "axes")
    return None if axes is None else sorted(a % rank for a in axes)


def _squeeze(w: _Walker, ins: list, attrs: dict, node: Any) -> list[Value]:
    v = ins[0]
    if isinstance(v, (Scores, Label)):
        return [v]
    shape = _shape_of(v)
    axes = _axes(ins, attrs, len(shape))
    if axes is None:
        axes = [i for i, s in enumerate(shape) if s == 1]
    if any(shape[a] != 1 for a in axes):
        raise Unsupported("squeezes an axis whose length is not 1")
    return [_relabel(v, [s for i, s in enumerate(shape) if i not in axes])]


def _unsqueeze(w: _Walker, ins: list, attrs: dict, node: Any) -> list[Value]:
    v = ins[0]
    if isinstance(v, (Scores, Label)):
        return [v]
    shape = list(_shape_of(v))
    raw = _ints(ins[1], "axes") if len(ins) > 1 and ins[1] is not None else list(attrs.get("axes", []))
    rank = len(shape) + len(raw)
    for a in sorted(x % rank for x in raw):
        shape.insert(a, 1)
    return [_relabel(v, shape)]


def _transpose(w: _Walker, ins: list, attrs: dict, node: Any) -> list[Value]:
    v = ins[0]
    data = np.transpose(_sym_data(v), attrs.get("perm"))
    return [_result(w, data, v)]


def _concat(w: _Walker, ins: list, attrs: dict, node: Any) -> list[Value]:
    axis = attrs["axis"]
    if all(isinstance(v, Scores) for v in ins):
        kinds = {v.kind for v in ins}
        if len(kinds) != 1:
            raise Unsupported("concatenates scores of different maps")
        base = np.concatenate([v.base for v in ins], axis=axis)
        if axis % base.ndim != base.ndim - 1:
            raise Unsupported("concatenates scores along another axis than the classes'")
        return [Scores(kinds.pop(), _obj(base))]
    if any(isinstance(v, (Scores, Label)) for v in ins):
        raise Unsupported("concatenates a classifier's scores with other values")
    if all(isinstance(v, Const) and v.kind == "str" for v in ins):
        return [Const(np.concatenate([v.data for v in ins], axis=axis), "str")]
    return [_result(w, _obj(np.concatenate([_sym_data(v) for v in ins], axis=axis)), *ins)]


def _shape(w: _Walker, ins: list, attrs: dict, node: Any) -> list[Value]:
    shape = list(_shape_of(ins[0]))
    start, end = attrs.get("start", 0), attrs.get("end", len(shape))
    return [Const(_obj(np.array([mpq(s) for s in shape[start:end]], dtype=object)), "int")]


def _gather(w: _Walker, ins: list, attrs: dict, node: Any) -> list[Value]:
    v, index = ins
    if not isinstance(index, Const):
        raise Unsupported("an input-dependent index selects values: not piecewise linear")
    idx = np.array(_ints(index, "indices"), dtype=np.int64).reshape(index.data.shape)
    data = np.take(
        _sym_data(v) if not (isinstance(v, Const) and v.kind == "str") else v.data, idx, axis=attrs.get("axis", 0)
    )
    if isinstance(v, Const):
        return [Const(data if v.kind == "str" else _obj(data), v.kind)]
    return [Sym(_obj(data))]


def _constant(w: _Walker, ins: list, attrs: dict, node: Any) -> list[Value]:
    if "value" in attrs:
        return [w._const(w.onnx.numpy_helper.to_array(attrs["value"]), "constant")]
    for key, kind in (("value_float", "float"), ("value_floats", "float"), ("value_int", "int"), ("value_ints", "int")):
        if key in attrs:
            array = np.asarray(attrs[key], dtype=np.float32 if kind == "float" else np.int64)
            return [w._const(array, "constant")]
    raise Unsupported("only a dense tensor, float or int constant")


# -- linear maps


def _linear(w: _Walker, forms: np.ndarray, rows: list, bias: list, shape: Sequence[int]) -> Sym:
    flat = [as_form(f) for f in forms.reshape(-1)]
    out = _builder(w).linear(flat, rows, bias)
    return Sym(_obj_from_list(out, shape))


def _matmul_rows(a_shape: tuple, b: np.ndarray) -> tuple[list, tuple]:
    """Rows of S @ B for a symbolic S of shape (..., m, k) and a constant matrix B (k, n)."""
    k, n = b.shape
    outer = math.prod(a_shape[:-1])
    cols = [[(i, b[i, j]) for i in range(k) if b[i, j] != 0] for j in range(n)]
    rows = [[(p * k + i, c) for i, c in cols[j]] for p in range(outer) for j in range(n)]
    return rows, (*a_shape[:-1], n)


def _matmul(w: _Walker, ins: list, attrs: dict, node: Any) -> list[Value]:
    a, b = ins
    if _is_sym(a) and _is_sym(b):
        raise Unsupported("the product of two input-dependent tensors is not piecewise linear")
    if not _is_sym(a) and not _is_sym(b):
        return [_result(w, _obj(np.matmul(_sym_data(a), _sym_data(b))), a, b)]
    if _is_sym(a):
        m = b.data if b.data.ndim == 2 else b.data.reshape(-1, 1)
        if b.data.ndim > 2:
            raise Unsupported("a batched constant right operand")
        data = a.data if a.data.ndim > 1 else a.data.reshape(1, -1)
        rows, shape = _matmul_rows(data.shape, m)
        out = _linear(w, data, rows, [ZERO] * len(rows), shape)
        if b.data.ndim == 1:
            out = Sym(out.data.reshape(shape[:-1]))
        if a.data.ndim == 1:
            out = Sym(out.data.reshape(out.data.shape[1:]))
        return [out]
    # C @ S = (S^T @ C^T)^T over the last two axes
    if a.data.ndim != 2 or b.data.ndim < 2:
        raise Unsupported("a constant left operand must be a matrix")
    st = np.swapaxes(b.data, -1, -2)
    rows, shape = _matmul_rows(st.shape, a.data.T)
    out = _linear(w, _obj(np.ascontiguousarray(st)), rows, [ZERO] * len(rows), shape)
    return [Sym(_obj(np.swapaxes(out.data, -1, -2)))]


def _gemm(w: _Walker, ins: list, attrs: dict, node: Any) -> list[Value]:
    a, b = ins[0], ins[1]
    c = ins[2] if len(ins) > 2 else None
    alpha, beta = exact(attrs.get("alpha", 1.0), "alpha"), exact(attrs.get("beta", 1.0), "beta")
    if _is_sym(b) and not _is_sym(a):  # A' B' = (B'^T A'^T)^T
        raise Unsupported("an input-dependent right operand B")
    if not _is_sym(a):
        raise Unsupported("Gemm of constants")
    x = a.data.T if attrs.get("transA", 0) else a.data
    m = b.data.T if attrs.get("transB", 0) else b.data
    if m.ndim != 2 or x.ndim != 2:
        raise Unsupported("Gemm takes matrices")
    rows, shape = _matmul_rows(x.shape, _obj(m * alpha))
    bias = [ZERO] * len(rows)
    if c is not None:
        if _is_sym(c):
            raise Unsupported("an input-dependent C")
        full = np.broadcast_to(_sym_data(c), shape)
        bias = [beta * q for q in full.reshape(-1)]
    return [_linear(w, _obj(np.ascontiguousarray(x)), rows, bias, shape)]


def _batchnorm(w: _Walker, ins: list, attrs: dict, node: Any) -> list[Value]:
    """y = scale (x - mean) / sqrt(var + eps) + B per channel (axis 1), folded into one affine map.

    sqrt(var + eps) is rational only when var + eps is a square: otherwise it is taken as the float
    the model's own dtype computes (correctly rounded in IEEE arithmetic), the one rounding."""
    x, scale, bias, mean, var = ins[:5]
    if len(node.output) > 1 and any(node.output[1:]):
        raise Unsupported("BatchNormalization in training mode (running statistics as outputs)")
    eps = exact(attrs.get("epsilon", 1e-5), "epsilon")
    vals = [_sym_data(v).reshape(-1) for v in (scale, bias, mean, var)]
    factors, shifts = [], []
    for s, b, mu, v in zip(*vals, strict=True):
        root = _sqrt(v + eps)
        factors.append(s / root)
        shifts.append(b - s * mu / root)
    data = _sym_data(x)
    shape = [1] * data.ndim
    shape[1] = len(factors)
    f = _obj_from_list(factors, shape)
    t = _obj_from_list(shifts, shape)
    return [_result(w, _obj(data * f + t), x)]


def _sqrt(q: Rat) -> Rat:
    import gmpy2

    if q < 0:
        raise Unsupported("a negative variance")
    p, r = gmpy2.mpz(q.numerator), gmpy2.mpz(q.denominator)
    if gmpy2.is_square(p) and gmpy2.is_square(r):
        return mpq(gmpy2.isqrt(p), gmpy2.isqrt(r))
    return float_to_rat(float(np.sqrt(np.float32(float(q)))))


# -- convolution and pooling


def _window_geometry(attrs: dict, spatial: Sequence[int], kernel: Sequence[int]) -> tuple[list, list, list, list]:
    """(strides, dilations, pads begin, output sizes) of a Conv or pooling node."""
    r = len(spatial)
    strides = list(attrs.get("strides", [1] * r))
    dil = list(attrs.get("dilations", [1] * r))
    pads = list(attrs.get("pads", [0] * (2 * r)))
    auto = attrs.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        pads = [0] * (2 * r)
        for i in range(r):
            out = -(-spatial[i] // strides[i])
            total = max(0, (out - 1) * strides[i] + dil[i] * (kernel[i] - 1) + 1 - spatial[i])
            small, big = total // 2, total - total // 2
            pads[i], pads[i + r] = (small, big) if auto == "SAME_UPPER" else (big, small)
    elif auto == "VALID":
        pads = [0] * (2 * r)
    elif auto != "NOTSET":
        raise Unsupported(f"auto_pad {auto}")
    sizes = [(spatial[i] + pads[i] + pads[i + r] - dil[i] * (kernel[i] - 1) - 1) // strides[i] + 1 for i in range(r)]
    if attrs.get("ceil_mode", 0):
        ceil = [
            -(-(spatial[i] + pads[i] + pads[i + r] - dil[i] * (kernel[i] - 1) - 1) // strides[i]) + 1 for i in range(r)
        ]
        if ceil != sizes:
            raise Unsupported("ceil_mode with windows that fall past the input")
    if any(s < 1 for s in sizes):
        raise Unsupported("a window larger than its input")
    return strides, dil, pads[:r], sizes


def _positions(
    spatial: Sequence[int], kernel: Sequence[int], strides: list, dil: list, begin: list, out: Sequence[int]
):
    """For each output position (C order): its window's input positions inside the input, with the
    kernel offset of each, and the window's full size (padding included)."""
    for o in itertools.product(*(range(s) for s in out)):
        window = []
        for kk in itertools.product(*(range(k) for k in kernel)):
            pos = tuple(o[i] * strides[i] - begin[i] + kk[i] * dil[i] for i in range(len(o)))
            if all(0 <= pos[i] < spatial[i] for i in range(len(o))):
                window.append((pos, kk))
        yield o, window


def _conv(w: _Walker, ins: list, attrs: dict, node: Any) -> list[Value]:
    x, weight = ins[0], ins[1]
    b = ins[2] if len(ins) > 2 else None
    if not _is_sym(x) or not isinstance(weight, Const) or (b is not None and not isinstance(b, Const)):
        raise Unsupported("a convolution needs an input-dependent tensor and constant weights")
    data, K = x.data, weight.data
    N, C, spatial = data.shape[0], data.shape[1], data.shape[2:]
    M, cg, kernel = K.shape[0], K.shape[1], K.shape[2:]
    group = attrs.get("group", 1)
    if cg * group != C or M % group:
        raise Unsupported(f"{C} channels do not fit weights of shape {list(K.shape)} in {group} groups")
    strides, dil, begin, out = _window_geometry(attrs, spatial, kernel)
    windows = list(_positions(spatial, kernel, strides, dil, begin, out))
    strides_in = np.arange(data.size).reshape(data.shape)
    rows, bias = [], []
    per = M // group
    for n in range(N):
        for m in range(M):
            g = m // per
            for _, window in windows:
                row = []
                for c in range(cg):
                    channel = g * cg + c
                    for pos, kk in window:
                        coef = K[(m, c) + tuple(kk)]
                        if coef != 0:
                            row.append((int(strides_in[(n, channel) + tuple(pos)]), coef))
                rows.append(row)
                bias.append(ZERO if b is None else b.data[m])
    return [_linear(w, data, rows, bias, (N, M, *out))]


def _pool_windows(attrs: dict, data: np.ndarray, kernel: Sequence[int]) -> tuple[list, tuple]:
    """Per output element (C order), the input flat indices of its window, and its full size."""
    N, C, spatial = data.shape[0], data.shape[1], data.shape[2:]
    strides, dil, begin, out = _window_geometry(attrs, spatial, kernel)
    index = np.arange(data.size).reshape(data.shape)
    windows = list(_positions(spatial, kernel, strides, dil, begin, out))
    result = [
        [int(index[(n, c) + tuple(pos)]) for pos, _ in window]
        for n in range(N)
        for c in range(C)
        for _, window in windows
    ]
    return result, (N, C, *out)


def _avgpool(w: _Walker, ins: list, attrs: dict, node: Any) -> list[Value]:
    x = ins[0]
    if not _is_sym(x):
        raise Unsupported("pooling of a constant")
    kernel = list(attrs["kernel_shape"])
    windows, shape = _pool_windows(attrs, x.data, kernel)
    full = mpq(math.prod(kernel))
    rows = [[(i, ONE / (full if attrs.get("count_include_pad", 0) else len(win))) for i in win] for win in windows]
    return [_linear(w, x.data, rows, [ZERO] * len(rows), shape)]


def _global_avgpool(w: _Walker, ins: list, attrs: dict, node: Any) -> list[Value]:
    x = ins[0]
    if not _is_sym(x):
        raise Unsupported("pooling of a constant")
    return _avgpool(w, ins, {"kernel_shape": list(x.data.shape[2:])}, node)


def _maxpool(w: _Walker, ins: list, attrs: dict, node: Any) -> list[Value]:
    """max over each window by a tournament of max(a, b) = a + relu(b - a): ceil(log2 k) layers."""
    x = ins[0]
    if len(node.output) > 1 and node.output[1]:
        raise Unsupported("MaxPool's Indices output is an argmax, not piecewise linear")
    if not _is_sym(x):
        raise Unsupported("pooling of a constant")
    windows, shape = _pool_windows(attrs, x.data, list(attrs["kernel_shape"]))
    flat = [as_form(f) for f in x.data.reshape(-1)]
    groups = [[flat[i] for i in win] for win in windows]
    return [Sym(_obj_from_list(_tournament(w, groups), shape))]


def _tournament(w: _Walker, groups: list[list[Form]]) -> list[Form]:
    """The max of each group, all groups' rounds sharing layers (one neuron per pair per round)."""
    while any(len(g) > 1 for g in groups):
        pairs = [(g[k], g[k + 1]) for g in groups for k in range(0, len(g) - 1, 2)]
        relus = iter(_builder(w).neurons([b - a for a, b in pairs], keys.RELU))
        nxt = []
        for g in groups:
            merged = [g[k] + next(relus) for k in range(0, len(g) - 1, 2)]
            nxt.append(merged + ([g[-1]] if len(g) % 2 else []))
        groups = nxt
    return [g[0] for g in groups]


# -- the classifier's end


def _class_axis(data: np.ndarray, axis: int) -> None:
    if data.ndim != 2 or axis % 2 != 1:
        raise Unsupported("the scores must be a (batch, classes) tensor, mapped along the classes")


def _softmax(w: _Walker, ins: list, attrs: dict, node: Any) -> list[Value]:
    v = ins[0]
    if not _is_sym(v):
        raise Unsupported("Softmax of a constant")
    _class_axis(v.data, attrs.get("axis", -1 if w.model.opset_import and _opset(w) >= 13 else 1))
    return [Scores(keys.SOFTMAX, v.data)]


def _opset(w: _Walker) -> int:
    return max((o.version for o in w.model.opset_import if o.domain in ("", "ai.onnx")), default=1)


def _sigmoid(w: _Walker, ins: list, attrs: dict, node: Any) -> list[Value]:
    v = ins[0]
    if not _is_sym(v):
        raise Unsupported("Sigmoid of a constant")
    _class_axis(v.data, -1)
    return [Scores(keys.SIGMOID, v.data)]


def _argmax(w: _Walker, ins: list, attrs: dict, node: Any) -> list[Value]:
    v = ins[0]
    if attrs.get("select_last_index", 0):
        raise Unsupported("select_last_index: a tie is a miss for netcert, not the last index")
    base = v.base if isinstance(v, Scores) else _sym_data(v)
    _class_axis(base, attrs.get("axis", 0))
    return [Label(v.kind if isinstance(v, Scores) else None, base, v.classes if isinstance(v, Scores) else None)]


def _feature_extractor(w: _Walker, ins: list, attrs: dict, node: Any) -> list[Value]:
    table, label = ins
    if not isinstance(label, Label) or not isinstance(table, Const):
        raise Unsupported("only the class table of a classifier's ArgMax")
    return [Label(label.kind, label.base, [str(c) if table.kind == "str" else c for c in table.data.reshape(-1)])]


def _zipmap(w: _Walker, ins: list, attrs: dict, node: Any) -> list[Value]:
    v = ins[0]
    if not isinstance(v, Scores):
        raise Unsupported("ZipMap of scores that no Softmax or Sigmoid made")
    labels = attrs.get("classlabels_int64s") or [s.decode() for s in attrs.get("classlabels_strings", [])]
    return [Scores(v.kind, v.base, list(labels))]


OPS: dict[str, Callable] = {
    "Add": _binary("Add"),
    "Sub": _binary("Sub"),
    "Mul": _binary("Mul"),
    "Div": _binary("Div"),
    "Neg": _neg,
    "Identity": _identity,
    "Cast": _cast,
    "Dropout": _dropout,
    "Relu": _activation(keys.RELU),
    "LeakyRelu": _activation(keys.LEAKY_RELU, lambda a: a.get("alpha", 0.01)),
    "Clip": _clip,
    "Reshape": _reshape,
    "Flatten": _flatten,
    "Squeeze": _squeeze,
    "Unsqueeze": _unsqueeze,
    "Transpose": _transpose,
    "Concat": _concat,
    "Shape": _shape,
    "Gather": _gather,
    "Constant": _constant,
    "MatMul": _matmul,
    "Gemm": _gemm,
    "BatchNormalization": _batchnorm,
    "Conv": _conv,
    "AveragePool": _avgpool,
    "GlobalAveragePool": _global_avgpool,
    "MaxPool": _maxpool,
    "Softmax": _softmax,
    "Sigmoid": _sigmoid,
    "ArgMax": _argmax,
    "ArrayFeatureExtractor": _feature_extractor,
    "ZipMap": _zipmap,
}
AFTER_SCORES = {
    "Identity",
    "Cast",
    "Reshape",
    "Flatten",
    "Squeeze",
    "Unsqueeze",
    "Concat",
    "Sub",
    "ArgMax",
    "ArrayFeatureExtractor",
    "ZipMap",
}
"""The operators that may read a classifier's dropped scores (they only relabel or name them)."""


# ---------------------------------------------------------------- the outputs


def _labels(raw: list, what: str, *, strict: bool) -> list[str] | None:
    """The model's class labels as exact strings; None for labels that are not numbers when the
    caller gives its own classes (they replace them), else the refusal naming the label."""
    try:
        return [label_string(c, what) for c in raw]
    except InputError:
        if strict:
            raise
        return None


def _network_of(w: _Walker, graph: Any, classes: Sequence[object] | None) -> nx.DiGraph:
    """One score tensor from the graph's outputs; its classes and dropped map, if any."""
    bases, kinds, said = [], set(), None
    for out in graph.output:
        v = w.values.get(out.name)
        if v is None:
            raise w.fail(f"output {out.name!r} is computed by no node")
        if isinstance(v, Const):
            continue  # a constant output says nothing about the input
        if isinstance(v, Sym):
            bases.append(v.data)
            continue
        bases.append(v.base)
        if v.kind is not None:
            kinds.add(v.kind)
        if v.classes is not None:
            labels = _labels(v.classes, f"output {out.name!r} class", strict=classes is None)
            if labels is not None and said is not None and said != labels:
                raise w.fail(f"the outputs name different classes: {said} and {labels}")
            said = labels if labels is not None else said
    if not bases:
        raise w.fail("no output depends on the input")
    base = bases[0]
    for other in bases[1:]:
        if other.shape != base.shape or not all(
            as_form(a).same(as_form(b)) for a, b in zip(other.flat, base.flat, strict=True)
        ):
            raise w.fail("the outputs compute different score tensors; netcert imports one network")
    if len(kinds) > 1:
        raise w.fail("the outputs drop different final maps")
    forms = [as_form(f) for f in (base.reshape(-1) if base.ndim < 2 else base[0].reshape(-1))]
    if base.ndim >= 2 and base.shape[0] != 1:
        raise w.fail(f"the output has a batch of {base.shape[0]} for one point")
    dropped = next(iter(kinds)) if kinds else None
    labeled = dropped is not None or any(isinstance(w.values.get(o.name), Label) for o in graph.output)
    if classes is not None:
        chosen = [label_string(c, "--classes") for c in classes]
        if said is not None and said != chosen:
            raise UsageError(f"--classes {','.join(chosen)} differs from the model's classes {','.join(said)}")
    elif said is not None:
        chosen = said
    elif labeled:  # ArgMax's index, or the scores' position: the class of output k is k
        chosen = [str(k) for k in range(2 if len(forms) == 1 else len(forms))]
    else:
        chosen = None
    try:
        return _builder(w).network(forms, classes=chosen, dropped=dropped)
    except UsageError as e:
        if classes is not None:
            raise
        raise w.fail(str(e)) from None
