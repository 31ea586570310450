"""import_onnx and `netcert import` (netcert.importers.onnx, netcert.cli.trained).

Real cases: skl2onnx exports of scikit-learn MLPs (softmax and logistic), a small CNN written with
the onnx helper API (Conv, Relu, MaxPool, Flatten, Gemm), a model that misses training points and
a point on a decision boundary. Each imported network is compared with onnxruntime at float
tolerance, with an exact Fraction computation of the same graph, and verified exactly.
Malformed files give one line and exit 3.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import netcert
from netcert.errors import InputError, UsageError
from netcert.formats import netjson

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_digits  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402

from tests.test_import_sklearn import forward, predicted  # noqa: E402


def save(model, path: Path) -> Path:
    path.write_bytes(model.SerializeToString())
    return path


def run_ort(path: Path, X: np.ndarray) -> list:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return session.run(None, {name: X})


def fit(X, y, hidden, seed=0, iters=60):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return MLPClassifier(hidden_layer_sizes=hidden, max_iter=iters, random_state=seed).fit(X, y)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:400], y[:400]


# ---------------------------------------------------------------- scikit-learn through skl2onnx


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_skl2onnx_multiclass_is_byte_identical_to_from_sklearn(tmp_path, digits, dtype):
    X, y = digits
    model = fit(X, y, (16,))
    options = {"zipmap": False} if dtype == "float64" else None  # onnxruntime has no ZipMap of doubles
    path = save(skl2onnx.to_onnx(model, X[:1].astype(dtype), options=options), tmp_path / "m.onnx")
    G = netcert.import_onnx(path)
    assert netjson.to_bytes(G) == netjson.to_bytes(netcert.from_sklearn(model, dtype=dtype))
    assert G.graph["classes"] == [str(c) for c in range(10)] and G.graph["dropped"] == "softmax"
    labels, _ = run_ort(path, X[:40].astype(dtype))
    for i in range(40):
        outs = forward(G, [Fraction(float(c)) for c in X[i]])
        assert predicted(G, outs) == str(labels[i]) == str(model.predict(X[i : i + 1])[0])


def test_skl2onnx_binary_is_one_output_with_two_classes(tmp_path):
    X, y = load_breast_cancer(return_X_y=True)
    X, y = X[:150] / X.max(axis=0), y[:150]
    model = fit(X, y, (5,), seed=2, iters=200)
    path = save(skl2onnx.to_onnx(model, X[:1].astype(np.float64), options={"zipmap": False}), tmp_path / "b.onnx")
    G = netcert.import_onnx(path)
    assert G.graph["outputs"] == ["out[0]"] and G.graph["classes"] == ["0", "1"]
    assert G.graph["dropped"] == "sigmoid"
    assert netjson.to_bytes(G) == netjson.to_bytes(netcert.from_sklearn(model))
    _, probabilities = run_ort(path, X)
    for i in range(0, 150, 10):
        (f,) = forward(G, [Fraction(float(c)) for c in X[i]])
        p = probabilities[i][1]
        assert abs(1 / (1 + np.exp(-float(f))) - p) < 1e-9


def test_digits_certified_and_agrees_with_predict(tmp_path, digits):
    from netcert import certify

    X, y = digits
    model = fit(X, y, (16,))
    path = save(skl2onnx.to_onnx(model, X[:1].astype(np.float32)), tmp_path / "m.onnx")
    netjson.write(netcert.import_onnx(path), tmp_path / "net.json")
    np.savez(tmp_path / "d.npz", X=X, y=y)
    cert = certify.verify(tmp_path / "net.json", tmp_path / "d.npz", tmp_path / "net.cert.json", jobs=1)
    section = cert["classification"]
    sklearn_misses = [int(i) for i in np.flatnonzero(model.predict(X) != y)]
    assert [m["index"] for m in section["misses"]] == sklearn_misses[:10]
    assert section["miss_count"] == len(sklearn_misses)
    assert cert["verdict"] == ("certified" if not sklearn_misses else "refuted")
    assert cert["construction"] is None


def test_misses_are_listed_exactly(tmp_path):
    """A small network trained briefly misses some training points: refuted, each miss named."""
    from netcert import certify

    X, y = load_breast_cancer(return_X_y=True)
    X, y = X[:200] / X.max(axis=0), y[:200]
    model = fit(X, y, (2,), seed=0, iters=15)
    wrong = np.flatnonzero(model.predict(X) != y)
    assert 0 < len(wrong) < 200
    netjson.write(netcert.from_sklearn(model), tmp_path / "net.json")
    np.savez(tmp_path / "d.npz", X=X, y=y)
    cert = certify.verify(tmp_path / "net.json", tmp_path / "d.npz", tmp_path / "net.cert.json", jobs=1)
    section = cert["classification"]
    assert cert["verdict"] == "refuted" and section["correct"] is False
    assert section["miss_count"] == len(wrong)
    assert [m["index"] for m in section["misses"]] == [int(i) for i in wrong[:10]]
    assert all(m["predicted"] == str(1 - y[m["index"]]) for m in section["misses"])


# ---------------------------------------------------------------- a CNN written with the helper API


def cnn_model(rng: np.random.Generator) -> tuple:
    """x (1, 1, 4, 4) -> Conv 2x(3x3, pad 1) -> Relu -> MaxPool 2x2 -> Flatten -> Gemm -> 3 scores."""
    K = rng.normal(size=(2, 1, 3, 3)).astype(np.float32)
    bk = rng.normal(size=2).astype(np.float32)
    W = rng.normal(size=(3, 8)).astype(np.float32)
    bw = rng.normal(size=3).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "K", "bk"], ["c"], name="conv", pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("MaxPool", ["r"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p"], ["f"], name="flat", axis=1),
        helper.make_node("Gemm", ["f", "W", "bw"], ["s"], name="dense", transB=1, alpha=0.5),
    ]
    graph = helper.make_graph(
        nodes,
        "cnn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 4, 4])],
        [helper.make_tensor_value_info("s", TensorProto.FLOAT, ["N", 3])],
        [numpy_helper.from_array(a, n) for a, n in ((K, "K"), (bk, "bk"), (W, "W"), (bw, "bw"))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return model, (K, bk, W, bw)


def cnn_exact(x: np.ndarray, weights: tuple) -> list[Fraction]:
    """The CNN in Fractions, from the operators' definitions."""
    K, bk, W, bw = ([[Fraction(float(v)) for v in a.reshape(-1)], a.shape] for a in weights)
    img = [[Fraction(float(x[i * 4 + j])) for j in range(4)] for i in range(4)]
    k, ks = K
    pooled = []
    for m in range(2):
        conv = [[Fraction(0)] * 4 for _ in range(4)]
        for i in range(4):
            for j in range(4):
                z = bk[0][m]
                for a in range(3):
                    for b in range(3):
                        if 0 <= i + a - 1 < 4 and 0 <= j + b - 1 < 4:
                            z += k[m * 9 + a * 3 + b] * img[i + a - 1][j + b - 1]
                conv[i][j] = max(z, Fraction(0))
        pooled += [
            max(conv[2 * i + a][2 * j + b] for a in range(2) for b in range(2)) for i in range(2) for j in range(2)
        ]
    w, _ = W
    return [Fraction(1, 2) * sum(w[c * 8 + q] * pooled[q] for q in range(8)) + bw[0][c] for c in range(3)]


