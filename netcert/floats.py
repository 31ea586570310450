"""Floating-point formats, and a network evaluated in them: where netcert computes in floats.

Nothing here is on the trusted path; ``audit`` and ``export`` use it when a user asks what a
framework's floats would make of an exact network. What is exact here:

- ``round_to(q, fmt)`` is the value of ``fmt`` nearest to the rational q, ties to even, with the
  format's subnormals and its overflow to infinity (MPFR through gmpy2, in the format's
  precision and exponent range): the conversion IEEE 754 prescribes, never a double rounding.
- Every value of these formats is a float64, and a float64 is an exact dyadic rational, so a
  float result is compared with an exact one exactly (``gmpy2.mpq(float)``).

What is a convention (docs/floats.md): a layer's affine map is computed as numpy computes it,
``values @ W + b`` (BLAS, summation order unspecified), in float64 for float64 and in float32
for float32; for float16 and bfloat16 the products are summed in float32 and the sum rounded to
the format once per layer (what mixed-precision hardware does). Activations are applied in the
format.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import gmpy2
import networkx as nx
import numpy as np
from gmpy2 import mpq

from netcert.errors import UsageError
from netcert.ir import keys
from netcert.ir.network import node_key


@dataclass(frozen=True)
class FloatFormat:
    """A binary floating-point format: ``precision`` significand bits (the implicit one included)
    and MPFR's exponent range (values m * 2^e with 1/2 <= m < 1, emin <= e <= emax)."""

    name: str
    precision: int
    emin: int
    emax: int
    accumulate: str  # the numpy dtype a layer's products are summed in

    @property
    def dtype(self) -> np.dtype:
        if self.name == "bfloat16":
            import ml_dtypes  # an optional dependency, imported only when bfloat16 is asked for

            return np.dtype(ml_dtypes.bfloat16)
        return np.dtype(self.name)

    @property
    def max(self) -> mpq:
        """The largest finite value, exactly: (1 - 2^-precision) * 2^emax."""
        return (1 - mpq(1, 2**self.precision)) * mpq(2) ** self.emax


FORMATS: dict[str, FloatFormat] = {
    f.name: f
    for f in (
        FloatFormat("float64", 53, -1073, 1024, "float64"),
        FloatFormat("float32", 24, -148, 128, "float32"),
        FloatFormat("float16", 11, -23, 16, "float32"),
        FloatFormat("bfloat16", 8, -132, 128, "float32"),
    )
}


def parse_formats(text: str) -> list[FloatFormat]:
    """The formats named in a comma-separated list, in order, without repeats; a name outside
    ``FORMATS`` (or bfloat16 without ml_dtypes installed) is a ``UsageError``."""
    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise UsageError("--dtype: name at least one of " + ", ".join(FORMATS))
    unknown = [n for n in names if n not in FORMATS]
    if unknown:
        raise UsageError(f"--dtype: unknown type {unknown[0]!r} (known: {', '.join(FORMATS)})")
    chosen = [FORMATS[n] for n in dict.fromkeys(names)]
    if any(f.name == "bfloat16" for f in chosen):
        try:
            import ml_dtypes  # noqa: F401
        except ImportError:
            raise UsageError("--dtype bfloat16 needs the ml_dtypes package: pip install ml_dtypes") from None
    return chosen


def _context(fmt: FloatFormat):
    return gmpy2.context(precision=fmt.precision, emin=fmt.emin, emax=fmt.emax, subnormalize=True)


def round_to(q: object, fmt: FloatFormat) -> float:
    """The value of ``fmt`` nearest to the exact rational q (ties to even), as a Python float
    (exact: every value of these formats is a float64); +-inf past the format's range."""
    with gmpy2.context(_context(fmt)):
        return float(gmpy2.mpfr(mpq(q)))


def round_all(values: Sequence[object], fmt: FloatFormat) -> list[float]:
    """``round_to`` of each value, under one MPFR context."""
    with gmpy2.context(_context(fmt)):
        return [float(gmpy2.mpfr(mpq(q))) for q in values]


