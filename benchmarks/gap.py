"""Gradient descent against the constructions: the smallest certified width m* over a grid of data.

    python benchmarks/gap.py                              # the whole grid (hours; cells over budget say so)
    python benchmarks/gap.py --n 100,300 --d 2,10 --C 2   # a corner of it
    python benchmarks/gap.py --real                       # digits and breast_cancer only

Cells: n in {100, 300, 1000, 3000}, d in {2, 10, 50}, random labels with C in {2, 10}, points
uniform in [-1, 1]^d or Gaussian; and scikit-learn's digits and breast_cancer. Each cell runs
``netcert.gap.search`` with ``--widths auto`` (doubling, then bisection), one hidden layer, Adam,
``--seeds`` seeds, a width memorizing when any seed is certified exactly (classification claim,
ties are misses). Printed per cell: m*, m* beside n/d (Baum's neurons), 4n/d (Bubeck et al.'s)
and sqrt(n), the parameters at m*, and the seconds; a cell over ``--budget`` seconds prints what
it reached. Then, per d, the least-squares slope of log m* against log n over the uniform cells
with C = 2. Every certificate is written under ``--out`` and can be checked with ``netcert check``.
Nothing is asserted.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np


def cell(X: np.ndarray, y: np.ndarray, out: Path, seeds: int, budget: float, epochs: int) -> dict:
    from netcert import gap
    from netcert.dataset import load

    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / "data.npz", X=X, y=y)
    data = load(out / "data.npz")
    setup = gap.Setup(epochs=epochs)
    start = time.monotonic()

    def try_width(m: int) -> list:
        return [gap.one_run(data, out / "data.npz", out, m, s, setup) for s in range(seeds)]

    result = gap.search(None, try_width, deadline=start + budget)
    m = result.m_star
    params = result.runs[m][0].params if m else None
    return {"n": data.n, "d": data.d, "m": m, "params": params, "s": time.monotonic() - start, "note": result.stopped}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", default="100,300,1000,3000")
    parser.add_argument("--d", default="2,10,50")
    parser.add_argument("--C", default="2,10")
    parser.add_argument("--dist", default="uniform,gaussian")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3000)
    parser.add_argument("--budget", type=float, default=600.0, help="seconds per cell")
    parser.add_argument("--real", action="store_true", help="only digits and breast_cancer")
    parser.add_argument("--out", type=Path, default=Path("gap-bench"))
    args = parser.parse_args()
    print(f"{'data':28} {'n':>5} {'d':>3} {'m*':>5} {'n/d':>6} {'4n/d':>6} {'sqrt n':>6} {'params':>7} {'s':>7}  note")
    slopes: dict[int, list[tuple[float, float]]] = {}
    cells = (
        []
        if args.real
        else [
            (dist, int(n), int(d), int(C))
            for dist in args.dist.split(",")
            for d in args.d.split(",")
            for C in args.C.split(",")
            for n in args.n.split(",")
        ]
    )
    for dist, n, d, C in cells:
        rng = np.random.default_rng(n * 1000 + d * 10 + C)
        X = rng.uniform(-1, 1, size=(n, d)) if dist == "uniform" else rng.normal(size=(n, d))
        y = rng.integers(0, C, size=n)
        r = cell(X, y, args.out / f"{dist}-n{n}-d{d}-C{C}", args.seeds, args.budget, args.epochs)
        _print(f"{dist}, C = {C}", r)
        if dist == "uniform" and C == 2 and r["m"]:
            slopes.setdefault(d, []).append((math.log(n), math.log(r["m"])))
    from sklearn.datasets import load_breast_cancer, load_digits

    for name, loader in (("digits", load_digits), ("breast_cancer", load_breast_cancer)):
        X, y = loader(return_X_y=True)
        _print(name, cell(X, y, args.out / name, args.seeds, args.budget, args.epochs))
    for d, pts in sorted(slopes.items()):
        if len(pts) >= 2:
            x, yv = np.array(pts).T
            print(f"d = {d}: slope of log m* against log n = {np.polyfit(x, yv, 1)[0]:.2f} over {len(pts)} cells")


def _print(label: str, r: dict) -> None:
    n, d = r["n"], r["d"]
    m = "-" if r["m"] is None else r["m"]
    params = "-" if r["params"] is None else r["params"]
    print(
        f"{label:28} {n:>5} {d:>3} {m:>5} {n / d:>6.0f} {4 * n / d:>6.0f} {math.sqrt(n):>6.1f} {params:>7} "
        f"{r['s']:>7.0f}  {r['note']}"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
