"""The C kernel (netcert.engine.native) against evaluate.forward: the same integers, point for point."""

from __future__ import annotations

import random

import numpy as np
import pytest
from click.testing import CliRunner

from netcert import dataset
from netcert.engine import native
from netcert.engine import evaluate, pointwise
from netcert.engine.program import Table
from netcert.cli import cli
from netcert.constructions import park2021, vardi2022, yun2019
from netcert.formats import netjson
from netcert.ir import network as net

import cases

needs_kernel = pytest.mark.skipif(native.library() is None, reason=f"no C kernel: {native.unavailable()}")


def _kernel(program) -> native.Program:
    return native.Program(native.library(), program)


def _forward(program, points) -> list[int]:
    return [evaluate.forward(program, p)[0] for p in points]


@needs_kernel
@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("bits", [3, 60, 300])
def test_the_kernel_computes_forwards_integers(seed, bits):
    G, data, _ = cases.layered_network(seed, weight_bits=bits, n=80)
    program = evaluate.compile_network(G, data.scale)
    assert _kernel(program).run(data.num) == _forward(program, data.num)


def _tables(seed: int):
    """One shared form x read through breakpoint tables whose breakpoints -b/m are integers and
    halves, with the points on them, between them and beyond."""
    rng = random.Random(seed)
    G = net.new_network(["x"])
    for k in range(12):
        m = rng.choice([1, 2, -2, 3, -3, -5, -1])  # breakpoints -4 b / m in the units of L = 4 x
        net.add_neuron(G, f"h{k}", layer=1, activation="relu", bias=rng.randint(-9, 9), incoming={"x": m})
    for c, act in enumerate(["identity", "relu", "threshold"]):
        net.add_neuron(
            G,
            f"o{c}",
            layer=2,
            activation=act,
            bias=rng.randint(-5, 5),
            incoming={f"h{k}": rng.choice([-3, -1, 1, 2]) * 2 ** rng.choice([0, 61, 61, 90]) for k in range(12)},
        )
    net.add_neuron(G, "out", layer=3, activation="identity", bias=0, incoming={f"o{c}": c + 1 for c in range(3)})
    net.set_outputs(G, ["out"])
    X = np.arange(-12.0, 12.0, 0.25)[:, None]
    return G, dataset.from_arrays(X, np.zeros(len(X)))


@needs_kernel
@pytest.mark.parametrize("seed", range(8))
def test_tables_with_integer_and_half_breakpoints(seed):
    G, data = _tables(seed)
    program = evaluate.compile_network(G, data.scale)
    assert any(type(s) is Table for s in program.steps)
    assert _kernel(program).run(data.num) == _forward(program, data.num)


@needs_kernel
def test_reuse_across_points_and_calls_gives_the_same_values():
    """Repeated points, shuffled points and points split over several calls of one kernel."""
    G, data, _ = cases.layered_network(5, weight_bits=40, n=60)
    program = evaluate.compile_network(G, data.scale)
    kernel = _kernel(program)
    rng = random.Random(0)
    points = [p for p in data.num for _ in range(rng.randint(1, 3))]
    rng.shuffle(points)
    got = kernel.run(points[:7]) + kernel.run(points[7:8]) + kernel.run(points[8:]) + kernel.run([])
    assert got == _forward(program, points)


def _dense(seed: int, n: int = 120):
    """Three inputs, two dense layers of 8 identity neurons with weights of up to 70 bits, one
    output: every form depends on every input, so distinct points change every form."""
    rng = np.random.default_rng(seed)
    G = net.new_network(["x0", "x1", "x2"])
    previous = ["x0", "x1", "x2"]
    for layer in (1, 2):
        names = [f"h{layer}_{k}" for k in range(8)]
        for name in names:
            net.add_neuron(
                G,
                name,
                layer=layer,
                activation="identity",
                bias=int(rng.integers(-9, 9)),
                incoming={
                    v: int(rng.integers(1, 2**20)) * 2 ** int(rng.integers(0, 50)) * int(rng.choice([-1, 1]))
                    for v in previous
                },
            )
        previous = names
    net.add_neuron(G, "out", layer=3, activation="relu", bias=0, incoming={v: k + 1 for k, v in enumerate(previous)})
    net.set_outputs(G, ["out"])
    X = rng.integers(-1000, 1000, (n, 3)).astype(np.float64)
    return G, dataset.from_arrays(X, np.zeros(n))


