"""mikulincer2022: a depth-4 monotone threshold network with non-negative weights for monotone data.

Mikulincer and Reichman, "Size and depth of monotone neural networks:
interpolation and approximation", NeurIPS 2022: every monotone dataset of n
points in R^d (x_i <= x_j coordinatewise implies y_i <= y_j) is interpolated by
a threshold network of depth 4 with non-negative weights and O(nd) neurons.
The paper's full text was not available here: this is netcert's exact
reconstruction from the statement and a public sketch of the proof
(docs/constructions/mikulincer2022.md). Every weight (edge) is positive; biases
may have any sign, which keeps the function monotone.

1. thresholds: t_(j,v)(x) = step(x_j - v), one unit per coordinate j and per
   distinct value v = x_ij of a point i used in step 2 (units of equal (j, v)
   are shared): weight 1, bias -v;
2. AND units: a_i(x) = step(sum_j t_(j, x_ij)(x) - d) = [x >= x_i coordinatewise];
3. OR units, one per label level t >= 2 (levels v_1 < ... < v_m the distinct
   labels): b_t(x) = step(sum_(i in M_t) a_i(x) - 1), M_t the minimal points
   (for the coordinatewise order) of S_t = {i : y_i >= v_t}. On a data point
   x_k, b_t = [y_k >= v_t]: k is above some minimal point of S_t when
   y_k >= v_t, and a point i <= x_k has y_i <= y_k (monotone data);
   i is minimal in S_t exactly when mu_i < v_t <= y_i, mu_i the largest label
   of the points strictly below x_i (so the AND units of points that are
   minimal nowhere are left out);
4. output F = v_1 + sum_(t >= 2) (v_t - v_(t-1)) b_t, an identity unit.

So F(x_k) = v_1 + sum_(t: v_t <= y_k, t >= 2) (v_t - v_(t-1)) = y_k. Weights
1 and v_t - v_(t-1) > 0 only. The precondition is checked exactly (ranks of
the exact coordinates and labels, so numpy compares small integers) and a
violation is refused with the first violating pair (i, j), i < j in the
distinct points' order, lexicographically.

The certificate cannot state "every weight is >= 0" yet (the size claims are
keyed by the measures of specs/README.md section 3.4, which have no
``min_weight``); the build records ``min_edge_weight`` among its options, and
the tests check it on the network itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import sympy

from netcert.constructions.base import Construction, SizeClaim, Theorem, input_nodes
from netcert.dataset import Dataset
from netcert.errors import PreconditionError
from netcert.exact import Rat, display, format_rational, mpq
from netcert.ir import keys
from netcert.ir import network as net

NAME = "mikulincer2022"
PAPER = (
    "Mikulincer, Reichman. Size and depth of monotone neural networks: interpolation and approximation. NeurIPS 2022"
)
REFERENCE = (
    "arXiv:2207.05275; docs/constructions/mikulincer2022.md (a reconstruction from the statement: "
    "the paper's full text was not available)"
)
_BLOCK = 64  # rows of the pairwise order comparisons per numpy call (memory BLOCK * n * d bytes)


# -- the order of the data, in ranks -------------------------------------------------------------------


def ranks(values: Sequence[Any]) -> np.ndarray:
    """The rank of each value among the distinct values (0 for the smallest), as int64: the order of exact
    numbers, kept exactly by small integers."""
    order = {v: r for r, v in enumerate(sorted(set(values)))}
    return np.array([order[v] for v in values], dtype=np.int64)


def order_ranks(data: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """(n x d coordinate ranks, label ranks): x_i <= x_j coordinatewise iff R_i <= R_j, y_i <= y_j iff
    Y_i <= Y_j (a column shares one scale, so its integers compare as its values)."""
    R = np.stack([ranks([row[j] for row in data.num]) for j in range(data.d)], axis=1)
    return R.reshape(data.n, data.d), ranks(data.labels)


def below_label(R: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """mu_i = max {Y_j : j != i, R_j <= R_i} (-1 when no point lies below x_i), for every i: O(n^2 d)."""
    n = len(Y)
    out = np.full(n, -1, dtype=np.int64)
    for a in range(0, n, _BLOCK):
        b = min(n, a + _BLOCK)
        below = np.asarray((R[None, :, :] <= R[a:b, None, :]).all(axis=2))  # below[i - a, j] = [x_j <= x_i]
        below[np.arange(b - a), np.arange(a, b)] = False
        masked = np.where(below, Y[None, :], -1)
        out[a:b] = masked.max(axis=1)
    return out


def first_violation(R: np.ndarray, Y: np.ndarray) -> tuple[int, int] | None:
    """The lexicographically first pair (i, j), i < j, of comparable points whose labels are in the
    opposite order (x_i <= x_j and y_i > y_j, or x_j <= x_i and y_j > y_i); None for monotone data."""
    n = len(Y)
    for i in range(n - 1):
        rest = R[i + 1 :]
        up = (rest >= R[i]).all(axis=1) & (Y[i + 1 :] < Y[i])
        down = (rest <= R[i]).all(axis=1) & (Y[i + 1 :] > Y[i])
        hit = np.flatnonzero(up | down)
        if hit.size:
            return i, i + 1 + int(hit[0])
    return None


def violation_message(data: Dataset, pair: tuple[int, int]) -> str:
    """The refusal of non-monotone data, naming the pair by file rows and its labels."""
    i, j = pair
    lo, hi = (i, j) if all(a <= b for a, b in zip(data.num[i], data.num[j])) else (j, i)
    return (
        f"{NAME} needs monotone data (x_i <= x_j coordinatewise implies y_i <= y_j): point {data.kept[lo]} "
        f"<= point {data.kept[hi]} coordinatewise, but its label {display(data.labels[lo])} > "
        f"{display(data.labels[hi])}"
    )


def check(data: Dataset, options: Mapping) -> list[str]:
    """The data is monotone, exactly; the first violating pair is named."""
    pair = first_violation(*order_ranks(data))
    return [] if pair is None else [violation_message(data, pair)]


# -- the plan ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """Which AND unit reads which thresholds, and which OR unit reads which AND units."""

    levels: list[Rat]  # v_1 < ... < v_m
    members: list[list[int]]  # members[t - 2] = M_t (point indices, increasing), t = 2..m
    points: list[int]  # the points with an AND unit (increasing)
    thresholds: list[tuple[int, int]]  # (j, integer value x_int), sorted: the shared step-1 units


def plan(data: Dataset) -> Plan:
    """Steps 1-3 on the data (module docstring); refuses data that is not monotone."""
    R, Y = order_ranks(data)
    mu = below_label(R, Y)
    pair = first_violation(R, Y) if (mu > Y).any() else None  # some point lies below one of larger label
    if pair is not None:
        raise PreconditionError(violation_message(data, pair))
    levels = sorted(set(data.labels))
    members: list[list[int]] = [[] for _ in levels[1:]]
    for i in range(data.n):
        for t in range(max(int(mu[i]) + 1, 1), int(Y[i]) + 1):  # mu_i < t <= y_i, t >= 1 (0-based levels)
            members[t - 1].append(i)
    points = sorted({i for M in members for i in M})
    thresholds = sorted({(j, data.num[i][j]) for i in points for j in range(data.d)})
    return Plan(levels, members, points, thresholds)


def build(data: Dataset, *, seed: int = 0) -> nx.DiGraph:
    """The monotone network of ``data`` (module docstring); ``seed`` is accepted and unused (deterministic)."""
    P = plan(data)
    inputs = input_nodes(data)
    one = mpq(1)
    steps = [P.levels[t] - P.levels[t - 1] for t in range(1, len(P.levels))]
    options = {
        "seed": seed,
        "levels": len(P.levels),
        "thresholds": len(P.thresholds),
        "and_units": len(P.points),
        "or_inputs": sum(len(M) for M in P.members),
        "zero_thresholds": sum(1 for _, v in P.thresholds if v == 0),
        "min_label": format_rational(P.levels[0]),
        "min_edge_weight": format_rational(min([one, *steps])),
    }
    G = net.new_network(
        inputs, construction={"name": NAME, "options": options, "reference": REFERENCE}, dataset=data.digest
    )
    tag = len(str(max(len(P.thresholds), 1) - 1))
    unit = {}
    for k, (j, v) in enumerate(P.thresholds):
        unit[j, v] = f"t[{k:0{tag}d}]"
        net.add_neuron(
            G, unit[j, v], layer=1, activation=keys.THRESHOLD, bias=-mpq(v, data.scale[j]), incoming=[(inputs[j], one)]
        )
    tag = len(str(max(data.n, 1) - 1))
    point = {i: f"a[{i:0{tag}d}]" for i in P.points}
    for i in P.points:
        incoming = [(unit[j, data.num[i][j]], one) for j in range(data.d)]
        net.add_neuron(G, point[i], layer=2, activation=keys.THRESHOLD, bias=-data.d, incoming=incoming)
    tag = len(str(max(len(P.members), 1) - 1))
    out = []
    for t, M in enumerate(P.members):
        node = f"b[{t:0{tag}d}]"
        net.add_neuron(G, node, layer=3, activation=keys.THRESHOLD, bias=-1, incoming=[(point[i], one) for i in M])
        out.append((node, steps[t]))
    net.add_neuron(G, "out", layer=4, activation=keys.IDENTITY, bias=P.levels[0], incoming=out)
    net.set_outputs(G, ["out"])
    return G


def predict(data: Dataset, seed: int = 0) -> tuple[int, dict] | None:
    """The nonzero parameters of ``build`` by the size formula (the plan without the network); None when the
    data is not monotone (``check`` refuses it then)."""
    try:
        P = plan(data)
    except PreconditionError:
        return None
    variables = _variables(data, P)
    return int(_formulas()["params_nonzero"].xreplace({s: variables[s.name] for s in _SYMBOLS})), {}


# -- size claims -------------------------------------------------------------------------------------------

_T, _A, _L, _E, _Z, _d, _N, _Y = _SYMBOLS = sympy.symbols(
    "thresholds and_units levels or_inputs zero_thresholds d N min_label_nonzero", integer=True, nonnegative=True
)


def _formulas() -> dict[str, sympy.Expr]:
    """Exact measures: T thresholds, A AND units, m levels (m - 1 OR units), E OR inputs in all."""
    return {
        "depth": sympy.Integer(4),
        "width": sympy.Max(_T, _A, _L - 1),
        "neurons": _T + _A + _L,
        "params_dense": (_d + 1) * _T + (_T + 1) * _A + (_A + 1) * (_L - 1) + _L,
        "params_nonzero": 2 * _T - _Z + (_d + 1) * _A + _E + 2 * (_L - 1) + _Y,
    }


def _variables(data: Dataset, P: Plan) -> dict[str, int]:
    return {
        "thresholds": len(P.thresholds),
        "and_units": len(P.points),
        "levels": len(P.levels),
        "or_inputs": sum(len(M) for M in P.members),
        "zero_thresholds": sum(1 for _, v in P.thresholds if v == 0),
        "d": data.d,
        "N": data.n,
        "min_label_nonzero": int(P.levels[0] != 0),
    }


def size(G: nx.DiGraph, data: Dataset) -> SizeClaim:
    """Depth 4 and the exact counts of ``_formulas`` from the build's recorded choices."""
    o = G.graph[keys.CONSTRUCTION]["options"]
    return SizeClaim(
        formulas=_formulas(),
        variables={
            "thresholds": o["thresholds"],
            "and_units": o["and_units"],
            "levels": o["levels"],
            "or_inputs": o["or_inputs"],
            "zero_thresholds": o["zero_thresholds"],
            "d": data.d,
            "N": data.n,
            "min_label_nonzero": int(mpq(o["min_label"]) != 0),
        },
    )


