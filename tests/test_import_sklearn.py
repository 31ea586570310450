"""from_sklearn and from_layers (netcert.importers): the exact network of trained weights.

Each imported network is evaluated here by a Fraction evaluator of its own (the plainest reading
of specs/README.md 3.5) and compared with the exact computation on the stored weights, with
numpy's float computation at float tolerance, and with scikit-learn's ``predict``.
"""

from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np
import pytest

import netcert
from netcert.errors import InputError, UsageError
from netcert.formats import netjson
from netcert.ir import validate

sklearn = pytest.importorskip("sklearn")
from sklearn.datasets import load_breast_cancer, load_iris  # noqa: E402
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402


def forward(G, x):
    """The exact outputs of G at x (a list of Fractions), straight from the definition."""
    value = {v: Fraction(c) for v, c in zip(G.graph["inputs"], x, strict=True)}
    for v in sorted(G.nodes, key=lambda u: G.nodes[u]["layer"]):
        a = G.nodes[v]
        if a["activation"] == "input":
            continue
        z = Fraction(str(a["bias"])) + sum(Fraction(str(w)) * value[u] for u, _, w in G.in_edges(v, data="weight"))
        act = a["activation"]
        if act == "relu":
            z = max(z, Fraction(0))
        elif act == "leaky_relu":
            z = z if z >= 0 else Fraction(str(a["slope"])) * z
        elif act == "threshold":
            z = Fraction(int(z >= 0))
        value[v] = z
    return [value[v] for v in G.graph["outputs"]]


def exact_mlp(coefs, intercepts, x, hidden="relu"):
    """The same function on the stored floats, as Fractions (W as scikit-learn stores it)."""
    v = [Fraction(float(c)) for c in x]
    for k, (W, b) in enumerate(zip(coefs, intercepts, strict=True)):
        v = [
            Fraction(float(b[j])) + sum(Fraction(float(W[i, j])) * v[i] for i in range(len(v)))
            for j in range(W.shape[1])
        ]
        if k < len(coefs) - 1 and hidden == "relu":
            v = [max(z, Fraction(0)) for z in v]
    return v


def predicted(G, outs):
    classes = G.graph["classes"]
    if len(outs) == 1:
        return None if outs[0] == 0 else classes[1] if outs[0] > 0 else classes[0]
    top = max(outs)
    return None if outs.count(top) > 1 else classes[outs.index(top)]


@pytest.fixture(scope="module")
def iris_model():
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return MLPClassifier(hidden_layer_sizes=(8,), max_iter=300, random_state=0).fit(X, y), X, y


@pytest.fixture(scope="module")
def cancer_model():
    X, y = load_breast_cancer(return_X_y=True)
    X = X[:120] / X.max(axis=0)
    y = y[:120]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return MLPClassifier(hidden_layer_sizes=(6,), max_iter=300, random_state=1).fit(X, y), X, y


def test_multiclass_network_is_the_models_exact_function(iris_model):
    model, X, y = iris_model
    G = netcert.from_sklearn(model)
    assert validate.errors(validate.validate(G)) == []
    assert G.graph["classes"] == ["0", "1", "2"] and G.graph["dropped"] == "softmax"
    assert len(G.graph["outputs"]) == 3 and len(G.graph["inputs"]) == 4
    logits = X @ model.coefs_[0] + model.intercepts_[0]
    logits = np.maximum(logits, 0) @ model.coefs_[1] + model.intercepts_[1]
    for i in range(0, len(X), 15):
        outs = forward(G, [Fraction(float(c)) for c in X[i]])
        assert outs == exact_mlp(model.coefs_, model.intercepts_, X[i])
        assert np.allclose([float(o) for o in outs], logits[i], rtol=1e-9, atol=1e-9)
    exact_pred = [predicted(G, forward(G, [Fraction(float(c)) for c in x])) for x in X]
    assert exact_pred == [str(p) for p in model.predict(X)]


def test_binary_classifier_has_one_output_and_two_classes(cancer_model):
    model, X, _ = cancer_model
    G = netcert.from_sklearn(model)
    assert len(G.graph["outputs"]) == 1
    assert G.graph["classes"] == ["0", "1"] and G.graph["dropped"] == "sigmoid"
    exact_pred = [predicted(G, forward(G, [Fraction(float(c)) for c in x])) for x in X]
    assert exact_pred == [str(p) for p in model.predict(X)]


def test_float32_rounds_the_weights_first(iris_model):
    model, X, _ = iris_model
    G64, G32 = netcert.from_sklearn(model), netcert.from_sklearn(model, dtype="float32")
    assert netjson.to_bytes(G64) != netjson.to_bytes(G32)
    w = next(iter(G32.edges(data="weight")))[2]
    assert w.denominator & (w.denominator - 1) == 0  # a dyadic
    assert Fraction(float(np.float32(float(w)))) == Fraction(str(w))  # representable in float32


