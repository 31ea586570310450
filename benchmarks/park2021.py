"""Benchmark park2021: the size sweep, the certification matrix, and the crossovers.

    python benchmarks/park2021.py sweep     [--n 100 1000 ...] [--verify-max 50000] [--variant counter]
    python benchmarks/park2021.py matrix    [--n 100 1000 10000] [--seeds 0 1] [--variants counter width3]
    python benchmarks/park2021.py crossover [--d 2] [--C 2] [--max 20000]

Data: docs/constructions/park2021.md section 11's: X ~ U[0, 1)^d (float64) and y ~ U{1..C} from numpy
``default_rng(seed)``, seed = 1000003 N + 101 d + C, which the build also uses
(projection and shifts), so the sizes compare with the reference rows of tests/test_park2021.py.
Every network is written to net.json and read back before it is evaluated.

- ``sweep``: for each N, build time, depth, width, dense and nonzero
  parameters, max and total weight bits, the choices (K0, halving and piece
  folds, K_f, B, A), Delta = diameter / min distance (exact, printed rounded;
  up to --delta-max); for N <= --verify-max the whole ``verify`` (evaluator on
  every point, all cores unless --jobs; kernel on a --sample point sample),
  its wall time, its CPU time (this process and the reaped pool workers) and
  verdict; zhang2017's and vardi2022's nonzero counts on the
  same data (built up to --others-max) and the trivial network
  (N - 1)(d + 2) + 1 dense; then log-log slopes of parameters vs N: between
  10^4 and 10^5, and least squares over N >= 10^4.
- ``matrix``: ``verify`` over N, d in {2, 10}, C in {2, 10}, the variants and
  seeds, plus tight clusters (Delta about 10^9) and scikit-learn's digits.
- ``crossover``: on a geometric grid, the smallest N from which park2021 has
  fewer parameters (nonzero, and dense) than zhang2017 and than vardi2022 at
  every larger grid point ("none" if it never stays below).

Times are wall-clock (``time.perf_counter``) on whatever machine runs this,
one run each; nothing is asserted.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from netcert import dataset, certify
from netcert.constructions import park2021, vardi2022, zhang2017
from netcert.formats import netjson
from netcert.ir import measures


def reference(N: int, d: int, C: int) -> tuple[np.ndarray, np.ndarray, int]:
    seed = 1000003 * N + 101 * d + C
    rng = np.random.default_rng(seed)
    X = rng.random((N, d))
    return X, rng.integers(1, C + 1, N), seed


def clusters(N: int, d: int, C: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """4 centres in [-1, 1]^d, points within 1e-9 of them: Delta about 10^9."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-1, 1, (4, d))
    X = np.vstack([c + rng.uniform(-1e-9, 1e-9, (N // 4, d)) for c in centres])
    return X, rng.integers(1, C + 1, len(X))


def _build(tmp: Path, X, y, **options):
    np.savez(tmp / "d.npz", X=X, y=y)
    t0 = time.perf_counter()
    data = dataset.load(tmp / "d.npz")
    G = park2021.build(data, **options)
    netjson.write(G, tmp / "net.json")
    return data, G, time.perf_counter() - t0


def _cpu() -> float:
    """CPU seconds of this process and of its reaped children (the evaluator's pool workers)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _verify(tmp: Path, data, args) -> tuple[dict, str]:
    """The certificate and "wall s (CPU s)" of the whole ``verify``."""
    t0, c0 = time.perf_counter(), _cpu()
    cert = certify.verify(
        tmp / "net.json", tmp / "d.npz", tmp / "c.cert.json", data=data, sample=args.sample, jobs=args.jobs
    )
    return cert, f"{time.perf_counter() - t0:.1f} ({_cpu() - c0:.0f})"


def _delta(data) -> str:
    dsq = park2021.delta_sq(data)
    return "-" if dsq is None else f"{math.sqrt(float(dsq)):.3g}"


def _slopes(rows: list[dict], key: str) -> tuple[float | None, float | None]:
    pts = {r["N"]: r[key] for r in rows}
    pair = math.log(pts[10**5] / pts[10**4]) / math.log(10) if 10**4 in pts and 10**5 in pts else None
    big = [(math.log(N), math.log(v)) for N, v in pts.items() if N >= 10**4]
    fit = None
    if len(big) >= 2:
        mx, my = sum(x for x, _ in big) / len(big), sum(y for _, y in big) / len(big)
        fit = sum((x - mx) * (y - my) for x, y in big) / sum((x - mx) ** 2 for x, _ in big)
    return pair, fit


def sweep(args) -> None:
    print(
        f"park2021 sweep: variant {args.variant}, d = {args.d}, C = {args.C}, docs/constructions/park2021.md section 11 data and seeds; "
        f"{platform.processor() or platform.machine()}, jobs {args.jobs or 'all cores'}, "
        f"kernel sample {args.sample}; "
        f"load average at start {os.getloadavg()[0]:.1f}"
    )
    print(
        "| N | K0 | folds H+M | K_f | B | A | depth | width | dense | nonzero | max bits | total bits | Delta | "
        "build s | verify s (CPU s) | verdict | zhang2017 nonzero | vardi2022 nonzero | trivial dense |"
    )
    print("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|")
    rows = []
    for N in args.n:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            X, y, seed = reference(N, args.d, args.C)
            data, G, tb = _build(tmp, X, y, seed=seed, variant=args.variant)
            m = measures.measure(G)
            o = G.graph["construction"]["options"]
            nh = sum(1 for f in o["folds"] if f["kind"] == "halving")
            verdict, tv = "-", "-"
            if N <= args.verify_max:
                cert, tv = _verify(tmp, data, args)
                verdict = cert["verdict"] + ("" if cert["construction"]["size"]["holds"] else " (formulas FAIL)")
            z = v = "-"
            if N <= args.others_max:
                z = f"{measures.measure(zhang2017.build(data)).params_nonzero:,}"
                v = f"{measures.measure(vardi2022.build(data)).params_nonzero:,}"
            delta = _delta(data) if N <= args.delta_max else "-"
            rows.append({"N": N, "dense": m.params_dense, "nonzero": m.params_nonzero, "bits": m.total_weight_bits})
            print(
                f"| {N:,} | {o['K0']:,} | {nh}+{len(o['folds']) - nh} | {o['K_f']:,} | {o['B']} | {o['A']} | "
                f"{m.depth} | {m.width} | {m.params_dense:,} | {m.params_nonzero:,} | {m.max_weight_bits} | "
                f"{m.total_weight_bits:,} | {delta} | {tb:.1f} | {tv} | {verdict} | "
                f"{z} | {v} | {(N - 1) * (args.d + 2) + 1:,} |",
                flush=True,
            )
    for key in ("dense", "nonzero", "bits"):
        pair, fit = _slopes(rows, key)
        if pair is not None or fit is not None:
            print(
                f"slope of {key} vs N: 10^4 -> 10^5 {pair if pair is None else f'{pair:.3f}'}, "
                f"least squares over N >= 10^4 {fit if fit is None else f'{fit:.3f}'}"
            )


def matrix(args) -> None:
    print(
        f"park2021 certification matrix (verify: evaluator on every point, kernel sample {args.sample}); "
        f"jobs {args.jobs or 'all cores'}"
    )
    print(
        "| data | N | d | C | variant | seed | depth | width | dense | nonzero | max bits | build s | verify s | "
        "verdict | formulas |"
    )
    print("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    cases = [
        ("uniform", N, d, C, variant, seed)
        for N in args.n
        for d in (2, 10)
        for C in (2, 10)
        for variant in args.variants
        for seed in args.seeds
    ]
    cases += [("clusters", 1000, 2, 3, variant, 0) for variant in args.variants]
    cases += [("digits", 1797, 64, 10, variant, 0) for variant in args.variants]
    for kind, N, d, C, variant, seed in cases:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            if kind == "digits":
                from sklearn.datasets import load_digits

                X, y = load_digits(return_X_y=True)
            elif kind == "clusters":
                X, y = clusters(N, d, C)
            else:
                X, y, _ = reference(N, d, C)
            data, G, tb = _build(tmp, X, y, seed=seed, variant=variant)
            cert, tv = _verify(tmp, data, args)
            s = cert["structure"]
            print(
                f"| {kind} | {data.n:,} | {d} | {C} | {variant} | {seed} | {s['depth']} | {s['width']} | "
                f"{s['params_dense']:,} | {s['params_nonzero']:,} | {s['max_weight_bits']} | {tb:.1f} | {tv} | "
                f"{cert['verdict']} | {'hold' if cert['construction']['size']['holds'] else 'FAIL'} |",
                flush=True,
            )


def crossover(args) -> None:
    top = int(math.floor(8 * math.log10(args.max) + 1e-9))
    grid = sorted({int(round(10 ** (k / 8))) for k in range(16, top + 1)} | {args.max})
    sizes: dict[str, dict[int, tuple[int, int]]] = {}
    for N in grid:
        X, y, seed = reference(N, args.d, args.C)
        data = dataset.from_arrays(X, y)
        for name, G in (
            ("park2021", park2021.build(data, seed=seed, variant=args.variant)),
            ("zhang2017", zhang2017.build(data)),
            ("vardi2022", vardi2022.build(data)),
        ):
            m = measures.measure(G)
            sizes.setdefault(name, {})[N] = (m.params_nonzero, m.params_dense)
    print(
        f"park2021 ({args.variant}) crossovers: d = {args.d}, C = {args.C}, N on a geometric grid of "
        f"{len(grid)} points from {grid[0]} to {grid[-1]}"
    )
    print("| against | by | crossover N | park / other at " + " | at ".join(f"{N:,}" for N in grid[::4]) + " |")
    print("|---|---|---:|" + "---:|" * len(grid[::4]))
    for other in ("zhang2017", "vardi2022"):
        for k, by in enumerate(("nonzero", "dense")):
            p, o = sizes["park2021"], sizes[other]
            cross = next((N for N in grid if all(p[M][k] < o[M][k] for M in grid if M >= N)), None)
            ratios = " | ".join(f"{p[N][k] / o[N][k]:.2f}" for N in grid[::4])
            print(f"| {other} | {by} | {cross if cross else 'none'} | {ratios} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=("sweep", "matrix", "crossover"))
    ap.add_argument("--n", type=int, nargs="+", default=None)
    ap.add_argument("--d", type=int, default=2)
    ap.add_argument("--C", type=int, default=2)
    ap.add_argument("--variant", default="counter")
    ap.add_argument("--variants", nargs="+", default=["counter", "width3"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--verify-max", type=int, default=5 * 10**4)
    ap.add_argument("--others-max", type=int, default=10**5)
    ap.add_argument("--delta-max", type=int, default=10**5)
    ap.add_argument("--sample", type=int, default=1000)
    ap.add_argument("--max", type=int, default=30_000)
    ap.add_argument("--jobs", type=int, default=None)
    args = ap.parse_args()
    if args.n is None:
        args.n = {
            "sweep": [10**2, 10**3, 10**4, 2 * 10**4, 5 * 10**4, 10**5, 10**6],
            "matrix": [100, 1000, 10_000],
        }.get(args.what, [10**4])
    {"sweep": sweep, "matrix": matrix, "crossover": crossover}[args.what](args)


if __name__ == "__main__":
    main()
