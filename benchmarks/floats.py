"""The bit-complexity table: what float64, float32 and bfloat16 get wrong, construction by construction.

    python benchmarks/floats.py                                   # every construction, N = 10^3 and 10^4
    python benchmarks/floats.py --sizes 1000,10000,100000         # the issue's full grid (long)
    python benchmarks/floats.py --only vardi2022 --sizes 10000 --runtime

For each construction and N, on N points uniform in the unit ball of R^10 on the 2^-30 grid with
labels U{1, 2} (``threshold.ball``, the data of benchmarks/all.py): the network is built, evaluated
exactly on every point, and audited (``netcert.audit``) in float64, float32, float16 and bfloat16.
Each row prints the largest weight in bits beside the fraction of points each type gets wrong
(diverging: the exact network interpolates the point, the float one does not round to its
label), the first layer where float64's error reached the margin (for its first diverging
point), and the seconds the exact evaluation and the audit took; a construction that refuses the
data or runs out of ``--budget`` seconds says so in its row. With ``--trained``, scikit-learn MLPs
on digits and breast_cancer are imported and audited by the classification claim. With
``--runtime``, onnxruntime's float64 count is printed beside netcert's. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

DTYPES = ("float64", "float32", "float16", "bfloat16")


def _row(name: str, N: int, runtime: bool, queue) -> None:
    import numpy as np

    from netcert import api, audit, floats
    from netcert.dataset import from_arrays
    from netcert.engine.run import values
    from netcert.ir import measures
    from threshold import ball

    X, y = ball(N, 10, 2, 0)
    data = from_arrays(np.asarray(X, dtype=float), np.asarray(y))
    try:
        G = api.build(data, name)
    except Exception as e:  # a construction that refuses the data says why in its row
        queue.put({"name": name, "N": N, "error": str(e).splitlines()[0][:70]})
        return
    t0 = time.perf_counter()
    exact = values(G, data)
    t1 = time.perf_counter()
    fmts = [floats.FORMATS[d] for d in DTYPES]
    result = audit.audit(
        G, data, fmts, audit.claim_for(G, data), exact_outputs=exact, runtime="yes" if runtime else "no"
    )
    t2 = time.perf_counter()
    first = result.formats[0].divergences[:1]
    queue.put(
        {
            "name": name,
            "N": N,
            "bits": measures.measure(G).max_weight_bits,
            "wrong": {f.dtype: len(f.diverging) / N for f in result.formats},
            "layer": first[0].layer if first else None,
            "depth": max(L.index for L in floats.layers(G)),
            "runtime": result.formats[0].runtime,
            "exact_s": t1 - t0,
            "audit_s": t2 - t1,
        }
    )


def _trained(queue) -> None:
    """scikit-learn MLPs (hidden 100 ReLUs) on digits and breast_cancer, imported exactly and audited."""
    from sklearn.datasets import load_breast_cancer, load_digits
    from sklearn.neural_network import MLPClassifier

    import netcert
    from netcert import audit, floats
    from netcert.dataset import from_arrays

    for label, loader in (("digits MLP", load_digits), ("breast_cancer MLP", load_breast_cancer)):
        X, y = loader(return_X_y=True)
        model = MLPClassifier(hidden_layer_sizes=(100,), max_iter=300, random_state=0).fit(X, y)
        G = netcert.from_sklearn(model)
        data = from_arrays(X.astype(float), y)
        t0 = time.perf_counter()
        result = audit.audit(G, data, [floats.FORMATS[d] for d in DTYPES], audit.claim_for(G, data), runtime="no")
        queue.put(
            {
                "name": label,
                "N": data.n,
                "bits": None,
                "wrong": {f.dtype: len(f.diverging) / data.n for f in result.formats},
                "layer": None,
                "depth": 2,
                "runtime": None,
                "exact_s": 0.0,
                "audit_s": time.perf_counter() - t0,
            }
        )


def _run(target, args, budget: float) -> list[dict]:
    queue = mp.get_context("fork").Queue()
    p = mp.get_context("fork").Process(target=target, args=(*args, queue))
    p.start()
    p.join(budget)
    if p.is_alive():
        p.kill()
        p.join()
        return [{"name": args[0] if args else "trained", "N": args[1] if args else 0, "error": f"over {budget:g} s"}]
    out = []
    while not queue.empty():
        out.append(queue.get())
    return out or [{"name": args[0] if args else "trained", "N": args[1] if args else 0, "error": "no result"}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--only", default=None, help="comma-separated constructions")
    parser.add_argument("--budget", type=float, default=600.0, help="seconds per row")
    parser.add_argument("--runtime", action="store_true", help="also run float64 through onnxruntime")
    parser.add_argument("--trained", action="store_true", help="also the scikit-learn MLPs")
    args = parser.parse_args()
    from netcert.constructions import registry

    names = args.only.split(",") if args.only else sorted(registry.CONSTRUCTIONS)
    header = f"{'construction':18} {'N':>7} {'max bits':>8} " + " ".join(f"{d + ' wrong':>15}" for d in DTYPES)
    print(header + f" {'f64 from layer':>14} {'exact s':>8} {'audit s':>8}  onnxruntime float64")
    rows = [(name, int(N)) for N in args.sizes.split(",") for name in names]
    for name, N in rows:
        for r in _run(_row, (name, N, args.runtime), args.budget):
            _print(r)
    if args.trained:
        for r in _run(_trained, (), args.budget):
            _print(r)


def _print(r: dict) -> None:
    if "error" in r:
        print(f"{r['name']:18} {r['N']:>7} {'':>8} {r['error']}")
        return
    wrong = " ".join(f"{r['wrong'][d]:>15.2%}" for d in DTYPES)
    layer = "-" if r["layer"] is None else f"{r['layer']} of {r['depth']}"
    rt = r["runtime"] or {}
    rts = "-" if not rt else rt.get("skipped", f"{rt.get('diverging')} diverge, same points: {rt.get('same_points')}")
    bits = "-" if r["bits"] is None else r["bits"]
    print(f"{r['name']:18} {r['N']:>7} {bits:>8} {wrong} {layer:>14} {r['exact_s']:>8.1f} {r['audit_s']:>8.1f}  {rts}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
