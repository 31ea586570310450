"""The naive reference evaluator: per scalar, ``fractions.Fraction``, no tricks.

Deliberately the plainest reading of ``formats.md``'s semantics, used as the
oracle the fast evaluator is tested against and as the baseline benchmarks
compare with. It is slow by design and shares nothing with ``evaluate``.
"""

from __future__ import annotations

from fractions import Fraction

import networkx as nx

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
        value[v] = max(z, Fraction(0)) if act == keys.RELU else (
            z if act == keys.IDENTITY else Fraction(int(z >= 0)))
    return [value[v] for v in G.graph[keys.OUTPUTS]]
