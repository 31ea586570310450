"""Benchmark rajput2021 and baum1988 against the reference sizes of docs/constructions/rajput2021.md section 11: sizes, times, slopes, the big sparse case.

    python benchmarks/threshold.py sweep    [--kinds ball10 ball2 grid] [--n 100 1000 10000] [--seeds 0 1]
                                            [--verify-max-nonzero 1000000] [--sample 20] [--jobs 2]
    python benchmarks/threshold.py variants [--n 10000]      fan-in 4, 8, 32 and sparse code rows (ball, d = 10)
    python benchmarks/threshold.py baum     [--n 100 1000 10000]
    python benchmarks/threshold.py digits   [--sample 20]
    python benchmarks/threshold.py acceptance [--cases ball10:10000 ball2:10000] [--seeds 0 .. 7] [--sizing verified]
    python benchmarks/threshold.py big      [--n 10000] [--d 2] [--points 4] [--kernel-points 1] [--sizing spec]
    python benchmarks/threshold.py csr      [--n 10000] [--d 2] [--batch 64]

Data as in section 7: "ball" is n points uniform in the unit ball of R^d on the 2^-30 grid with labels
U{1, 2} (numpy ``default_rng(seed)``); "grid" a jittered grid in [-1, 1]^2 (delta about 1/sqrt(n)); digits
is scikit-learn's (n = 1797, d = 64, labels 0..9). Every network is written to net.json and read back.

- ``sweep``: per row n, d, seed, k used (k_u / k_wc), m, depth, width, neurons, nonzero and dense
  parameters, max weight bits (specs/README.md section 3.4; the reference rows' "max bits" are Schrijver sizes, 2 more),
  build CPU seconds (construction and writing), the evaluator alone on every point (CPU seconds, one
  process, and points per CPU second), the whole ``verify`` (read, evaluator, kernel on --sample points,
  certificate; CPU seconds, one process) and its verdict. Rows whose nonzero count (section 7's) exceeds
  --verify-max-nonzero are built only, beyond --build-max-nonzero not even built (``big`` does those). Then section 7's rows beside ours,
  and the log-log slopes of neurons, nonzero weights and k against n.
- ``acceptance``: issue 6's check. Per case and seed, the build (and writing net.json) and then
  ``netcert verify`` (every point by the evaluator, the kernel on --sample points), each in a fresh
  process: k drawn / refining / kept beside k_u / k_wc, m and the row density chosen, L, depth, neurons,
  nonzero, max bits, wall and CPU seconds, peak RSS (``os.wait4``: the largest process of the tree), the
  verdict; then the reference rows. ``--sizing spec`` gives the union-bound sizes of docs/constructions/rajput2021.md section 7.
- ``big``: the d = 2, n = 10^4 case stage by stage (spec sizing by default: the 1.7 M-neuron network), each group of stages in a fresh process, with wall
  time and peak resident memory (``resource.getrusage``) after every stage: plan (the random stages),
  emit (the networkx graph), measure, write; read, validate, compile, the evaluator on --points points
  (extrapolated to all n); the kernel's reading, checking and exact evaluation of --kernel-points points.
- ``csr``: what a batch integer evaluator would cost: a prototype (here, not in netcert) that collects each
  layer of the built DiGraph into a scipy CSR matrix and evaluates all points layer by layer (int64 for
  layer 1, int16 with asserted bounds after it), compared with ``evaluate.run`` for n <= 1000.

``sweep``, ``baum`` and ``digits`` report CPU seconds of one process (the reference rows are CPU seconds too);
``variants`` and ``big`` wall-clock seconds (shared cores skew them). ``sweep``, ``variants``, ``baum`` and
``digits`` build the default (verified sizing). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from netcert import dataset, certify
from netcert.engine import evaluate, pointwise
from netcert.constructions import baum1988, rajput2021
from netcert.formats import netjson
from netcert.ir import keys, measures

# docs/constructions/rajput2021.md section 11 (reference implementation): (kind, n, d) -> k, m, depth, width, neurons, nonzero, max bits
# (Schrijver size), build CPU s, eval CPU s
REFERENCE = {
    ("ball10", 100): (60, 14, 12, 431, 995, 7461, 37, 0.01, 0.0),
    ("ball10", 1000): (106, 20, 12, 1085, 2479, 19913, 36, 0.07, 0.03),
    ("ball10", 10000): (180, 27, 14, 2378, 6080, 52838, 37, 7.02, 0.38),
    ("ball2", 100): (2119, 14, 16, 14935, 21785, 181327, 37, 0.06, 0.02),
    ("ball2", 1000): (5823, 20, 16, 58558, 82126, 701002, 37, 0.32, 1.13),
    ("ball2", 10000): (97187, 27, 20, 1312515, 1787615, 15502399, 36, 25.27, 344.36),
    ("grid", 100): (227, 14, 14, 1516, 2559, 19962, 21, 0.01, 0.0),
    ("grid", 1000): (1091, 20, 16, 10909, 16288, 136350, 21, 0.13, 0.14),
    ("grid", 10000): (4694, 27, 16, 63379, 89031, 770671, 21, 5.96, 10.4),
}
BAUM_REFERENCE = {
    (100, 10): (11, 121),
    (1000, 10): (99, 1177),
    (10000, 10): (997, 11953),
    (100, 2): (43, 169),
    (1000, 2): (493, 1969),
    (10000, 2): (4975, 19897),
}


def ball(n: int, d: int, C: int = 2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    g = rng.standard_normal((n, d))
    X = g / np.linalg.norm(g, axis=1)[:, None] * rng.random(n)[:, None] ** (1 / d)
    return np.round(X * 2.0**30) / 2.0**30, rng.integers(1, C + 1, n)


def grid(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    s = int(np.ceil(np.sqrt(n)))
    ij = np.array([(i, j) for i in range(s) for j in range(s)][:n], dtype=float)
    X = -1 + 2 / s * (ij + 0.5) + rng.uniform(-0.5 / s, 0.5 / s, (n, 2))
    return np.round(X * 2.0**30) / 2.0**30, rng.integers(1, 3, n)


def data_of(kind: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    if kind == "grid":
        return grid(n, seed)
    if kind == "digits":
        from sklearn import datasets as skdata

        digits = skdata.load_digits()
        return digits.data, digits.target
    return ball(n, int(kind[4:]), seed=seed)


def peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _row(tmp: Path, kind: str, n: int, seed: int, build, args, verify_it: bool) -> dict:
    """Build, write, and (if asked) evaluate and verify one case; CPU seconds of this process (jobs = 1)."""
    X, y = data_of(kind, n, seed)
    np.savez(tmp / "d.npz", X=X, y=y)
    t0 = time.process_time()
    data = dataset.load(tmp / "d.npz")
    G = build(data)
    netjson.write(G, tmp / "net.json")
    row = {
        "kind": kind,
        "n": data.n,
        "d": data.d,
        "seed": seed,
        "build": time.process_time() - t0,
        "m": measures.measure(G),
        "o": G.graph[keys.CONSTRUCTION]["options"],
    }
    del G
    if verify_it:
        G = netjson.read(tmp / "net.json")
        t0 = time.process_time()
        ev = evaluate.run(G, data, jobs=1)
        row["eval"], row["exact"] = time.process_time() - t0, ev.exact
        del G
        t0 = time.process_time()
        cert = certify.verify(
            tmp / "net.json", tmp / "d.npz", tmp / "net.cert.json", sample=args.sample, data=data, jobs=1
        )
        row["verify"], row["verdict"] = time.process_time() - t0, cert["verdict"]
    return row


def _fmt(v, digits: int = 2) -> str:
    return "-" if v is None else f"{v:.{digits}f}" if isinstance(v, float) else str(v)


def _slope(points: list[tuple[int, float]]) -> float | None:
    if len({n for n, _ in points}) < 2:
        return None
    x = np.log([n for n, _ in points])
    y = np.log([v for _, v in points])
    return float(np.polyfit(x, y, 1)[0])


def sweep(args) -> None:
    rows = []
    print("rajput2021 (defaults: f = 8, dense code rows, p = 16):")
    print(
        "| data | n | d | seed | k (k_u / k_wc) | m | draws L1/comp/exp | depth | width | neurons | nonzero | dense | "
        "max bits | build CPU s | eval CPU s | points/CPU s | verify CPU s | verdict |"
    )
    print("|---|---:|---:|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for kind in args.kinds:
        for n in args.n:
            for seed in args.seeds:
                if _estimated_nonzero(kind, n) > args.build_max_nonzero:
                    print(
                        f"| {kind} | {n} | | {seed} | not built here (about {_estimated_nonzero(kind, n):.3g} "
                        "nonzero): see `big` |"
                    )
                    continue
                with tempfile.TemporaryDirectory() as tmp:
                    tmp = Path(tmp)
                    est = _estimated_nonzero(kind, n)
                    r = _row(
                        tmp,
                        kind,
                        n,
                        seed,
                        lambda ds, s=seed: rajput2021.build(ds, seed=s),
                        args,
                        verify_it=est <= args.verify_max_nonzero,
                    )
                rows.append(r)
                m, o = r["m"], r["o"]
                dr = o["draws"]
                ev = r.get("eval")
                print(
                    f"| {kind} | {r['n']} | {r['d']} | {seed} | {o['k']} ({o['k_u']} / {o['k_wc']}) | {o['m']} | "
                    f"{dr['hyperplanes']}/{dr['compression']}/{dr['expansion']} | {m.depth} | {m.width} | "
                    f"{m.neurons} | {m.params_nonzero} | {m.params_dense:.3g} | {m.max_weight_bits} | "
                    f"{r['build']:.2f} | {_fmt(ev)} | {_fmt(None if ev is None else r['n'] / ev, 0)} | "
                    f"{_fmt(r.get('verify'))} | {r.get('verdict', 'not verified')} |",
                    flush=True,
                )
    _reference_table(rows)
    _slopes(rows)


def _estimated_nonzero(kind: str, n: int) -> int:
    ref = REFERENCE.get((kind, n))
    return ref[5] if ref else 0


def _reference_table(rows: list[dict]) -> None:
    print("\nAgainst the reference rows (its max bits are Schrijver sizes, specs/README.md's + 2):")
    print(
        "| data | n | seed | k ref / ours | depth ref / ours | width ref / ours | neurons ref / ours | "
        "nonzero ref / ours | max bits ref (Schrijver) / ours (specs/README.md) |"
    )
    print("|---|---:|---:|---|---|---|---|---|---|")
    for r in rows:
        ref = REFERENCE.get((r["kind"], r["n"]))
        if ref is None:
            continue
        m, o = r["m"], r["o"]
        print(
            f"| {r['kind']} | {r['n']} | {r['seed']} | {ref[0]} / {o['k']} | {ref[2]} / {m.depth} | "
            f"{ref[3]} / {m.width} | {ref[4]} / {m.neurons} | {ref[5]} / {m.params_nonzero} | "
            f"{ref[6]} / {m.max_weight_bits} |"
        )


def _slopes(rows: list[dict]) -> None:
    print("\nLog-log slopes against n (least squares over the rows above, every seed):")
    print("| data | neurons | nonzero weights | k | reference (neurons / nonzero / k) |")
    print("|---|---:|---:|---:|---|")
    ref = {"ball10": "0.39 / 0.43 / 0.24", "ball2": "0.96 / 0.97 / 0.83", "grid": "0.77 / 0.79 / 0.66"}
    for kind in dict.fromkeys(r["kind"] for r in rows):
        mine = [r for r in rows if r["kind"] == kind]
        s = [
            _slope([(r["n"], f(r)) for r in mine])
            for f in (lambda r: r["m"].neurons, lambda r: r["m"].params_nonzero, lambda r: r["o"]["k"])
        ]
        print(f"| {kind} | {' | '.join(_fmt(v) for v in s)} | {ref.get(kind, '-')} |")


def variants(args) -> None:
    print(
        f"rajput2021 variants on ball d = 10, n = {args.n}, seed 0 (reference: f = 4 gives depth 18, "
        "7.3e3 neurons, 44e3 weights; f = 32 depth 10, 5.3e3, 108e3; sparse k x4 6041 neurons):"
    )
    print("| variant | k | m | depth | width | neurons | nonzero | build s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    data = dataset.from_arrays(*ball(args.n, 10))
    for name, kw in [
        ("f = 4", {"fan_in": 4}),
        ("f = 8", {}),
        ("f = 32", {"fan_in": 32}),
        ("spec sizing, f = 8", {"sizing": "spec"}),
        ("spec sizing, sparse rows, k x4", {"rho": "sparse", "k_mult": 4, "sizing": "spec"}),
    ]:
        t0 = time.perf_counter()
        G = rajput2021.build(data, **kw)
        t = time.perf_counter() - t0
        m, o = measures.measure(G), G.graph[keys.CONSTRUCTION]["options"]
        print(
            f"| {name} | {o['k']} | {o['m']} | {m.depth} | {m.width} | {m.neurons} | {m.params_nonzero} | {t:.2f} |",
            flush=True,
        )


def baum(args) -> None:
    print("baum1988 (reference: the reference implementation's Baum table, neurons / weights):")
    print(
        "| n | d | groups (general) | failed checks | depth | neurons | nonzero | max bits | build CPU s | "
        "eval CPU s | points/CPU s | verify CPU s | verdict | reference neurons / weights |"
    )
    print("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for d in (10, 2):
        for n in args.n:
            with tempfile.TemporaryDirectory() as tmp:
                r = _row(Path(tmp), f"ball{d}", n, 0, baum1988.build, args, verify_it=True)
            m, o = r["m"], r["o"]
            ref = BAUM_REFERENCE.get((n, d), ("-", "-"))
            print(
                f"| {n} | {d} | {o['groups']} ({o['groups_general']}) | {o['failed_checks']} | {m.depth} | "
                f"{m.neurons} | {m.params_nonzero} | {m.max_weight_bits} | {r['build']:.2f} | {r['eval']:.2f} | "
                f"{n / r['eval']:.0f} | {r['verify']:.2f} | {r['verdict']} | {ref[0]} / {ref[1]} |",
                flush=True,
            )


def digits(args) -> None:
    print("scikit-learn digits (n = 1797, d = 64, labels 0..9):")
    print(
        "| construction | depth | width | neurons | nonzero | max bits | build CPU s | eval CPU s | verify CPU s | "
        "verdict |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for c in (rajput2021, baum1988):
        with tempfile.TemporaryDirectory() as tmp:
            r = _row(Path(tmp), "digits", 0, 0, c.build, args, verify_it=True)
        m = r["m"]
        print(
            f"| {c.NAME} | {m.depth} | {m.width} | {m.neurons} | {m.params_nonzero} | {m.max_weight_bits} | "
            f"{r['build']:.2f} | {r['eval']:.2f} | {r['verify']:.2f} | {r['verdict']} |",
            flush=True,
        )


# -- the big sparse case, stage by stage in fresh processes --------------------------------------------------

_CPU = [0.0]


def _stage(name: str, t0: float, log: list) -> float:
    now, cpu = time.perf_counter(), time.process_time()
    log.append(
        {
            "stage": name,
            "seconds": round(now - t0, 1),
            "cpu_seconds": round(cpu - _CPU[0], 1),
            "peak_gib": round(peak_gib(), 2),
        }
    )
    print(json.dumps(log[-1]), flush=True)
    _CPU[0] = time.process_time()
    return time.perf_counter()


def big_build(tmp: Path, n: int, d: int, sizing: str) -> None:
    log: list = []
    X, y = ball(n, d)
    np.savez(tmp / "d.npz", X=X, y=y)
    t = time.perf_counter()
    data = dataset.load(tmp / "d.npz")
    P = rajput2021.plan(
        data, seed=0, p=rajput2021.P_BITS, rho="dense", k=None, k_mult=None, b0=None, b=None, L=None, sizing=sizing
    )
    t = _stage(f"plan (k = {P.k}, draws {P.planes.draws}/{P.code.draws}/{P.expansion.draws})", t, log)
    G = rajput2021.build(data, sizing=sizing)  # the same plan again (deterministic), then the graph
    t = _stage(f"build = plan + emit ({G.number_of_nodes()} nodes, {G.number_of_edges()} edges)", t, log)
    m = measures.measure(G)
    t = _stage(
        f"measure (neurons {m.neurons}, nonzero {m.params_nonzero}, dense {m.params_dense:.3g}, "
        f"depth {m.depth}, width {m.width}, max bits {m.max_weight_bits})",
        t,
        log,
    )
    netjson.write(G, tmp / "net.json")
    _stage(f"write ({(tmp / 'net.json').stat().st_size / 2**20:.0f} MiB)", t, log)


def big_evaluate(tmp: Path, points: int) -> None:
    from netcert.ir import validate

    log: list = []
    data = dataset.load(tmp / "d.npz")
    t = time.perf_counter()
    G = netjson.read(tmp / "net.json")
    t = _stage("read (netjson.read: json.loads + schema + DiGraph)", t, log)
    problems = validate.errors(validate.validate(G))
    t = _stage(f"validate ({len(problems)} errors)", t, log)
    program = evaluate.compile_network(G, data.scale)
    t = _stage(f"compile_network ({len(program.steps)} steps, {len(program.forms)} forms)", t, log)
    del G
    sweep_ = pointwise.Sweep(program)
    order = pointwise.sweep_order(program, data)
    scale = program.output_scales[0]
    wrong = 0
    for k, i in enumerate(order[:points]):
        wrong += sweep_(data.num[i])[0] * scale.denominator != data.labels[i] * scale.numerator
        if k == 0:
            t = _stage("evaluator, first point (every step)", t, log)
    _stage(f"evaluator, next {points - 1} points in the sweep order ({wrong} wrong in all)", t, log)
    per = log[-1]["cpu_seconds"] / max(points - 1, 1)
    print(
        json.dumps(
            {
                "stage": "evaluator extrapolated to all points",
                "cpu_seconds_per_point": round(per, 2),
                "cpu_seconds_all_points": round(per * data.n),
            }
        ),
        flush=True,
    )


def big_kernel(tmp: Path, points: int) -> None:
    from netcert.kernel import net as knet
    from netcert.kernel import read as kread

    log: list = []
    data = dataset.load(tmp / "d.npz")
    t = time.perf_counter()
    _, doc = kread.read_network(tmp / "net.json")
    t = _stage("kernel read_network (json.loads)", t, log)
    nodes, edges, ins, outs, problems = knet.validate(doc)
    t = _stage(f"kernel validate ({len(problems)} problems)", t, log)
    knet.structure(nodes, edges, ins, outs)
    t = _stage("kernel structure", t, log)
    prog, pos = knet.program(nodes, edges, ins)
    t = _stage("kernel program", t, log)
    from sympy.polys.domains import QQ

    for i in range(points):
        x = tuple(QQ(int(v), int(s)) for v, s in zip(data.num[i], data.scale))
        assert knet.evaluate(prog, x, pos[outs[0]]) == QQ(int(data.labels[i].numerator))
    _stage(f"kernel exact evaluation of {points} points (sympy QQ)", t, log)


# -- what a batch integer evaluator would cost (a prototype, not part of netcert's trusted path) -------------


def csr_layers(G) -> list:
    """Per layer l >= 1: (nodes, integer matrix on layer l - 1 as scipy CSR, integer biases, activation), with
    layer 1 over the inputs' integer numerators and every other layer's weights integers (as in rajput2021)."""
    from netcert.ir.network import ordered_nodes

    order = ordered_nodes(G)
    by_layer: dict[int, list] = {}
    for v in order:
        by_layer.setdefault(G.nodes[v][keys.LAYER], []).append(v)
    out = []
    for layer in range(1, max(by_layer) + 1):
        prev = {u: j for j, u in enumerate(by_layer[layer - 1])}
        rows, cols, vals, bias = [], [], [], []
        for i, v in enumerate(by_layer[layer]):
            for u, _, w in G.in_edges(v, data=keys.WEIGHT):
                rows.append(i)
                cols.append(prev[u])
                vals.append(w)
            bias.append(G.nodes[v][keys.BIAS])
        acts = {G.nodes[v][keys.ACTIVATION] for v in by_layer[layer]}
        out.append((by_layer[layer], rows, cols, vals, bias, acts.pop() if len(acts) == 1 else None))
    return out


def csr_evaluate(G, data, batch: int = 64) -> tuple[int, int]:
    """(points checked, mismatches): layer by layer on batches of points, int64 for layer 1 (after scaling
    each row to integers over the inputs' numerators) and int16 CSR products on 0/1 values after it, with
    the bounds asserted (sum |w| + |b| < 2^15 per row). Exact for networks of this shape."""
    import scipy.sparse as sp
    from netcert.exact import lcm_all, mpq

    layers = csr_layers(G)
    nodes, rows, cols, vals, bias, act = layers[0]
    scales = dict(zip(G.graph[keys.INPUTS], data.scale))
    A = np.zeros((len(nodes), data.d), dtype=object)
    B = np.zeros(len(nodes), dtype=object)
    for i, j, w in zip(rows, cols, vals):
        A[i, j] = mpq(w) / scales[G.graph[keys.INPUTS][j]]
    for i in range(len(nodes)):
        T = lcm_all([q.denominator for q in (*A[i], mpq(bias[i]))])
        A[i] = [int(q * T) for q in A[i]]
        B[i] = int(mpq(bias[i]) * T)
    X = np.array(data.num, dtype=object)
    assert max(abs(int(v)) for v in A.ravel()) * int(abs(X).max()) * data.d + max(abs(int(b)) for b in B) < 2**62
    A64, B64, X64 = A.astype(np.int64), B.astype(np.int64), X.astype(np.int64)
    mats = []
    for nodes, rows, cols, vals, bias, act in layers[1:]:
        assert all(mpq(w).denominator == 1 for w in vals) and all(mpq(b).denominator == 1 for b in bias)
        W = sp.csr_matrix(
            (np.array([int(w) for w in vals], dtype=np.int64), (rows, cols)),
            shape=(len(nodes), len(layers[len(mats)][0])),
        )
        b = np.array([int(v) for v in bias], dtype=np.int64)
        small = act == keys.THRESHOLD and int(abs(W).sum(axis=1).max()) + int(abs(b).max()) < 2**15
        mats.append((W.astype(np.int16) if small else W, b.astype(np.int16) if small else b, act))
    labels = [int(y) for y in data.labels]
    wrong = 0
    for start in range(0, data.n, batch):
        H = (A64 @ X64[start : start + batch].T + B64[:, None] >= 0).astype(np.int16)
        for W, b, act in mats:
            Z = W @ H.astype(W.dtype, copy=False) + b[:, None]
            H = (Z >= 0).astype(np.int16) if act == keys.THRESHOLD else Z
        wrong += sum(int(z) != y for z, y in zip(H[0], labels[start : start + batch]))
    return data.n, wrong


def csr(args) -> None:
    X, y = ball(args.n, args.d)
    data = dataset.from_arrays(X, y)
    t = time.perf_counter()
    G = rajput2021.build(data)
    print(f"build: {time.perf_counter() - t:.1f} s, peak {peak_gib():.2f} GiB, {G.number_of_edges()} edges", flush=True)
    t, c = time.perf_counter(), time.process_time()
    layers = csr_layers(G)
    del layers
    print(f"collect the layers from the DiGraph: {time.perf_counter() - t:.1f} s", flush=True)
    t, c = time.perf_counter(), time.process_time()
    points, wrong = csr_evaluate(G, data, args.batch)
    print(
        f"batch integer evaluation (prototype, layers collected again): {points} points, {wrong} wrong, "
        f"{time.perf_counter() - t:.1f} s wall, {time.process_time() - c:.1f} CPU s, peak {peak_gib():.2f} GiB",
        flush=True,
    )
    if args.n <= 1000:
        t = time.perf_counter()
        ev = evaluate.run(G, data, jobs=1)
        print(
            f"netcert.engine.evaluate.run for comparison: exact {ev.exact}, {time.perf_counter() - t:.1f} s", flush=True
        )


# -- acceptance: build and `netcert verify` in fresh processes, time and peak memory of each -----------------


def _measured(cmd: list[str]) -> tuple[str, float, float, float, int]:
    """Run cmd; (stdout, wall s, CPU s, peak RSS MiB of the process, exit code). CPU and peak come from
    wait4, so they include the child's own waited-for children (peak: the largest one, not the sum)."""
    import os

    t = time.perf_counter()
    with tempfile.TemporaryFile(mode="w+") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        code = os.waitstatus_to_exitcode(status)
        proc.returncode = code  # reaped by wait4
        if code:
            err.seek(0)
            print(err.read()[-2000:], file=sys.stderr)
    return out, time.perf_counter() - t, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, code


def accept_build(tmp: Path, kind: str, n: int, seed: int, sizing: str) -> None:
    """(in a fresh process) build and write; print the measures and options as JSON."""
    data = dataset.load(tmp / "d.npz")
    G = rajput2021.build(data, seed=seed, sizing=sizing)
    netjson.write(G, tmp / "net.json")
    m = measures.measure(G)
    print(
        json.dumps(
            {
                "measures": {
                    k: getattr(m, k) for k in ("depth", "width", "neurons", "params_nonzero", "max_weight_bits")
                },
                "options": G.graph[keys.CONSTRUCTION]["options"],
            }
        )
    )


def acceptance(args) -> None:
    print(
        f"rajput2021 ({args.sizing} sizing), build and `netcert verify` (every point by the evaluator, "
        f"the kernel on {args.sample} points) each in a fresh process; wall and CPU seconds, peak RSS:"
    )
    print(
        "| data | n | d | seed | k drawn / refining / kept (k_u / k_wc) | m (row density) | L (drawn) | depth | "
        "neurons | nonzero | max bits | build s wall (CPU) | verify s wall (CPU) | peak MiB build / verify | "
        "verdict |"
    )
    print("|---|---:|---:|---:|---|---|---|---:|---:|---:|---:|---:|---:|---|---|")
    refs = set()
    for case in args.cases:
        kind, n = case.split(":")
        n = int(n)
        for seed in args.seeds:
            with tempfile.TemporaryDirectory() as tmp:
                tmp = Path(tmp)
                X, y = data_of(kind, n, seed)
                np.savez(tmp / "d.npz", X=X, y=y)
                out, bw, bc, bm, rc = _measured(
                    [sys.executable, __file__, "_accept", str(tmp), kind, str(n), str(seed), args.sizing]
                )
                if rc:
                    print(f"| {kind} | {n} | | {seed} | build failed ({rc}) |", flush=True)
                    continue
                r = json.loads(out)
                verify_cmd = [
                    sys.executable,
                    "-m",
                    "netcert",
                    "verify",
                    str(tmp / "net.json"),
                    "--data",
                    str(tmp / "d.npz"),
                    "-o",
                    str(tmp / "net.cert.json"),
                    "--sample",
                    str(args.sample),
                    "--quiet",
                ] + (["--jobs", str(args.jobs)] if args.jobs else [])
                _, vw, vc, vm, rc = _measured(verify_cmd)
                verdict = json.loads((tmp / "net.cert.json").read_text())["verdict"] if rc in (0, 1) else f"exit {rc}"
            m, o = r["measures"], r["options"]
            refs.add((kind, n))
            print(
                f"| {kind} | {n} | {X.shape[1]} | {seed} | {o['k_drawn']} / {o['k_refining']} / {o['k']} "
                f"({o['k_u']} / {o['k_wc']}) | {o['m']} ({o['row_density']}) | {o['L']} ({o['L_drawn']}) | "
                f"{m['depth']} | {m['neurons']:,} | {m['params_nonzero']:,} | {m['max_weight_bits']} | "
                f"{bw:.1f} ({bc:.1f}) | {vw:.1f} ({vc:.1f}) | {bm:.0f} / {vm:.0f} | {verdict} |",
                flush=True,
            )
    print(
        "\nReference implementation (its max bits are Schrijver sizes, specs/README.md's + 2 "
        "at most; its times are CPU seconds of the build and of its int64 evaluator):"
    )
    print("| data | n | k (k_u) | m | depth | neurons | nonzero | max bits (Schrijver) | build CPU s | eval CPU s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for kind, n in sorted(refs):
        ref = REFERENCE.get((kind, n))
        if ref:
            print(
                f"| {kind} | {n} | {ref[0]} | {ref[1]} | {ref[2]} | {ref[4]:,} | {ref[5]:,} | {ref[6]} | {ref[7]} | "
                f"{ref[8]} |"
            )


def big(args) -> None:
    tmp = Path(args.dir or tempfile.mkdtemp(prefix="threshold-big-"))
    tmp.mkdir(parents=True, exist_ok=True)
    print(f"rajput2021, ball d = {args.d}, n = {args.n}; files in {tmp}; one process per group of stages")
    for mode in ("build", "evaluate", "kernel"):
        t0 = time.perf_counter()
        proc = subprocess.run(
            [
                sys.executable,
                __file__,
                f"_big_{mode}",
                str(tmp),
                str(args.n),
                str(args.d),
                str(args.points),
                str(args.kernel_points),
                args.sizing,
            ],
            capture_output=True,
            text=True,
        )
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
        print(proc.stdout, end="")
        print(
            f"# {mode}: {time.perf_counter() - t0:.1f} s in all, peak of the processes so far {peak:.2f} GiB",
            flush=True,
        )
        if proc.returncode:
            print(proc.stderr[-2000:])
            return


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_accept":
        accept_build(Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
        return
    if len(sys.argv) > 1 and sys.argv[1].startswith("_big_"):
        mode, tmp, n, d, points, kpoints = sys.argv[1][5:], Path(sys.argv[2]), *map(int, sys.argv[3:7])
        {
            "build": lambda: big_build(tmp, n, d, sys.argv[7]),
            "evaluate": lambda: big_evaluate(tmp, points),
            "kernel": lambda: big_kernel(tmp, kpoints),
        }[mode]()
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("sweep")
    p.add_argument("--kinds", nargs="+", default=["ball10", "ball2", "grid"])
    p.add_argument("--n", type=int, nargs="+", default=[100, 1000, 10000])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--verify-max-nonzero", type=int, default=10**6)
    p.add_argument("--build-max-nonzero", type=int, default=2 * 10**6)
    p.add_argument("--sample", type=int, default=20)
    p.add_argument("--jobs", type=int, default=None)
    p = sub.add_parser("variants")
    p.add_argument("--n", type=int, default=10000)
    p = sub.add_parser("baum")
    p.add_argument("--n", type=int, nargs="+", default=[100, 1000, 10000])
    p.add_argument("--sample", type=int, default=20)
    p.add_argument("--jobs", type=int, default=None)
    p = sub.add_parser("digits")
    p.add_argument("--sample", type=int, default=20)
    p.add_argument("--jobs", type=int, default=None)
    p = sub.add_parser("csr")
    p.add_argument("--n", type=int, default=10000)
    p.add_argument("--d", type=int, default=2)
    p.add_argument("--batch", type=int, default=64)
    p = sub.add_parser("acceptance")
    p.add_argument("--cases", nargs="+", default=["ball10:10000", "ball2:10000"])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4, 5, 6, 7])
    p.add_argument("--sizing", default="verified", choices=rajput2021.SIZINGS)
    p.add_argument("--sample", type=int, default=1000)
    p.add_argument("--jobs", type=int, default=None)
    p = sub.add_parser("big")
    p.add_argument("--n", type=int, default=10000)
    p.add_argument("--d", type=int, default=2)
    p.add_argument("--points", type=int, default=4)
    p.add_argument("--kernel-points", type=int, default=1)
    p.add_argument("--dir", default=None)
    p.add_argument("--sizing", default="spec", choices=rajput2021.SIZINGS)
    args = ap.parse_args()
    {
        "sweep": sweep,
        "variants": variants,
        "baum": baum,
        "digits": digits,
        "big": big,
        "csr": csr,
        "acceptance": acceptance,
    }[args.command](args)


if __name__ == "__main__":
    main()
