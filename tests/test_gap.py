"""netcert gap: memorization counted only by exact certificates; the width search; the whole command."""

import json
from fractions import Fraction

import numpy as np
import pytest
from click.testing import CliRunner
from gmpy2 import mpq

from netcert import floats, gap
from netcert.cli import cli
from netcert.dataset import from_arrays, load
from netcert.ir import keys
from netcert.ir.network import add_neuron, new_network, set_outputs

pytest.importorskip("sklearn")


def _float_right_exact_tie():
    """Scores s0 = (2^53 x + 1) + 1 and s1 = (2^53 + 2) x, classes 0 and 1. At x = 1 they are
    equal exactly (a tie: a miss), but float64 rounds 2^53 + 1 down twice, so s1 wins there: the
    float accuracy is 100%."""
    G = new_network(["x"])
    add_neuron(G, "a", layer=1, activation=keys.IDENTITY, bias=1, incoming={"x": 2**53})
    add_neuron(G, "s0", layer=2, activation=keys.IDENTITY, bias=1, incoming={"a": 1})
    add_neuron(G, "s1", layer=2, activation=keys.IDENTITY, bias=0, incoming={"x": 2**53 + 2})
    set_outputs(G, ["s0", "s1"])
    G.graph[keys.CLASSES] = ["0", "1"]
    return G


def test_a_run_whose_float_accuracy_is_perfect_but_ties_exactly_is_not_memorized(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.array([[0.0], [1.0]]), y=np.array([0, 1]))
    G = _float_right_exact_tie()
    fmt = floats.FORMATS["float64"]
    scores, _ = floats.forward(floats.to_format(G, floats.layers(G), fmt), np.array([[0.0], [1.0]]))
    assert list(scores.argmax(axis=1)) == [0, 1]  # float64: both points right
    ok, why, margin = gap.certify(G, tmp_path / "d.npz", tmp_path, "tie", regression=False)
    assert not ok and "1 points misclassified" in why and "tie" in why
    assert mpq(margin) == 0
    record = json.loads((tmp_path / "tie.cert.json").read_text())
    assert record["verdict"] == "refuted" and record["classification"]["misses"][0]["predicted"] == "tie"


def test_a_regression_exactly_half_from_its_label_is_not_memorized():
    record = {"verdict": "certified", "tolerance": {"max_error": "1/2", "over_count": 0}}
    assert gap.memorized(record, regression=True) == (False, "a point exactly 1/2 from its label", "1/2")
    record["tolerance"]["max_error"] = "49/100"
    assert gap.memorized(record, regression=True)[0]


def _fake(threshold, tried):
    def try_width(m):
        tried.append(m)
        return [gap.Run(m, 0, m >= threshold, "", None, 1.0, 1, 0.0, 0.0, 0, "")]

    return try_width


def test_auto_search_doubles_then_bisects():
    tried = []
    result = gap.search(None, _fake(13, tried))
    assert result.m_star == 13
    assert tried == [1, 2, 4, 8, 16, 12, 14, 13]


def test_explicit_widths_are_all_tried_and_the_budget_stops_the_search():
    tried = []
    assert gap.search([8, 2, 32], _fake(5, tried)).m_star == 8 and tried == [2, 8, 32]
    stopped = gap.search(None, _fake(5, []), deadline=0.0)
    assert stopped.m_star is None and "budget" in stopped.stopped


def test_parse_widths():
    assert gap.parse_widths("auto") is None and gap.parse_widths("3, 1") == [3, 1]
    with pytest.raises(Exception, match="--widths"):
        gap.parse_widths("0,2")


def test_the_standardization_is_folded_exactly(tmp_path):
    from netcert.engine.run import values
    from netcert.importers.sklearn import from_sklearn

    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3)) * [1.0, 100.0, 0.01] + [5.0, -300.0, 0.0]
    y = rng.integers(0, 3, size=20)
    data = from_arrays(X, y)
    Xf, yf = gap.points(data)
    model, mu, sigma, _, _ = gap.train(Xf, yf, 8, 0, gap.Setup(epochs=50, chunk=50))
    G = gap.fold_standardization(from_sklearn(model), mu, sigma)
    raw = values(G, data)
    inner = from_sklearn(model)
    from netcert.engine.reference import forward

    for i in range(data.n):
        z = [(mpq(c) - mpq(float(m))) / mpq(float(s)) for c, m, s in zip(data.point(i), mu, sigma)]
        assert [mpq(v) for v in forward(inner, [Fraction(int(q.numerator), int(q.denominator)) for q in z])] == list(
            raw[i]
        )  # the same function, exactly


def test_gap_command_writes_checkable_certificates(tmp_path):
    rng = np.random.default_rng(1)
    np.savez(tmp_path / "d.npz", X=rng.normal(size=(24, 2)), y=rng.integers(0, 2, size=24))
    out = tmp_path / "g"
    r = CliRunner().invoke(
        cli,
        [
            "gap",
            str(tmp_path / "d.npz"),
            "--widths",
            "1,16",
            "--seeds",
            "2",
            "--no-constructions",
            "--out",
            str(out),
            "-q",
        ],
    )
    assert r.exit_code == 0, r.output
    record = json.loads((out / "gap.json").read_text())
    assert [(x["width"], x["seed"]) for x in record["runs"]] == [(1, 0), (1, 1), (16, 0), (16, 1)]
    certified = [x for x in record["runs"] if x["memorized"]]
    assert record["m_star"] == (min(x["width"] for x in certified) if certified else None)
    assert (out / "gap.csv").read_text().count("\n") == 5
    from netcert import api

    for x in record["runs"]:
        checked = api.check(out / x["certificate"])  # a refutation is reproduced, so it is not "ok"
        assert (
            checked.ok
            if x["memorized"]
            else checked.differences == ("verdict: refuted (reproduced, but not certified)",)
        )
        cert = json.loads((out / x["certificate"]).read_text())
        assert (cert["verdict"] == "certified") == x["memorized"]
    assert load(out / "data.npz").n == 24
