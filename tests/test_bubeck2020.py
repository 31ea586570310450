"""bubeck2020 certified end to end; general-position failures regroup or refuse."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import datasets as skdata

from netcert import dataset
from netcert.constructions import bubeck2020
from netcert.ir import measures

from cases import certify, oracle_agrees, random_data


def _assert_certified(cert: dict, n: int, d: int) -> None:
    assert cert["verdict"] == "certified", cert["checker"]["failures"] or cert["interpolation"]["mismatches"]
    assert cert["interpolation"]["exact"] and cert["interpolation"]["points_checked"] == n
    groups = cert["construction"]["options"]["groups"]
    s = cert["structure"]
    assert (s["depth"], s["width"]) == (2, max(4 * groups, 1))
    assert s["params_dense"] == max(4 * groups, 1) * (d + 2) + 1
    assert cert["construction"]["size"]["holds"]


def test_tiny_example_matches_the_docs():
    """docs/constructions/bubeck2020.md section 8: group rows and the measures 33 / 28 / 9 / 156."""
    data = dataset.from_arrays(np.array([[0, 1], [1, 0], [2, 2], [3, 1]]), np.array([1, -1, 2, 0.5]))
    G = bubeck2020.build(data)
    rows = [
        (
            str(G.nodes[v]["bias"]),
            [str(G.edges[u, v]["weight"]) for u in sorted(G.predecessors(v))],
            str(G.edges[v, "out"]["weight"]),
        )
        for v in sorted(v for v in G if v.startswith("g[1]"))
    ]
    assert rows == [
        ("-208", ["61", "115"], "1/36"),
        ("-216", ["72", "72"], "-1/36"),
        ("-352", ["61", "115"], "-1/36"),
        ("-360", ["72", "72"], "1/36"),
    ]
    m = measures.measure(G)
    assert (m.params_dense, m.params_nonzero, m.max_weight_bits, m.total_weight_bits) == (33, 28, 9, 156)


@pytest.mark.parametrize("labels", ["integer", "real"])
@pytest.mark.parametrize("d", [2, 10, 50])
@pytest.mark.parametrize("n", [100, 1000])
@pytest.mark.slow
def test_certified_on_random_data_with_exactly_4_ceil_n_over_d_neurons(tmp_path, n, d, labels):
    X, y = random_data(n, d, labels, seed=7 * n + d)
    if labels == "integer":
        y[y == 0] = 1  # so that no group is all-zero and the count is exactly 4 ceil(n/d)
    cert, G, data = certify(tmp_path, X, y, bubeck2020.build, sample=300)
    _assert_certified(cert, data.n, d)
    assert cert["structure"]["width"] == 4 * math.ceil(n / d)
    assert cert["construction"]["options"]["splits"] == 0
    oracle_agrees(G, data, points=10)


def test_collinear_points_regroup_into_single_points(tmp_path):
    """Points on one line (d = 2) break general position for every pair; singletons still work."""
    t = np.arange(12, dtype=float)
    X = np.stack([t, 2 * t + 1], axis=1)
    cert, G, data = certify(tmp_path, X, (np.arange(12) % 3) + 1, bubeck2020.build)
    _assert_certified(cert, 12, 2)
    assert cert["construction"]["options"]["groups"] == 12 and cert["construction"]["options"]["splits"] == 6
    oracle_agrees(G, data, points=12)


def test_a_third_point_on_a_group_hyperplane_forces_a_split(tmp_path):
    X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [5.0, -1.0]])
    cert, G, data = certify(tmp_path, X, np.array([1, 2, 3, 4]), bubeck2020.build)
    _assert_certified(cert, 4, 2)
    assert cert["construction"]["options"]["splits"] >= 1


def test_all_zero_labels_give_the_zero_network(tmp_path):
    cert, G, data = certify(
        tmp_path, np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 1.0]]), np.zeros(3, int), bubeck2020.build
    )
    _assert_certified(cert, 3, 2)
    assert cert["structure"]["params_nonzero"] == 0


def test_groups_with_zero_labels_are_skipped(tmp_path):
    X, _ = random_data(40, 4, "integer", seed=2)
    y = np.array([0] * 8 + [1] * 32)
    cert, G, data = certify(tmp_path, X, y, bubeck2020.build)
    _assert_certified(cert, 40, 4)
    assert cert["construction"]["options"]["groups"] == 8


@pytest.mark.parametrize("loader", [skdata.load_iris, skdata.load_wine, skdata.load_breast_cancer, skdata.load_digits])
@pytest.mark.slow
def test_certified_on_sklearn_datasets(tmp_path, loader):
    X, y = loader(return_X_y=True)
    cert, G, data = certify(tmp_path, X, y, bubeck2020.build, sample=100)
    _assert_certified(cert, data.n, X.shape[1])


@pytest.mark.slow
def test_digits_splits_groups_its_constant_pixels_make_dependent(tmp_path):
    """digits has always-zero pixels: 64 of its points are never affinely independent in R^64."""
    X, y = skdata.load_digits(return_X_y=True)
    data = dataset.from_arrays(X, y)
    G = bubeck2020.build(data)
    opts = G.graph["construction"]["options"]
    assert opts["splits"] > 0 and opts["groups"] > math.ceil(data.n / 64)
