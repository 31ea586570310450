"""Benchmark vardi2022: the size sweep, the depth-L family, and the certification matrix.

    python benchmarks/vardi2022.py sweep   [--n 100 1000 ... ] [--verify-max 100000] [--mode delta]
    python benchmarks/vardi2022.py depth   [--n 10000] [--L 20 50 200 ...]
    python benchmarks/vardi2022.py matrix  [--n 10000] [--seeds 0 1]
    python benchmarks/vardi2022.py crossover [--d 2] [--C 2]

Data: X ~ U[-1, 1]^d (float64) and labels ~ U{1..C} from numpy
``default_rng(seed)``, as in docs/constructions/vardi2022.md section 11, so the sizes compare with the
reference rows of tests/test_vardi2022.py. Every network is written to net.json and read back.

- ``sweep``: for each N, build time, depth, width, dense and nonzero
  parameters, max and total weight bits; for N <= --verify-max the fast
  evaluator on every point (time and points/s; all cores unless --jobs);
  zhang2017's nonzero count on the same data (built up to --zhang-max, else
  its formula N (nnz(u) + 2) with nnz(u) = 1, the axis direction it finds on
  such data); then the fitted log-log slopes of parameters vs N.
- ``depth``: the bounded-depth family at one N: L, the network built (vardi2022
  or the depth-3 fallback), n, depth, sizes; evaluator on every point.
- ``matrix``: ``netcert verify`` (evaluator on every point, kernel on a 1,000
  point sample) over d in {1, 2, 10}, C in {2, 10}, both modes, both Stage II
  shapes and the given seeds, plus clustered data (minimum distance about
  1e-9) and scikit-learn's digits.
- ``crossover``: the smallest N (on a grid of 100) from which vardi2022 has
  fewer nonzero parameters than zhang2017 at every larger grid point, for each
  mode and objective.

Times are wall-clock on whatever machine runs this; nothing is asserted.
"""

from __future__ import annotations

import argparse
import math
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from netcert import dataset, certify
from netcert.engine import evaluate
from netcert.constructions import vardi2022, zhang2017
from netcert.formats import netjson
from netcert.ir import measures


def uniform(N: int, d: int, C: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (N, d))
    return X, rng.integers(1, C + 1, N)


