"""Gadget contracts, checked exactly on every integer of their range."""

from __future__ import annotations

import random

import pytest

from netcert.exact import mpq
from netcert.gadgets import blocks, zigzag


def _random_line(rng: random.Random, n: int):
    z = sorted(rng.sample(range(-500, 500), n))
    y = [mpq(rng.randint(-20, 20), rng.choice([1, 2, 4, 3])) for _ in range(n)]
    return z, y


@pytest.mark.parametrize("seed", range(20))
def test_zigzag_interpolates_and_kinks_lie_in_their_gaps(seed):
    rng = random.Random(seed)
    z, y = _random_line(rng, rng.randint(1, 12))
    kinks, weights = zigzag.zigzag(z, y)
    assert [zigzag.value(t, kinks, weights) for t in z] == y
    assert kinks[0] <= z[0]
    assert all(z[k - 1] <= kinks[k] <= z[k] for k in range(1, len(z)))
    K = zigzag.slope_bound(z, y)
    assert abs(weights[0]) == K and all(abs(w) == 2 * K for w in weights[1:])


def test_slope_bound_is_the_least_power_of_two():
    assert zigzag.slope_bound([0, 4], [mpq(0), mpq(3)]) == mpq(1)
    assert zigzag.slope_bound([0, 1], [mpq(0), mpq(5)]) == mpq(8)
    assert zigzag.slope_bound([0, 3], [mpq(0), mpq(1)]) == mpq(1, 2)
    assert zigzag.slope_bound([0, 1], [mpq(2), mpq(2)]) == mpq(1)
    assert zigzag.slope_bound([7], [mpq(2)]) == mpq(1)


@pytest.mark.parametrize("seed", range(20))
def test_kink_layer_gives_any_affine_function_on_each_block(seed):
    rng = random.Random(seed)
    z = sorted(rng.sample(range(-300, 300), rng.randint(2, 30)))
    cuts = sorted(rng.sample(range(1, len(z)), rng.randint(0, min(5, len(z) - 1))))
    parts = [z[a:b] for a, b in zip([0, *cuts], [*cuts, len(z)])]
    layer = blocks.kink_layer(parts)
    assert layer.width == 2 * len(parts) - 1
    for left, right in zip(parts, parts[1:]):
        k = layer.kinks[1 + 2 * parts.index(left) : 3 + 2 * parts.index(left)]
        assert left[-1] == k[0] < k[1] <= right[0] and (k[1] - k[0]) & (k[1] - k[0] - 1) == 0
    targets = [(mpq(rng.randint(-9, 9), 2), mpq(rng.randint(-50, 50), 4)) for _ in parts]
    weights, bias = blocks.affine_per_block(layer, targets)
    for part, (s, t) in zip(parts, targets):
        for point in range(part[0], part[-1] + 1):  # every integer of the block, not only the data
            assert blocks.value(point, layer, weights, bias) == s * point + t
    assert all(w.denominator & (w.denominator - 1) == 0 for w in weights)  # dyadic
