"""mikulincer2022 (docs/constructions/mikulincer2022.md): the monotone threshold network certified on random
monotone data and on two scikit-learn datasets with monotone labels, its exact sizes, positive edge weights,
and the refusal of data that is not monotone, naming the first violating pair."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import datasets as skdata

from netcert import dataset
from netcert.constructions import mikulincer2022 as mk
from netcert.engine import evaluate
from netcert.errors import PreconditionError
from netcert.exact import mpq
from netcert.ir import keys, measures

import cases
from cases import certify, opts


def below_count(X: np.ndarray) -> np.ndarray:
    """y_i = the number of other points x_j <= x_i coordinatewise: monotone, and strictly so on chains."""
    le = (X[None, :, :] <= X[:, None, :]).all(axis=2)
    return le.sum(axis=1) - 1


def grid_points(n: int, d: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.unique(rng.integers(0, 40, (n, d)), axis=0).astype(np.float64) / 8


def edge_weights_positive(G) -> None:
    assert all(w > 0 for _, _, w in G.edges(data=keys.WEIGHT))
    assert mpq(opts(G)["min_edge_weight"]) == min(w for _, _, w in G.edges(data=keys.WEIGHT))


@pytest.mark.parametrize(
    "n,d,labels,seed",
    [(100, 2, "below", 0), (100, 10, "sum", 1), (1000, 2, "sum", 2), (1000, 10, "below", 3), (1000, 2, "below", 4)],
)
def test_certified_on_random_monotone_data(tmp_path, n, d, labels, seed):
    X = grid_points(n, d, seed)
    y = below_count(X) if labels == "below" else np.floor(X.sum(axis=1)).astype(np.int64)
    cert, G, data = certify(tmp_path, X, y, mk.build, sample=50)
    assert cert["verdict"] == "certified", cert["checker"]["failures"] or cert["interpolation"]["mismatches"]
    c = cert["construction"]
    assert c["name"] == "mikulincer2022" and c["size"]["holds"]
    assert set(c["size"]["claims"]) == {"depth", "width", "neurons", "params_dense", "params_nonzero"}
    s, o = cert["structure"], c["options"]
    m = len(set(y.tolist()))
    assert (s["depth"], s["neurons"]) == (4, o["thresholds"] + o["and_units"] + m)
    assert o["levels"] == m and o["thresholds"] <= data.n * d and o["and_units"] <= data.n
    assert s["neurons"] <= c["theorem"]["bound"]["value"] == data.n * (d + 2)
    edge_weights_positive(G)


def test_exact_sizes_on_a_chain():
    """Four points on a chain with labels 0, 1, 1, 3: the AND units of points 0 (the lowest level) and 2 (a point
    of its level lies below it) are left out; level 1 reads point 1, level 3 point 3."""
    X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 1.0], [3.0, 2.0]])
    data = dataset.from_arrays(X, np.array([0, 1, 1, 3]))
    G = mk.build(data)
    m = cases.claims_hold(G, data, mk.size)
    o = opts(G)
    assert (o["levels"], o["and_units"], o["thresholds"], o["or_inputs"]) == (3, 2, 4, 2)
    # thresholds x0 >= 1, x0 >= 3, x1 >= 1, x1 >= 2; AND units of points 1 and 3; OR units of levels 1 and 3
    assert (m.depth, m.width, m.neurons) == (4, 4, 9)
    assert m.params_nonzero == 2 * 4 + 3 * 2 + 2 + 2 * 2 + 0
    assert m.params_dense == 3 * 4 + 5 * 2 + 3 * 2 + 3
    assert evaluate.outputs(G, data) == [mpq(v) for v in (0, 1, 1, 3)]
    assert [G.edges[u, "out"][keys.WEIGHT] for u in sorted(G.predecessors("out"))] == [1, 2]  # label gaps


def test_one_label_gives_the_constant_network():
    data = dataset.from_arrays(np.array([[0.5, 1.0], [2.0, 0.0]]), np.array([-7, -7]))
    G = mk.build(data)
    m = cases.claims_hold(G, data, mk.size)
    assert (m.depth, m.neurons, G.number_of_edges()) == (4, 1, 0)
    assert evaluate.outputs(G, data) == [mpq(-7)] * 2


@pytest.mark.parametrize("name", ["diabetes", "breast_cancer"])
def test_certified_on_sklearn_features_with_monotone_labels(tmp_path, name):
    """Real feature vectors (diabetes: 442 x 10; breast_cancer, first 6 features: 569 x 6) with the monotone
    label 'points below it' and a real label scale (thirds)."""
    X = getattr(skdata, f"load_{name}")().data
    X = X[:, :6] if name == "breast_cancer" else X
    y = below_count(X) / 3
    cert, G, data = certify(tmp_path, X, y, mk.build, sample=50)
    assert cert["verdict"] == "certified" and cert["construction"]["size"]["holds"]
    edge_weights_positive(G)


def test_real_data_that_is_not_monotone_is_refused_with_the_first_pair():
    iris = skdata.load_iris()
    data = dataset.from_arrays(iris.data, iris.target)
    (problem,) = mk.check(data, {})
    R, Y = mk.order_ranks(data)
    i, j = mk.first_violation(R, Y)
    # brute force: the lexicographically first comparable pair with its labels in the opposite order
    Xe, ye = [data.point(k) for k in range(data.n)], data.labels
    first = next(
        (a, b)
        for a in range(data.n)
        for b in range(a + 1, data.n)
        if (all(p <= q for p, q in zip(Xe[a], Xe[b])) and ye[a] > ye[b])
        or (all(q <= p for p, q in zip(Xe[a], Xe[b])) and ye[b] > ye[a])
    )
    assert (i, j) == first
    assert problem.startswith("mikulincer2022 needs monotone data") and f"point {data.kept[i]}" in problem
    with pytest.raises(PreconditionError, match="needs monotone data"):
        mk.build(data)


def test_the_refusal_names_the_pair_and_labels_in_file_rows():
    X = np.array([[5.0, 5.0], [0.0, 0.0], [1.0, 3.0], [0.0, 0.0], [2.0, 4.0]])  # row 3 merged into row 1
    y = np.array([9, 1, 4, 1, 2])  # rows 2 <= 4 but 4 > 2
    data = dataset.from_arrays(X, y)
    assert mk.check(data, {}) == [
        "mikulincer2022 needs monotone data (x_i <= x_j coordinatewise implies y_i <= y_j): point 2 <= point 4 "
        "coordinatewise, but its label 4 > 2"
    ]
    assert mk.predict(data) is None


def test_predict_is_the_built_nonzero_count():
    X = grid_points(300, 3, 9)
    data = dataset.from_arrays(X, below_count(X) - 5)
    predicted, options = mk.predict(data)
    assert predicted == measures.measure(mk.build(data, **options)).params_nonzero
