"""docs/constructions/vardi2022.md sections 4-5 gadgets (step, staircase, bit, miss, gate, prune) over their whole contracts.

Every gadget is spliced into a tiny network (inputs at layer 0, the gadget at
layer 1.., an identity output) and evaluated exactly with ``netcert.evaluate``
on a grid of integers and dyadic rationals; a few points are re-checked with
the independent Fraction oracle.
"""

from __future__ import annotations

import random
from fractions import Fraction

import numpy as np
import pytest

from netcert import dataset
from netcert.engine import reference
from netcert.engine import evaluate
from netcert.exact import mpq
from netcert.gadgets import bits, steps, wiring
from netcert.gadgets.wiring import Affine
from netcert.ir import keys, validate
from netcert.ir import network as net


def _evaluate(G, port: Affine, layer: int, points) -> list:
    """Declare ``port`` the output (an identity neuron at ``layer``) and evaluate it exactly at ``points``."""
    wiring.output(G, "out", layer, port)
    assert not validate.errors(validate.validate(G))
    X = np.array(points, dtype=np.float64).reshape(len(points), -1)
    data = dataset.from_arrays(X, np.zeros(len(points), dtype=np.int64))
    assert data.n == len(points), "test points must be distinct"
    got = evaluate.outputs(G, data)
    for i in random.Random(len(points)).sample(range(len(points)), min(5, len(points))):
        x = [Fraction(int(q.numerator), int(q.denominator)) for q in data.point(i)]
        ref = reference.forward(G, x)[0]
        assert Fraction(int(got[i].numerator), int(got[i].denominator)) == ref, f"point {points[i]}"
    return got


def _clamp01(z):
    return min(max(z, mpq(0)), mpq(1))


# ------------------------------------------------------------------ step unit


@pytest.mark.parametrize("alpha", [mpq(0), mpq(3), mpq(-2), mpq(5, 4), mpq(7, 2), mpq(-13, 8)])
def test_step_is_zero_left_of_alpha_one_right_of_alpha_plus_one(alpha):
    G = net.new_network(["x"])
    port = steps.step(G, "s", 1, Affine.of("x"), alpha)
    ts = sorted(
        {alpha + mpq(k, 8) for k in range(-48, 57)}
        | {mpq(k) for k in range(-8, 10)}
        | {mpq(k, 2) for k in range(-16, 20)}
    )
    got = _evaluate(G, port, 2, [[float(t)] for t in ts])
    for t, v in zip(ts, got):
        if t <= alpha:
            assert v == 0, t
        elif t >= alpha + 1:
            assert v == 1, t
        else:  # the documented ramp t - alpha on [alpha, alpha + 1]
            assert v == t - alpha, t
    # the unit is two ReLUs in one layer: P = relu(t - alpha), Q = relu(t - alpha - 1)
    assert G.nodes["s.P"][keys.BIAS] == -alpha and G.nodes["s.Q"][keys.BIAS] == -alpha - 1
    assert sum(1 for _, layer in G.nodes(data=keys.LAYER) if layer == 1) == 2


# ------------------------------------------------------------------ bit unit


@pytest.mark.parametrize("p", range(6))
def test_bit_unit_on_every_integer_of_its_range(p):
    values = list(range(2 ** (p + 1)))
    place = 2**p
    got = {}
    for which in ("bit", "rest"):
        G = net.new_network(["x"])
        unit = bits.bit(G, "b", 1, Affine.of("x"), place)
        got[which] = _evaluate(G, getattr(unit, which), 2, [[v] for v in values])
    assert [int(b) for b in got["bit"]] == [v >> p for v in values]
    assert [int(r) for r in got["rest"]] == [v % place for v in values]
    assert all(r.denominator == 1 for r in got["rest"])
    hidden = {v: G.nodes[v][keys.BIAS] for v in G if G.nodes[v][keys.LAYER] == 1}
    assert hidden == {"b.v": 0, "b.A": 1 - place, "b.B": -place}


@pytest.mark.parametrize("p", [0, 3, 5])
def test_bit_unit_off_integers_is_exact_except_inside_the_last_unit_gap(p):
    """bit = clamp(v - 2^p + 1, 0, 1): exact for any real outside (2^p - 1, 2^p), a ramp inside."""
    place = 2**p
    vs = [mpq(k, 4) for k in range(0, 4 * 2 ** (p + 1))]
    G = net.new_network(["x"])
    unit = bits.bit(G, "b", 1, Affine.of("x"), place)
    got = _evaluate(G, unit.bit, 2, [[float(v)] for v in vs])
    for v, b in zip(vs, got):
        assert b == _clamp01(v - place + 1), v
        if v <= place - 1 or v >= place:
            assert b == (1 if v >= place else 0)
    assert got[vs.index(mpq(2 * place - 1, 2))] == mpq(1, 2)  # v = 2^p - 1/2 breaks it, as documented


def _bit_chain(width: int, k: int | None):
    """Peel ``width`` bits MSB first, one unit per layer; the output is bit k (1-based) or, for None, the residual."""
    G = net.new_network(["x"])
    rest = Affine.of("x")
    for s in range(1, width + 1):
        unit = bits.bit(G, f"E{s:02d}", s, rest, 2 ** (width - s))
        if s == k:
            return G, unit.bit, s + 1
        rest = unit.rest
    return G, rest, width + 1


