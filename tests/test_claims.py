"""The classification and tolerance claims (specs/README.md section 4): the evaluator's exact
judgments against the Fraction oracle, version 2 certificates end to end, the CLI's --claim/--eps."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from click.testing import CliRunner

import netcert
from netcert import dataset
from netcert.cli import cli
from netcert.engine import claims, evaluate, reference
from netcert.errors import InputError, UsageError
from netcert.exact import mpq


def mlp(d: int = 3, h: int = 5, k: int = 3, seed: int = 0, classes: bool = True, act: str = "relu") -> nx.DiGraph:
    """A dense d -> h (act) -> k (identity) network with small dyadic weights; classes "0".."k-1"."""
    rng = np.random.default_rng(seed)
    outs = [f"o{c}" for c in range(k)]
    G = nx.DiGraph(format="netcert.network", version=1, inputs=[f"x{j}" for j in range(d)], outputs=outs)
    for j in range(d):
        G.add_node(f"x{j}", layer=0, activation="input")
    for i in range(h):
        extra = {"slope": mpq(1, 8)} if act == "leaky_relu" else {}
        G.add_node(f"h{i}", layer=1, activation=act, bias=mpq(int(rng.integers(-3, 4)), 4), **extra)
        for j in range(d):
            G.add_edge(f"x{j}", f"h{i}", weight=mpq(int(rng.integers(1, 9)) * (-1) ** int(rng.integers(2)), 8))
    for c in range(k):
        G.add_node(f"o{c}", layer=2, activation="identity", bias=mpq(int(rng.integers(-2, 3)), 2))
        for i in range(h):
            G.add_edge(f"h{i}", f"o{c}", weight=mpq(int(rng.integers(1, 9)) * (-1) ** int(rng.integers(2)), 2))
    if classes:
        G.graph["classes"] = ["0", "1"] if k == 1 else [str(c) for c in range(k)]
    return G


def oracle(G: nx.DiGraph, X: np.ndarray) -> list[list[Fraction]]:
    return [reference.forward(G, [Fraction(int(v)) for v in x]) for x in X]


def points(n: int = 40, d: int = 3, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(-6, 7, size=(n, d))


def save(tmp: Path, X: np.ndarray, y: np.ndarray, name: str = "d.npz") -> Path:
    np.savez(tmp / name, X=X, y=y)
    return tmp / name


def argmax_labels(outs: list[list[Fraction]]) -> np.ndarray:
    """Each point's unique largest output (0 where there is a tie: then a miss)."""
    return np.array([o.index(max(o)) if o.count(max(o)) == 1 else 0 for o in outs])


# -- the judgments -------------------------------------------------------------------------------


def test_margins_ties_and_labels_that_are_no_class():
    q = [mpq(v) for v in (3, 1, 3)]
    assert claims.predict(tuple(q), ["0", "1", "2"]) == "tie"
    assert claims.margin(tuple(q), ["0", "1", "2"], "0") == 0  # a tie for the largest: margin 0, a miss
    assert claims.margin(tuple(q), ["0", "1", "2"], "1") == -2
    assert claims.margin(tuple(q), ["0", "1", "2"], "7") is None
    one = (mpq(-1, 2),)
    assert claims.predict(one, ["-1", "1"]) == "-1" and claims.margin(one, ["-1", "1"], "-1") == mpq(1, 2)
    assert claims.predict((mpq(0),), ["-1", "1"]) == "tie"
    c = claims.classify([tuple(q), one[:1] * 3], [mpq(7), mpq(1)], ["0", "1", "2"])
    assert [m.index for m in c.misses] == [0, 1] and c.misses[0].predicted == "tie"
    assert c.min_margin == 0 and c.min_margin_point == 1  # point 0's label is no class: no margin


@pytest.mark.parametrize("engine", ["auto", "batch", "point"])
def test_every_engine_gives_the_oracles_outputs(tmp_path, engine):
    G, X = mlp(h=6, k=4, seed=3), points(60, seed=2)
    data = dataset.load(save(tmp_path, X, np.zeros(len(X), dtype=np.int64)))
    values = evaluate.values(G, data, jobs=1, engine=engine)
    want = oracle(G, np.array([data.point(i) for i in range(data.n)]))
    assert [[Fraction(int(v.numerator), int(v.denominator)) for v in o] for o in values] == want


def test_leaky_relu_takes_the_rational_path_exactly(tmp_path):
    G, X = mlp(act="leaky_relu", seed=4), points(30, seed=5)
    data = dataset.load(save(tmp_path, X, np.zeros(len(X), dtype=np.int64)))
    values = evaluate.values(G, data, jobs=1)
    want = oracle(G, np.array([data.point(i) for i in range(data.n)]))
    assert [[Fraction(int(v.numerator), int(v.denominator)) for v in o] for o in values] == want
    assert any(v < 0 for o in want for v in o)  # the negative branch is exercised


# -- certificates ---------------------------------------------------------------------------------


