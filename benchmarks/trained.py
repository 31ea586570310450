"""Trained networks imported and verified exactly, beside what scikit-learn and onnxruntime say.

    python benchmarks/trained.py            # every case, one table (about a minute on 2 cores)
    python benchmarks/trained.py --only digits-mlp100

Each case trains (or writes) a model, exports it to ONNX (skl2onnx, or the onnx helper API for
the CNN), imports it with ``netcert.import_onnx``, writes net.json and runs ``certify.verify``
with the classification claim on its training points. The columns:

- ``exact``: the certificate's verdict (certified: every point's exact class is its label);
- ``misses``: the exact misses, ties included, and the first indices;
- ``vs sklearn`` / ``vs onnxruntime``: the points where the exact prediction differs from
  scikit-learn's ``predict`` (float64) or onnxruntime's label (float32 arithmetic); a tie counts
  as a disagreement, since both float routes name a class there;
- ``import+verify s``: wall seconds from the .onnx file to the certificate on disk.

The cases are item 4 of issue 18: the digits MLP (1,797 points, d = 64, 100 ReLUs), the
breast_cancer MLP, a small CNN (Conv, Relu, MaxPool, Gemm) on 8x8 digits, a model stopped early
that misses training points, and a point exactly on a decision boundary (a tie).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np


def _fit(X: np.ndarray, y: np.ndarray, hidden: tuple, iters: int, seed: int = 0):
    from sklearn.neural_network import MLPClassifier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return MLPClassifier(hidden_layer_sizes=hidden, max_iter=iters, random_state=seed).fit(X, y)


def _skl(X: np.ndarray, y: np.ndarray, hidden: tuple, iters: int, seed: int = 0) -> tuple:
    from skl2onnx import to_onnx

    model = _fit(X, y, hidden, iters, seed)
    return to_onnx(model, X[:1].astype(np.float32)), model.predict(X), None


def digits_mlp100() -> tuple:
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X, y, *_skl(X, y, (100,), 200))


def cancer_mlp() -> tuple:
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    X = X / X.max(axis=0)  # exact: a float64 division the dataset stores as is
    return (X, y, *_skl(X, y, (30,), 300))


def cancer_early_stop() -> tuple:
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    X = X / X.max(axis=0)
    return (X, y, *_skl(X, y, (3,), 8))


def digits_cnn() -> tuple:
    """Conv(4 channels, 3x3, pad 1) -> Relu -> MaxPool 2x2 -> Flatten -> Gemm(10), weights from a
    least-squares fit of the pooled features (no deep-learning framework needed)."""
    from onnx import TensorProto, helper, numpy_helper
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(0)
    K = rng.normal(size=(4, 1, 3, 3)).astype(np.float32)
    bk = np.zeros(4, dtype=np.float32)
    feats = _cnn_features(X.astype(np.float32), K)
    A = np.hstack([feats, np.ones((len(X), 1), dtype=np.float32)])
    onehot = np.eye(10)[y]
    sol = np.linalg.lstsq(A, onehot, rcond=None)[0].astype(np.float32)
    W, bw = sol[:-1].T.copy(), sol[-1].copy()
    nodes = [
        helper.make_node("Conv", ["x", "K", "bk"], ["c"], name="conv", pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("MaxPool", ["r"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "W", "bw"], ["s"], name="dense", transB=1),
        helper.make_node("ArgMax", ["s"], ["label"], name="argmax", axis=1, keepdims=0),
    ]
    graph = helper.make_graph(
        nodes,
        "digits-cnn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 8, 8])],
        [helper.make_tensor_value_info("label", TensorProto.INT64, ["N"])],
        [numpy_helper.from_array(a, n) for a, n in ((K, "K"), (bk, "bk"), (W, "W"), (bw, "bw"))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return X, y, model, None, (1, 8, 8)


def _cnn_features(X: np.ndarray, K: np.ndarray) -> np.ndarray:
    imgs = np.pad(X.reshape(-1, 8, 8), ((0, 0), (1, 1), (1, 1)))
    out = []
    for m in range(K.shape[0]):
        conv = sum(K[m, 0, a, b] * imgs[:, a : a + 8, b : b + 8] for a in range(3) for b in range(3))
        r = np.maximum(conv, 0)
        out.append(r.reshape(-1, 4, 2, 4, 2).max(axis=(2, 4)).reshape(len(X), -1))
    return np.concatenate(out, axis=1)


def boundary_tie() -> tuple:
    """Two scores x0 and x1; the point (1/2, 1/2) has both equal: a tie, a miss."""
    from onnx import TensorProto, helper, numpy_helper

    W = np.eye(2, dtype=np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "W"], ["s"], name="scores"),
            helper.make_node("Softmax", ["s"], ["p"], name="softmax", axis=1),
            helper.make_node("ArgMax", ["p"], ["label"], name="argmax", axis=1, keepdims=0),
        ],
        "tie",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2])],
        [helper.make_tensor_value_info("label", TensorProto.INT64, ["N"])],
        [numpy_helper.from_array(W, "W")],
    )
    X = np.array([[2.0, 1.0], [0.5, 0.5], [0.0, 1.0]])
    y = np.array([0, 0, 1])
    return X, y, helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), None, None


CASES: dict[str, Callable[[], tuple]] = {
    "digits-mlp100": digits_mlp100,
    "breast_cancer-mlp30": cancer_mlp,
    "breast_cancer-early-stop": cancer_early_stop,
    "digits-cnn": digits_cnn,
    "boundary-tie": boundary_tie,
}


def _ort_labels(path: Path, X: np.ndarray, shape: tuple | None) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = X.astype(np.float32).reshape((len(X), *shape) if shape else X.shape)
    outs = session.run(None, {session.get_inputs()[0].name: feed})
    return np.asarray(outs[0]).reshape(-1)


def run_case(name: str, work: Path) -> dict:
    """One row: import, verify, and the comparisons with the float routes."""
    from netcert import certify
    from netcert.formats import netjson
    from netcert.importers.onnx import import_onnx

    X, y, model, sk_pred, shape = CASES[name]()
    onnx_path = work / f"{name}.onnx"
    onnx_path.write_bytes(model.SerializeToString())
    np.savez(work / f"{name}.npz", X=X, y=y)
    start = time.perf_counter()
    G = import_onnx(onnx_path)
    netjson.write(G, work / f"{name}.json")
    cert = certify.verify(work / f"{name}.json", work / f"{name}.npz", work / f"{name}.cert.json")
    seconds = time.perf_counter() - start
    section = cert["classification"]
    exact, rows = _exact_predictions(G, work / f"{name}.npz")
    ort_labels = _ort_labels(onnx_path, X, shape)
    return {
        "case": name,
        "points": len(X),
        "exact": cert["verdict"],
        "misses": section["miss_count"],
        "first misses": [m["index"] for m in section["misses"][:5]],
        "vs sklearn": "-" if sk_pred is None else _disagree(exact, rows, sk_pred),
        "vs onnxruntime": _disagree(exact, rows, ort_labels),
        "seconds": seconds,
    }


def _exact_predictions(G, data_path: Path) -> tuple[list[str], tuple[int, ...]]:
    """Every distinct point's exact prediction (a class string or "tie"), and its row in the file."""
    from netcert import dataset
    from netcert.engine import claims, run

    ds = dataset.load(data_path)
    classes = G.graph["classes"]
    return [claims.predict(v, classes) for v in run.values(G, ds)], ds.kept


def _disagree(exact: list[str], rows: tuple[int, ...], other: np.ndarray) -> str:
    """How many distinct points the exact prediction and ``other`` (by file row) differ on."""
    diff = [i for i, p in enumerate(exact) if p != str(Fraction(float(other[rows[i]])))]
    return f"{len(diff)} {diff[:5]}" if diff else "0"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(CASES), help="comma-separated cases")
    args = parser.parse_args()
    header = ("case", "points", "exact", "misses", "first misses", "vs sklearn", "vs onnxruntime", "seconds")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    with tempfile.TemporaryDirectory(prefix="netcert-trained-") as tmp:
        for name in args.only.split(","):
            row = run_case(name, Path(tmp))
            row["seconds"] = f"{row['seconds']:.1f}"
            print("| " + " | ".join(str(row[h]) for h in header) + " |", flush=True)


if __name__ == "__main__":
    main()