CONSTRUCTION = Construction(
    name=NAME,
    paper=PAPER,
    reference=REFERENCE,
    assumptions="monotone data: x_i <= x_j coordinatewise implies y_i <= y_j (checked exactly; the first "
    "violating pair is named); any exact labels. Every edge weight is positive (1 or a gap between labels)",
    options={"seed": "accepted for uniformity; the construction is deterministic"},
    check=check,
    build=build,
    size=size,
    predict=predict,
    formulas_text={
        "depth": "4",
        "width": "max(T, A, m - 1) (T thresholds <= N d, A AND units <= N, m distinct labels)",
        "neurons": "T + A + m",
        "params_dense": "(d + 1) T + (T + 1) A + (A + 1)(m - 1) + m",
        "params_nonzero": "2 T - [thresholds at 0] + (d + 1) A + E + 2 (m - 1) + [min label != 0] "
        "(E: the minimal points of every level, summed)",
        "min_edge_weight": "> 0: 1 in layers 1-3, v_t - v_(t-1) at the output (options.min_edge_weight)",
    },
    theorem=Theorem(
        statement="every monotone dataset of N points in R^d is interpolated by a threshold network of depth 4 "
        "with non-negative weights and O(N d) neurons",
        rate="O(N d) neurons, depth 4",
        bound=_N * (_d + 2),
        bound_measure="neurons: N d thresholds + N AND units + N levels at most (a proven bound of this build)",
    ),
)
