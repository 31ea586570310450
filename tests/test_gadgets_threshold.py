"""Threshold gadgets (gadgets/threshold.py): parity trees and one-hot decoders, checked exactly on every
0/1 input, and their predicted shapes against the emitted networks."""

from __future__ import annotations

import itertools
import random
from fractions import Fraction

import pytest

from netcert.engine import reference
from netcert.exact import mpq
from netcert.gadgets import threshold
from netcert.gadgets.wiring import Affine
from netcert.ir import keys, measures
from netcert.ir import network as net


def _tree(k: int, rows: list[list[int]], f: int):
    inputs = [f"a[{i}]" for i in range(k)]
    G = net.new_network(inputs)
    outs = threshold.parity_tree(G, "c", 1, [[inputs[i] for i in r] for r in rows], f)
    net.set_outputs(G, outs)
    return G, outs


@pytest.mark.parametrize("f", [2, 3, 8])
@pytest.mark.parametrize("seed", range(4))
def test_parity_tree_is_the_parity_of_every_row_on_every_input(f, seed):
    rng = random.Random(seed)
    k = rng.randint(1, 8)
    rows = [sorted(rng.sample(range(k), rng.randint(1, k))) for _ in range(rng.randint(1, 5))]
    G, outs = _tree(k, rows, f)
    for bits in itertools.product((0, 1), repeat=k):
        got = reference.forward(G, [Fraction(b) for b in bits])
        assert got == [sum(bits[i] for i in r) % 2 for r in rows], (bits, rows)


@pytest.mark.parametrize(
    "sizes,f", [([3, 4, 4, 4, 2], 16), ([1], 8), ([9, 1, 64, 65], 8), ([5, 2, 7], 2), ([90] * 27, 8), ([13], 4)]
)
def test_tree_shape_predicts_the_emitted_layers_and_nonzero_count(sizes, f):
    k = max(sizes)
    G, outs = _tree(k, [list(range(s)) for s in sizes], f)
    shape = threshold.tree_shape(sizes, f)
    per_layer = measures.layer_sizes(G)
    assert tuple(per_layer[layer] for layer in range(1, 2 * shape.levels + 1)) == shape.widths
    assert shape.levels == max(threshold.levels(s, f) for s in sizes)
    m = measures.measure(G)
    assert m.params_nonzero == shape.nonzero and m.neurons == shape.neurons
    assert m.depth == 2 * shape.levels and m.params_dense == shape.dense(k)
    assert len(outs) == len(sizes) and all(G.nodes[v][keys.LAYER] == 2 * shape.levels for v in outs)


def test_levels_is_the_least_power_reaching_s():
    assert [threshold.levels(s, 8) for s in (1, 2, 8, 9, 64, 65, 512, 513)] == [1, 1, 1, 2, 2, 3, 3, 4]
    assert [threshold.levels(s, 2) for s in (1, 2, 3, 4, 5)] == [1, 1, 2, 2, 3]


def test_parity_block_weights_and_biases():
    G, outs = _tree(3, [[0, 1, 2]], 8)
    assert {v: G.nodes[v][keys.BIAS] for v in ("c1.u[0]", "c1.u[1]", "c1.u[2]", "c1.p[0]")} == {
        "c1.u[0]": -1,
        "c1.u[1]": -2,
        "c1.u[2]": -3,
        "c1.p[0]": -1,
    }
    assert {u: w for u, _, w in G.in_edges("c1.p[0]", data=keys.WEIGHT)} == {"c1.u[0]": 1, "c1.u[1]": -1, "c1.u[2]": 1}
    assert all(w == 1 for _, _, w in G.in_edges("c1.u[1]", data=keys.WEIGHT))


@pytest.mark.parametrize("widths", [[1], [2, 3], [1, 1, 2]])
def test_one_hot_fires_exactly_for_the_chunk_value(widths):
    k = sum(widths)
    inputs = [f"a[{i}]" for i in range(k)]
    G = net.new_network(inputs)
    starts = [sum(widths[:j]) for j in range(len(widths))]
    chunks = [inputs[s : s + w] for s, w in zip(starts, widths)]
    hot = threshold.one_hot(G, "hot", 1, chunks)
    net.set_outputs(G, hot)
    assert len(hot) == sum(2**w for w in widths)
    for bits in itertools.product((0, 1), repeat=k):
        got = reference.forward(G, [Fraction(b) for b in bits])
        want = []
        for s, w in zip(starts, widths):
            value = sum(bits[s + t] << t for t in range(w))  # least significant bit first
            want += [int(v == value) for v in range(2**w)]
        assert got == want


def test_numbers_are_shared_and_step_emits_a_threshold_neuron():
    assert threshold.const(-3) is threshold.const(-3) and threshold.const(2) == mpq(2)
    G = net.new_network(["x"])
    port = threshold.step(G, "s", 1, 2 * Affine.of("x") - 1)
    assert port == Affine.of("s")
    assert G.nodes["s"][keys.ACTIVATION] == keys.THRESHOLD and G.nodes["s"][keys.BIAS] == -1
    assert G.edges["x", "s"][keys.WEIGHT] == 2
