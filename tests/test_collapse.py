"""The two-layer collapse (netcert.engine.collapse) against the per-point path: same evaluation, bit for bit."""

from __future__ import annotations

import random
from fractions import Fraction

import numpy as np
import pytest
from click.testing import CliRunner

from netcert import dataset
from netcert.engine import collapse
from netcert.engine import evaluate
from netcert.engine import run as engine_run
from netcert.engine.plan import batch_rows, input_bounds, layers_of
from netcert.engine.program import integer_rows
from netcert.cli import cli
from netcert.formats import netjson
from netcert.ir import network as net
from netcert.ir.network import ordered_nodes

import cases


def _engines(G, data, engine: str = "collapse") -> list[str]:
    return [p.engine for p in evaluate.evaluation_plan(G, data, engine=engine).layers]


def _two_layers(seed: int, *, width: int, d: int, bits: int, n: int, out_act: str = "identity"):
    """A dense random two-layer network with ``bits``-bit dyadic weights and ``n`` random points."""
    rng = random.Random(seed)
    inputs = [f"x{k}" for k in range(d)]
    G = net.new_network(inputs)
    for j in range(width):
        net.add_neuron(
            G,
            f"h{j}",
            layer=1,
            activation=rng.choice(["relu", "relu", "threshold", "identity"]),
            bias=Fraction(rng.randint(-(2**bits), 2**bits), 2**bits),
            incoming={x: Fraction(rng.randint(-(2**bits), 2**bits), 2**bits) for x in inputs},
        )
    net.add_neuron(
        G,
        "out",
        layer=2,
        activation=out_act,
        bias=Fraction(rng.randint(-(2**bits), 2**bits), 2**bits),
        incoming={f"h{j}": Fraction(rng.randint(-(2**bits), 2**bits), 2**bits) for j in range(width)},
    )
    net.set_outputs(G, ["out"])
    X = np.array([[rng.randint(-(2**52), 2**52) / 2**52 for _ in range(d)] for _ in range(n)])
    return G, dataset.from_arrays(X, np.zeros(n))


def _same_as_per_point(G, data, engine: str = "collapse"):
    fast = evaluate.run(G, data, jobs=1, engine=engine)
    assert fast == evaluate.run(G, data, jobs=1, engine="point")
    return fast


@pytest.mark.parametrize("seed", range(16))
@pytest.mark.parametrize("bits", [3, 30, 60, 300])
def test_collapse_gives_the_per_point_evaluation(seed, bits):
    G, data, outs = cases.layered_network(seed, weight_bits=bits, depth=2, n=60)
    assert _engines(G, data) == ["sign-filter", "collapse"]
    fast = _same_as_per_point(G, data)
    wrong = {m.index: m.obtained for m in fast.mismatches}
    assert wrong and all(wrong.get(i, data.labels[i]) == outs[i] for i in range(data.n))


def _cancelling(n: int):
    """Hidden Z_j = (2^60 + 1) t - 2^60 t - 7 j = t - 7 j on the points (t, t): exact Z is small,
    float64 loses t entirely (2^60 t + t needs more than 53 bits), and Z_j = 0 on t = 7 j."""
    G = net.new_network(["a", "b"])
    big = {"a": 2**60 + 1, "b": -(2**60)}
    for j in range(30):
        net.add_neuron(G, f"s{j}", layer=1, activation="threshold", bias=-7 * j, incoming=big)
        net.add_neuron(G, f"r{j}", layer=1, activation="relu", bias=-7 * j, incoming=big)
    net.add_neuron(
        G,
        "out",
        layer=2,
        activation="identity",
        bias=0,
        incoming={**{f"s{j}": 1000 for j in range(30)}, **{f"r{j}": 1 for j in range(30)}},
    )
    net.set_outputs(G, ["out"])
    t = np.arange(n, dtype=np.float64)
    expected = [1000 * sum(k >= 7 * j for j in range(30)) + sum(max(k - 7 * j, 0) for j in range(30)) for k in range(n)]
    return G, dataset.from_arrays(np.stack([t, t], axis=1), np.array(expected))


def test_signs_the_float_filter_cannot_prove_are_settled_exactly(monkeypatch):
    G, data = _cancelling(250)
    t = np.arange(250, dtype=np.float64)
    naive = [(2.0**60 + 1) * t - 2.0**60 * t - 7 * j for j in range(30)]  # what float64 alone would say
    assert any(np.sign(naive[j][k]) != np.sign(k - 7 * j) for j in range(30) for k in range(250))
    settled = []
    settle = collapse._settle
    monkeypatch.setattr(collapse, "_settle", lambda pair, X, Z, mask: settled.append(1) or settle(pair, X, Z, mask))
    assert _engines(G, data) == ["sign-filter", "collapse"]
    ev = _same_as_per_point(G, data)
    assert ev.exact and settled  # every label is the exact count: threshold(0) = 1 and relu(0) = 0 included


def test_random_dense_data_leaves_nothing_ambiguous(monkeypatch):
    """The filter's bound is tight enough to decide every sign of a random 32-bit network."""
    G, data = _two_layers(1, width=300, d=10, bits=32, n=300)
    monkeypatch.setattr(collapse, "_settle", lambda *a: pytest.fail("an entry was ambiguous"))
    assert _engines(G, data, "auto") == ["sign-filter", "collapse"]
    evaluate.run(G, data, jobs=1)


