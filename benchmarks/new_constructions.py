"""mikulincer2022 and dirksen2023 at N = 10^4 (d in {2, 10}): build time, sizes, and the exact size formulas.

    python3 benchmarks/new_constructions.py [--n 10000]

Random data as in tests/test_mikulincer2022.py (integer grid points, labels floor(sum x / 50): monotone) and
tests/test_dirksen2023.py (Gaussian points, random 0/1 labels: the worst geometry). Prints one row per run;
timings are never asserted.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import cases  # noqa: E402

from netcert import dataset  # noqa: E402
from netcert.constructions import dirksen2023, mikulincer2022  # noqa: E402
from netcert.engine import evaluate  # noqa: E402


def row(name: str, module, data: dataset.Dataset) -> None:
    t0 = time.perf_counter()
    problems = module.check(data, {})
    t1 = time.perf_counter()
    G = module.build(data)
    t2 = time.perf_counter()
    m = cases.claims_hold(G, data, module.size)  # raises when a formula does not hold
    exact = evaluate.run(G, data, jobs=1).exact
    print(
        f"{name:16} n={data.n:6} d={data.d:3} check {t1 - t0:6.1f}s build {t2 - t1:6.1f}s  depth {m.depth}  "
        f"neurons {m.neurons:7,}  nonzero {m.params_nonzero:9,}  formulas hold  exact={exact}  {problems or ''}"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=10_000)
    n = p.parse_args().n
    for d in (2, 10):
        rng = np.random.default_rng(0)
        X = np.unique(rng.integers(0, 1000, (n, d)), axis=0)
        row("mikulincer2022", mikulincer2022, dataset.from_arrays(X.astype(np.float64), X.sum(axis=1) // 50))
        G = rng.standard_normal((n, d))
        row("dirksen2023", dirksen2023, dataset.from_arrays(G, rng.integers(0, 2, n)))


if __name__ == "__main__":
    main()
