"""Where floating point leaves the exact network: the network run in float formats beside its
exact evaluation, point by point.

The exact side is netcert's evaluator (every output of every point, exactly). The float side is
``floats.forward`` on the parameters and inputs rounded to each format (``floats.round_to``,
correctly rounded). Float results are dyadic rationals, so every comparison below is exact; only
the fields named ``*_approx`` are floats, for people and plots.

A point's *decision* is what a user reads off the outputs (``decide``):
- interpolation, integer labels: the output rounds to the label, |f - y| < 1/2; real labels: the
  label is the unique nearest of the dataset's distinct labels;
- classification: the label's class has the unique largest score (one output: the sign says);
- tolerance: |f - y| <= eps.
The exact network's own verdict is the claim's (for interpolation f = y exactly). A point
*diverges* in a format when the exact verdict holds and the float decision does not; it is
*recovered* when the exact verdict fails and the float decision holds.

The *margin* of a point is the largest error on every output that cannot change its exact
decision: 1/2 - |f - y| (integer interpolation), half the gap between the two nearest labels'
midpoints, half the score gap (classification), eps - |f - y| (tolerance). For a diverging
point, the audit names the first layer with a neuron whose float value is at least the margin
away from its exact value: where the error that flips the decision has grown big enough.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
from gmpy2 import mpq

from netcert import floats
from netcert.dataset import Dataset
from netcert.errors import InputError
from netcert.ir import keys

HALF = mpq(1, 2)
RUNTIME_BUDGET = 2 * 10**10  # multiply-adds: about half a minute of onnxruntime on two cores


@dataclass(frozen=True)
class Claim:
    """What a point's outputs are judged by: ``kind`` is interpolation, classification or tolerance."""

    kind: str
    classes: tuple[str, ...] | None = None
    eps: mpq | None = None
    integer_labels: bool = True
    label_values: tuple[mpq, ...] = ()


def claim_for(G: nx.DiGraph, data: Dataset, kind: str | None = None, eps: object | None = None) -> Claim:
    """The claim a network is judged by: ``kind`` as given, else classification when the network
    names ``classes``, else interpolation (which needs exactly one output)."""
    classes = G.graph.get(keys.CLASSES)
    kind = kind or ("classification" if classes else "interpolation")
    outputs = len(G.graph[keys.OUTPUTS])
    if kind == "classification" and not classes:
        raise InputError("the network names no classes: a classification claim needs graph.classes")
    if kind in ("interpolation", "tolerance") and outputs != 1:
        raise InputError(f"the network has {outputs} outputs; a {kind} claim needs exactly 1")
    if kind == "tolerance" and eps is None:
        raise InputError("a tolerance claim needs eps")
    values = tuple(sorted(set(data.labels)))
    return Claim(
        kind,
        tuple(classes) if classes else None,
        None if eps is None else mpq(eps),
        data.label_kind == "integer",
        values,
    )


def _label_string(y: mpq) -> str:
    return str(y.numerator) if y.denominator == 1 else f"{y.numerator}/{y.denominator}"


def decide(claim: Claim, outputs: Sequence[mpq | None], y: mpq) -> tuple[bool, mpq | None]:
    """(the decision is the label, the margin) for one point's outputs, exactly; an output of None
    (a NaN or an infinity) is a wrong decision with no margin."""
    if any(f is None for f in outputs):
        return False, None
    fs = [mpq(f) for f in outputs]
    if claim.kind == "tolerance":
        m = claim.eps - abs(fs[0] - y)
        return m >= 0, m
    if claim.kind == "classification":
        classes = claim.classes or ()
        label = _label_string(y)
        if label not in classes:
            return False, None
        if len(fs) == 1:
            signed = fs[0] if label == classes[1] else -fs[0]
            return signed > 0, signed
        k = classes.index(label)
        gap = fs[k] - max(f for j, f in enumerate(fs) if j != k)
        return gap > 0, gap / 2
    f = fs[0]
    if claim.integer_labels:
        m = HALF - abs(f - y)
        return m > 0, m
    i = claim.label_values.index(y)
    lo = (claim.label_values[i - 1] + y) / 2 if i > 0 else None
    hi = (claim.label_values[i + 1] + y) / 2 if i + 1 < len(claim.label_values) else None
    sides = [f - lo] if lo is not None else []
    sides += [hi - f] if hi is not None else []
    m = min(sides) if sides else mpq(1)
    return m > 0, m


