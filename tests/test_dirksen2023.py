"""dirksen2023 (docs/constructions/dirksen2023.md): the randomized cluster network certified on random two-class
data and on breast_cancer and digits (0 against the rest), its exact sizes in the clusters and hyperplanes drawn,
its three output forms, the exact exclusion of the other class, and the refusal of three classes."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import datasets as skdata

from netcert import dataset
from netcert.constructions import dirksen2023 as dk
from netcert.engine import evaluate
from netcert.errors import PreconditionError
from netcert.exact import mpq
from netcert.formats import netjson
from netcert.ir import keys, measures

import cases
from cases import certify, opts


def two_classes(n: int, d: int, seed: int, kind: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    if kind == "random":  # the worst geometry: labels independent of the points
        return X, rng.integers(0, 2, n)
    return X, (np.linalg.norm(X, axis=1) > np.sqrt(d)).astype(np.int64) * 5 - 2  # a ball inside a shell: 3, -2


@pytest.mark.parametrize(
    "n,d,kind,seed",
    [
        (100, 2, "random", 0),
        (100, 10, "ball", 1),
        (1000, 2, "ball", 2),
        (1000, 10, "random", 3),
        (1000, 2, "random", 4),
    ],
)
def test_certified_on_random_two_class_data(tmp_path, n, d, kind, seed):
    X, y = two_classes(n, d, seed, kind)
    cert, G, data = certify(tmp_path, X, y, lambda ds: dk.build(ds, seed=seed), sample=50)
    assert cert["verdict"] == "certified", cert["checker"]["failures"] or cert["interpolation"]["mismatches"]
    c = cert["construction"]
    assert c["name"] == "dirksen2023" and c["size"]["holds"]
    o, s = c["options"], cert["structure"]
    assert o["output"] == ("affine" if kind == "ball" else "or" if (y == 1).sum() <= (y == 0).sum() else "nor")
    assert (s["depth"], s["neurons"]) == (3 + (kind == "ball"), o["hyperplanes"] + o["clusters"] + 1 + (kind == "ball"))
    assert sum(o["cluster_facets"]) == o["hyperplanes"] and len(o["cluster_sizes"]) == o["clusters"]
    covered = (y == mpq(o["covered_label"])).sum()
    assert covered <= (y != mpq(o["covered_label"])).sum() and sum(o["cluster_sizes"]) >= covered
    if kind == "ball" and n >= 1000:  # a shell around a ball in the plane: far fewer clusters than points
        assert o["clusters"] * 10 < covered


def test_real_geometry_is_far_smaller_than_random_labels():
    """digits, 0 against the rest (178 of 1797 points, d = 64): a few clusters; the same points with random
    labels of the same class sizes need many."""
    digits = skdata.load_digits()
    y = (digits.target == 0).astype(np.int64)
    data = dataset.from_arrays(digits.data, y)
    G = dk.build(data)
    real = cases.claims_hold(G, data, dk.size)
    assert evaluate.run(G, data, jobs=1).exact
    shuffled = dataset.from_arrays(digits.data, np.random.default_rng(0).permutation(y))
    H = dk.build(shuffled)
    assert opts(G)["clusters"] * 5 < opts(H)["clusters"]
    assert real.params_nonzero * 3 < measures.measure(H).params_nonzero


@pytest.mark.parametrize("name", ["breast_cancer", "digits"])
def test_certified_on_sklearn_datasets(tmp_path, name):
    ds = getattr(skdata, f"load_{name}")()
    y = ds.target if name == "breast_cancer" else (ds.target == 0).astype(np.int64)
    cert, G, data = certify(tmp_path, ds.data, y, dk.build, sample=100)
    assert cert["verdict"] == "certified" and cert["construction"]["size"]["holds"]
    o = cert["construction"]["options"]
    # breast_cancer: 212 malignant (label 0) of 569 are covered, so the output is the NOR of the clusters
    assert o["output"] == ("nor" if name == "breast_cancer" else "or")
    assert o["covered_label"] == ("0" if name == "breast_cancer" else "1")
    assert cert["structure"]["depth"] == 3 and o["clusters"] < 60


def test_every_cluster_excludes_the_other_class_exactly():
    """Each AND unit's hyperplanes: every point of the other class is outside some facet, by exact arithmetic."""
    X, y = two_classes(300, 3, 5, "random")
    data = dataset.from_arrays(X, y)
    G = dk.build(data, seed=2)
    o = opts(G)
    other = [i for i in range(data.n) if data.labels[i] == mpq(o["other_label"])]
    for g in (v for v in G if str(v).startswith("g[")):
        facets = list(G.predecessors(g))
        assert G.nodes[g][keys.BIAS] == -len(facets)
        for i in other:
            x = data.point(i)
            assert any(
                G.nodes[h][keys.BIAS] + sum(G.edges[u, h][keys.WEIGHT] * x[int(u[2:-1])] for u in G.predecessors(h)) < 0
                for h in facets
            )
    m = cases.claims_hold(G, data, dk.size)
    assert m.params_nonzero == measures.measure(G).params_nonzero


