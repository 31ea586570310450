"""Benchmark the exact evaluator's engines (batch and per point) against float64, on three shapes.

    python benchmarks/engine.py                 # N = 10^4 each, per-point baseline on up to 2,000 points
    python benchmarks/engine.py --n 2000 --point-max 500

Shapes (all d = 10):

- **Ad** (docs/performance.md, "Benchmark shapes"): 10 -> 1,000 ReLU -> 1, weights and biases p / 2^32 with p a random signed
  32-bit integer, inputs k / 2^52 uniform in [-1, 1) (52-bit dyadic); labelled with their exact
  outputs (a first run with wrong labels reports them). Target: >= 50,000 points/s exact.
- **zhang2017** on N standard normal float32 points, labels 0..9 (``constructions.zhang2017``).
  Target: within 10x of float64 evaluation of the same network.
- **rajput2021** on N points of the unit ball in R^10 on the 2^-30 grid, labels 1..2
  (``benchmarks/threshold.py``'s ``ball``): threshold layers, sparse.

Rows per shape, all measured in this run: ``evaluate.run`` with the automatic choice (``auto``),
with the batch engine forced (``batch``), the per-point path (``point``: the C kernel, or sweep and events without it, on the
first --point-max points), each with jobs = 1, and auto with jobs = 2; and a numpy float64 forward
pass of the same network (layer by layer, the same chunks of points, CSR for sparse layers;
INEXACT, a baseline only). "x float64" is that row's time per point over float64's. "compiled"
subtracts the time ``evaluate.evaluation_plan`` takes (integer rows, plan, batch matrices: what
the rates of docs/performance.md, "Arithmetic lower bound" exclude as preparation; converting the inputs stays in), on the rows over all N
points. CPU seconds
include the forked workers (``RUSAGE_CHILDREN``). Timings are one run each on a shared machine.
Every exact row must report the same mismatches (none): the script stops otherwise.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from netcert import dataset
from netcert.engine import evaluate
from netcert.constructions import rajput2021, zhang2017
from netcert.ir import keys
from netcert.ir import network as net
from netcert.ir.network import ordered_nodes

sys.path.insert(0, str(Path(__file__).parent))
import threshold  # noqa: E402  (ball: the data of docs/constructions/rajput2021.md section 11)


def shape_ad(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    d, width = 10, 1000
    G = net.new_network([f"x{j}" for j in range(d)])
    W1, b1 = rng.integers(-(2**31), 2**31, (width, d)), rng.integers(-(2**31), 2**31, width)
    W2, b2 = rng.integers(-(2**31), 2**31, width), int(rng.integers(-(2**31), 2**31))
    for i in range(width):
        net.add_neuron(
            G,
            f"h{i}",
            layer=1,
            activation=keys.RELU,
            bias=Fraction(int(b1[i]), 2**32),
            incoming={f"x{j}": Fraction(int(W1[i, j]), 2**32) for j in range(d)},
        )
    net.add_neuron(
        G,
        "out",
        layer=2,
        activation=keys.IDENTITY,
        bias=Fraction(b2, 2**32),
        incoming={f"h{i}": Fraction(int(W2[i]), 2**32) for i in range(width)},
    )
    net.set_outputs(G, ["out"])
    X = rng.integers(-(2**52), 2**52, (n, d)) / 2.0**52
    data = dataset.from_arrays(X, np.zeros(n))
    ev = evaluate.run(G, data, engine="batch")  # every label is wrong: the mismatches are the exact outputs
    return G, dataclasses.replace(data, labels=tuple(m.obtained for m in ev.mismatches)), X


def shape_zhang(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 10)).astype(np.float32)
    data = dataset.from_arrays(X, rng.integers(0, 10, n))
    return zhang2017.build(data), data, X.astype(np.float64)


def shape_rajput(n: int, seed: int = 0):
    X, y = threshold.ball(n, 10, seed=seed)
    data = dataset.from_arrays(X, y)
    return rajput2021.build(data), data, X


def float_layers(G) -> list:
    """(matrix, bias, activation) per layer in float64, dense or CSR as the layer's density says."""
    by_layer: dict[int, list] = {}
    for v in ordered_nodes(G):
        by_layer.setdefault(G.nodes[v][keys.LAYER], []).append(v)
    by_layer[0] = list(G.graph[keys.INPUTS])
    out = []
    for k in range(1, max(by_layer) + 1):
        index = {u: j for j, u in enumerate(by_layer[k - 1])}
        ri, ci, vals = [], [], []
        for i, v in enumerate(by_layer[k]):
            for u, _, w in G.in_edges(v, data=keys.WEIGHT):
                ri.append(i), ci.append(index[u]), vals.append(float(w))
        shape = (len(by_layer[k]), len(by_layer[k - 1]))
        M = sp.csr_matrix((vals, (ri, ci)), shape=shape)
        if len(vals) > 0.1 * shape[0] * shape[1]:
            M = M.toarray()
        acts = np.array([G.nodes[v][keys.ACTIVATION] for v in by_layer[k]])
        out.append((M, np.array([float(G.nodes[v][keys.BIAS]) for v in by_layer[k]])[:, None], acts))
    return out


