"""baum1988 (docs/constructions/baum1988.md): the slab network certified on random data in general position and on
digits, the exact hyperplane rule, regrouping where general position fails, the refusal by name, one label,
determinism and the CLI."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn import datasets as skdata

from netcert import dataset
from netcert.engine import evaluate
from netcert.cli import cli
from netcert.constructions import baum1988, registry
from netcert.errors import PreconditionError
from netcert.exact import mpq
from netcert.formats import netjson
from netcert.ir import keys, measures

import cases
from cases import certify, opts, oracle_agrees


def ball(n: int, d: int, C: int = 2, seed: int = 0):
    rng = np.random.default_rng(seed)
    g = rng.standard_normal((n, d))
    X = g / np.linalg.norm(g, axis=1)[:, None] * rng.random(n)[:, None] ** (1 / d)
    return np.round(X * 2.0**30) / 2.0**30, rng.integers(1, C + 1, n)


def claims_hold(G, data) -> measures.Measures:
    """The exact size formulas against the measures (no kernel)."""
    return cases.claims_hold(G, data, baum1988.size)


def exact_everywhere(G, data) -> None:
    ev = evaluate.run(G, data, jobs=1)
    assert ev.exact, ev.mismatches[:3]


@pytest.mark.parametrize("n,d,C,seed", [(100, 2, 2, 0), (100, 10, 2, 1), (1000, 2, 2, 0), (1000, 10, 3, 1)])
@pytest.mark.slow
def test_certified_in_general_position_with_ceil_n_over_d_groups(tmp_path, n, d, C, seed):
    X, y = ball(n, d, C, seed)
    cert, G, data = certify(tmp_path, X, y, lambda ds: baum1988.build(ds, seed=seed), sample=50)
    assert cert["verdict"] == "certified", cert["checker"]["failures"] or cert["interpolation"]["mismatches"]
    c = cert["construction"]
    assert c["name"] == "baum1988" and c["size"]["holds"]
    counts = Counter(y.tolist())
    default = min(counts, key=lambda v: (-counts[v], v))
    groups = sum(-(-k // d) for v, k in counts.items() if v != default)
    o = c["options"]
    assert (o["groups"], o["groups_general"], o["failed_checks"]) == (groups, groups, 0)
    s = cert["structure"]
    assert (s["depth"], s["width"], s["neurons"]) == (2, 2 * groups, 2 * groups + 1)
    assert s["activations"] == ["identity", "threshold"] and c["theorem"]["bound"]["value"] == 2 * groups


@pytest.mark.slow
def test_certified_on_digits(tmp_path):
    """d = 64 integer pixels, labels 0..9: fewer than d points per label, so every group is padded with
    auxiliary rows."""
    digits = skdata.load_digits()
    cert, G, data = certify(tmp_path, digits.data[:300], digits.target[:300], baum1988.build, sample=20)
    assert cert["verdict"] == "certified", cert["checker"]["failures"] or cert["interpolation"]["mismatches"]
    o = cert["construction"]["options"]
    assert o["groups"] == o["groups_general"] == 9 and cert["construction"]["size"]["holds"]
    assert cert["structure"]["max_weight_bits"] > 100  # minors of the data: big integers


def test_hyperplane_is_the_primitive_kernel_vector():
    w = baum1988.hyperplane([[2, 0], [0, 2]])  # x + y = 2
    assert w == [1, 1, 2]
    assert baum1988.hyperplane([[3, -6]]) == [2, 1, 0]  # rank 1: the first free column's basis vector, 2x + y = 0
    assert baum1988.hyperplane([[0, 0, 5], [1, 1, 5], [2, 2, 5]]) == [1, -1, 0, 0]  # a dependent group
    rows = [[7, -3, 11], [2, 5, -8], [-4, 9, 1]]
    *w, beta = baum1988.hyperplane(rows)
    assert all(sum(a * x for a, x in zip(w, r)) == beta for r in rows) and w[0] > 0
    from math import gcd

    assert gcd(*w, beta) == 1


def test_collinear_points_are_regrouped_and_the_failures_named():
    X = np.array([[t, 2 * t + 1] for t in range(12)], dtype=float)
    y = np.array([1, 2] * 6)
    data = dataset.from_arrays(X, y)
    G = baum1988.build(data)
    o = opts(G)
    # every two-point group's line is the data's line; each failure leaves a one-point group
    assert o["failed_checks"] >= 1 and o["groups"] > o["groups_general"] == 3
    first = o["failures"][0]
    assert len(first["group"]) == 2 and first["on_plane"] not in first["group"]
    claims_hold(G, data)
    exact_everywhere(G, data)


def test_a_point_whose_hyperplanes_all_hit_data_is_refused_by_name(monkeypatch):
    X = np.array([[t, t] for t in range(6)], dtype=float)
    data = dataset.from_arrays(X, np.array([1, 1, 1, 1, 2, 1]))
    monkeypatch.setattr(baum1988, "aux_rows", lambda rng, count, d: [[9, 9]] * count)  # always on the diagonal
    with pytest.raises(
        PreconditionError,
        match="point 4 is not in general position: every hyperplane tried "
        "through it \\(64 draws\\) also contains another data point",
    ):
        baum1988.build(data)


def test_one_dimensional_points_never_fail():
    data = dataset.from_arrays(np.array([[0.0], [1.0], [2.5], [3.0]]), np.array([3, 1, 3, 3]))
    G = baum1988.build(data)
    assert opts(G)["failed_checks"] == 0 and opts(G)["default_label"] == "3"
    claims_hold(G, data)
    exact_everywhere(G, data)


@pytest.mark.parametrize(
    "X,y",
    [(np.array([[0.5, 0.25]]), np.array([4])), (np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]]), np.array([0, 0, 0]))],
)
def test_one_label_gives_the_constant_network(X, y):
    data = dataset.from_arrays(X, y)
    G = baum1988.build(data)
    m = claims_hold(G, data)
    assert (m.depth, m.width, m.neurons, G.number_of_edges()) == (2, 1, 2, 0)
    assert evaluate.outputs(G, data) == [mpq(int(y[0]))] * data.n


def test_real_labels_and_ties_take_the_smallest_default():
    X, _ = ball(30, 3, seed=5)
    y = np.array([0.5, -1.25, 2.0] * 10)
    data = dataset.from_arrays(X, y)
    G = baum1988.build(data)
    assert opts(G)["default_label"] == "-5/4" and G.nodes["out"][keys.BIAS] == mpq(-5, 4)
    claims_hold(G, data)
    exact_everywhere(G, data)
    oracle_agrees(G, data, points=5)


@pytest.mark.parametrize("case", ["random", "collinear", "one label", "zero weights"])
def test_predict_is_the_built_nonzero_count(case):
    X, y = {
        "random": lambda: ball(300, 4, C=3, seed=2),
        "collinear": lambda: (np.array([[t, 2 * t + 1] for t in range(12)], dtype=float), np.array([1, 2] * 6)),
        "one label": lambda: (np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([3, 3])),
        "zero weights": lambda: (
            np.array([[0, 1.0], [1, 1.0], [0.5, 2], [2, 3], [3, 0], [4, 5]]),
            np.array([0, 0, 2, 2, 2, 2]),
        ),
    }[case]()
    data = dataset.from_arrays(X, y)
    for seed in (0, 1):
        predicted, options = baum1988.predict(data, seed)
        G = baum1988.build(data, seed=seed, **options)
        assert predicted == measures.measure(G).params_nonzero
    if case == "zero weights":  # the label-0 pair's line y = 1 is horizontal: a zero weight
        assert opts(G)["zero_weights"] > 0
    assert registry.get("baum1988").predict is baum1988.predict


def test_same_seed_same_bytes():
    data = dataset.from_arrays(*ball(80, 3, C=3, seed=2))
    first = netjson.to_bytes(baum1988.build(data, seed=4))
    assert netjson.to_bytes(baum1988.build(data, seed=4)) == first
    assert netjson.to_bytes(baum1988.build(data, seed=5)) != first


def test_registered_and_built_from_the_command_line(tmp_path):
    assert registry.get("baum1988") is baum1988.CONSTRUCTION
    X, y = ball(120, 4, C=3, seed=7)
    np.savez(tmp_path / "data.npz", X=X, y=y)
    runner = CliRunner()
    out = tmp_path / "net.json"
    result = runner.invoke(cli, ["build", str(tmp_path / "data.npz"), "-c", "baum1988", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{out}: baum1988 on 120 points (d = 4): depth 2, width ")
    result = runner.invoke(cli, ["verify", str(out), "--data", str(tmp_path / "data.npz"), "--sample", "20"])
    assert result.exit_code == 0, result.output
    cert = json.loads((tmp_path / "net.cert.json").read_text())
    assert cert["verdict"] == "certified" and cert["construction"]["name"] == "baum1988"
    result = runner.invoke(cli, ["build", str(tmp_path / "data.npz"), "-c", "baum1988", "--fan-in", "4"])
    assert result.exit_code == 2 and "baum1988 has no option --fan-in" in result.stderr