def exact(x: float) -> mpq:
    """The exact rational a finite float is."""
    return mpq(x)


@dataclass(frozen=True)
class Rounding:
    """How well a list of exact numbers survives rounding to a format."""

    count: int  # numbers rounded
    inexact: int  # numbers whose rounded value differs from them (overflows included)
    overflow: int  # numbers rounded to +-inf
    worst_relative: mpq | None  # max |round(q) - q| / |q| over the finite inexact ones, exactly; None if none


def rounding(values: Iterable[object], fmt: FloatFormat) -> Rounding:
    """Round each value to ``fmt`` and say how many changed, overflowed, and the worst relative change."""
    qs = [mpq(v) for v in values]
    return _rounding_of(qs, round_all(qs, fmt))


def _rounding_of(qs: Sequence[mpq], rounded: Sequence[float]) -> Rounding:
    inexact = overflow = 0
    worst: mpq | None = None
    for q, r in zip(qs, rounded):
        if r in (float("inf"), float("-inf")):
            inexact += 1
            overflow += 1
        elif mpq(r) != q:
            inexact += 1
            rel = abs(mpq(r) - q) / abs(q)
            worst = rel if worst is None or rel > worst else worst
    return Rounding(len(qs), inexact, overflow, worst)


@dataclass(frozen=True)
class Layer:
    """Layer ``index`` of a network as arrays of exact values: the nodes in canonical order, the
    incoming weights from each earlier layer as {source layer: list of (row, column, weight)},
    the biases, the activations and the leaky_relu slopes (0 where there is none)."""

    index: int
    nodes: tuple
    incoming: dict[int, list[tuple[int, int, mpq]]]
    biases: tuple[mpq, ...]
    activations: tuple[str, ...]
    slopes: tuple[mpq, ...]


def layers(G: nx.DiGraph) -> list[Layer]:
    """The network cut into its layers (layer 0, the inputs in ``graph.inputs`` order, first),
    every weight kept exactly; what both the float evaluation and the exporters read."""
    by_layer: dict[int, list] = {}
    for v, attrs in G.nodes(data=True):
        by_layer.setdefault(int(attrs[keys.LAYER]), []).append(v)
    order = {0: list(G.graph[keys.INPUTS])}
    for layer, nodes in by_layer.items():
        if layer > 0:
            order[layer] = sorted(nodes, key=node_key)
    position = {v: (layer, i) for layer, nodes in order.items() for i, v in enumerate(nodes)}
    out = []
    for layer in sorted(order):
        nodes = order[layer]
        incoming: dict[int, list[tuple[int, int, mpq]]] = {}
        for j, v in enumerate(nodes):
            for u, _, w in G.in_edges(v, data=keys.WEIGHT):
                k, i = position[u]
                incoming.setdefault(k, []).append((i, j, mpq(w)))
        attrs = [G.nodes[v] for v in nodes]
        out.append(
            Layer(
                layer,
                tuple(nodes),
                incoming,
                tuple(mpq(a.get(keys.BIAS, 0)) for a in attrs),
                tuple(a[keys.ACTIVATION] for a in attrs),
                tuple(mpq(a.get(keys.SLOPE, 0)) for a in attrs),
            )
        )
    return out


def parameters(net: Sequence[Layer]) -> list[mpq]:
    """Every weight, nonzero bias and slope of the network, exactly (what a format must hold)."""
    out = [w for layer in net for edges in layer.incoming.values() for _, _, w in edges]
    out += [b for layer in net[1:] for b in layer.biases if b != 0]
    out += [s for layer in net[1:] for s, a in zip(layer.slopes, layer.activations) if a == keys.LEAKY_RELU]
    return out


@dataclass(frozen=True)
class FloatNetwork:
    """A network with every parameter rounded to one format: dense matrices per (source layer,
    layer), bias vectors, activation masks; built once and run on many points."""

    fmt: FloatFormat
    sizes: tuple[int, ...]
    matrices: dict[tuple[int, int], object]  # numpy arrays or scipy CSR matrices, in the accumulation dtype
    biases: dict[int, np.ndarray]
    activations: dict[int, tuple[str, ...]]
    slopes: dict[int, np.ndarray]
    outputs: tuple[tuple[int, int], ...]  # (layer, position) of each output, in graph.outputs order