@pytest.mark.parametrize(
    "labels,form,depth", [((1, 0), "or", 3), ((0, 1), "nor", 3), ((7, -1), "affine", 4), ((mpq(1, 4), 0), "affine", 4)]
)
def test_the_three_output_forms(labels, form, depth):
    X, y = two_classes(200, 2, 6, "ball")
    covered, other = labels
    y = np.where(y == 3, 1, 0)  # 1: the shell (outside), the less frequent class at d = 2
    data = dataset.from_arrays(X, np.array([float(covered) if v else float(other) for v in y]))
    G = dk.build(data)
    assert opts(G)["output"] == form and opts(G)["covered_label"] == str(mpq(covered))
    m = cases.claims_hold(G, data, dk.size)
    assert m.depth == depth
    assert evaluate.outputs(G, data) == list(data.labels)


@pytest.mark.parametrize("label", [1, 0, 5])
def test_one_class_gives_one_cluster_without_hyperplanes(label):
    data = dataset.from_arrays(np.array([[0.0, 1.0], [2.0, 3.0], [1.0, -1.0]]), np.array([label] * 3))
    G = dk.build(data)
    m = cases.claims_hold(G, data, dk.size)
    assert (opts(G)["clusters"], opts(G)["hyperplanes"]) == (1, 0)
    assert m.neurons == 2 + (label == 5) and evaluate.outputs(G, data) == [mpq(label)] * 3


def test_three_classes_are_refused_in_one_line():
    iris = skdata.load_iris()
    data = dataset.from_arrays(iris.data, iris.target)
    assert dk.check(data, {}) == ["dirksen2023 memorizes two classes; the data has 3 distinct labels (0, 1, 2)"]
    with pytest.raises(PreconditionError, match="two classes"):
        dk.build(data)
    assert dk.predict(data) is None


def test_large_integers_take_the_exact_object_path():
    """Coordinates near 2^200: the values are computed in Python integers, and the network still interpolates."""
    X, y = two_classes(60, 2, 8, "random")
    data = dataset.from_arrays((X * 2.0**40).round() * 2.0**160, y)
    assert not dk._Rows(data).fits
    G = dk.build(data)
    cases.claims_hold(G, data, dk.size)
    assert evaluate.run(G, data, jobs=1).exact


def test_same_seed_same_bytes_and_predict():
    X, y = two_classes(200, 3, 9, "random")
    data = dataset.from_arrays(X, y)
    first = netjson.to_bytes(dk.build(data, seed=4))
    assert netjson.to_bytes(dk.build(data, seed=4)) == first != netjson.to_bytes(dk.build(data, seed=5))
    predicted, options = dk.predict(data, 4)
    assert predicted == measures.measure(dk.build(data, seed=4, **options)).params_nonzero