@pytest.mark.parametrize("out_act", ["relu", "threshold", "identity"])
def test_the_output_activation_is_applied_exactly(out_act):
    G, data = _two_layers(4, width=40, d=3, bits=20, n=80, out_act=out_act)
    outs = evaluate.outputs(G, data)
    assert len(set(outs)) > 1
    data = dataset.from_arrays(
        np.array([[float(q) for q in data.point(i)] for i in range(data.n)]), np.array([float(o) for o in outs])
    )
    ev = _same_as_per_point(G, data)
    assert ev.exact == all(Fraction(float(o)) == o for o in outs)


def test_inputs_of_63_bits_and_more_go_through_python_integers():
    G, data = _two_layers(2, width=30, d=2, bits=40, n=50)
    X = np.array([[float(q) for q in data.point(i)] for i in range(data.n)])
    X[0, 0], X[1, 0] = 2.0**-40, 2.0**40  # a common denominator of 2^92: numerators of 130 bits
    data = dataset.from_arrays(X, np.zeros(data.n))
    assert max(abs(v) for p in data.num for v in p) >= 2**63
    assert _engines(G, data) == ["sign-filter", "collapse"]
    _same_as_per_point(G, data)


def test_what_the_plan_cannot_prove_is_left_to_the_other_engines():
    G, data, _ = cases.layered_network(3, weight_bits=20, depth=3)
    assert "collapse" not in _engines(G, data)  # three layers
    _same_as_per_point(G, data)
    G = net.new_network(["x"])
    net.add_neuron(G, "h", layer=1, activation="relu", bias=1, incoming={"x": 2**1100})
    net.add_neuron(G, "out", layer=2, activation="identity", bias=0, incoming={"h": 3})
    net.set_outputs(G, ["out"])
    data = dataset.from_arrays(np.array([[0.5], [-2.0]]), np.array([0, 1]))
    assert "collapse" not in _engines(G, data)  # 2^1100 would overflow the filter's floats
    _same_as_per_point(G, data)


def test_auto_collapses_wide_two_layer_networks_and_keeps_tables_per_point():
    G, data = _two_layers(5, width=400, d=10, bits=32, n=400)
    plan = evaluate.evaluation_plan(G, data)
    assert plan.batched and _engines(G, data, "auto") == ["sign-filter", "collapse"] and "collapsed" in plan.why
    _same_as_per_point(G, data, "auto")


def test_collapse_is_deterministic_across_chunks_and_processes(monkeypatch):
    G, data, _ = cases.layered_network(7, weight_bits=30, depth=2, n=2400)
    first = _same_as_per_point(G, data)
    monkeypatch.setattr(engine_run, "_PARALLEL_MIN_NS", 0)
    assert evaluate.run(G, data, jobs=2, engine="collapse") == first
    monkeypatch.setattr(collapse, "CHUNK_ELEMENTS", 64)  # chunks of 32 points, a last one cut short
    assert evaluate.run(G, data, jobs=1, engine="collapse") == first


def test_inspect_plan_names_the_filter_and_the_collapse(tmp_path):
    G, data = _two_layers(6, width=300, d=10, bits=32, n=10)
    netjson.write(G, tmp_path / "net.json")
    out = CliRunner().invoke(cli, ["inspect", "--plan", str(tmp_path / "net.json")])
    assert out.exit_code == 0, out.output
    assert "sign-filter" in out.output and "collapse(" in out.output and "collapsed" in out.output


def test_the_filter_bound_covers_the_float_error_on_rounding_heavy_rows():
    """|fl(A x) - A x| < tau_j on rows and inputs built to round at every step (near 2^53 + 1)."""
    rng = random.Random(0)
    d, H = 10, 200
    near = [2**53 + 1, 2**53 - 1, 2**54 + 3, 3 * 2**52 + 1, 2**52 + 1]
    G = net.new_network([f"x{k}" for k in range(d)])
    for j in range(H):
        net.add_neuron(
            G,
            f"h{j}",
            layer=1,
            activation="relu",
            bias=rng.choice([-1, 1]) * rng.choice(near),
            incoming={f"x{k}": rng.choice([-1, 1]) * rng.choice(near) >> rng.randint(0, 40) for k in range(d)},
        )
    net.add_neuron(G, "out", layer=2, activation="identity", bias=0, incoming={f"h{j}": 1 for j in range(H)})
    net.set_outputs(G, ["out"])
    X = np.array(
        [[rng.choice([-1, 1]) * float(rng.choice(near) >> rng.randint(0, 45)) for _ in range(d)] for _ in range(50)]
    )
    data = dataset.from_arrays(X, np.zeros(50))
    plan = evaluate.evaluation_plan(G, data, engine="collapse")
    assert plan.layers[0].engine == "sign-filter"
    rows = batch_rows(G, layers_of(G, {})[0], integer_rows(G, ordered_nodes(G), data.scale)[0])
    bounds = input_bounds(data)
    found = collapse.plan(rows, bounds)
    pair = collapse.build(found[0], found[1], rows)
    Xi = np.array(data.num, dtype=object).T
    Z = pair.weights @ np.vstack([Xi.astype(np.float64), np.ones(data.n)])
    worst = 0.0
    for j, row in enumerate(rows[0]):
        for i in range(data.n):
            exact = row.bias + sum(a * int(Xi[s, i]) for s, a in zip(row.sources, row.coefs))
            error = abs(Fraction(Z[j, i]) - exact)
            assert error < Fraction(pair.above[j, 0])
            worst = max(worst, float(error / found[1].S[j]))
    assert worst > 2.0**-53  # the rows did round, by more than one unit: the test measures a real error
