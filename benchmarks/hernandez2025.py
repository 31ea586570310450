"""Benchmark hernandez2025: build, certify, width and depth at N = 10^2, 10^3, 10^4.

    python benchmarks/hernandez2025.py                 # N = 100, 1000, 10000; d = 2 and 10
    python benchmarks/hernandez2025.py --n 100 1000    # smaller
    python benchmarks/hernandez2025.py --sample 100    # the kernel re-evaluates 100 points

For each (N, d): uniform points in [-1, 1]^d (float64, numpy seed N + d) with
labels in 0..2, written to an .npz; the network is built (timed), written, and
certified by ``netcert.certify.verify`` (timed: the evaluator on every point,
the kernel on its sample). The table shows the measured depth and width, the
theorem's bound 2N + 4M - 1, whether every exact size formula held, and the
verdict. The script exits 1 if any run is not certified, its width is not 2,
or its depth is over the bound. Times are for people, never asserted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from netcert import certify, dataset
from netcert.constructions import hernandez2025
from netcert.formats import netjson


def run(N: int, d: int, sample: int, tmp: Path) -> tuple[str, bool]:
    """One (N, d) row of the table, and whether it met the claims."""
    rng = np.random.default_rng(N + d)
    path = tmp / f"data-{N}-{d}.npz"
    np.savez(path, X=rng.uniform(-1, 1, (N, d)), y=rng.integers(0, 3, N))
    data = dataset.load(path)
    t0 = time.perf_counter()
    G = hernandez2025.build(data)
    build_s = time.perf_counter() - t0
    netjson.write(G, tmp / "net.json")
    t0 = time.perf_counter()
    cert = certify.verify(tmp / "net.json", path, tmp / "net.cert.json", sample=sample)
    verify_s = time.perf_counter() - t0
    s, c = cert["structure"], cert["construction"]
    bound = c["theorem"]["bound"]["value"]
    ok = cert["verdict"] == "certified" and s["width"] == 2 and s["depth"] <= bound and c["size"]["holds"]
    row = (
        f"| {N:,} | {d} | {s['depth']:,} | {s['width']} | {bound:,} | {s['params_nonzero']:,} | "
        f"{c['size']['holds']} | {cert['verdict']} | {build_s:.1f} | {verify_s:.1f} |"
    )
    return row, ok


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, nargs="+", default=[100, 1000, 10_000])
    p.add_argument("--d", type=int, nargs="+", default=[2, 10])
    p.add_argument("--sample", type=int, default=1000, help="points the kernel re-evaluates")
    args = p.parse_args()
    print("| N | d | depth | width | 2N + 4M - 1 | nonzero | formulas hold | verdict | build s | verify s |")
    print("|---:|---:|---:|---:|---:|---:|---|---|---:|---:|")
    good = True
    with tempfile.TemporaryDirectory() as tmp:
        for N in args.n:
            for d in args.d:
                row, ok = run(N, d, args.sample, Path(tmp))
                print(row, flush=True)
                good = good and ok
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
