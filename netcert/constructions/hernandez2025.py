"""hernandez2025: a width-2 deep ReLU network (Hernandez and Zuazua 2024/2025).

Hernandez & Zuazua, "Constructive universal approximation and finite sample
memorization by narrow deep ReLU networks", arXiv:2409.06555: N distinct
points in R^d with labels in M classes are memorized by a ReLU network of
width 2 and depth at most 2N + 4M - 1, all parameters explicit.

The paper's full text was not available here. This module is netcert's own
exact reconstruction from the statement (docs/constructions/hernandez2025.md):
it keeps the width (exactly 2) and stays within the depth bound, and its size
formulas describe what it builds, not the paper's wiring.

1. project: an integer direction u with t_i = u . x_int[i] pairwise distinct
   (``gadgets.projection.find_projection``); sort, z_0 < ... < z_(N-1), labels y;
2. the piecewise-linear interpolant F of (z, y): slopes m_k = (y_(k+1) - y_k) /
   (z_(k+1) - z_k), kinks at the K indices j (1 <= j <= N - 2) where the slope
   changes, c_j = m_j - m_(j-1) != 0; F(t) = y_0 + m_0 (t - z_0) + sum_j c_j relu(t - z_j);
3. two neurons per layer: a_r = relu(t - z_(j_r)), computed as
   relu(a_(r-1) - (z_(j_r) - z_(j_(r-1)))), exact for every t because
   relu(relu(s) - g) = relu(s - g) when g >= 0; and the accumulator
   b_r = relu(b_(r-1) + c_(j_(r-1)) a_(r-1)) = P_(r-1)(t) + H, where P_r is F's
   partial sum with r kinks and the offset H >= 0 makes every P_r + H >= 0 on
   the data (computed exactly, so the ReLU is the identity there);
4. the output reads b_K + c_(j_K) a_K - H = F(t).

Layer 1 reads the inputs: a_1 = relu(t - z_(j_1)), b_1 = relu(m_0 t + y_0 -
m_0 z_0 + H). With K = 0 (the labels affine in t on the data, e.g. N <= 2) the
one hidden layer holds b_1 only. Depth max(K, 1) + 1 <= N <= 2N + 4M - 1.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass

import networkx as nx
import sympy

from netcert.constructions.base import Construction, SizeClaim, Theorem, input_nodes, on_inputs
from netcert.constructions.exactmath import Budget, evaluate_formula, refuse_scaled_inputs
from netcert.dataset import Dataset
from netcert.exact import Rat, format_rational, mpq
from netcert.gadgets.projection import Projection, find_projection
from netcert.gadgets.wiring import Affine, output, relu
from netcert.ir import keys
from netcert.ir import network as net

NAME = "hernandez2025"
PAPER = (
    "Hernandez, Zuazua. Constructive universal approximation and finite sample memorization by narrow deep "
    "ReLU networks. arXiv:2409.06555, 2024/2025"
)
REFERENCE = "arXiv:2409.06555 (statement only); docs/constructions/hernandez2025.md (netcert's reconstruction)"


@dataclass(frozen=True)
class Plan:
    """The interpolant of the sorted projection: everything the network's numbers come from.

    ``z``, ``y``: the sorted images and their labels; ``kinks``: the indices j_1 < ... < j_K where
    the slope changes; ``c[r]`` the slope change at ``kinks[r]``; ``slope``: m_0 (0 for N = 1);
    ``H``: the accumulator's offset, the least H >= 0 with P_r + H >= 0 on the data for every
    partial sum the accumulator carries.
    """

    projection: Projection
    z: tuple[int, ...]
    y: tuple[Rat, ...]
    kinks: tuple[int, ...]
    c: tuple[Rat, ...]
    slope: Rat
    H: Rat


def plan(data: Dataset, seed: int = 0) -> Plan:
    """The sorted projection, its kinks and the offset H, exactly (O(N) rational operations)."""
    proj = find_projection(data, seed)
    order = sorted(range(data.n), key=lambda i: proj.z[i])
    z = tuple(proj.z[i] for i in order)
    y = tuple(mpq(data.labels[i]) for i in order)
    m = [(y[k + 1] - y[k]) / (z[k + 1] - z[k]) for k in range(len(z) - 1)]
    kinks = tuple(j for j in range(1, len(z) - 1) if m[j] != m[j - 1])
    c = tuple(m[j] - m[j - 1] for j in kinks)
    return Plan(proj, z, y, kinks, c, m[0] if m else mpq(0), offset(z, y, m, kinks))


def offset(z: tuple[int, ...], y: tuple[Rat, ...], m: list[Rat], kinks: tuple[int, ...]) -> Rat:
    """max(0, -min of P_r over the data) over r = 0 .. max(K - 1, 0), the partial sums carried.

    P_r (the first r kinks) equals F, hence y_i, at every z_i up to the next kink e = j_(r+1)
    (e = N - 1 after the last), and beyond e it is the line through (z_e, y_e) of slope
    m_(j_r) (m_0 for r = 0): its minimum over the data is min(min_(i <= e) y_i,
    y_e + m_(j_r) (z_(N-1) - z_e)), a line's minimum on an interval being at an end.
    """
    low, prefix, i = mpq(0), y[0], 0
    ends = list(kinks) + [len(z) - 1]
    for r in range(max(len(kinks), 1)):
        e = ends[r]
        while i < e:
            i += 1
            prefix = min(prefix, y[i])
        slope = m[kinks[r - 1]] if r > 0 else (m[0] if m else mpq(0))
        low = min(low, prefix, y[e] + slope * (z[-1] - z[e]))
    return -low


def check(data: Dataset, options: Mapping) -> list[str]:
    """Distinct points are the only assumption (any rational labels); loading guarantees them."""
    return []


def build(data: Dataset, *, seed: int = 0) -> nx.DiGraph:
    """The width-2 network of ``data`` (module docstring): F(x_i) = y_i exactly on every point."""
    refuse_scaled_inputs(NAME, data.scale, 2)  # two neurons read the inputs
    p = plan(data, seed)
    budget = Budget(NAME)
    budget.add("a slope change", p.c)
    budget.add("the accumulator's offset", (p.H, p.slope))
    inputs = input_nodes(data)
    first: dict[Hashable, Rat] = {x: w for x, w in on_inputs(inputs, p.projection.u, data).items()}
    t = Affine(first)  # t = u . x_int on the original inputs
    options = {
        "seed": seed,
        "direction": [format_rational(a) for a in p.projection.u],
        "direction_method": p.projection.method,
    }
    G = net.new_network(
        inputs, construction={"name": NAME, "options": options, "reference": REFERENCE}, dataset=data.digest
    )
    K = len(p.kinks)
    tag = len(str(max(K, 1)))
    b = relu(G, f"b[{1:0{tag}d}]", 1, p.slope * t + (p.y[0] - p.slope * p.z[0] + p.H))
    if K == 0:
        output(G, "out", 2, b - p.H)
        return G
    a = relu(G, f"a[{1:0{tag}d}]", 1, t - p.z[p.kinks[0]])
    for r in range(2, K + 1):  # layer r: a_r = relu(t - z_(j_r)), b_r = P_(r-1) + H
        gap = p.z[p.kinks[r - 1]] - p.z[p.kinks[r - 2]]
        a, b = (
            relu(G, f"a[{r:0{tag}d}]", r, a - gap),
            relu(G, f"b[{r:0{tag}d}]", r, b + p.c[r - 2] * a),
        )
    output(G, "out", K + 1, b + p.c[K - 1] * a - p.H)
    return G


def _counts(p: Plan) -> dict[str, int]:
    """The plan's integers the size formulas take: K, nnz(u), [m_0 != 0] and the zero biases of layer 1 and
    the output (the only biases that can be 0: a_r's bias for r >= 2 is minus a positive gap, b_r's is 0)."""
    K = len(p.kinks)
    biases = [p.y[0] - p.slope * p.z[0] + p.H, p.H] + ([p.z[p.kinks[0]]] if K else [])
    return {
        "K": K,
        "nnz_u": sum(1 for a in p.projection.u if a),
        "s1": int(p.slope != 0),
        "zero_biases": sum(1 for v in biases if v == 0),
    }


N, d, M, K, nnz_u, s1, zero_biases = sympy.symbols("N d M K nnz_u s1 zero_biases", integer=True, nonnegative=True)
_h, _w = sympy.Max(K, 1), sympy.Min(K, 1) + 1  # hidden layers, and their width
FORMULAS: dict[str, sympy.Expr] = {
    "depth": _h + 1,
    "width": _w,
    "neurons": _w * _h + 1,
    "params_dense": (d + 1) * _w + (_h - 1) * (_w + 1) * _w + _w + 1,
    "params_nonzero": nnz_u * (sympy.Min(K, 1) + s1) + 4 * K + 3 - 2 * sympy.Min(K, 1) - zero_biases,
}


def size(G: nx.DiGraph, data: Dataset) -> SizeClaim:
    """Exact sizes from the data alone (the plan is recomputed at the recorded seed), not read off the network:
    depth max(K, 1) + 1, width 2 (1 when K = 0), 4 nonzero parameters per layer after the first."""
    seed = G.graph[keys.CONSTRUCTION].get("options", {}).get("seed", 0)
    counts = _counts(plan(data, seed))
    return SizeClaim(
        formulas=FORMULAS,
        variables={"N": data.n, "d": data.d, "M": len(set(data.labels)), **counts},
    )


def predict(data: Dataset, seed: int = 0) -> tuple[int, dict]:
    """Nonzero parameters, exactly: the size formula at the plan this build would make."""
    return evaluate_formula(FORMULAS["params_nonzero"], _counts(plan(data, seed))), {}


CONSTRUCTION = Construction(
    name=NAME,
    paper=PAPER,
    reference=REFERENCE,
    assumptions="distinct points (any rational labels)",
    options={"seed": "seed of the random projection direction, used only if no coordinate axis separates the points"},
    check=check,
    build=build,
    size=size,
    predict=predict,
    formulas_text={
        "depth": "max(K, 1) + 1 (K = slope changes of the sorted interpolant, at most N - 2)",
        "width": "2 (1 when K = 0)",
        "neurons": "2K + 1 (2 when K = 0)",
        "params_dense": "2d + 6K - 1 (d + 3 when K = 0)",
        "params_nonzero": "nnz(u) (1 + [m_0 != 0]) + 4K + 1 - (zero biases) (nnz(u) [m_0 != 0] + 3 - ... when K = 0)",
    },
    theorem=Theorem(
        statement="N distinct points in R^d with labels in M classes are memorized by a ReLU network of width 2 "
        "and depth at most 2N + 4M - 1, with explicit parameters",
        rate="width 2, depth O(N + M)",
        bound=2 * N + 4 * M - 1,
        bound_measure="depth",
    ),
)
