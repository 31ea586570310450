"""yun2019 certified end to end: exact outputs, exact sizes, capacity refusals."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import datasets as skdata

from netcert import dataset
from netcert.constructions import yun2019
from netcert.errors import UsageError
from netcert.ir import measures

from cases import certify, oracle_agrees, random_data


def _assert_certified(cert: dict, n: int, d: int) -> None:
    assert cert["verdict"] == "certified", cert["checker"]["failures"] or cert["interpolation"]["mismatches"]
    assert cert["interpolation"]["exact"] and cert["interpolation"]["points_checked"] == n
    s, opts = cert["structure"], cert["construction"]["options"]
    P, Q = opts["blocks"], opts["slots"]
    assert P * Q >= n and s["depth"] == 3 and s["neurons"] == 2 * P - 1 + Q + 1
    assert s["params_dense"] == (2 * P - 1) * (d + 1) + Q * 2 * P + Q + 1
    assert cert["construction"]["size"]["holds"]


def test_tiny_example_matches_the_docs():
    """docs/constructions/yun2019.md section 8."""
    data = dataset.from_arrays(np.array([[0, 1], [1, 0], [2, 2], [3, 1]]), np.array([1, -1, 2, 0.5]))
    G = yun2019.build(data)
    rows = {
        v: (str(G.nodes[v]["bias"]), [str(G.edges[u, v]["weight"]) for u in sorted(G.predecessors(v))])
        for v in G
        if v.startswith("l2")
    }
    assert rows == {"l2[0]": ("2", ["2", "-3", "3"]), "l2[1]": ("0", ["4", "-17/2", "17/2"])}
    assert str(G.nodes["out"]["bias"]) == "-1"
    m = measures.measure(G)
    assert (m.params_dense, m.params_nonzero, m.max_weight_bits, m.total_weight_bits) == (20, 15, 5, 47)


@pytest.mark.parametrize("n,widths", [(1000, (45, 44)), (10_000, (141, 141)), (100, (15, 13))])
def test_default_widths_are_the_reference_shape(n, widths):
    P, Q = yun2019.shape(n, None)
    assert (2 * P - 1, Q) == widths


@pytest.mark.parametrize("labels", ["integer", "real"])
@pytest.mark.parametrize("d", [2, 10, 50])
@pytest.mark.parametrize("n", [100, 1000])
@pytest.mark.slow
def test_certified_on_random_data(tmp_path, n, d, labels):
    X, y = random_data(n, d, labels, seed=3 * n + d)
    cert, G, data = certify(tmp_path, X, y, yun2019.build)
    _assert_certified(cert, data.n, d)
    oracle_agrees(G, data, points=20)


@pytest.mark.parametrize("d,labels", [(2, "integer"), (10, "real"), (50, "integer")])
@pytest.mark.slow
def test_certified_at_ten_thousand_points(tmp_path, d, labels):
    X, y = random_data(10_000, d, labels, seed=d)
    cert, G, data = certify(tmp_path, X, y, yun2019.build, sample=200)
    _assert_certified(cert, data.n, d)
    assert cert["structure"]["neurons"] - 1 == 282  # docs/constructions/yun2019.md section 6


@pytest.mark.parametrize("loader", [skdata.load_iris, skdata.load_digits, skdata.load_wine])
@pytest.mark.slow
def test_certified_on_sklearn_datasets(tmp_path, loader):
    X, y = loader(return_X_y=True)
    cert, G, data = certify(tmp_path, X, y, yun2019.build, sample=200)
    _assert_certified(cert, data.n, X.shape[1])


def test_user_widths_are_honoured_and_capacity_is_refused(tmp_path):
    X, y = random_data(200, 3, "integer", seed=1)
    cert, G, data = certify(tmp_path, X, y, lambda ds: yun2019.build(ds, widths="39,12"))
    _assert_certified(cert, data.n, 3)
    assert cert["structure"]["width"] <= 39
    with pytest.raises(UsageError, match=r"floor\(\(d1 \+ 1\) / 2\) \* d2 >= N, here 30 < 200"):
        yun2019.build(data, widths="5,10")
    with pytest.raises(UsageError, match="two integers"):
        yun2019.build(data, widths="5")


@pytest.mark.parametrize("n", [1, 2, 3])
def test_tiny_datasets(tmp_path, n):
    X = np.arange(2 * n, dtype=float).reshape(n, 2)
    cert, G, data = certify(tmp_path, X, np.arange(n) - 1, yun2019.build)
    _assert_certified(cert, n, 2)


def test_points_on_a_grid_need_a_random_direction(tmp_path):
    X = np.array([[i % 9, i // 9] for i in range(81)])
    cert, G, data = certify(tmp_path, X, (np.arange(81) * 7) % 5, yun2019.build)
    _assert_certified(cert, 81, 2)
    oracle_agrees(G, data, points=81)
