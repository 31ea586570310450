"""The fast evaluator against the Fraction oracle on a table of random networks."""

from __future__ import annotations

import dataclasses
import random
from fractions import Fraction

import numpy as np
import pytest

from netcert import dataset
from netcert.engine import reference, straightline
from netcert.engine import evaluate, pointwise
from netcert.engine import run as engine_run
from netcert.exact import mpq, mpz
from netcert.ir import network as net
from netcert.ir import validate

import cases


def _rq(rng: random.Random, big: bool = False) -> Fraction:
    if big:
        return Fraction(rng.randint(-(2**300), 2**300), rng.choice([1, 3, 2**200]))
    return Fraction(rng.randint(-40, 40), rng.choice([1, 2, 3, 4, 8, 5]))


def _random_network(seed: int, *, shared: bool, layered: bool, big: bool):
    """Random network; ``shared`` makes layer 1 rows multiples of one direction (breakpoint tables)."""
    rng = random.Random(seed)
    d = rng.randint(1, 3)
    inputs = [f"x{j}" for j in range(d)]
    G = net.new_network(inputs)
    u = [_rq(rng) or Fraction(1) for _ in range(d)]
    layers = [inputs]
    for layer in range(1, 4):
        cur = []
        for k in range(rng.randint(4, 9)):
            act = "relu" if (shared and layer == 1) else rng.choice(["relu", "relu", "threshold", "identity"])
            if shared and layer == 1:
                m = rng.choice([1, 2, -1, -3, Fraction(1, 2)])
                inc = {x: a * m for x, a in zip(inputs, u)}
            else:
                pool = layers[-1] if layered else [v for lay in layers for v in lay]
                inc = {v: _rq(rng, big and rng.random() < 0.2) for v in pool if rng.random() < 0.8}
            net.add_neuron(G, f"h{layer}_{k}", layer=layer, activation=act, bias=_rq(rng, big), incoming=inc)
            cur.append(f"h{layer}_{k}")
        layers.append(cur)
    net.add_neuron(G, "out", layer=4, activation="identity", bias=_rq(rng), incoming={v: _rq(rng) for v in layers[-1]})
    net.set_outputs(G, ["out"])
    assert not validate.errors(validate.validate(G))
    X = np.array([[rng.randint(-30, 30) / rng.choice([1, 2, 4, 1024]) for _ in range(d)] for _ in range(40)])
    return G, dataset.from_arrays(np.unique(X, axis=0), np.zeros(len(np.unique(X, axis=0))))


CASES = [
    (seed, shared, layered, big)
    for seed in range(12)
    for shared, layered, big in [(True, True, False), (False, True, False), (False, False, False), (True, True, True)]
]


@pytest.mark.parametrize("seed,shared,layered,big", CASES)
def test_evaluator_matches_fraction_oracle(seed, shared, layered, big):
    G, data = _random_network(seed, shared=shared, layered=layered, big=big)
    fast = evaluate.outputs(G, data)
    for i in range(data.n):
        x = [Fraction(int(q.numerator), int(q.denominator)) for q in data.point(i)]
        assert Fraction(int(fast[i].numerator), int(fast[i].denominator)) == reference.forward(G, x)[0], i


def test_shared_layer_compiles_to_breakpoint_table():
    G, data = _random_network(0, shared=True, layered=True, big=False)
    program = evaluate.compile_network(G, data.scale)
    assert any(type(s).__name__ == "Table" for s in program.steps)


def test_run_reports_mismatches_with_index_expected_and_obtained():
    G = net.new_network(["x"])
    net.add_neuron(G, "out", layer=1, activation="identity", bias=0, incoming={"x": 2})
    net.set_outputs(G, ["out"])
    data = dataset.from_arrays(np.array([[1.0], [2.0], [0.5]]), np.array([2.0, 5.0, 1.0]))
    ev = evaluate.run(G, data)
    assert not ev.exact
    assert [(m.index, m.expected, m.obtained) for m in ev.mismatches] == [(1, mpq(5), mpq(4))]


def test_threshold_output_at_zero_is_one():
    G = net.new_network(["x"])
    net.add_neuron(G, "out", layer=1, activation="threshold", bias=-1, incoming={"x": 1})
    net.set_outputs(G, ["out"])
    data = dataset.from_arrays(np.array([[1.0], [0.75], [3.0]]), np.array([1, 0, 1]))
    assert evaluate.run(G, data).exact


