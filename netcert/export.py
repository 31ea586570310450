"""The network written for float frameworks: an ONNX model or an ``.npz`` of layer matrices.

An export computes the network in floats, so it is exact only when every weight, bias and slope
is a value of the chosen format; ``lossless`` says whether it is, and the model's metadata says
it too (``netcert.lossless``), with the audit's summary when a dataset was given. Parameters are
rounded to the format correctly (``floats.round_to``); a parameter past the format's range is
refused, not written as an infinity.

The ONNX graph follows the network's layers (``floats.layers``): layer n's pre-activations are
the sum (Add) over the earlier layers k feeding it of MatMul(values_k, W_kn), plus its bias; W_kn is a
dense initializer, or a sparse one when under a quarter of its entries are nonzero. Activations:
Relu; LeakyRelu when a layer's slopes are one value, else Where(z >= 0, z, z * slopes);
threshold as Cast(GreaterOrEqual(z, 0)); identity as nothing; a layer mixing activations selects
each node's with Where over constant masks. The outputs are gathered in ``graph.outputs`` order
into one tensor ``y`` of shape [N, outputs] from the input ``x`` of shape [N, d].
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass

import networkx as nx
import numpy as np

from netcert import floats
from netcert.errors import InputError, UsageError
from netcert.ir import keys

OPSET = 17
EXPORT_FORMATS = ("float64", "float32")


@dataclass(frozen=True)
class Loss:
    """Whether a network survives rounding to a format: ``lossless`` when no parameter changes."""

    dtype: str
    rounding: floats.Rounding

    @property
    def lossless(self) -> bool:
        return self.rounding.inexact == 0


def loss(G: nx.DiGraph, dtype: str) -> Loss:
    """How the network's parameters round to ``dtype``."""
    return Loss(dtype, floats.rounding(floats.parameters(floats.layers(G)), floats.FORMATS[dtype]))


def dense_cost(G: nx.DiGraph) -> int:
    """Multiply-adds per point of the exported model's MatMuls, each (source layer, layer) product
    counted dense (as a runtime that densifies sparse initializers computes it)."""
    net = floats.layers(G)
    size = {L.index: len(L.nodes) for L in net}
    return sum(size[k] * len(L.nodes) for L in net for k in L.incoming)


def _format(dtype: str) -> floats.FloatFormat:
    if dtype not in EXPORT_FORMATS:
        raise UsageError(f"--dtype: an export is float64 or float32, not {dtype!r}")
    return floats.FORMATS[dtype]


def _refuse_overflow(net: list[floats.Layer], fmt: floats.FloatFormat) -> None:
    top = fmt.max
    for layer in net[1:]:
        for k, edges in layer.incoming.items():
            for i, j, w in edges:
                if abs(w) > top and floats.round_to(w, fmt) in (float("inf"), float("-inf")):
                    raise InputError(
                        f"the weight into node {layer.nodes[j]!r} from layer {k} is beyond {fmt.name}'s range "
                        f"(about 2^{int(abs(w)).bit_length()}); it cannot be exported in {fmt.name}"
                    )
        for v, b in zip(layer.nodes, layer.biases):
            if abs(b) > top and floats.round_to(b, fmt) in (float("inf"), float("-inf")):
                raise InputError(f"the bias of node {v!r} is beyond {fmt.name}'s range; it cannot be exported")


def _matrix(layer: floats.Layer, k: int, rows: int, fmt: floats.FloatFormat) -> np.ndarray:
    W = np.zeros((rows, len(layer.nodes)), dtype=np.float64)
    for i, j, w in layer.incoming[k]:
        W[i, j] = floats.round_to(w, fmt)
    return W.astype(fmt.dtype)