def test_chained_bit_units_recover_every_integer_of_ten_bits():
    width = 10
    values = list(range(2**width))
    points = [[v] for v in values]
    for k in range(1, width + 1):
        G, port, layer = _bit_chain(width, k)
        got = _evaluate(G, port, layer, points)
        assert [int(b) for b in got] == [(v >> (width - k)) & 1 for v in values], f"bit {k}"
    G, port, layer = _bit_chain(width, None)
    assert set(_evaluate(G, port, layer, points)) == {0}
    assert max(layer for _, layer in G.nodes(data=keys.LAYER)) == width + 1


def test_chained_bits_rebuild_a_big_integer_exactly():
    """70-bit integers (beyond float64; fed as hi 2^35 + lo) and an accumulator rebuilding the top 12 bits."""
    width, top = 70, 12
    rng = random.Random(7)
    values = sorted({rng.randrange(2**width) for _ in range(40)} | {0, 2**width - 1, 2 ** (width - 1)})
    G = net.new_network(["hi", "lo"])
    rest, acc, prev = Affine({"hi": mpq(2**35), "lo": mpq(1)}), None, None
    for s in range(1, top + 1):
        unit = bits.bit(G, f"E{s:02d}", s, rest, 2 ** (width - s))
        if prev is not None:
            acc = wiring.carry(G, f"E{s:02d}.acc", s, (acc or Affine()) + 2 ** (top - s + 1) * prev)
        rest, prev = unit.rest, unit.bit
    got = _evaluate(G, acc + prev, top + 1, [[v >> 35, v % 2**35] for v in values])
    assert [int(g) for g in got] == [v >> (width - top) for v in values]


# ------------------------------------------------------------------ miss and gate


def _matcher(C: int, with_gate: bool):
    G = net.new_network(["D", "l"])
    missed = bits.miss(G, "m", 1, Affine.of("D"))
    if not with_gate:
        return G, missed, 2
    label = wiring.carry(G, "lab", 1, Affine.of("l"))
    return G, bits.gate(G, "g", 2, label, missed, C), 3


DS = [mpq(k, 8) for k in range(-32, 33)]


def test_miss_is_zero_exactly_on_the_unit_interval():
    G, port, layer = _matcher(2, with_gate=False)
    got = _evaluate(G, port, layer, [[float(D), 0.0] for D in DS])
    for D, v in zip(DS, got):
        assert v == max(-D, 0) + max(D - 1, 0), D
        assert (v == 0) == (0 <= D <= 1), D
        if D <= -1 or D >= 2:
            assert v >= 1, D


@pytest.mark.parametrize("C", [2, 5])
def test_gate_passes_the_label_on_a_match_and_nothing_on_a_miss(C):
    points = [(D, lab) for D in DS for lab in range(C)]
    G, port, layer = _matcher(C, with_gate=True)
    got = _evaluate(G, port, layer, [[float(D), float(lab)] for D, lab in points])
    for (D, lab), v in zip(points, got):
        if 0 <= D <= 1:
            assert v == lab, (D, lab)
        elif D <= -1 or D >= 2:
            assert v == 0, (D, lab)
        else:  # nothing promised, but the value is the documented formula
            assert v == max(lab - (C - 1) * (max(-D, 0) + max(D - 1, 0)), 0)


# ------------------------------------------------------------------ staircase


def _staircase_case(seed: int, M: int):
    rng = random.Random(seed)
    alphas = [mpq(rng.randint(1, 4)) + mpq(rng.randint(0, 3), 4)]  # alpha_2; dyadic thresholds
    for _ in range(M - 2):
        alphas.append(alphas[-1] + rng.randint(2, 6) + mpq(rng.randint(0, 3), 4))
    alphas = alphas[: M - 1]
    V = [rng.randint(0, 60) if rng.random() < 0.6 else rng.randint(0, 2**80) for _ in range(M)]
    A = [alphas[0] - 2 if alphas else mpq(0)] + alphas  # A_1 <= 0 .. for the t-dependent series
    H = 3
    return alphas, V, A, H


def _block_points(alphas, M):
    """t values (dyadic, >= 0) inside each block interval [alpha_J + 1, alpha_(J+1)] (J = 1: [0, alpha_2])."""
    out = []
    for J in range(1, M + 1):
        lo = mpq(0) if J == 1 else alphas[J - 2] + 1
        hi = alphas[J - 1] if J < M else lo + 4
        ts = sorted({lo, hi} | {lo + mpq(k, 4) for k in range(int(4 * (hi - lo)) + 1)})
        out += [(J, t) for t in ts if lo <= t <= hi]
    return out