def exact_verdict(claim: Claim, outputs: Sequence[mpq], y: mpq) -> bool:
    """The exact network's verdict on a point: the claim's (interpolation: f = y exactly)."""
    if claim.kind == "interpolation":
        return outputs[0] == y
    return decide(claim, outputs, y)[0]


@dataclass(frozen=True)
class Divergence:
    """Where a diverging point's float value first left the exact one by at least its margin."""

    index: int
    layer: int
    node: object
    exact: mpq
    obtained: float
    margin: mpq | None


@dataclass(frozen=True)
class FormatAudit:
    """One float format's account of the network on the dataset."""

    dtype: str
    parameters: floats.Rounding
    inputs: floats.Rounding
    float_right: int  # points whose float decision is the label
    diverging: tuple[int, ...]  # exact verdict holds, float decision does not (all of them)
    recovered: tuple[int, ...]  # exact verdict fails, float decision holds
    nan: int  # outputs that are NaN
    inf: int  # outputs that are infinite
    worst_error: mpq | None  # max |float - exact| over the finite outputs, exactly
    worst_error_point: int | None
    divergences: tuple[Divergence, ...]  # the first diverging points, localised
    layer_errors: tuple[float, ...]  # approx: max |float - exact| per layer over the profiled points
    runtime: dict | None = None  # onnxruntime's account, when it ran


@dataclass(frozen=True)
class Audit:
    claim: Claim
    n: int
    exact_right: int
    formats: tuple[FormatAudit, ...]
    profiled: tuple[int, ...] = field(default=())  # the points whose every neuron was compared


def exact_layers(net: Sequence[floats.Layer], x: Sequence[mpq]) -> list[list[mpq]]:
    """Every node's exact value on the point x, layer by layer (layer 0: x itself)."""
    from netcert.engine.activations import ACTIVATE

    def activate(a: str, z: mpq, slope: mpq) -> mpq:
        return (z if z >= 0 else slope * z) if a == keys.LEAKY_RELU else mpq(ACTIVATE[a](z))

    values: list[list[mpq]] = [list(x)]
    for layer in net[1:]:
        z = list(layer.biases)
        for k, edges in layer.incoming.items():
            source = values[[L.index for L in net].index(k)]
            for i, j, w in edges:
                z[j] += w * source[i]
        values.append([mpq(activate(a, v, s)) for a, v, s in zip(layer.activations, z, layer.slopes)])
    return values


def _finite(x: float) -> mpq | None:
    return mpq(x) if np.isfinite(x) else None


def _localise(
    net: Sequence[floats.Layer], exact: list[list[mpq]], obtained: list[np.ndarray], row: int, margin: mpq | None
) -> tuple[int, object, mpq, float] | None:
    """The first layer (>= 1) holding a neuron whose float value is at least ``margin`` from its
    exact value (a NaN or infinity always is), with that layer's worst neuron."""
    for n in range(1, len(net)):
        worst: tuple[mpq | None, int] | None = None
        for j, e in enumerate(exact[n]):
            f = float(obtained[n][row, j])
            err = None if not np.isfinite(f) else abs(mpq(f) - e)
            if worst is None or err is None or (worst[0] is not None and err > worst[0]):
                worst = (err, j)
            if err is None:
                break
        if worst is None:
            continue
        err, j = worst
        if err is None or margin is None or err >= margin:
            return net[n].index, net[n].nodes[j], exact[n][j], float(obtained[n][row, j])
    return None


