"""The naive reference evaluator: per scalar, ``fractions.Fraction``, no tricks.

Deliberately the plainest reading of the network semantics of specs/README.md
section 3, used as the oracle the fast evaluator is tested against and as the
baseline benchmarks compare with. It is slow by design and shares nothing with
the rest of ``netcert.engine`` but ``activations``, whose functions it
applies to Fractions.
"""

from __future__ import annotations

from fractions import Fraction

import networkx as nx

from netcert.engine.activations import SLOPE, activate
from netcert.ir import keys


def forward(G: nx.DiGraph, x: list[Fraction]) -> list[Fraction]:
    """The outputs of ``G`` on input ``x``, in Fractions."""
    value = dict(zip(G.graph[keys.INPUTS], x))
    for v in nx.topological_sort(G):
        act = G.nodes[v][keys.ACTIVATION]
        if act == keys.INPUT:
            continue
        b = G.nodes[v][keys.BIAS]
        z = Fraction(int(b.numerator), int(b.denominator))
        for u, _, w in G.in_edges(v, data=keys.WEIGHT):
            z += Fraction(int(w.numerator), int(w.denominator)) * value[u]
        slope = G.nodes[v].get(SLOPE)
        slope = None if slope is None else Fraction(int(slope.numerator), int(slope.denominator))
        value[v] = Fraction(activate(act, z, slope))
    return [value[v] for v in G.graph[keys.OUTPUTS]]
