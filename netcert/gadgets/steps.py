"""Step units and the staircase that selects a block (docs/constructions/vardi2022.md section 4).

Step unit: ``step(t) = relu(t - alpha) - relu(t - alpha - 1)``, two ReLUs in one
layer. Exactly: step(t) = 0 for t <= alpha, t - alpha on [alpha, alpha + 1],
1 for t >= alpha + 1. A construction that keeps every data image out of
(alpha, alpha + 1) therefore gets an exact 0/1 indicator of "t is past alpha".

Staircase: given thresholds alpha_2 < ... < alpha_M and, for each of several
series, a start value V_1 and jumps V_j - V_(j-1), the form

    V(t) = V_1 + sum_j (V_j - V_(j-1)) step_j(t)

equals V_J on data with alpha_J + 1 <= t <= alpha_(J+1) (J = 1 when t <=
alpha_2). ``staircase`` emits it either wide (all steps in one layer) or
narrow (``group`` steps per layer, the running partial sums carried as ReLUs,
which is exact when every partial sum is >= 0 on the data, as the caller must
ensure). The carried input ``t`` must be >= 0 on the data as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx

from netcert.exact import Rat
from netcert.gadgets.wiring import Affine, relu, total


def step(G: nx.DiGraph, name: str, layer: int, t: Affine, alpha: Rat) -> Affine:
    """Emit the step unit at ``alpha`` reading ``t``; the port P - Q."""
    P = relu(G, f"{name}.P", layer, t - alpha)
    Q = relu(G, f"{name}.Q", layer, t - alpha - 1)
    return P - Q


@dataclass(frozen=True)
class Series:
    """One staircase output: its value on the first block and its jumps at alpha_2..alpha_M.

    The value on the first block is ``t_coef * t + start`` (a constant, or an
    affine function of t such as t + H - alpha_1), read from the carried t so
    that the network stays layered.
    """

    name: str
    start: Rat
    jumps: Sequence[Rat]
    t_coef: Rat = 0


@dataclass(frozen=True)
class Staircase:
    """The ports after the staircase's last layer: t carried, and each series' value form."""

    t: Affine
    values: dict[str, Affine]
    layers: int


def staircase(
    G: nx.DiGraph,
    name: str,
    layer: int,
    t: Affine,
    alphas: Sequence[Rat],
    series: Sequence[Series],
    group: int | None = None,
) -> Staircase:
    """Emit the step units for ``alphas`` from ``layer`` on, ``group`` per layer (None: all in one).

    Returns forms over the last emitted layer; the caller materializes them.
    With k = ceil(len(alphas) / group) layers, layer r holds t, the steps of
    group r and (from r = 2) each series' partial sum after groups 1..r-1.
    """
    width = len(alphas) if group is None else group
    chunks = [range(i, min(i + width, len(alphas))) for i in range(0, len(alphas), max(width, 1))] or [range(0)]
    tag = len(str(max(len(alphas) - 1, 0)))
    partial: dict[str, Affine] = {}
    current_t = t
    for r, chunk in enumerate(chunks):
        at = layer + r
        if r > 0:  # carry the partial sums formed over the previous layer
            partial = {key: relu(G, f"{name}.{key}[{r}]", at, form) for key, form in partial.items()}
        steps = {j: step(G, f"{name}.step[{j:0{tag}d}]", at, current_t, alphas[j]) for j in chunk}
        current_t = relu(G, f"{name}.t[{r}]", at, current_t)
        if r == 0:
            partial = {s.name: s.t_coef * current_t + s.start for s in series}
        partial = {s.name: partial[s.name] + total(s.jumps[j] * steps[j] for j in chunk) for s in series}
    return Staircase(current_t, partial, len(chunks))