def test_regressor_has_no_classes():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = X[:, 0] - 2 * X[:, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MLPRegressor(hidden_layer_sizes=(5, 4), max_iter=200, random_state=0).fit(X, y)
    G = netcert.from_sklearn(model)
    assert "classes" not in G.graph and len(G.graph["outputs"]) == 1
    assert [n for n in G.nodes if G.nodes[n]["layer"] == 3] == ["out[0]"]
    outs = forward(G, [Fraction(float(c)) for c in X[3]])
    assert outs == exact_mlp(model.coefs_, model.intercepts_, X[3])
    assert abs(float(outs[0]) - model.predict(X[3:4])[0]) < 1e-9


def test_from_layers_equals_from_sklearn(iris_model):
    model, _, _ = iris_model
    layers = [(model.coefs_[0].T, model.intercepts_[0], "relu"), (model.coefs_[1].T, model.intercepts_[1], "identity")]
    G = netcert.from_layers(layers, classes=[0, 1, 2], dropped="softmax")
    assert netjson.to_bytes(G) == netjson.to_bytes(netcert.from_sklearn(model))


def test_from_layers_names_layers_and_keeps_zero_weights_out():
    W1 = np.array([[1.0, 0.0], [0.5, -0.25], [0.0, 0.0]])
    G = netcert.from_layers(
        [(W1, np.array([0.0, 1.0, 2.0]), "leaky_relu", 0.125), (np.array([[1, 2, 3]]), None, "relu")]
    )
    assert sorted(G.nodes) == ["h1[0]", "h1[1]", "h1[2]", "out[0]", "x[0]", "x[1]"]
    assert G.nodes["h1[1]"]["slope"] == Fraction(1, 8)
    assert G.nodes["out[0]"]["activation"] == "relu"  # a last relu layer is the outputs themselves
    assert G.number_of_edges() == 3 + 3  # the zero weights are no edges
    # at x = (-1, 1): W1 x + b = (-1, 1/4, 2), leaky -> (-1/8, 1/4, 2); out = relu(-1/8 + 1/2 + 6)
    assert forward(G, [Fraction(-1), Fraction(1)]) == [Fraction(51, 8)]


def test_two_identity_layers_compose_when_it_is_smaller():
    A = np.array([[1.0, 2.0]])  # 2 -> 1
    B = np.array([[3.0], [4.0]])  # 1 -> 2
    G = netcert.from_layers([(A, np.array([1.0]), "identity"), (B, np.array([0.0, 0.5]), "identity")])
    assert {G.nodes[v]["activation"] for v in G.nodes} == {"input", "identity"}
    assert forward(G, [Fraction(1), Fraction(1)]) == [Fraction(12), Fraction(16) + Fraction(1, 2)]
    assert G.number_of_nodes() == 4  # composed: 2 inputs, 2 outputs, no middle neuron


@pytest.mark.parametrize(
    ("layers", "error", "fragment"),
    [
        ([(np.array([[np.nan, 1.0]]), None, "relu")], InputError, "NaN or infinity"),
        ([(np.array([[np.inf, 1.0]]), None, "relu")], InputError, "layer 1 W[0, 0]"),
        ([(np.ones((2, 3)), None, "relu"), (np.ones((2, 3)), None, "identity")], InputError, "3 columns for 2 inputs"),
        ([(np.ones((2, 3)), np.ones(3), "relu")], InputError, "b has shape (3,)"),
        ([(np.ones((2, 3)), None, "tanh")], UsageError, "unknown activation 'tanh'"),
        ([(np.ones((2, 3)), None, "leaky_relu")], UsageError, "(W, b, 'leaky_relu', slope)"),
        ([(np.array([["a"]]), None, "relu")], InputError, "not numbers"),
        ([], UsageError, "at least one layer"),
    ],
)
def test_from_layers_refuses(layers, error, fragment):
    with pytest.raises(error, match=None) as info:
        netcert.from_layers(layers)
    assert fragment in str(info.value)


def test_from_sklearn_refuses_what_is_not_exact():
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tanh = MLPClassifier(hidden_layer_sizes=(3,), activation="tanh", max_iter=5).fit(X, y)
        named = MLPClassifier(hidden_layer_sizes=(3,), max_iter=5).fit(X, np.array(["a", "b", "c"])[y])
    with pytest.raises(InputError, match="activation 'tanh' has no exact value"):
        netcert.from_sklearn(tanh)
    with pytest.raises(InputError, match="the class label 'a' is not a number"):
        netcert.from_sklearn(named)
    assert netcert.from_sklearn(named, classes=[0, 1, 2]).graph["classes"] == ["0", "1", "2"]
    with pytest.raises(UsageError, match="not fitted"):
        netcert.from_sklearn(MLPClassifier())
    with pytest.raises(UsageError, match="MLPClassifier or MLPRegressor"):
        netcert.from_sklearn(object())
