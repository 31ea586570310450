"""Bit extraction and the exact matcher (docs/constructions/vardi2022.md section 5).

Bit unit: for an integer v with 0 <= v < 2^(p+1),

    bit_p(v) = relu(v - 2^p + 1) - relu(v - 2^p)   in {0, 1},
    v - 2^p bit_p(v) = v mod 2^p,

exactly (the two ReLUs differ by 1 for v >= 2^p and agree at 0 for
v <= 2^p - 1; only non-integers in (2^p - 1, 2^p) would break it). Peeling
one bit per layer, most significant first, reads a packed big integer.

Matcher: with D = t - key, the "miss" port relu(-D) + relu(D - 1) is 0 for
D in [0, 1] and at least 1 for D <= -1 or D >= 2; the gate
relu(label - (C - 1) miss) passes a label field in [0, C - 1] on a match and
gives 0 on a miss. Nothing is promised for D in (-1, 0) or (1, 2): the
construction keeps data keys two apart so that never happens.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from netcert.exact import Int, Rat
from netcert.gadgets.wiring import Affine, relu


@dataclass(frozen=True)
class Bit:
    """Ports of one bit unit: the bit (A - B) and the residual v - 2^p bit."""

    bit: Affine
    rest: Affine


def bit(G: nx.DiGraph, name: str, layer: int, value: Affine, place: Int) -> Bit:
    """Emit v = relu(value), A, B at ``layer``: the bit of ``value`` at ``place`` = 2^p, and the residual."""
    v = relu(G, f"{name}.v", layer, value)
    A = relu(G, f"{name}.A", layer, value - place + 1)
    B = relu(G, f"{name}.B", layer, value - place)
    b = A - B
    return Bit(b, v - place * b)


def miss(G: nx.DiGraph, name: str, layer: int, D: Affine) -> Affine:
    """Emit N1 = relu(-D), N2 = relu(D - 1); the port N1 + N2 (0 iff D in [0, 1])."""
    return relu(G, f"{name}.N1", layer, -D) + relu(G, f"{name}.N2", layer, D - 1)


def gate(G: nx.DiGraph, name: str, layer: int, label: Affine, missed: Affine, C: Rat) -> Affine:
    """Emit relu(label - (C - 1) missed): the label on a match, 0 on a miss (0 <= label <= C - 1)."""
    return relu(G, name, layer, label - (C - 1) * missed)