def to_format(G: nx.DiGraph, net: Sequence[Layer], fmt: FloatFormat) -> FloatNetwork:
    """``net`` with every weight, bias and slope rounded to ``fmt`` (``round_to``). The matrices
    hold the rounded values in the dtype products are summed in (exactly: the format's values
    are values of that dtype), as scipy CSR matrices where under a quarter of the entries are
    nonzero, so that a sparse layer stays sparse."""
    from scipy import sparse

    acc = np.dtype(fmt.accumulate)
    matrices: dict[tuple[int, int], object] = {}
    sizes = tuple(len(layer.nodes) for layer in net)
    index = {layer.index: n for n, layer in enumerate(net)}
    for layer in net[1:]:
        for k, edges in layer.incoming.items():
            shape = (sizes[index[k]], len(layer.nodes))
            rows = np.array([i for i, _, _ in edges], dtype=np.int64)
            cols = np.array([j for _, j, _ in edges], dtype=np.int64)
            vals = np.array(round_all([w for _, _, w in edges], fmt), dtype=np.float64).astype(acc)
            W = sparse.csr_matrix((vals, (rows, cols)), shape=shape, dtype=acc)
            matrices[(index[k], index[layer.index])] = W if 4 * len(edges) < shape[0] * shape[1] else W.toarray()
    dtype = fmt.dtype
    biases = {index[L.index]: np.array(round_all(L.biases, fmt)).astype(dtype) for L in net[1:]}
    slopes = {index[L.index]: np.array(round_all(L.slopes, fmt)).astype(dtype) for L in net[1:]}
    activations = {index[L.index]: L.activations for L in net[1:]}
    where = {v: (index[L.index], i) for L in net for i, v in enumerate(L.nodes)}
    return FloatNetwork(
        fmt, sizes, matrices, biases, activations, slopes, tuple(where[v] for v in G.graph[keys.OUTPUTS])
    )


def inputs_in(points: Sequence[Sequence[object]], fmt: FloatFormat) -> np.ndarray:
    """The exact points rounded to ``fmt``, one row each."""
    return rounded_inputs(points, fmt)[0]


def rounded_inputs(points: Sequence[Sequence[object]], fmt: FloatFormat) -> tuple[np.ndarray, Rounding]:
    """The exact points rounded to ``fmt`` (one row each), and how their coordinates rounded.

    Data read from float files is dyadic: when every coordinate is a float64 exactly (checked
    exactly), numpy converts them, since its float64 -> float32 and float64 -> float16 casts round
    correctly from the exact value; otherwise, and for bfloat16 (whose casts may round twice),
    each coordinate goes through ``round_all``.
    """
    n = len(points)
    d = len(points[0]) if n else 0
    flat = [mpq(c) for p in points for c in p]
    as64 = np.array(round_all(flat, FORMATS["float64"]) if flat else [], dtype=np.float64)
    exact64 = all(mpq(float(r)) == q for r, q in zip(as64.tolist(), flat)) if flat else True
    if fmt.name == "float64":
        rounded = as64
    elif exact64 and fmt.name in ("float32", "float16"):
        with np.errstate(over="ignore"):
            rounded = as64.astype(fmt.dtype).astype(np.float64)
    else:
        rounded = np.array(round_all(flat, fmt), dtype=np.float64)
    stats = _fast_rounding(flat, as64, rounded) if exact64 else _rounding_of(flat, rounded.tolist())
    return rounded.reshape(n, d).astype(fmt.dtype), stats