@pytest.mark.parametrize("seed", range(6))
def test_unrelated_denominators_take_the_rational_path_and_stay_exact(seed):
    """Output weights 1/p for distinct primes: the integer scale would explode (docs/performance.md, "Benchmark shapes": shape Ar)."""
    rng = random.Random(seed)
    primes = [p for p in range(1000, 3000) if all(p % q for q in range(2, 55))][:60]
    G = net.new_network(["x0", "x1"])
    hidden = []
    for k, p in enumerate(primes):
        net.add_neuron(
            G,
            f"h{k}",
            layer=1,
            activation="relu",
            bias=_rq(rng),
            incoming={"x0": _rq(rng), "x1": Fraction(rng.randint(-9, 9) or 1, p)},
        )
        hidden.append(f"h{k}")
    net.add_neuron(
        G,
        "out",
        layer=2,
        activation="identity",
        bias=Fraction(1, 7),
        incoming={h: Fraction(rng.choice([-1, 1]), p) for h, p in zip(hidden, primes)},
    )
    net.set_outputs(G, ["out"])
    X = np.array([[rng.randint(-30, 30) / 4, rng.randint(-30, 30) / 8] for _ in range(25)])
    data = dataset.from_arrays(np.unique(X, axis=0), np.zeros(len(np.unique(X, axis=0))))
    program = evaluate.compile_network(G, data.scale)
    assert any(type(s).__name__ == "RatNode" for s in program.steps)
    fast = evaluate.outputs(G, data)
    for i in range(data.n):
        x = [Fraction(int(q.numerator), int(q.denominator)) for q in data.point(i)]
        assert Fraction(int(fast[i].numerator), int(fast[i].denominator)) == reference.forward(G, x)[0]


def _labelled_by_oracle(G, data, wrong=()):
    """The same points labelled with the oracle's outputs, except indices in ``wrong`` (off by 1)."""
    ys = []
    for i in range(data.n):
        x = [Fraction(int(q.numerator), int(q.denominator)) for q in data.point(i)]
        y = reference.forward(G, x)[0]
        ys.append(y + 1 if i in wrong else y)
    return dataclasses.replace(data, labels=tuple(mpq(y.numerator, y.denominator) for y in ys))


@pytest.mark.parametrize("seed,shared,layered,big", CASES[::3])
def test_incremental_sweep_and_events_agree_with_the_oracle(seed, shared, layered, big, monkeypatch, python_per_point):
    """Reuse across points (sweep) and change propagation (events) give the oracle's values."""
    G, data = _random_network(seed, shared=shared, layered=layered, big=big)
    data = _labelled_by_oracle(G, data, wrong={3})
    for calibration, sparse in ((10**9, 0.0), (2, 10.0)):  # sweep only; events from the 3rd point
        monkeypatch.setattr(pointwise, "_CALIBRATION", calibration)
        monkeypatch.setattr(pointwise, "_SPARSE", sparse)
        ev = evaluate.run(G, data, jobs=1, engine="point")  # not the batch engine (tests/test_batch.py)
        assert [m.index for m in ev.mismatches] == [3]
        assert ev.mismatches[0].obtained == ev.mismatches[0].expected - 1


def test_processes_give_the_same_evaluation_as_one(monkeypatch):
    G, data = _random_network(5, shared=True, layered=True, big=True)
    data = _labelled_by_oracle(G, data, wrong={0, 7, 19})
    one = evaluate.run(G, data, jobs=1, engine="point")
    monkeypatch.setattr(engine_run, "_PARALLEL_MIN_POINTS", 1)
    done = []
    two = evaluate.run(G, data, jobs=2, progress=done.append, engine="point")
    assert two == one and [m.index for m in two.mismatches] == [0, 7, 19]
    assert done[-1] == data.n


@pytest.mark.parametrize("seed,shared,layered,big", CASES[::2])
def test_straight_line_function_computes_the_programs_values(seed, shared, layered, big):
    """One statement per form and node (straightline) gives forward's integers on every point."""
    G, data = _random_network(seed, shared=shared, layered=layered, big=big)
    program = evaluate.compile_network(G, data.scale)
    run = straightline.compile_program(program, pointwise.table_value, mpz, mpq)
    assert run is not None
    assert [run(p) for p in data.num] == [evaluate.forward(program, p) for p in data.num]