@pytest.mark.parametrize("group", [None, 1, 2])
@pytest.mark.parametrize("M", [1, 2, 3, 6])
@pytest.mark.parametrize("seed", range(2))
def test_staircase_returns_the_block_value_on_every_block_interval(seed, M, group):
    alphas, V, A, H = _staircase_case(seed * 31 + M, M)
    series = [
        steps.Series("v", mpq(V[0]), [mpq(V[j] - V[j - 1]) for j in range(1, M)]),
        steps.Series("e", mpq(H) - A[0], [A[j - 1] - A[j] for j in range(1, M)], t_coef=mpq(1)),
    ]
    pts = _block_points(alphas, M)
    ramps = [a + mpq(1, 2) for a in alphas]  # the middle of each step's ramp
    points = [[float(t)] for _, t in pts] + [[float(t)] for t in ramps]
    results = {}
    for name in ("v", "e"):
        G = net.new_network(["x"])
        st = steps.staircase(G, "S", 1, Affine.of("x"), alphas, series, group)
        expected_layers = 1 if group is None or M == 1 else -(-(M - 1) // group)
        assert st.layers == expected_layers
        # layer r holds t, the 2 ReLUs of each step of group r, and (r >= 2) one partial sum per series
        per_layer = [0] * st.layers
        for _, layer in G.nodes(data=keys.LAYER):
            if layer >= 1:
                per_layer[layer - 1] += 1
        g = (M - 1) if group is None else group
        sizes = [min(g, M - 1 - r * g) for r in range(st.layers)] if M > 1 else [0]
        assert per_layer == [1 + 2 * k + (len(series) if r else 0) for r, k in enumerate(sizes)]
        results[name] = _evaluate(G, st.values[name], 1 + st.layers, points)
    for (J, t), v, e in zip(pts, results["v"], results["e"]):
        assert v == V[J - 1], (J, t)
        assert e == t - A[J - 1] + H, (J, t)
    for j, (t, v) in enumerate(zip(ramps, results["v"][len(pts) :]), start=2):
        assert v == mpq(V[j - 2] + V[j - 1], 2), t


def test_wide_staircase_equals_narrow_with_a_group_covering_every_step():
    alphas, V, A, H = _staircase_case(5, 6)
    series = [steps.Series("v", mpq(V[0]), [mpq(V[j] - V[j - 1]) for j in range(1, 6)])]
    shapes = []
    for group in (None, 5, 9):
        G = net.new_network(["x"])
        st = steps.staircase(G, "S", 1, Affine.of("x"), alphas, series, group)
        wiring.output(G, "out", 1 + st.layers, st.values["v"])
        shapes.append(
            sorted((str(v), G.nodes[v][keys.LAYER], str(G.nodes[v].get(keys.BIAS))) for v in G)
            + sorted((str(u), str(v), str(w)) for u, v, w in G.edges(data=keys.WEIGHT))
        )
    assert shapes[0] == shapes[1] == shapes[2]


# ------------------------------------------------------------------ prune and affine forms


def test_prune_removes_dead_chains_and_keeps_inputs_and_outputs():
    G = net.new_network(["x", "y", "z"])
    a = wiring.relu(G, "a", 1, Affine.of("x"))
    b = wiring.relu(G, "b", 1, Affine.of("x") + Affine.of("y"))  # read only by the dead d2
    wiring.relu(G, "dead1", 1, Affine.of("y"))  # unread
    c = wiring.relu(G, "c", 2, a + 1)
    wiring.relu(G, "d2", 2, b)  # unread, so b goes too
    wiring.relu(G, "tail", 3, c)  # a hidden neuron in the output's layer, unread
    wiring.output(G, "out", 3, 2 * c - 1)
    before = {v: G.nodes[v] for v in G}
    assert wiring.prune(G) == 4
    assert set(G) == {"x", "y", "z", "a", "c", "out"}
    assert net.outputs(G) == ["out"] and net.inputs(G) == ["x", "y", "z"]
    assert all(G.nodes[v] == before[v] for v in G)
    assert not validate.errors(validate.validate(G))
    assert wiring.prune(G) == 0  # idempotent
    data = dataset.from_arrays(np.array([[0.5, 3, 1], [-2, 1, 0], [4, 0, 2]]), np.zeros(3))
    assert evaluate.outputs(G, data) == [mpq(2), mpq(1), mpq(9)]


def test_prune_keeps_an_output_that_reads_nothing():
    G = net.new_network(["x"])
    wiring.relu(G, "h", 1, Affine.of("x"))
    wiring.output(G, "out", 2, Affine.constant(7))
    assert wiring.prune(G) == 1 and set(G) == {"x", "out"}


def test_affine_forms_drop_zero_terms_and_add_no_zero_edges():
    f = Affine.of("a") * 3 + Affine.of("b") - Affine.of("a") * 3 + 2
    assert dict(f.terms) == {"b": 1} and f.const == 2
    assert (f * 0).terms == {} and (f * 0).const == 0
    assert (1 - f).const == -1 and dict((1 - f).terms) == {"b": -1}
    assert wiring.total([Affine.of("a"), Affine.of("a"), Affine.constant(mpq(1, 3))]) == Affine({"a": 2}, mpq(1, 3))
    G = net.new_network(["a", "b"])
    wiring.relu(G, "h", 1, Affine.of("a") - Affine.of("a") + Affine.of("b"))
    assert list(G.predecessors("h")) == ["b"]