def test_a_correct_classifier_is_certified_and_checks(tmp_path):
    G, X = mlp(), points()
    y = argmax_labels(oracle(G, X))
    keep = [i for i, o in enumerate(oracle(G, X)) if o.count(max(o)) == 1]
    data = save(tmp_path, X[keep], y[keep])
    cert = netcert.verify(G, data, certificate=tmp_path / "net.cert.json")
    r = cert.record
    assert r["version"] == 2 and r["claim"] == {"kind": "classification"} and "interpolation" not in r
    assert cert.certified and r["classification"]["correct"] and r["classification"]["miss_count"] == 0
    assert mpq(r["classification"]["min_margin"]) > 0 and r["construction"] is None
    assert netcert.check(tmp_path / "net.cert.json").ok


def test_misses_are_listed_exactly_and_refute(tmp_path):
    G, X = mlp(), points()
    outs = oracle(G, X)
    y = argmax_labels(outs)
    y[[4, 9]] = (y[[4, 9]] + 1) % 3
    cert = netcert.verify(G, save(tmp_path, X, y), certificate=tmp_path / "c.cert.json", full=True)
    c = cert.record["classification"]
    assert cert.verdict == "refuted" and not cert.record["checker"]["failures"]
    assert {4, 9} <= {m["index"] for m in c["misses"]}
    m4 = next(m for m in c["misses"] if m["index"] == 4)
    assert m4["outputs"] == [str(mpq(v.numerator, v.denominator)) for v in outs[4]] and m4["label"] == str(y[4])
    assert mpq(c["min_margin"]) < 0


def test_tolerance_reports_the_exact_largest_error(tmp_path):
    G, X = mlp(k=1, classes=False), points(25)
    f = [o[0] for o in oracle(G, X)]
    y = np.array([float(v) for v in f]) + np.where(np.arange(25) == 7, 0.5, 0.0)  # dyadic: exact in float64
    path = save(tmp_path, X, y)
    cert = netcert.verify(G, path, certificate=tmp_path / "t.cert.json", claim="tolerance", eps="1/4")
    t = cert.record["tolerance"]
    assert cert.record["claim"] == {"kind": "tolerance", "eps": "1/4"} and cert.verdict == "refuted"
    assert t["max_error"] == "1/2" and t["max_error_point"] == 7 and [o["index"] for o in t["over"]] == [7]
    ok = netcert.verify(G, path, certificate=tmp_path / "ok.cert.json", claim="tolerance", eps="1/2")
    assert ok.certified and netcert.check(tmp_path / "ok.cert.json").ok


def test_claim_refusals(tmp_path):
    G, X = mlp(), points(10)
    path = save(tmp_path, X, np.zeros(10, dtype=np.int64))
    with pytest.raises(UsageError):
        netcert.verify(G, path, claim="tolerance")  # no eps
    with pytest.raises(UsageError):
        netcert.verify(G, path, eps="1/2")  # eps for classification
    with pytest.raises(UsageError):
        netcert.verify(G, path, claim="tolerance", eps=0.5)  # a float is not exact
    with pytest.raises(InputError):
        netcert.verify(G, path, claim="interpolation")  # three outputs
    with pytest.raises(InputError):
        netcert.verify(mlp(classes=False), path, claim="classification")


def test_version_1_certificates_are_unchanged(tmp_path):
    G, X = mlp(k=1, classes=False), points(12)
    y = np.array([float(o[0]) for o in oracle(G, X)])
    cert = netcert.verify(G, save(tmp_path, X, y), certificate=tmp_path / "i.cert.json")
    assert cert.record["version"] == 1 and "claim" not in cert.record and cert.certified


def test_cli_claim_and_eps(tmp_path):
    G, X = mlp(k=1, classes=False), points(12)
    y = np.array([float(o[0]) for o in oracle(G, X)])
    data = save(tmp_path, X, y)
    netcert.write_network(G, tmp_path / "net.json")
    run = CliRunner().invoke
    r = run(cli, ["verify", str(tmp_path / "net.json"), "--data", str(data), "--claim", "tolerance", "--eps", "0.01"])
    assert r.exit_code == 0, r.output
    assert "tolerance: within 0.01 on all 12 points, max error 0 at point 0" in r.output
    stored = json.loads((tmp_path / "net.cert.json").read_text())
    assert stored["claim"] == {"kind": "tolerance", "eps": "1/100"}
    assert run(cli, ["check", str(tmp_path / "net.cert.json")]).exit_code == 0
    for bad in (["--eps", "1"], ["--claim", "tolerance"], ["--claim", "tolerance", "--eps", "-1"]):
        r = run(cli, ["verify", str(tmp_path / "net.json"), "--data", str(data), "-o", str(tmp_path / "x.json"), *bad])
        assert r.exit_code == 2, (bad, r.output)


def test_a_leaky_relu_classifier_certifies_and_checks(tmp_path):
    G, X = mlp(act="leaky_relu", seed=6), points(30, seed=7)
    outs = oracle(G, X)
    keep = [i for i, o in enumerate(outs) if o.count(max(o)) == 1]
    data = save(tmp_path, X[keep], argmax_labels(outs)[keep])
    cert = netcert.verify(G, data, certificate=tmp_path / "net.cert.json", full=True)
    assert cert.certified and cert.record["structure"]["activations"] == ["identity", "leaky_relu"]
    assert netcert.check(tmp_path / "net.cert.json").ok
