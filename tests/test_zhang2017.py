"""zhang2017 certified end to end: exact outputs, exact sizes, oracle agreement."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import datasets as skdata

from netcert import dataset
from netcert.constructions import zhang2017
from netcert.errors import DatasetError
from netcert.formats import netjson
from netcert.ir import measures

from cases import certify, oracle_agrees, random_data


def _assert_certified(cert: dict, n: int, d: int) -> None:
    assert cert["verdict"] == "certified", cert["checker"]["failures"] or cert["interpolation"]["mismatches"]
    assert cert["interpolation"]["exact"] and cert["interpolation"]["points_checked"] == n
    assert cert["checker"]["outputs_agree"] and cert["checker"]["structure_agrees"]
    s = cert["structure"]
    assert (s["depth"], s["width"], s["neurons"]) == (2, n, n + 1)
    assert s["params_dense"] == n * (d + 2) + 1
    v = cert["construction"]["size"]["variables"]
    assert s["params_nonzero"] == n * (v["nnz_u"] + 2) - v["zero_kinks"]
    assert cert["construction"]["size"]["holds"]


def test_tiny_example_has_the_weights_of_the_docs():
    """docs/constructions/zhang2017.md section 6: K = 4, biases 1/4, -1/4, -9/8, -37/16, output weights 4, -8, 8, -8."""
    data = dataset.from_arrays(np.array([[0, 1], [1, 0], [2, 2], [3, 1]]), np.array([1, -1, 2, 0.5]))
    G = zhang2017.build(data)
    hidden = sorted(v for v in G if v.startswith("h"))
    assert [str(G.nodes[v]["bias"]) for v in hidden] == ["1/4", "-1/4", "-9/8", "-37/16"]
    assert [str(G.edges[v, "out"]["weight"]) for v in hidden] == ["4", "-8", "8", "-8"]
    m = measures.measure(G)
    assert (m.params_dense, m.params_nonzero, m.max_weight_bits, m.total_weight_bits) == (17, 12, 6, 54)


@pytest.mark.parametrize("labels", ["integer", "real"])
@pytest.mark.parametrize("d", [1, 2, 10, 50])
@pytest.mark.parametrize("n", [10, 1000])
@pytest.mark.slow
def test_certified_on_random_data(tmp_path, n, d, labels):
    X, y = random_data(n, d, labels, seed=n + d)
    cert, G, data = certify(tmp_path, X, y, zhang2017.build)
    _assert_certified(cert, data.n, d)
    assert cert["dataset"]["labels"]["kind"] == labels
    assert oracle_agrees(G, data, points=10 if d == 50 else 40) > 0


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.slow
def test_certified_at_ten_thousand_points(tmp_path, seed):
    X, y = random_data(10_000, 2, "integer" if seed % 2 else "real", seed)
    cert, G, data = certify(tmp_path, X, y, zhang2017.build, sample=200 if seed else 1000)
    _assert_certified(cert, data.n, 2)


@pytest.mark.parametrize("loader", [skdata.load_iris, skdata.load_digits, skdata.load_wine, skdata.load_breast_cancer])
@pytest.mark.slow
def test_certified_on_sklearn_datasets(tmp_path, loader):
    X, y = loader(return_X_y=True)
    cert, G, data = certify(tmp_path, X, y, zhang2017.build, sample=100)
    _assert_certified(cert, data.n, X.shape[1])
    assert cert["dataset"]["rows"] == len(y)
    assert data.n + len(data.merged) == len(y)
    oracle_agrees(G, data, points=5)


def test_random_direction_when_no_axis_separates(tmp_path):
    """Integer grid data repeats every coordinate, so u must be found by the random search."""
    X = np.array([[i % 7, i // 7] for i in range(49)])
    y = np.arange(49) % 3
    cert, G, data = certify(tmp_path, X, y, zhang2017.build)
    _assert_certified(cert, 49, 2)
    assert G.graph["construction"]["options"]["direction_method"].startswith("random")
    oracle_agrees(G, data, points=49)


@pytest.mark.parametrize("y", [[0, 0, 0], [5, 5, 5], [-2, 3, -1]])
def test_degenerate_labels(tmp_path, y):
    X = np.array([[0.5], [-1.25], [3.0]])
    cert, G, data = certify(tmp_path, X, np.array(y), zhang2017.build)
    _assert_certified(cert, 3, 1)


def test_single_point(tmp_path):
    cert, G, data = certify(tmp_path, np.array([[1.5, -2.0]]), np.array([-7]), zhang2017.build)
    _assert_certified(cert, 1, 2)
    assert cert["dataset"]["min_sq_separation"] is None


def test_same_label_duplicates_are_merged_and_certified(tmp_path):
    X = np.array([[0.0, 1.0], [2.0, 3.0], [0.0, 1.0], [4.0, 4.0]])
    cert, G, data = certify(tmp_path, X, np.array([1, 2, 1, 3]), zhang2017.build)
    _assert_certified(cert, 3, 2)
    assert cert["dataset"]["duplicates_merged"] == 1 and data.merged == ((2, 0),)


def test_conflicting_duplicates_cannot_be_memorized(tmp_path):
    np.savez(tmp_path / "bad.npz", X=np.array([[0.0, 1.0], [0.0, 1.0]]), y=np.array([1, 2]))
    with pytest.raises(DatasetError, match="rows 0 and 1"):
        dataset.load(tmp_path / "bad.npz")


def test_build_is_deterministic(tmp_path):
    X, y = random_data(300, 3, "real", seed=5)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    data = dataset.load(tmp_path / "d.npz")
    a = netjson.to_bytes(zhang2017.build(data, seed=3))
    b = netjson.to_bytes(zhang2017.build(dataset.load(tmp_path / "d.npz"), seed=3))
    assert a == b