def test_straight_line_splits_long_sums_and_binds_big_coefficients():
    G = net.new_network(["x"])
    for k in range(300):
        net.add_neuron(
            G,
            f"h{k}",
            layer=1,
            activation=["relu", "identity", "threshold"][k % 3],
            bias=Fraction(k, 3),
            incoming={"x": Fraction(k - 150, 7) or 1},
        )
    net.add_neuron(
        G,
        "out",
        layer=2,
        activation="identity",
        bias=-(2**200),
        incoming={f"h{k}": (2**100 + k) * (-1) ** k for k in range(300)},
    )
    net.set_outputs(G, ["out"])
    data = dataset.from_arrays(np.array([[-3.5], [0.25], [7.0]]), np.zeros(3))
    program = evaluate.compile_network(G, data.scale)
    run = straightline.compile_program(program, pointwise.table_value, mpz, mpq)
    assert [run(p) for p in data.num] == [evaluate.forward(program, p) for p in data.num]


@pytest.mark.parametrize("seed,shared,layered,big", CASES[1::4])
def test_runs_that_time_the_straight_line_function_report_the_same_mismatches(
    seed, shared, layered, big, monkeypatch, python_per_point
):
    G, data = _random_network(seed, shared=shared, layered=layered, big=big)
    wrong = set(range(0, data.n, 5))
    data = _labelled_by_oracle(G, data, wrong=wrong)
    monkeypatch.setattr(pointwise, "_CALIBRATION", 3)
    monkeypatch.setattr(pointwise, "_STRAIGHT_MIN_POINTS", 1)
    compiled, calls = straightline.compile_program, []

    def counted(*args):
        run = compiled(*args)
        return lambda point: calls.append(point) or run(point)

    monkeypatch.setattr(straightline, "compile_program", counted)
    assert data.n > 9
    for straight_time, straight_points in ((0.5, data.n - 6), (2.0, 3)):  # reuse timed at 1.0
        calls.clear()
        clock = iter([0.0, 0.0, 0.0, straight_time, 0.0, 1.0, 0.0, 0.0])  # sweep, straight line, reuse, rest
        monkeypatch.setattr(pointwise, "perf_counter", lambda: next(clock))
        ev = evaluate.run(G, data, jobs=1, engine="point")
        assert len(calls) == straight_points
        assert sorted(m.index for m in ev.mismatches) == sorted(wrong)
        assert all(m.obtained == m.expected - 1 for m in ev.mismatches)


def test_a_process_times_each_program_once(monkeypatch, python_per_point):
    """A pool's later tasks on the same program go straight to the strategy the first one chose."""
    G, data = _random_network(3, shared=True, layered=True, big=True)
    data = _labelled_by_oracle(G, data, wrong={1, 2})
    program = evaluate.compile_network(G, data.scale)
    monkeypatch.setattr(pointwise, "_CALIBRATION", 3)
    monkeypatch.setattr(pointwise, "_STRAIGHT_MIN_POINTS", 1)
    clock = iter([0.0, 0.0, 0.0, 0.5, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0])  # the straight line wins the first task
    monkeypatch.setattr(pointwise, "perf_counter", lambda: next(clock))
    order = list(range(data.n))
    first = pointwise.evaluate_points(program, data, order)
    second = pointwise.evaluate_points(program, data, order)
    expected = [(i, mpq(evaluate.forward(program, data.num[i])[0]) / program.output_scales[0]) for i in (1, 2)]
    assert first == second == (data.n, expected)
    assert next(clock, None) is None  # 8 clock reads for the first task, 2 for the second


@pytest.mark.parametrize("seed", range(3))
def test_straight_line_function_divides_rational_fallback_classes_as_forward(seed):
    G = cases.exploding_scales_network()
    data = dataset.from_arrays(
        np.array([[x / 8] for x in random.Random(seed).sample(range(-80, 80), 12)]), np.zeros(12)
    )
    program = evaluate.compile_network(G, data.scale)
    assert any(type(s).__name__ == "RatNode" for s in program.steps)
    run = straightline.compile_program(program, pointwise.table_value, mpz, mpq)
    assert [run(p) for p in data.num] == [evaluate.forward(program, p) for p in data.num]