def test_cnn_matches_onnxruntime_and_the_exact_computation(tmp_path):
    rng = np.random.default_rng(7)
    model, weights = cnn_model(rng)
    onnx.checker.check_model(model)
    path = save(model, tmp_path / "cnn.onnx")
    G = netcert.import_onnx(path, classes=[0, 1, 2])
    assert G.graph["classes"] == ["0", "1", "2"] and "dropped" not in G.graph
    X = rng.normal(size=(12, 16)).astype(np.float32)
    (scores,) = run_ort(path, X.reshape(12, 1, 4, 4))
    for i in range(12):
        outs = forward(G, [Fraction(float(c)) for c in X[i]])
        assert outs == cnn_exact(X[i], weights)
        assert np.allclose([float(o) for o in outs], scores[i], rtol=1e-4, atol=1e-4)
    conv = [v for v in G.nodes if G.nodes[v]["layer"] == 1]
    assert len(conv) == 32  # 2 channels x 16 positions, one ReLU each
    assert max(G.in_degree(v) for v in conv) == 9 and min(G.in_degree(v) for v in conv) == 4  # sparse at corners


def test_tie_on_a_decision_boundary_is_a_miss(tmp_path):
    from netcert import certify

    W = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "W"], ["s"], name="scores"),
            helper.make_node("Softmax", ["s"], ["p"], name="softmax", axis=1),
        ],
        "tie",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])],
        [helper.make_tensor_value_info("p", TensorProto.FLOAT, [None, 2])],
        [numpy_helper.from_array(W, "W")],
    )
    path = save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "t.onnx")
    G = netcert.import_onnx(path, classes=[3, 5])
    assert G.graph["dropped"] == "softmax" and len(G.graph["outputs"]) == 2
    netjson.write(G, tmp_path / "net.json")
    X, y = np.array([[2.0, 1.0], [0.5, 0.5], [0.0, 1.0]]), np.array([3, 3, 5])
    np.savez(tmp_path / "d.npz", X=X, y=y)
    probabilities = run_ort(path, X.astype(np.float32))[0]
    assert probabilities[1][0] == probabilities[1][1]  # onnxruntime's argmax would say class 3
    cert = certify.verify(tmp_path / "net.json", tmp_path / "d.npz", tmp_path / "net.cert.json", jobs=1)
    misses = cert["classification"]["misses"]
    assert cert["verdict"] == "refuted"
    assert [(m["index"], m["predicted"]) for m in misses] == [(1, "tie")]


