"""The batch engine (netcert.engine.batch) against the per-point path: same evaluation, bit for bit."""

from __future__ import annotations

import random
from fractions import Fraction

import numpy as np
import pytest
from click.testing import CliRunner

from netcert import certificate, dataset, certify
from netcert.engine import batch, native
from netcert.engine import evaluate
from netcert.cli import cli
from netcert.formats import netjson
from netcert.ir import network as net

import cases


def _engines(G, data) -> list[str]:
    return [p.engine for p in evaluate.evaluation_plan(G, data, engine="batch").layers]


@pytest.mark.parametrize("seed", range(24))
@pytest.mark.parametrize("bits", [3, 30, 50])
def test_batch_gives_the_per_point_evaluation(seed, bits):
    G, data, outs = cases.layered_network(seed, weight_bits=bits)
    point = evaluate.run(G, data, jobs=1, engine="point")
    fast = evaluate.run(G, data, jobs=1, engine="batch")
    assert evaluate.evaluation_plan(G, data, engine="batch").batched or bits == 50  # 4 layers of 50 bits: > 12 limbs
    assert fast == point
    wrong = {m.index: m.obtained for m in fast.mismatches}
    assert all(wrong.get(i, data.labels[i]) == outs[i] for i in range(data.n))


def test_weights_beyond_2_to_the_40_are_split_into_limbs():
    G, data, outs = cases.layered_network(3, weight_bits=60, depth=3)
    plan = evaluate.evaluation_plan(G, data, engine="batch")
    assert plan.batched and any(p.engine == "limb-split" and p.weight_limbs > 1 for p in plan.layers)
    assert evaluate.run(G, data, jobs=1, engine="batch") == evaluate.run(G, data, jobs=1, engine="point")


@pytest.mark.parametrize("weight", [2**63, 2**70, 2**700])
def test_a_huge_weight_on_an_input_that_is_always_zero_is_not_put_in_a_float_or_int64_matrix(weight):
    """|Z| is small (the input is 0 on every point) but the matrix holds the weight itself: the plan used
    to pick batch-int64 and numpy refused the weight (found by the property tests)."""
    G = net.new_network(["a", "b"])
    net.add_neuron(G, "h", layer=1, activation="relu", bias=0, incoming={"a": weight, "b": 5})
    net.add_neuron(G, "out", layer=2, activation="identity", bias=0, incoming={"h": 1})
    net.set_outputs(G, ["out"])
    data = dataset.from_arrays(np.array([[0, 1], [0, 7], [0, 2]]), np.array([5, 35, 10]))
    assert _engines(G, data)[0] not in ("batch-int64", "batch-float64")
    fast = evaluate.run(G, data, jobs=1, engine="batch")
    assert fast.exact and fast == evaluate.run(G, data, jobs=1, engine="point")


@pytest.mark.parametrize("seed", range(6))
def test_sparse_threshold_layers_use_integer_csr(seed):
    G, data, _ = cases.layered_network(seed, weight_bits=20, sparse=True, depth=4)
    plan = evaluate.evaluation_plan(G, data, engine="batch")
    assert any(p.engine == "batch-int64" and p.sparse for p in plan.layers[1:])
    assert evaluate.run(G, data, jobs=1, engine="batch") == evaluate.run(G, data, jobs=1, engine="point")


def _tiny(weight: object, skip: bool = False):
    G = net.new_network(["x"])
    net.add_neuron(G, "h", layer=1, activation="relu", bias=1, incoming={"x": weight})
    net.add_neuron(G, "out", layer=2, activation="identity", bias=0, incoming={"h": 3, **({"x": 1} if skip else {})})
    net.set_outputs(G, ["out"])
    data = dataset.from_arrays(np.array([[0.5], [-2.0], [7.0]]), np.array([0, 1, 2]))
    return G, data


@pytest.mark.parametrize(
    "weight,skip,engine,reason",
    [
        (2, True, "sweep", "not layered"),
        (2**3000, False, "sweep", "limbs"),
        (None, False, "rational fallback", "rational"),
    ],
)
def test_networks_without_an_exact_batch_kernel_fall_back_to_the_per_point_path(weight, skip, engine, reason):
    if weight is None:  # unrelated big prime denominators: the integer scale explodes
        G = cases.exploding_scales_network()
        data = dataset.from_arrays(np.array([[0.5], [-2.0], [7.0]]), np.array([0, 1, 2]))
    else:
        G, data = _tiny(weight, skip)
    plan = evaluate.evaluation_plan(G, data, engine="batch")
    assert not plan.batched and reason in plan.why
    assert engine in [p.engine for p in plan.layers]
    assert evaluate.run(G, data, jobs=1, engine="batch") == evaluate.run(G, data, jobs=1, engine="point")


def test_auto_keeps_breakpoint_tables_per_point():
    """zhang2017-like: one shared form read through a table costs O(log n) per point alone."""
    G = net.new_network(["x"])
    for k in range(1000):
        net.add_neuron(G, f"h{k}", layer=1, activation="relu", bias=-k * 2**70, incoming={"x": 3})
    net.add_neuron(G, "out", layer=2, activation="identity", bias=0, incoming={f"h{k}": (-1) ** k for k in range(1000)})
    net.set_outputs(G, ["out"])
    data = dataset.from_arrays(np.arange(300.0)[:, None] * 2.0**70, np.zeros(300))
    plan = evaluate.evaluation_plan(G, data)
    assert not plan.batched and "per point is cheaper" in plan.why