def to_onnx(G: nx.DiGraph, dtype: str = "float64", metadata: Mapping[str, str] | None = None):
    """The network as an ``onnx.ModelProto`` computing it in ``dtype`` (float64 or float32),
    checked by ``onnx.checker``; raises ``InputError`` for a parameter past the format's range."""
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        raise UsageError("exporting to ONNX needs the onnx package: pip install 'netcert[onnx]'") from None
    fmt = _format(dtype)
    elem = TensorProto.DOUBLE if dtype == "float64" else TensorProto.FLOAT
    net = floats.layers(G)
    _refuse_overflow(net, fmt)
    sizes = [len(L.nodes) for L in net]
    index = {L.index: n for n, L in enumerate(net)}
    nodes, inits, sparse_inits = [], [], []
    name = {0: "x"}

    made: set[str] = set()

    def const(tag: str, array: np.ndarray) -> str:
        if tag not in made:
            made.add(tag)
            inits.append(numpy_helper.from_array(array, tag))
        return tag

    for n, layer in enumerate(net[1:], start=1):
        terms = []
        for k in sorted(layer.incoming):
            W = _matrix(layer, k, sizes[index[k]], fmt)
            tag = f"W_{index[k]}_{n}"
            if 4 * np.count_nonzero(W) < W.size:
                rows, cols = np.nonzero(W)
                values = numpy_helper.from_array(W[rows, cols], tag)
                ind = numpy_helper.from_array((rows * W.shape[1] + cols).astype(np.int64), f"{tag}_indices")
                sparse_inits.append(helper.make_sparse_tensor(values, ind, list(W.shape)))
            else:
                const(tag, W)
            nodes.append(helper.make_node("MatMul", [name[index[k]], tag], [f"p_{index[k]}_{n}"]))
            terms.append(f"p_{index[k]}_{n}")
        bias = const(f"b_{n}", np.array([floats.round_to(b, fmt) for b in layer.biases]).astype(fmt.dtype))
        total = terms[0] if terms else bias
        for t, term in enumerate(terms[1:] + ([bias] if terms else [])):  # Add, not Sum: what importers read
            out = f"z_{n}" if t == len(terms) - 1 else f"s_{n}_{t}"
            nodes.append(helper.make_node("Add", [total, term], [out]))
            total = out
        if not terms:
            nodes.append(helper.make_node("Identity", [bias], [f"z_{n}"]))
        name[n] = _activation(nodes, const, layer, n, fmt)
    pieces: list[str] = []
    where = {v: (index[L.index], i) for L in net for i, v in enumerate(L.nodes)}
    for v in G.graph[keys.OUTPUTS]:
        k, i = where[v]
        idx = const(f"out_{len(pieces)}", np.array([i], dtype=np.int64))
        nodes.append(helper.make_node("Gather", [name[k], idx], [f"y_{len(pieces)}"], axis=1))
        pieces.append(f"y_{len(pieces)}")
    nodes.append(helper.make_node("Concat", pieces, ["y"], axis=1))
    d, m = len(G.graph[keys.INPUTS]), len(pieces)
    graph = helper.make_graph(
        nodes,
        "netcert",
        [helper.make_tensor_value_info("x", elem, ["N", d])],
        [helper.make_tensor_value_info("y", elem, ["N", m])],
        initializer=inits,
        sparse_initializer=sparse_inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="netcert")
    model.ir_version = 8
    props = {"netcert.dtype": dtype, **_metadata(G, dtype), **dict(metadata or {})}
    helper.set_model_props(model, props)
    onnx.checker.check_model(model)
    return model


def _metadata(G: nx.DiGraph, dtype: str) -> dict[str, str]:
    from netcert.formats import netjson

    lost = loss(G, dtype)
    out = {
        "netcert.network_digest": netjson.digest(G),
        "netcert.lossless": "true" if lost.lossless else "false",
        "netcert.inexact_parameters": str(lost.rounding.inexact),
        "netcert.parameters": str(lost.rounding.count),
    }
    if G.graph.get(keys.CLASSES):
        out["netcert.classes"] = json.dumps(list(G.graph[keys.CLASSES]))
    if G.graph.get(keys.DROPPED):
        out["netcert.dropped"] = str(G.graph[keys.DROPPED])
    return out


