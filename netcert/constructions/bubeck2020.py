"""bubeck2020: the depth-2 Baum network with four ReLUs per group of d points.

Bubeck, Eldan, Lee & Mikulincer, "Network size and weights size for
memorization with two-layers neural networks", NeurIPS 2020: Baum's (1988)
n/d threshold neurons become 4 ceil(n/d) ReLUs for real labels on points in
general position. The proof section was not available; this is the exact
construction of docs/constructions/bubeck2020.md sections 2-4 (finite differencing across one
hyperplane per group):

1. groups S of d consecutive points (the last may be smaller); groups whose
   labels are all 0 need no neuron;
2. a hyperplane t(x) = w.x - b through S: (w; b) spans the kernel of
   [X_S | -1] (a random small combination of its basis when |S| < d), made a
   primitive integer vector with its first nonzero entry positive;
3. the affine label fit s(x) = v.x - c with s = y on S, the unique solution in
   the row space of [X_S | -1];
4. eta = max_S |y|, lambda = ceil((eta + max_i |s(x_i)|) / min_(i not in S) |t(x_i)|);
5. F_S = relu(lt + s + eta) - relu(lt + eta) - relu(lt + s - eta) + relu(lt - eta)
   with lt = lambda t: on S (t = 0) it is y_j, off S the four pieces cancel
   (all arguments share the sign of t).

What general position is actually used, and checked exactly while building:
each group is affinely independent, and no other data point lies on its
hyperplane. A group that fails is split in halves (down to single points,
whose hyperplane is drawn at random from those through the point) as
docs/constructions/bubeck2020.md section 6 describes; the build refuses, naming the point, only
if a single point's hyperplane cannot avoid the others in 8 draws. On data in
general position the network has exactly 4 ceil(n/d) hidden ReLUs (fewer when
a group's labels are all 0).

The weights are rational with determinant-sized denominators (about 2.5 d B
bits for B-bit data): this is the construction whose weight size grows. A build is
refused (``constructions.exactmath``) at the first group whose numbers exceed
max_bits() bits, or once the groups so far hold more than 1000 max_bits() bits.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

import gmpy2
import networkx as nx
import numpy as np
import sympy
from sympy.polys.matrices import DomainMatrix

from netcert.constructions.base import Construction, SizeClaim, Theorem, input_nodes, on_inputs
from netcert.constructions.exactmath import Budget, refuse_scaled_inputs
from netcert.dataset import Dataset
from netcert.errors import PreconditionError
from netcert.exact import Rat, lcm_all, mpq
from netcert.ir import keys
from netcert.ir import network as net

NAME = "bubeck2020"
PAPER = (
    "Bubeck, Eldan, Lee, Mikulincer. Network size and weights size for memorization with "
    "two-layers neural networks. NeurIPS 2020 (Baum network with ReLU)"
)
REFERENCE = "arXiv:2006.02855; docs/constructions/bubeck2020.md (exact reconstruction)"
DRAWS = 8
QQ = sympy.QQ


class _GroupFails(Exception):
    """A group is affinely dependent or another point lies on its hyperplane."""


def check(data: Dataset, options: Mapping) -> list[str]:
    """General position is checked exactly while building (see the module docstring)."""
    return []


def _kernel(rows: Sequence[Sequence[int]]) -> list[list[Rat]]:
    """A basis of {(w; b) : x.w - b = 0 for every row x}, one vector per free column."""
    A = DomainMatrix([[QQ(v) for v in r] + [QQ(-1)] for r in rows], (len(rows), len(rows[0]) + 1), QQ)
    return [[mpq(e) for e in vec] for vec in A.nullspace().to_list()]


def _primitive(vec: Sequence[Rat]) -> list[int]:
    """The primitive integer multiple of a nonzero rational vector, first nonzero entry positive."""
    L = lcm_all(q.denominator for q in vec)
    ints = [int(q * L) for q in vec]
    g = 0
    for v in ints:
        g = int(gmpy2.gcd(g, v))
    sign = 1 if next(v for v in ints if v) > 0 else -1
    return [sign * v // g for v in ints]


def _hyperplane(rows, basis, rng: random.Random, draw: int) -> list[int]:
    """(w; b): the kernel generator when it is one-dimensional, else a random small combination."""
    if len(basis) == 1:
        return _primitive(basis[0])
    coef = [rng.choice((1, -1)) * rng.randint(1, 7) for _ in basis]
    return _primitive([sum((c * vec[k] for c, vec in zip(coef, basis)), mpq(0)) for k in range(len(basis[0]))])


def _label_fit(rows, ys, basis) -> tuple[list[Rat], Rat]:
    """(v, c) with v.x_j - c = y_j on the group, orthogonal to the kernel."""
    d = len(rows[0])
    M = [[QQ(v) for v in r] + [QQ(-1)] for r in rows] + [[QQ(e) for e in vec] for vec in basis]
    rhs = [[QQ(y)] for y in ys] + [[QQ(0)] for _ in basis]
    sol = DomainMatrix(M, (d + 1, d + 1), QQ).lu_solve(DomainMatrix(rhs, (d + 1, 1), QQ)).to_list()
    vals = [mpq(r[0]) for r in sol]
    return vals[:d], vals[d]


def _affine_values(X: np.ndarray, w: Sequence[Rat], b: Rat) -> tuple[np.ndarray, Rat]:
    """Integers w'.x - b' for every row of X (object array) and their common denominator D."""
    D = lcm_all([q.denominator for q in (*w, b)])
    W = np.array([int(q * D) for q in w], dtype=object)
    return X.dot(W) - int(b * D), mpq(D)


def _group(data: Dataset, X: np.ndarray, S: list[int], rng: random.Random) -> dict:
    """The exact constants of one group, or _GroupFails."""
    rows = [data.num[i] for i in S]
    ys = [data.labels[i] for i in S]
    basis = _kernel(rows)
    if len(basis) != data.d + 1 - len(S):
        raise _GroupFails(f"points {S} are affinely dependent")
    v, c = _label_fit(rows, ys, basis)
    s_vals, s_den = _affine_values(X, v, c)
    eta = max(abs(y) for y in ys)
    outside = np.ones(data.n, dtype=bool)
    outside[S] = False
    for draw in range(DRAWS if len(basis) > 1 else 1):
        wb = _hyperplane(rows, basis, rng, draw)
        t_vals, _ = _affine_values(X, [mpq(a) for a in wb[:-1]], mpq(wb[-1]))
        t_out = np.abs(t_vals[outside]) if outside.any() else np.array([1], dtype=object)
        if min(t_out) > 0:
            break
    else:
        on = int(np.flatnonzero(outside)[list(np.abs(t_vals[outside])).index(0)])
        raise _GroupFails(f"point {on} lies on the hyperplane of points {S}")
    lam = -(-(eta + mpq(max(np.abs(s_vals)), 1) / s_den) // mpq(min(t_out)))
    return {"w": wb[:-1], "b": wb[-1], "v": v, "c": c, "eta": eta, "lam": int(lam), "points": S}


def _groups(data: Dataset, seed: int) -> tuple[list[dict], int]:
    """Groups of up to d consecutive points, split in halves where general position fails."""
    todo = [list(range(k, min(k + data.d, data.n))) for k in range(0, data.n, data.d)]
    # Two of a group's four ReLUs read lambda w_j M scale_j, a nonzero multiple of scale_j (w != 0).
    refuse_scaled_inputs(NAME, data.scale, 2 * sum(1 for S in todo if any(data.labels[i] != 0 for i in S)))
    X = np.array([list(r) for r in data.num], dtype=object)
    rng = random.Random(seed)
    done, splits, budget = [], 0, Budget(NAME)
    while todo:
        S = todo.pop(0)
        if all(data.labels[i] == 0 for i in S):
            continue
        try:
            done.append(_group(data, X, S, rng))
            M, rows = _rows(done[-1])  # refused at the first group whose numbers exceed a size limit
            budget.add(
                f"the weights of group {len(done) - 1}",
                [mpq(1, M), *(b for _, b in rows), *(a * s for wts, _ in rows for a, s in zip(wts, data.scale))],
            )
        except _GroupFails as e:
            if len(S) == 1:
                raise PreconditionError(
                    f"{NAME}: no hyperplane through point {S[0]} avoids the other points in {DRAWS} draws ({e})"
                ) from None
            half = len(S) // 2
            todo[:0] = [S[:half], S[half:]]
            splits += 1
    return done, splits


def _rows(g: dict) -> tuple[int, list[tuple[list[Rat], Rat]]]:
    """M_S and the four integer rows (weights on x_int, bias) of a group, times M_S."""
    lam, w, b, v, c, eta = g["lam"], g["w"], g["b"], g["v"], g["c"], g["eta"]
    M = lcm_all([q.denominator for q in (*v, c, eta)])
    lw = [lam * a for a in w]
    lwv = [a + q for a, q in zip(lw, v)]
    rows = [(lwv, -lam * b - c + eta), (lw, -lam * b + eta), (lwv, -lam * b - c - eta), (lw, -lam * b - eta)]
    return M, [([M * a for a in wts], M * bias) for wts, bias in rows]


def build(data: Dataset, *, seed: int = 0) -> nx.DiGraph:
    """The Baum/BELM network of ``data`` (module docstring)."""
    groups, splits = _groups(data, seed)
    inputs = input_nodes(data)
    options = {"seed": seed, "groups": len(groups), "splits": splits}
    G = net.new_network(
        inputs, construction={"name": NAME, "options": options, "reference": REFERENCE}, dataset=data.digest
    )
    hidden, out_weights = [], []
    width = len(str(max(len(groups), 1) - 1))
    for k, g in enumerate(groups):
        M, rows = _rows(g)
        for r, ((wts, bias), sign) in enumerate(zip(rows, (1, -1, -1, 1))):
            node = f"g[{k:0{width}d}].{r}"
            incoming = on_inputs(inputs, wts, data)
            net.add_neuron(G, node, layer=1, activation=keys.RELU, bias=bias, incoming=incoming)
            hidden.append(node)
            out_weights.append(mpq(sign, M))
    if not hidden:  # every label is 0: the zero network (docs/constructions/bubeck2020.md section 7)
        net.add_neuron(G, "zero", layer=1, activation=keys.RELU, bias=0)
    net.add_neuron(G, "out", layer=2, activation=keys.IDENTITY, bias=0, incoming=zip(hidden, out_weights))
    net.set_outputs(G, ["out"])
    return G


def size(G: nx.DiGraph, data: Dataset) -> SizeClaim:
    """depth 2, 4 ReLUs per group, dense 4 G (d + 2) + 1."""
    Gs, d, N = sympy.symbols("groups d N", integer=True, nonnegative=True)
    groups = G.graph[keys.CONSTRUCTION]["options"]["groups"]
    H = sympy.Max(4 * Gs, 1)
    return SizeClaim(
        formulas={"depth": sympy.Integer(2), "width": H, "neurons": H + 1, "params_dense": H * (d + 2) + 1},
        variables={"groups": groups, "d": data.d, "N": data.n},
    )


CONSTRUCTION = Construction(
    name=NAME,
    paper=PAPER,
    reference=REFERENCE,
    assumptions="general position where it is used (each group affinely independent, no other point on its "
    "hyperplane), checked exactly while building; failing groups are split",
    options={"seed": "seed of the hyperplane draws for groups of fewer than d points"},
    check=check,
    build=build,
    size=size,
    predict=lambda data, seed=0: (4 * -(-data.n // data.d) * (data.d + 2) + 1, {}),
    formulas_text={
        "depth": "2",
        "width": "4 G (G = groups with a nonzero label; ceil(N/d) in general position)",
        "neurons": "4 G + 1",
        "params_dense": "4 G (d + 2) + 1",
    },
    theorem=Theorem(
        statement="n points in general position in R^d with real labels are memorized by a depth-2 ReLU "
        "network with 4 ceil(n/d) neurons (Baum 1988 with ReLU)",
        rate="O(N/d) neurons",
        bound=4 * sympy.ceiling(sympy.Symbol("N", integer=True) / sympy.Symbol("d", integer=True)),
        bound_measure="hidden ReLUs (width)",
    ),
)
