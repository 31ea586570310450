"""Certify a construction over the acceptance matrix and print one row per case.

    python benchmarks/certify_matrix.py [--construction zhang2017] [--n 10000] [--d 1 2 10 50] [--sample 1000]

Random float32 Gaussian data (float64 for d = 1), integer labels in -3..3 or
real labels in (-1, 1), seed = n + d. Each row: build time (construction and
writing net.json), the fast evaluator alone on every point (its time and
points/s, compile included), the whole ``verify`` (reading both files,
separation, evaluator again, kernel on --sample points, certificate), the
verdict, sizes, and the kernel's points. Heavy: minutes at n = 10^4, d = 50.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from netcert import dataset, certify
from netcert.engine import evaluate
from netcert.constructions import registry
from netcert.formats import netjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from cases import random_data  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--construction", default="zhang2017")
    ap.add_argument("--labels", nargs="+", default=["integer", "real"])
    ap.add_argument("--n", type=int, nargs="+", default=[10_000])
    ap.add_argument("--d", type=int, nargs="+", default=[1, 2, 10, 50])
    ap.add_argument("--sample", type=int, default=1000)
    args = ap.parse_args()
    build = registry.get(args.construction).build
    print(f"{args.construction}:")
    print(
        "| n | d | labels | build s | eval s | points/s | verify s | verdict | kernel points | width | neurons | "
        "params nonzero | max bits |"
    )
    print("|---:|---:|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|")
    for n in args.n:
        for d in args.d:
            for labels in args.labels:
                with tempfile.TemporaryDirectory() as tmp:
                    tmp = Path(tmp)
                    X, y = random_data(n, d, labels, seed=n + d)
                    np.savez(tmp / "d.npz", X=X, y=y)
                    t0 = time.perf_counter()
                    G = build(dataset.load(tmp / "d.npz"))
                    netjson.write(G, tmp / "net.json")
                    t1 = time.perf_counter()
                    tb = t1 - t0
                    ev = evaluate.run(G, dataset.load(tmp / "d.npz"))
                    te = time.perf_counter() - t1
                    assert ev.exact
                    t1 = time.perf_counter()
                    cert = certify.verify(tmp / "net.json", tmp / "d.npz", tmp / "c.cert.json", sample=args.sample)
                    t2 = time.perf_counter()
                    s = cert["structure"]
                    print(
                        f"| {n} | {d} | {labels} | {tb:.2f} | {te:.2f} | {n / te:,.0f} | {t2 - t1:.2f} | "
                        f"{cert['verdict']} | "
                        f"{cert['checker']['points_checked']} | {s['width']} | {s['neurons']} | {s['params_nonzero']} | "
                        f"{s['max_weight_bits']} |",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