def audit(
    G: nx.DiGraph,
    data: Dataset,
    formats: Sequence[floats.FloatFormat],
    claim: Claim,
    *,
    exact_outputs: Sequence[Sequence[mpq]] | None = None,
    profile: int = 20,
    localise: int = 10,
    seed: int = 0,
    runtime: str = "auto",
    jobs: int | None = 1,
) -> Audit:
    """The audit of ``G`` on ``data`` in each format. ``exact_outputs`` (every point's outputs) is
    computed by the evaluator when not given. The first ``localise`` diverging points of each format
    and a seeded sample of ``profile`` others have every neuron compared, for ``layer_errors``.
    With onnxruntime installed, float64 and float32 are also run through the exported ONNX model:
    ``runtime`` "yes" always, "auto" unless its dense products would exceed ``RUNTIME_BUDGET``
    multiply-adds (onnxruntime densifies sparse initializers), "no" never."""
    if exact_outputs is None:
        from netcert.engine.run import values

        exact_outputs = values(G, data, jobs=jobs)
    net = floats.layers(G)
    points = [data.point(i) for i in range(data.n)]
    right = [exact_verdict(claim, exact_outputs[i], data.labels[i]) for i in range(data.n)]
    results = []
    profiled: set[int] = set()
    for fmt in formats:
        fnet = floats.to_format(G, net, fmt)
        x, inputs = floats.rounded_inputs(points, fmt)
        out, _ = floats.forward(fnet, x)
        results.append(_judge(net, fnet, inputs, out, data, claim, exact_outputs, right, localise))
        profiled.update(d.index for d in results[-1].divergences)
    rng = random.Random(seed)
    others = [i for i in range(data.n) if i not in profiled]
    chosen = sorted(profiled | set(rng.sample(others, min(len(others), profile))))
    exact_values = {i: exact_layers(net, points[i]) for i in chosen}
    final = []
    for fmt, result in zip(formats, results):
        fnet = floats.to_format(G, net, fmt)
        if chosen:
            _, kept = floats.forward(fnet, floats.inputs_in([points[i] for i in chosen], fmt), keep=True)
            per_layer = _layer_errors(net, [exact_values[i] for i in chosen], kept)
        else:
            kept, per_layer = [], ()
        divergences = []
        for d in result.divergences:
            row = chosen.index(d.index)
            found = _localise(net, exact_values[d.index], kept, row, d.margin)
            if found is not None:
                divergences.append(Divergence(d.index, found[0], found[1], found[2], found[3], d.margin))
        rt = _runtime(G, data, points, claim, fmt, result, right, runtime) if runtime != "no" else None
        final.append(
            FormatAudit(
                **{
                    **result.__dict__,
                    "divergences": tuple(divergences),
                    "layer_errors": per_layer,
                    "runtime": rt,
                }
            )
        )
    return Audit(claim, data.n, sum(right), tuple(final), tuple(chosen))


def _judge(net, fnet, inputs, out, data, claim, exact_outputs, right, localise) -> FormatAudit:
    """The point-by-point comparison of one format's outputs with the exact ones."""
    nan, inf = int(np.isnan(out).sum()), int(np.isinf(out).sum())
    diverging, recovered, float_right = [], [], 0
    worst: mpq | None = None
    worst_point = None
    margins = {}
    for i in range(data.n):
        got = [_finite(float(v)) for v in out[i]]
        ok, _ = decide(claim, got, data.labels[i])
        float_right += ok
        if right[i] and not ok:
            diverging.append(i)
            margins[i] = decide(claim, exact_outputs[i], data.labels[i])[1]
        elif ok and not right[i]:
            recovered.append(i)
        for g, e in zip(got, exact_outputs[i]):
            if g is not None:
                err = abs(g - e)
                if worst is None or err > worst:
                    worst, worst_point = err, i
    params = floats.rounding(floats.parameters(net), fnet.fmt)
    first = tuple(Divergence(i, 0, None, mpq(0), 0.0, margins[i]) for i in diverging[:localise])
    return FormatAudit(
        fnet.fmt.name,
        params,
        inputs,
        float_right,
        tuple(diverging),
        tuple(recovered),
        nan,
        inf,
        worst,
        worst_point,
        first,
        (),
    )