# ---------------------------------------------------------------- refusals


def tiny(op_nodes, inputs_shape=(None, 2), inits=(), out_shape=(None, 2)):
    graph = helper.make_graph(
        op_nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(inputs_shape))],
        [helper.make_tensor_value_info(op_nodes[-1].output[0], TensorProto.FLOAT, list(out_shape))],
        list(inits),
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def cli(*args: str):
    """`netcert import ARGS` in this process (click's runner; stdout and stderr apart)."""
    from click.testing import CliRunner

    from netcert.cli.trained import import_

    done = CliRunner().invoke(import_, list(args), prog_name="netcert import")
    done.returncode = done.exit_code
    return done


def test_a_subprocess_says_one_line_too(tmp_path):
    """The same contract outside the test runner: no traceback reaches stderr."""
    (tmp_path / "bad.onnx").write_bytes(b"\x0a\xff\xff")
    code = "import sys; from netcert.cli.trained import import_; import_(sys.argv[1:], prog_name='netcert import')"
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "bad.onnx"), "-o", str(tmp_path / "n.json")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 3 and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(f"netcert: error: {tmp_path / 'bad.onnx'}: not a readable ONNX file")


def good_model():
    W = numpy_helper.from_array(np.array([[1.0, -2.0], [0.5, 0.25]], dtype=np.float32), "W")
    return tiny([helper.make_node("MatMul", ["x", "W"], ["y"], name="mm")], inits=[W])


@pytest.fixture
def hostile(tmp_path):
    ok = save(good_model(), tmp_path / "ok.onnx")
    data = ok.read_bytes()
    (tmp_path / "truncated.onnx").write_bytes(data[: len(data) // 2])
    (tmp_path / "garbage.onnx").write_bytes(b"\xff\xfe not protobuf at all \x00\x01" * 10)
    save(tiny([helper.make_node("Tanh", ["x"], ["y"], name="squash")]), tmp_path / "tanh.onnx")
    custom = tiny([helper.make_node("Foo", ["x"], ["y"], name="mystery", domain="my.ops")])
    custom.opset_import.append(helper.make_opsetid("my.ops", 1))
    save(custom, tmp_path / "custom.onnx")
    save(tiny([helper.make_node("Relu", ["x"], ["y"], name="r")], inputs_shape=("N", "d")), tmp_path / "dynamic.onnx")
    nan = numpy_helper.from_array(np.array([[1.0, np.nan], [0.0, 1.0]], dtype=np.float32), "W")
    save(tiny([helper.make_node("MatMul", ["x", "W"], ["y"], name="mm")], inits=[nan]), tmp_path / "nan.onnx")
    square = tiny([helper.make_node("Mul", ["x", "x"], ["y"], name="sq")])
    save(square, tmp_path / "square.onnx")
    return tmp_path


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("truncated.onnx", "truncated.onnx: not a"),
        ("garbage.onnx", "garbage.onnx: not a readable ONNX file"),
        ("tanh.onnx", "operator Tanh (node 'squash') cannot be imported exactly: tanh of a rational"),
        ("custom.onnx", "operator Foo (node 'mystery') cannot be imported exactly: custom operator"),
        ("dynamic.onnx", "axis 1 is dynamic ('d') and does not resolve"),
        ("nan.onnx", "initializer 'W'[0, 1]: nan has no exact value"),
        ("square.onnx", "operator Mul (node 'sq') cannot be imported exactly: the product of two"),
        ("missing.onnx", "missing.onnx: cannot read"),
    ],
)
def test_malformed_onnx_is_one_line_and_exit_3(hostile, name, fragment):
    done = cli(str(hostile / name), "-o", str(hostile / "out.json"))
    assert done.returncode == 3, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("netcert: error: "), done.stderr
    assert fragment in lines[0], lines[0]
    assert "Traceback" not in done.stderr and not (hostile / "out.json").exists()