def float_forward(layers: list, X: np.ndarray, chunk: int = 1024) -> np.ndarray:
    """INEXACT float64 outputs, ``chunk`` points at a time."""
    outs = []
    for a in range(0, len(X), chunk):
        H = X[a : a + chunk].T
        for M, b, acts in layers:
            Z = M @ H + b
            H = np.where(
                acts[:, None] == keys.RELU,
                np.maximum(Z, 0),
                np.where(acts[:, None] == keys.THRESHOLD, (Z >= 0).astype(float), Z),
            )
        outs.append(H[0])
    return np.concatenate(outs)


def _cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def timed(fn):
    t, c = time.perf_counter(), _cpu()
    value = fn()
    return value, time.perf_counter() - t, _cpu() - c


def bench(name: str, G, data, X, point_max: int) -> list[tuple]:
    plan, compile_s, _ = timed(lambda: evaluate.evaluation_plan(G, data))
    print(
        f"\n{name}: N = {data.n}; auto plan: {'batch' if plan.batched else 'per point'} ({plan.why}); "
        f"layers: {', '.join(p.label for p in plan.layers)}; compiling (integer rows, plan, matrices) "
        f"{compile_s:.3f} s",
        flush=True,
    )
    layers = float_layers(G)
    _, fw, fc = timed(lambda: float_forward(layers, X))
    rows = [("numpy float64 (inexact)", data.n, fw, fc)]
    reference = None
    for label, engine, jobs, sub in [
        ("auto, jobs 1", "auto", 1, data),
        ("batch, jobs 1", "batch", 1, data),
        ("auto, jobs 2", "auto", 2, data),
        (f"per point, jobs 1 (first {min(point_max, data.n)})", "point", 1, _prefix(data, point_max)),
    ]:
        ev, w, c = timed(lambda: evaluate.run(G, sub, jobs=jobs, engine=engine))
        if sub is data:
            reference = reference or ev
            if ev != reference:
                sys.exit(f"{name}: {label} differs from the first exact run")
        if not ev.exact:
            sys.exit(f"{name}: {label} reports {len(ev.mismatches)} mismatches")
        rows.append((label, sub.n, w, c))
    print(
        "| run | points | wall s | CPU s | points/s (wall) | points/s (wall, compiled) | points/CPU s "
        "| x float64 (wall per point) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, n, w, c in rows:
        compiled = "-" if n < data.n else f"{n / (w - (0 if label.startswith('numpy') else compile_s)):,.0f}"
        print(
            f"| {label} | {n} | {w:.2f} | {c:.2f} | {n / w:,.0f} | {compiled} | {n / c:,.0f} "
            f"| {(w / n) / (fw / data.n):.1f} |"
        )
    return rows


def _prefix(data, k: int):
    if k >= data.n:
        return data
    return dataclasses.replace(data, num=data.num[:k], labels=data.labels[:k], kept=data.kept[:k])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10**4)
    ap.add_argument("--point-max", type=int, default=2000)
    ap.add_argument("--shapes", nargs="+", default=["ad", "zhang2017", "rajput2021"])
    args = ap.parse_args()
    makers = {"ad": shape_ad, "zhang2017": shape_zhang, "rajput2021": shape_rajput}
    for name in args.shapes:
        G, data, X = makers[name](args.n)
        bench(name, G, data, X, args.point_max)


if __name__ == "__main__":
    main()
