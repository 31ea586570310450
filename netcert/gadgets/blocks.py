"""A kink layer that lets the next layer be any affine function on each block.

Points on a line, sorted, are cut into consecutive blocks B_1 < ... < B_P.
The layer (docs/constructions/yun2019.md section 4, after Yun, Sra & Jadbabaie 2019) is

    h_0 = relu(z - z_first),  and for each gap m:  relu(z - p_m), relu(z - p'_m)

where p_m is the last point of block m and p'_m = p_m + 2^floor(log2 gap) is at
most the first point of block m+1. Every block lies on one linear piece, and
each gap has two kinks of its own, so for any targets (sigma_m, tau_m)

    phi(z) = beta + A_0 h_0 + sum_m (a_m relu(z - p_m) + a'_m relu(z - p'_m))

equals sigma_m z + tau_m on block m, with (solved left to right)

    A_0 = sigma_1,  beta = tau_1 + sigma_1 z_first,
    a_m = (dtau + dsigma p'_m) / (p'_m - p_m),  a'_m = dsigma - a_m.

p'_m - p_m is a power of two, so dyadic targets give dyadic weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from netcert.exact import Rat, mpq
from netcert.gadgets import zigzag


@dataclass(frozen=True)
class KinkLayer:
    """The kinks of the layer, in node order: z_first, then p_1, p'_1, p_2, p'_2, ..."""

    kinks: tuple[int, ...]

    @property
    def width(self) -> int:
        return len(self.kinks)


def kink_layer(blocks: Sequence[Sequence[int]]) -> KinkLayer:
    """The kink layer of sorted integer blocks (each nonempty, all increasing)."""
    kinks = [blocks[0][0]]
    for left, right in zip(blocks, blocks[1:]):
        p, gap = left[-1], right[0] - left[-1]
        kinks += [p, p + (1 << (gap.bit_length() - 1))]
    return KinkLayer(tuple(kinks))


def affine_per_block(layer: KinkLayer, targets: Sequence[tuple[Rat, Rat]]) -> tuple[list[Rat], Rat]:
    """Weights on the layer's nodes and the bias giving sigma_m z + tau_m on block m."""
    sigma, tau = targets[0]
    weights = [mpq(sigma)]
    bias = tau + sigma * layer.kinks[0]
    for m in range(1, len(targets)):
        (s0, t0), (s1, t1) = targets[m - 1], targets[m]
        p, q = layer.kinks[2 * m - 1], layer.kinks[2 * m]
        a = ((t1 - t0) + (s1 - s0) * q) / (q - p)
        weights += [a, (s1 - s0) - a]
    return weights, mpq(bias)


def value(z: int, layer: KinkLayer, weights: Sequence[Rat], bias: Rat) -> Rat:
    """phi(z), exactly, for the unit tests."""
    return bias + zigzag.value(z, layer.kinks, weights)