def test_cli_writes_the_network_and_keeps_an_existing_file(hostile):
    out = hostile / "net.json"
    done = cli(str(hostile / "ok.onnx"), "-o", str(out), "--classes", "0,1")
    assert done.returncode == 0, done.stderr
    assert "imported ok.onnx: 2 inputs, 2 outputs" in done.stdout and "classes 0,1" in done.stdout
    assert json.loads(out.read_bytes())["graph"]["classes"] == ["0", "1"]
    again = cli(str(hostile / "ok.onnx"), "-o", str(out))
    assert again.returncode == 3 and "exists; pass --force" in again.stderr
    bad = cli(str(hostile / "ok.onnx"), "-o", str(out), "--force", "--classes", "0")
    assert bad.returncode == 2 and "at least two labels" in bad.stderr
    assert cli(str(hostile / "ok.onnx"), "-o", str(out), "--force").returncode == 0
    assert "classes" not in json.loads(out.read_bytes())["graph"]


def test_a_bigger_file_than_the_limit_is_refused_before_parsing(hostile, monkeypatch):
    monkeypatch.setenv("NETCERT_MAX_BYTES", "16")
    with pytest.raises(InputError, match="exceeds the limit of 16 bytes"):
        netcert.import_onnx(hostile / "ok.onnx")


def test_classes_that_contradict_the_model_are_refused(tmp_path, digits):
    X, y = digits
    model = fit(X[:100], y[:100] % 3, (4,), iters=5)
    path = save(skl2onnx.to_onnx(model, X[:1].astype(np.float32)), tmp_path / "m.onnx")
    with pytest.raises(UsageError, match="differs from the model's classes 0,1,2"):
        netcert.import_onnx(path, classes=[1, 2, 3])


def torch_like_model(W1, b1, W2, b2):
    """The graph torch.onnx.export writes for Linear -> ReLU -> Linear: Gemm with transB = 1."""
    graph = helper.make_graph(
        [
            helper.make_node("Gemm", ["input", "fc1.weight", "fc1.bias"], ["h"], name="/fc1/Gemm", transB=1),
            helper.make_node("Relu", ["h"], ["r"], name="/relu/Relu"),
            helper.make_node("Gemm", ["r", "fc2.weight", "fc2.bias"], ["logits"], name="/fc2/Gemm", transB=1),
        ],
        "main_graph",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch_size", W1.shape[1]])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch_size", W2.shape[0]])],
        [
            numpy_helper.from_array(a, n)
            for a, n in ((W1, "fc1.weight"), (b1, "fc1.bias"), (W2, "fc2.weight"), (b2, "fc2.bias"))
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_a_torch_export_and_from_layers_on_its_state_dict_are_byte_identical(tmp_path):
    rng = np.random.default_rng(3)
    W1, b1 = rng.normal(size=(6, 4)).astype(np.float32), rng.normal(size=6).astype(np.float32)
    W2, b2 = rng.normal(size=(3, 6)).astype(np.float32), rng.normal(size=3).astype(np.float32)
    path = save(torch_like_model(W1, b1, W2, b2), tmp_path / "torch.onnx")
    G = netcert.import_onnx(path, classes=[0, 1, 2])
    H = netcert.from_layers([(W1, b1, "relu"), (W2, b2, "identity")], classes=[0, 1, 2])
    assert netjson.to_bytes(G) == netjson.to_bytes(H)
    x = rng.normal(size=(5, 4)).astype(np.float32)
    (logits,) = run_ort(path, x)
    for i in range(5):
        outs = forward(G, [Fraction(float(c)) for c in x[i]])
        assert np.allclose([float(o) for o in outs], logits[i], rtol=1e-5, atol=1e-5)


def test_without_the_onnx_extra_the_refusal_names_it(hostile, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # an import of onnx now fails as if absent
    with pytest.raises(UsageError, match=r"pip install 'netcert\[onnx\]'"):
        netcert.import_onnx(hostile / "ok.onnx")