def _activation(nodes: list, const, layer: floats.Layer, n: int, fmt: floats.FloatFormat) -> str:
    """Append the ONNX nodes of layer n's activations to ``nodes``; the name of their output."""
    from onnx import TensorProto, helper

    z, kinds = f"z_{n}", sorted(set(layer.activations))
    elem = TensorProto.DOUBLE if fmt.name == "float64" else TensorProto.FLOAT

    def zero() -> str:  # the constant 0, made only when a comparison needs it (const makes a name once)
        return const(f"zero_{n}", np.zeros((), dtype=fmt.dtype))

    def form(kind: str) -> str:
        out = f"a_{n}_{kind}"
        if kind == keys.IDENTITY:
            return z
        if kind == keys.RELU:
            nodes.append(helper.make_node("Relu", [z], [out]))
        elif kind == keys.THRESHOLD:
            nodes.append(helper.make_node("GreaterOrEqual", [z, zero()], [f"{out}_ge"]))
            nodes.append(helper.make_node("Cast", [f"{out}_ge"], [out], to=elem))
        elif kind == keys.LEAKY_RELU:
            slopes = {s for s, a in zip(layer.slopes, layer.activations) if a == kind}
            alpha = floats.round_to(next(iter(slopes)), floats.FORMATS["float32"])
            if len(slopes) == 1 and floats.round_to(next(iter(slopes)), fmt) == alpha:
                nodes.append(helper.make_node("LeakyRelu", [z], [out], alpha=alpha))
            else:
                s = const(f"slope_{n}", np.array([floats.round_to(v, fmt) for v in layer.slopes]).astype(fmt.dtype))
                nodes.append(helper.make_node("GreaterOrEqual", [z, zero()], [f"{out}_ge"]))
                nodes.append(helper.make_node("Mul", [z, s], [f"{out}_neg"]))
                nodes.append(helper.make_node("Where", [f"{out}_ge", z, f"{out}_neg"], [out]))
        else:
            raise InputError(f"activation {kind!r} cannot be exported")
        return out

    if len(kinds) == 1:
        return form(kinds[0])
    current = z
    for kind in kinds:
        mask = const(f"mask_{n}_{kind}", np.array([a == kind for a in layer.activations]))
        out = f"m_{n}_{kind}"
        nodes.append(helper.make_node("Where", [mask, form(kind), current], [out]))
        current = out
    return current


def run_onnx(model, x: np.ndarray, chunk: int = 2048) -> np.ndarray:
    """The model's output ``y`` on the rows of x, by onnxruntime on this machine's CPU, ``chunk``
    rows at a time."""
    try:
        import onnxruntime
    except ImportError:
        raise UsageError("running an ONNX model needs onnxruntime: pip install 'netcert[onnx]'") from None
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only: its warnings are about the graph, not the user's data
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL  # no fused rewrites
    session = onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    # in chunks of rows: a layer thousands wide would otherwise be a tensor of gigabytes
    parts = [session.run(["y"], {"x": x[i : i + chunk]})[0] for i in range(0, max(1, x.shape[0]), chunk)]
    return np.concatenate([np.asarray(p, dtype=np.float64) for p in parts], axis=0)


def to_numpy(G: nx.DiGraph, dtype: str = "float64") -> bytes:
    """The network as the bytes of an ``.npz``: for each layer n >= 1, ``W_k_n`` (values of layer k
    -> layer n, rows x columns), ``b_n``, ``activation_n`` (one name per node) and ``slope_n``;
    ``outputs`` ([layer, position] per output), and ``metadata`` (a JSON string, as the ONNX
    model's). Deterministic: the same network gives the same bytes."""
    fmt = _format(dtype)
    net = floats.layers(G)
    _refuse_overflow(net, fmt)
    sizes = [len(L.nodes) for L in net]
    index = {L.index: n for n, L in enumerate(net)}
    arrays: dict[str, np.ndarray] = {}
    for n, layer in enumerate(net[1:], start=1):
        for k in sorted(layer.incoming):
            arrays[f"W_{index[k]}_{n}"] = _matrix(layer, k, sizes[index[k]], fmt)
        arrays[f"b_{n}"] = np.array([floats.round_to(b, fmt) for b in layer.biases]).astype(fmt.dtype)
        arrays[f"activation_{n}"] = np.array(layer.activations)
        arrays[f"slope_{n}"] = np.array([floats.round_to(s, fmt) for s in layer.slopes]).astype(fmt.dtype)
    where = {v: (index[L.index], i) for L in net for i, v in enumerate(L.nodes)}
    arrays["outputs"] = np.array([where[v] for v in G.graph[keys.OUTPUTS]], dtype=np.int64)
    arrays["metadata"] = np.array(json.dumps({"netcert.dtype": dtype, **_metadata(G, dtype)}, sort_keys=True))
    buffer = io.BytesIO()
    _savez_deterministic(buffer, arrays)
    return buffer.getvalue()


def _savez_deterministic(buffer: io.BytesIO, arrays: Mapping[str, np.ndarray]) -> None:
    """np.savez with fixed member timestamps, so that the same arrays give the same bytes."""
    import zipfile

    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as z:
        for key in sorted(arrays):
            member = io.BytesIO()
            np.save(member, arrays[key], allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            z.writestr(info, member.getvalue())