@needs_kernel
@pytest.mark.parametrize("seed", range(4))
def test_reuse_stops_where_every_point_changes_everything_and_values_stay_exact(seed):
    """Distinct points recompute every form: after the 32-point probe the kernel stops checking
    what changed; the values before, across and after the switch are forward's."""
    G, data = _dense(seed)
    program = evaluate.compile_network(G, data.scale)
    kernel = _kernel(program)
    points = list(data.num)
    got = kernel.run(points[:20])
    assert kernel.reuses
    got += kernel.run(points[20:40]) + kernel.run(points[40:]) + kernel.run(points[:30])
    assert not kernel.reuses
    assert got == _forward(program, points + points[:30])
    assert max(abs(v) for v in got).bit_length() > 64


@needs_kernel
def test_reuse_stays_where_points_repeat():
    G, data = _dense(0)
    program = evaluate.compile_network(G, data.scale)
    kernel = _kernel(program)
    points = [p for p in data.num[:20] for _ in range(5)]
    assert kernel.run(points) == _forward(program, points)
    assert kernel.reuses


@needs_kernel
def test_inputs_of_63_bits_and_more_cross_as_bytes():
    G, data, _ = cases.layered_network(9, weight_bits=20, n=40)
    program = evaluate.compile_network(G, data.scale)
    points = [tuple(x * 2**70 + (-1) ** k for k, x in enumerate(p)) for p in data.num]
    assert _kernel(program).run(points) == _forward(program, points)


@needs_kernel
@pytest.mark.parametrize("build", [vardi2022.build, park2021.build, yun2019.build])
def test_constructions_certify_through_the_kernel(build):
    X, y = cases.random_data(300, 3, "integer", 1)
    data = dataset.from_arrays(X, y)
    G = build(data)
    program = evaluate.compile_network(G, data.scale)
    assert pointwise.native_program(program) is not None
    assert evaluate.run(G, data, jobs=1, engine="point").exact
    wrong = dataset.from_arrays(X, y + 1)
    assert len(evaluate.run(G, wrong, jobs=1, engine="point").mismatches) == data.n


def test_rational_fallback_programs_stay_in_python():
    G = cases.exploding_scales_network()
    data = dataset.from_arrays(np.array([[0.5], [-2.0], [7.0]]), np.array([0, 1, 2]))
    program = evaluate.compile_network(G, data.scale)
    assert pointwise.native_program(program) is None
    assert evaluate.run(G, data, jobs=1, engine="point").points_checked == 3


def test_without_the_kernel_python_gives_the_same_evaluation(monkeypatch, tmp_path):
    G, data, _ = cases.layered_network(4, weight_bits=50, n=50, depth=4)
    with_kernel = evaluate.run(G, data, jobs=1, engine="point")
    monkeypatch.setenv("NETCERT_NATIVE", "0")
    assert native.library() is None and native.unavailable() == "NETCERT_NATIVE=0"
    assert evaluate.run(G, data, jobs=1, engine="point") == with_kernel
    netjson.write(G, tmp_path / "net.json")
    out = CliRunner().invoke(cli, ["inspect", "--plan", str(tmp_path / "net.json")])
    assert "not the C kernel: NETCERT_NATIVE=0" in out.output or "batch" in out.output.splitlines()[0]