def test_batch_is_deterministic_across_runs_chunks_and_processes(monkeypatch):
    G, data, _ = cases.layered_network(7, weight_bits=30, n=2400)
    first = evaluate.run(G, data, jobs=1, engine="batch")
    assert evaluate.run(G, data, jobs=1, engine="batch") == first
    assert evaluate.run(G, data, jobs=2, engine="batch") == first
    monkeypatch.setattr(batch, "CHUNK_ELEMENTS", 64)  # tiny chunks, a last one cut short
    assert evaluate.run(G, data, jobs=1, engine="batch") == first
    assert evaluate.run(G, data, jobs=1, engine="point") == first


@pytest.mark.parametrize("engine,depth", [("batch", None), ("collapse", 2)])
def test_certificate_bytes_do_not_depend_on_the_engine(tmp_path, monkeypatch, engine, depth):
    G, data, _ = cases.layered_network(11, weight_bits=50, n=60, depth=depth)
    netjson.write(G, tmp_path / "net.json")
    X = np.array([[float(q) for q in data.point(i)] for i in range(data.n)])
    assert all(
        Fraction(x).limit_denominator(2**80) == Fraction(int(q.numerator), int(q.denominator))
        for i in range(data.n)
        for x, q in zip(X[i], data.point(i))
    )
    np.savez(
        tmp_path / "d.npz", X=X, y=np.array([int(o) if o.denominator == 1 else 0 for o in evaluate.outputs(G, data)])
    )
    run = evaluate.run
    made = {}
    for name in ("point", engine):
        monkeypatch.setattr(evaluate, "run", lambda *a, e=name, **k: run(*a, **k, engine=e))
        cert = certify.verify(tmp_path / "net.json", tmp_path / "d.npz", tmp_path / "net.cert.json", sample=5)
        made[name] = certificate.to_bytes(cert)
    assert made["point"] == made[engine]


def test_split_and_normalize_are_exact_on_random_limbs():
    rng = random.Random(0)

    def value(H, r):
        return [
            [sum(int(H[i, p, k]) << (r * p) for p in range(H.shape[1])) for k in range(H.shape[2])]
            for i in range(H.shape[0])
        ]

    for _ in range(300):
        bits = rng.randint(1, 250)
        vals = [[rng.randint(-(2**bits), 2**bits) for _ in range(3)] for _ in range(2)]
        top = max(abs(v) for row in vals for v in row)
        r1, r2 = rng.randint(4, 26), rng.randint(4, 26)
        H1 = batch.split_limbs(np.array(vals, dtype=object)[:, None, :], 0, r1, batch.limbs_needed(top, r1))
        H2 = batch.split_limbs(H1.astype(np.int64), r1, r2, batch.limbs_needed(top, r2))
        assert value(H1, r1) == vals and value(H2, r2) == vals
        r = rng.randint(4, 26)
        C = [
            [
                np.array([[rng.randint(-(2**50), 2**50) for _ in range(3)] for _ in range(2)], dtype=np.float64)
                for _ in range(rng.randint(1, 3))
            ]
            for _ in range(rng.randint(1, 6))
        ]  # sums < 2^52: exact
        Z = [
            [sum(int(t[i, k]) << (r * p) for p, terms in enumerate(C) for t in terms) for k in range(3)]
            for i in range(2)
        ]
        N = batch.normalize(C, r, batch.limbs_needed(max(abs(z) for row in Z for z in row), r))
        assert value(N, r) == Z
        assert all(0 <= v < 2**r for v in N[:, :-1].ravel()) and all(v == int(v) for v in N.ravel())


def test_inspect_plan_names_the_engine_of_every_layer(tmp_path):
    G, data, _ = cases.layered_network(2, weight_bits=50, depth=3)
    netjson.write(G, tmp_path / "net.json")
    X = np.array([[float(q) for q in data.point(i)] for i in range(data.n)])
    np.savez(tmp_path / "d.npz", X=X, y=np.zeros(data.n))
    runner = CliRunner()
    out = runner.invoke(cli, ["inspect", "--plan", str(tmp_path / "net.json"), "--data", str(tmp_path / "d.npz")])
    assert out.exit_code == 0, out.output
    assert "limb-split(" in out.output and "layer" in out.output and "why" in out.output
    G2, _ = _tiny(2, skip=True)
    netjson.write(G2, tmp_path / "skip.json")
    out = runner.invoke(cli, ["inspect", "--plan", str(tmp_path / "skip.json")])
    assert out.exit_code == 0, out.output
    assert "per point" in out.output and "sweep" in out.output and "not layered" in out.output
    assert ("C kernel over GMP" if native.unavailable() is None else "straight-line") in out.output
    G3, _ = _tiny(Fraction(1, 3))
    netjson.write(G3, tmp_path / "small.json")
    out = runner.invoke(cli, ["inspect", "--plan", str(tmp_path / "small.json")])
    assert "batch-float64" in out.output or "batch-int64" in out.output