def _fast_rounding(flat: Sequence[mpq], as64: np.ndarray, rounded: np.ndarray) -> Rounding:
    """``_rounding_of`` when every value is the float64 ``as64`` exactly: the counts by numpy, the
    worst relative error exactly over the candidates numpy ranks within a margin of the worst."""
    infinite = np.isinf(rounded) & ~np.isinf(as64)
    changed = (rounded != as64) | infinite
    finite = changed & ~infinite & (as64 != 0)
    worst: mpq | None = None
    if finite.any():
        with np.errstate(all="ignore"):
            rel = np.where(finite, np.abs(rounded - as64) / np.abs(as64), 0.0)
        top = rel.max()
        for i in np.flatnonzero(rel >= top * (1 - 1e-6)):
            q = flat[int(i)]
            r = abs(mpq(float(rounded[i])) - q) / abs(q)
            worst = r if worst is None or r > worst else worst
    return Rounding(len(flat), int(changed.sum()), int(infinite.sum()), worst)


def _activate(z: np.ndarray, activations: tuple[str, ...], slopes: np.ndarray) -> np.ndarray:
    """The activations of one layer on its pre-activations z (points x nodes), in z's format."""
    kinds = set(activations)
    zero = np.zeros((), dtype=z.dtype)
    one = np.ones((), dtype=z.dtype)
    forms = {
        keys.RELU: lambda: np.where(z > zero, z, zero),
        keys.THRESHOLD: lambda: np.where(z >= zero, one, zero),
        keys.IDENTITY: lambda: z,
        keys.LEAKY_RELU: lambda: np.where(z >= zero, z, (z * slopes).astype(z.dtype)),
    }
    if len(kinds) == 1:
        return forms[next(iter(kinds))]().astype(z.dtype)
    out = z.copy()
    for kind in kinds:
        mask = np.array([a == kind for a in activations])
        out = np.where(mask, forms[kind](), out)
    return out.astype(z.dtype)


def forward(
    fnet: FloatNetwork, x: np.ndarray, keep: bool = False, chunk: int = 4096
) -> tuple[np.ndarray, list[np.ndarray]]:
    """The network's outputs on the rows of x (already in the format), computed in the format by
    the convention of this module's docstring; with ``keep``, every layer's values too (layer 0
    the inputs). NaN and infinities propagate as IEEE arithmetic makes them. Without ``keep``
    the rows go ``chunk`` at a time and a layer's values are dropped after their last reader,
    so memory stays at a few layers of one chunk."""
    if keep or x.shape[0] <= chunk:
        return _forward(fnet, x, keep)
    parts = [_forward(fnet, x[i : i + chunk], False)[0] for i in range(0, x.shape[0], chunk)]
    return np.concatenate(parts, axis=0), []


def _forward(fnet: FloatNetwork, x: np.ndarray, keep: bool) -> tuple[np.ndarray, list[np.ndarray]]:
    dtype, acc = fnet.fmt.dtype, np.dtype(fnet.fmt.accumulate)
    depth = len(fnet.sizes)
    last = {k: n for (k, n) in fnet.matrices}  # the last layer reading layer k (keys are in layer order)
    for k, n in fnet.matrices:
        last[k] = max(last[k], n)
    for k, _ in fnet.outputs:
        last[k] = depth
    sources: dict[int, list[int]] = {}
    for k, n in fnet.matrices:
        sources.setdefault(n, []).append(k)
    values: list[np.ndarray | None] = [x.astype(dtype)] + [None] * (depth - 1)
    with np.errstate(all="ignore"):
        for n in range(1, depth):
            z = np.zeros((x.shape[0], fnet.sizes[n]), dtype=acc)
            for k in sorted(sources.get(n, ())):
                z = z + np.asarray(values[k].astype(acc) @ fnet.matrices[(k, n)])  # type: ignore[union-attr]
            z = (z + fnet.biases[n].astype(acc)).astype(dtype)
            values[n] = _activate(z, fnet.activations[n], fnet.slopes[n])
            if not keep:
                if n not in last:  # read by no later layer and no output (dead)
                    values[n] = None
                for k in sources.get(n, ()):
                    if last.get(k, depth) <= n:
                        values[k] = None
    columns = [values[k][:, i] for k, i in fnet.outputs]  # type: ignore[index]
    out = np.stack(columns, axis=1) if columns else np.zeros((x.shape[0], 0))
    return out.astype(np.float64), values if keep else []  # type: ignore[return-value]