def test_a_failed_compile_is_reported_not_raised(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("CC", "false")
    assert native.library() is None
    assert native.unavailable().startswith("compiling program.c failed")
    assert not list((tmp_path / "netcert").iterdir())  # nothing half-written


@needs_kernel
def test_threshold_and_relu_at_exactly_zero():
    """threshold(0) = 1 and relu(0) = 0, on points where every hidden Z is an integer near 0."""
    G = net.new_network(["x", "y"])
    for j in range(-4, 5):
        net.add_neuron(G, f"t{j}", layer=1, activation="threshold", bias=-j, incoming={"x": 1, "y": -1})
        net.add_neuron(G, f"r{j}", layer=1, activation="relu", bias=-j, incoming={"x": 2, "y": -2})
    net.add_neuron(
        G,
        "out",
        layer=2,
        activation="identity",
        bias=0,
        incoming={**{f"t{j}": 100 * 3 ** (j + 4) for j in range(-4, 5)}, **{f"r{j}": 1 for j in range(-4, 5)}},
    )
    net.set_outputs(G, ["out"])
    X = np.array([[a, b] for a in range(-5, 6) for b in range(-5, 6)], dtype=np.float64)
    data = dataset.from_arrays(X, np.zeros(len(X)))
    program = evaluate.compile_network(G, data.scale)
    got = _kernel(program).run(data.num)
    assert got == _forward(program, data.num)
    assert got[0] == sum(
        100 * 3 ** (j + 4) - j for j in range(-4, 1)
    )  # x = y: threshold(-j) = 1, relu(-j) = -j for j <= 0


@needs_kernel
@pytest.mark.parametrize("seed", range(6))
def test_values_crossing_64_bits(seed):
    """Products and sums just below, at and above 2^63 in magnitude, where the kernel's int64
    fast path must hand over to GMP (and back when a value fits again)."""
    rng = random.Random(seed)
    edge = [2**62, 2**62 + 1, 2**63 - 1, 2**63, 2**63 + 1, 3 * 2**61, 2**31, 2**32 + 1, 1]
    G = net.new_network(["x", "y"])
    for j in range(8):
        net.add_neuron(
            G,
            f"h{j}",
            layer=1,
            activation=rng.choice(["relu", "identity", "threshold"]),
            bias=rng.choice([-1, 1]) * rng.choice(edge),
            incoming={"x": rng.choice([-1, 1]) * rng.choice(edge), "y": rng.choice([-1, 1]) * rng.choice(edge)},
        )
    for j in range(4):
        net.add_neuron(
            G,
            f"g{j}",
            layer=2,
            activation=rng.choice(["relu", "identity"]),
            bias=rng.choice(edge),
            incoming={f"h{k}": rng.choice([-1, 1]) * rng.choice(edge) for k in range(8)},
        )
    net.add_neuron(G, "out", layer=3, activation="identity", bias=0, incoming={f"g{j}": 1 for j in range(4)})
    net.set_outputs(G, ["out"])
    data = dataset.from_arrays(np.zeros((1, 2)), np.zeros(1))
    program = evaluate.compile_network(G, data.scale)
    points = [
        (a * s, b * t)
        for a in (0, 1, 2**31, 2**32, 2**62 - 1, 2**63 - 1)
        for b in (1, 2**30, 2**62)
        for s in (1, -1)
        for t in (1, -1)
    ]
    assert _kernel(program).run(points) == _forward(program, points)


@needs_kernel
def test_threads_never_share_a_kernels_state():
    """ctypes releases the GIL: threads (a Dask worker with several) get their own program, and a
    program shared on purpose serialises its calls."""
    from concurrent.futures import ThreadPoolExecutor

    G, data, _ = cases.layered_network(8, weight_bits=120, n=400)
    program = evaluate.compile_network(G, data.scale)
    expected = _forward(program, data.num)
    rng = random.Random(1)
    orders = [rng.sample(range(data.n), data.n) for _ in range(8)]
    shared = _kernel(program)
    with ThreadPoolExecutor(4) as pool:
        own = list(pool.map(lambda o: (o, pointwise.native_program(program).run([data.num[i] for i in o])), orders))
        common = list(pool.map(lambda o: (o, shared.run([data.num[i] for i in o])), orders))
    for order, got in own + common:
        assert got == [expected[i] for i in order]
