"""hernandez2025 certified end to end: width exactly 2, exact sizes, the depth bound 2N + 4M - 1."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from sklearn import datasets as skdata

from netcert import dataset
from netcert.constructions import hernandez2025, registry
from netcert.engine import evaluate
from netcert.errors import DatasetError
from netcert.ir import measures

from cases import certify, claims_hold, oracle_agrees, random_data

NAMES = {"depth", "width", "neurons", "params_dense", "params_nonzero"}


def assert_certified(cert: dict, n: int) -> None:
    assert cert["verdict"] == "certified", cert["checker"]["failures"] or cert["interpolation"]["mismatches"]
    assert cert["interpolation"]["exact"] and cert["interpolation"]["points_checked"] == n
    assert cert["checker"]["outputs_agree"] and cert["checker"]["structure_agrees"]
    c = cert["construction"]
    assert c["name"] == "hernandez2025" and c["size"]["holds"] and set(c["size"]["claims"]) == NAMES
    v, s = c["size"]["variables"], cert["structure"]
    assert s["width"] == (2 if v["K"] else 1) and s["depth"] == max(v["K"], 1) + 1
    assert s["depth"] <= c["theorem"]["bound"]["value"] == 2 * v["N"] + 4 * v["M"] - 1


def test_worked_example_has_the_weights_of_the_docs():
    """docs/constructions/hernandez2025.md section 6: z = 0..4, y = 0, 1, 1, 0, 2; K = 3, H = 1."""
    data = dataset.from_arrays(np.array([[0], [1], [2], [3], [4]]), np.array([0, 1, 1, 0, 2]))
    p = hernandez2025.plan(data)
    assert p.kinks == (1, 2, 3) and [str(c) for c in p.c] == ["-1", "-1", "3"] and p.H == 1 and p.slope == 1
    G = hernandez2025.build(data)
    bias = {v: str(G.nodes[v]["bias"]) for v in G if v != "x[0]"}
    assert bias == {"a[1]": "-1", "b[1]": "1", "a[2]": "-1", "b[2]": "0", "a[3]": "-1", "b[3]": "0", "out": "-1"}
    weights = {(u, v): str(w) for u, v, w in G.edges(data="weight")}
    assert weights[("a[1]", "b[2]")] == "-1" and weights[("a[2]", "b[3]")] == "-1" and weights[("a[3]", "out")] == "3"
    m = claims_hold(G, data, hernandez2025.size, NAMES)
    assert (m.depth, m.width, m.neurons, m.params_dense, m.params_nonzero) == (4, 2, 7, 19, 15)
    assert [str(v) for v in evaluate.outputs(G, data)] == ["0", "1", "1", "0", "2"]


def test_the_accumulator_offset_is_the_least_that_keeps_every_partial_sum_nonnegative():
    """H is exact and least: with H - 1/2 some carried partial sum would be negative on a data point."""
    X, y = random_data(60, 2, "integer", seed=5)
    data = dataset.from_arrays(X, y)
    p = hernandez2025.plan(data)
    assert p.H > 0  # labels in [-3, 3]: the partial sums go below 0
    lowest = None
    for r in range(len(p.kinks)):  # P_r on every data point, directly
        for t in p.z:
            v = p.y[0] + p.slope * (t - p.z[0]) + sum(c * max(t - p.z[j], 0) for j, c in zip(p.kinks[:r], p.c))
            lowest = v if lowest is None else min(lowest, v)
    assert p.H == max(0, -lowest)


@pytest.mark.parametrize("labels", ["integer", "real"])
@pytest.mark.parametrize("d", [2, 10])
@pytest.mark.parametrize("seed", [0, 1])
def test_certified_on_random_data_100(tmp_path, d, labels, seed):
    X, y = random_data(100, d, labels, seed=100 * seed + d)
    cert, G, data = certify(tmp_path, X, y, hernandez2025.build)
    assert_certified(cert, data.n)
    assert cert["structure"]["width"] == 2
    assert oracle_agrees(G, data, points=20) == 20


@pytest.mark.parametrize("d", [2, 10])
@pytest.mark.slow
def test_certified_on_random_data_1000(tmp_path, d):
    X, y = random_data(1000, d, "integer", seed=d)
    cert, _, data = certify(tmp_path, X, y, hernandez2025.build, sample=200)
    assert_certified(cert, data.n)
    assert cert["structure"]["width"] == 2


@pytest.mark.slow
def test_ten_thousand_points_width_two_and_formulas_exact():
    """N = 10^4 (certifying it takes minutes: benchmarks/hernandez2025.py): the build, its exact size
    formulas, width exactly 2 and the depth within 2N + 4M - 1; exact outputs on a sample (the oracle)."""
    X, y = random_data(10_000, 2, "integer", seed=3)
    data = dataset.from_arrays(X, y)
    G = hernandez2025.build(data)
    m = claims_hold(G, data, hernandez2025.size, NAMES)
    assert m.width == 2 and m.depth <= 2 * data.n + 4 * len(set(data.labels)) - 1
    assert m.depth == len(hernandez2025.plan(data).kinks) + 1 > 5000
    assert hernandez2025.predict(data)[0] == m.params_nonzero


@pytest.mark.parametrize("load", [skdata.load_iris, skdata.load_wine])
def test_certified_on_sklearn_datasets(tmp_path, load):
    X, y = load(return_X_y=True)
    cert, G, data = certify(tmp_path, X, y, hernandez2025.build)
    assert_certified(cert, data.n)
    assert cert["structure"]["width"] == 2


@pytest.mark.parametrize(
    "X, y",
    [
        ([[1.5, 2]], [7]),  # N = 1: a constant
        ([[0, 0], [1, 5]], [-3, 2]),  # N = 2: affine
        ([[0, 1], [1, 0], [2, 3], [5, 1]], [1, 3, 5, 11]),  # collinear labels on the line: no kink
    ],
)
def test_no_kink_gives_one_hidden_neuron(tmp_path, X, y):
    cert, G, data = certify(tmp_path, np.array(X, dtype=np.float64), np.array(y), hernandez2025.build)
    assert_certified(cert, data.n)
    assert cert["construction"]["size"]["variables"]["K"] == 0
    assert (cert["structure"]["depth"], cert["structure"]["width"], cert["structure"]["neurons"]) == (2, 1, 2)


def test_equal_labels_need_no_layers():
    """Runs of one class are flat: only the slope changes are layers, so two classes split once cost 2."""
    X = np.arange(40, dtype=np.float64).reshape(-1, 1)
    y = np.array([0] * 20 + [1] * 20)
    data = dataset.from_arrays(X, y)
    G = hernandez2025.build(data)
    m = claims_hold(G, data, hernandez2025.size, NAMES)
    assert (m.depth, m.width) == (3, 2)  # kinks at 19 and 20
    assert evaluate.run(G, data).exact


def test_predict_is_the_built_count_and_the_registry_has_it():
    X, y = random_data(300, 3, "real", seed=9)
    data = dataset.from_arrays(X, y)
    assert registry.get("hernandez2025") is hernandez2025.CONSTRUCTION
    assert "hernandez2025" in registry.CONSTRUCTIONS and "hernandez2025" in list(registry.CONSTRUCTIONS)
    assert hernandez2025.predict(data)[0] == measures.measure(hernandez2025.build(data)).params_nonzero


def test_duplicate_points_with_different_labels_are_refused(tmp_path):
    """The one assumption, distinct points: a file that breaks it is refused in one line (exit 3)."""
    path = tmp_path / "dup.csv"
    path.write_text("0,1,0\n1,1,1\n0,1,2\n")
    with pytest.raises(DatasetError):
        dataset.load(path)
    r = subprocess.run(
        [sys.executable, "-m", "netcert", "build", str(path), "-c", "hernandez2025", "-o", str(tmp_path / "n.json")],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 3 and r.stderr.count("\n") == 1 and r.stderr.startswith("netcert: error: ")
    assert not (tmp_path / "n.json").exists()