def _layer_errors(net, exact: list[list[list[mpq]]], kept: list[np.ndarray]) -> tuple[float, ...]:
    """Approx: per layer >= 1, the largest |float - exact| over the profiled points and the
    layer's neurons (inf where a value is not finite)."""
    out = []
    for n in range(1, len(net)):
        worst = 0.0
        for row, values in enumerate(exact):
            for j, e in enumerate(values[n]):
                f = float(kept[n][row, j])
                err = float(abs(mpq(f) - e)) if np.isfinite(f) else float("inf")
                worst = max(worst, err)
        out.append(worst)
    return tuple(out)


def _runtime(G, data, points, claim, fmt, result: FormatAudit, right: Sequence[bool], runtime: str) -> dict | None:
    """onnxruntime's run of the exported model in ``fmt`` (float64 and float32 only): the points
    it makes diverge (exact verdict holds, its decision does not), and whether they are exactly
    the points netcert's own float evaluation makes diverge. None when onnxruntime is not
    installed or the network cannot be exported in the format; a note when "auto" skips it."""
    if fmt.name not in ("float64", "float32"):
        return None
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return None
    from netcert import export

    if runtime == "auto" and export.dense_cost(G) * data.n > RUNTIME_BUDGET:
        return {
            "skipped": f"the exported model's dense products would take ~{export.dense_cost(G) * data.n:.2g} multiply-adds"
        }
    try:
        model = export.to_onnx(G, fmt.name)
    except InputError:
        return None
    out = export.run_onnx(model, floats.inputs_in(points, fmt))
    diverging = [
        i
        for i in range(data.n)
        if right[i] and not decide(claim, [_finite(float(v)) for v in out[i]], data.labels[i])[0]
    ]
    return {"diverging": len(diverging), "same_points": tuple(diverging) == result.diverging}


def _q(v: mpq | None) -> str | None:
    return None if v is None else (str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}")


def _json_float(x: float) -> float | str:
    """A float for JSON: itself when finite, else "inf", "-inf" or "nan" (JSON has no such numbers)."""
    return x if np.isfinite(x) else str(x)


def _approx(v: mpq | None) -> float | str | None:
    if v is None:
        return None
    try:
        return _json_float(float(v))
    except OverflowError:
        return "inf" if v > 0 else "-inf"


def _rounding_record(r: floats.Rounding) -> dict:
    return {
        "count": r.count,
        "inexact": r.inexact,
        "overflow": r.overflow,
        "worst_relative": _q(r.worst_relative),
        "worst_relative_approx": _approx(r.worst_relative),
    }


def record(result: Audit, first: int = 10) -> dict:
    """The audit as a JSON-ready object: exact values as strings (specs/README.md section 1),
    floats only under keys ending in ``_approx``; the first ``first`` diverging and recovered
    points by index."""
    claim: dict[str, str | None] = {"kind": result.claim.kind}
    if result.claim.eps is not None:
        claim["eps"] = _q(result.claim.eps)
    formats = []
    for f in result.formats:
        formats.append(
            {
                "dtype": f.dtype,
                "parameters": _rounding_record(f.parameters),
                "inputs": _rounding_record(f.inputs),
                "float_right": f.float_right,
                "diverging": {"count": len(f.diverging), "first": list(f.diverging[:first])},
                "recovered": {"count": len(f.recovered), "first": list(f.recovered[:first])},
                "nan": f.nan,
                "inf": f.inf,
                "worst_error": _q(f.worst_error),
                "worst_error_approx": _approx(f.worst_error),
                "worst_error_point": f.worst_error_point,
                "divergences": [
                    {
                        "index": d.index,
                        "layer": d.layer,
                        "node": d.node,
                        "exact": _q(d.exact),
                        "exact_approx": _approx(d.exact),
                        "obtained": _q(mpq(d.obtained)) if np.isfinite(d.obtained) else str(d.obtained),
                        "obtained_approx": _json_float(d.obtained),
                        "margin": _q(d.margin),
                    }
                    for d in f.divergences
                ],
                "layer_errors_approx": [_json_float(e) for e in f.layer_errors],
                "onnxruntime": f.runtime,
            }
        )
    return {
        "format": "netcert.audit",
        "version": 1,
        "claim": claim,
        "n": result.n,
        "exact_right": result.exact_right,
        "profiled": len(result.profiled),
        "formats": formats,
    }