def clustered(N: int, d: int, C: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """N/2 random centres, each with a twin 1e-9 away along a random axis."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-1, 1, (N // 2, d))
    twins = centres.copy()
    twins[np.arange(N // 2), rng.integers(0, d, N // 2)] += 1e-9
    return np.vstack([centres, twins]), rng.integers(1, C + 1, 2 * (N // 2))


def _build(tmp: Path, X, y, **options):
    np.savez(tmp / "d.npz", X=X, y=y)
    t0 = time.perf_counter()
    data = dataset.load(tmp / "d.npz")
    G = vardi2022.build(data, **options)
    netjson.write(G, tmp / "net.json")
    return data, G, time.perf_counter() - t0


def _evaluate(tmp: Path, data, jobs) -> tuple[float, bool]:
    t0 = time.perf_counter()
    ev = evaluate.run(netjson.read(tmp / "net.json"), data, jobs=jobs)
    return time.perf_counter() - t0, ev.exact


def _slope(rows, key, lo, hi):
    pts = {r["N"]: r[key] for r in rows}
    if lo in pts and hi in pts:
        return math.log(pts[hi] / pts[lo]) / math.log(hi / lo)
    return None


def sweep(args) -> None:
    print(
        f"vardi2022 sweep: d = {args.d}, C = {args.C}, mode {args.mode}, Stage II {args.stage2}, "
        f"seed {args.seed}; {platform.processor() or platform.machine()}, jobs {args.jobs or 'all cores'}"
    )
    print(
        "| N | n | M | rho | depth | width | dense | nonzero | max bits | total bits | build s | eval s | "
        "points/s | exact | zhang2017 nonzero | nonzero / zhang |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|")
    rows = []
    for N in args.n:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            X, y = uniform(N, args.d, args.C, args.seed)
            data, G, tb = _build(tmp, X, y, mode=args.mode, stage2=args.stage2, seed=args.seed)
            m = measures.measure(G)
            o = G.graph["construction"]["options"]
            te, exact = (None, None)
            if N <= args.verify_max:
                te, exact = _evaluate(tmp, data, args.jobs)
            if N <= args.zhang_max:
                z = measures.measure(zhang2017.build(data)).params_nonzero
            else:
                z = 3 * N
            rows.append({"N": N, "dense": m.params_dense, "nonzero": m.params_nonzero})
            ev = "-" if te is None else f"{te:.1f}"
            rate = "-" if te is None else f"{N / te:,.0f}"
            print(
                f"| {N:,} | {o.get('block_size', '-')} | {o.get('blocks', '-')} | {o.get('rho', '-')} | {m.depth} | "
                f"{m.width} | {m.params_dense:,} | {m.params_nonzero:,} | {m.max_weight_bits} | "
                f"{m.total_weight_bits:,} | {tb:.1f} | {ev} | {rate} | {'-' if exact is None else exact} | "
                f"{z:,}{'' if N <= args.zhang_max else ' (3N)'} | {m.params_nonzero / z:.2f} |",
                flush=True,
            )
    for lo, hi in ((10**4, 10**5), (10**5, 10**6), (10**2, 10**6)):
        sd, sn = _slope(rows, "dense", lo, hi), _slope(rows, "nonzero", lo, hi)
        if sd is not None:
            print(f"slope of parameters vs N, {lo:.0e} -> {hi:.0e}: dense {sd:.3f}, nonzero {sn:.3f}")


def depth(args) -> None:
    print(f"vardi2022 depth-L family: N = {args.n[0]}, d = {args.d}, C = {args.C}, mode {args.mode}")
    print("| L | built | n | depth | width | dense | nonzero | max bits | build s | eval s | exact |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for L in args.L:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            data, G, tb = _build(tmp, *uniform(args.n[0], args.d, args.C, args.seed), mode=args.mode, depth=L)
            m = measures.measure(G)
            o = G.graph["construction"]["options"]
            te, exact = _evaluate(tmp, data, args.jobs)
            print(
                f"| {L} | {o['built']} | {o.get('block_size', '-')} | {m.depth} | {m.width} | {m.params_dense:,} | "
                f"{m.params_nonzero:,} | {m.max_weight_bits} | {tb:.1f} | {te:.1f} | {exact} |",
                flush=True,
            )


def matrix(args) -> None:
    N = args.n[0]
    print(f"vardi2022 certification matrix at N = {N} (verify: evaluator on every point, kernel sample 1000)")
    print(
        "| data | d | C | mode | Stage II | seed | n | depth | width | dense | nonzero | build s | verify s | verdict |"
    )
    print("|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    cases = [
        ("uniform", d, C, mode, st, seed)
        for d in (1, 2, 10)
        for C in (2, 10)
        for mode in ("plain", "delta")
        for st in ("wide", "narrow")
        for seed in args.seeds
    ]
    cases += [("clustered", 2, 2, mode, "wide", 0) for mode in ("plain", "delta")]
    cases += [("digits", 64, 10, mode, "wide", 0) for mode in ("plain", "delta")]
    for kind, d, C, mode, st, seed in cases:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            if kind == "digits":
                from sklearn.datasets import load_digits

                X, y = load_digits(return_X_y=True)
            elif kind == "clustered":
                X, y = clustered(N, d, C, seed)
            else:
                X, y = uniform(N, d, C, seed)
            data, G, tb = _build(tmp, X, y, mode=mode, stage2=st, seed=seed)
            t0 = time.perf_counter()
            cert = certify.verify(tmp / "net.json", tmp / "d.npz", tmp / "c.cert.json", data=data, jobs=args.jobs)
            tv = time.perf_counter() - t0
            s, o = cert["structure"], G.graph["construction"]["options"]
            print(
                f"| {kind} | {d} | {C} | {mode} | {st} | {seed} | {o.get('block_size', '-')} | {s['depth']} | "
                f"{s['width']} | {s['params_dense']:,} | {s['params_nonzero']:,} | {tb:.1f} | {tv:.1f} | "
                f"{cert['verdict']} |",
                flush=True,
            )


def crossover(args) -> None:
    grid = list(range(100, args.max + 1, 100))
    z = {}
    sizes: dict[tuple, dict[int, int]] = {}
    for N in grid:
        data = dataset.from_arrays(*uniform(N, args.d, args.C, args.seed))
        z[N] = measures.measure(zhang2017.build(data)).params_nonzero
        for mode in ("plain", "delta"):
            for objective in ("dense", "nonzero"):
                G = vardi2022.build(data, mode=mode, minimize=objective)
                sizes.setdefault((mode, objective), {})[N] = measures.measure(G).params_nonzero
    print(
        f"crossover with zhang2017 by nonzero parameters: d = {args.d}, C = {args.C}, N on a grid of 100 "
        f"up to {args.max}"
    )
    print("| mode | block size minimizes | crossover N | vardi / zhang at 1000 | at the largest N |")
    print("|---|---|---:|---:|---:|")
    for (mode, objective), nz in sizes.items():
        cross = next((N for N in grid if all(nz[M] < z[M] for M in grid if M >= N)), None)
        at = f"{nz[1000] / z[1000]:.2f}" if 1000 in nz else "-"
        print(f"| {mode} | {objective} | {cross if cross else 'none'} | {at} | {nz[grid[-1]] / z[grid[-1]]:.2f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=("sweep", "depth", "matrix", "crossover"))
    ap.add_argument("--n", type=int, nargs="+", default=None)
    ap.add_argument("--d", type=int, default=2)
    ap.add_argument("--C", type=int, default=2)
    ap.add_argument("--mode", default="delta")
    ap.add_argument("--stage2", default="wide")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--L", type=int, nargs="+", default=[20, 30, 50, 80, 120, 160, 200, 240, 320])
    ap.add_argument("--verify-max", type=int, default=10**5)
    ap.add_argument("--zhang-max", type=int, default=10**5)
    ap.add_argument("--max", type=int, default=3000)
    ap.add_argument("--jobs", type=int, default=None)
    args = ap.parse_args()
    if args.n is None:
        args.n = {"sweep": [10**2, 10**3, 10**4, 10**5, 10**6], "depth": [10**4], "matrix": [10**4]}.get(
            args.what, [10**4]
        )
    {"sweep": sweep, "depth": depth, "matrix": matrix, "crossover": crossover}[args.what](args)


if __name__ == "__main__":
    main()
