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

from netcert.constructions.base import Construction, SizeClaim, Theorem, input_nodes, on_inputs
from netcert.constructions.exactmath import Budget, refuse_scaled_inputs
from netcert.dataset import Dataset
from netcert.errors import PreconditionError
from netcert.exact import Rat, lcm_all, mpq, mpz
from netcert.ir import keys
from netcert.ir import network as net

NAME = "bubeck2020"
PAPER = (
    "Bubeck, Eldan, Lee, Mikulincer. Network size and weights size for memorization with "
    "two-layers neural networks. NeurIPS 2020 (Baum network with ReLU)"
)
REFERENCE = "arXiv:2006.02855; docs/constructions/bubeck2020.md (exact reconstruction)"
DRAWS = 8
_FLOAT_BITS = 960  # the float filter's magnitudes stay below 2^(960 + 64), far from float64's 2^1024


class _GroupFails(Exception):
    """A group is affinely dependent or another point lies on its hyperplane."""


def check(data: Dataset, options: Mapping) -> list[str]:
    """General position is checked exactly while building (see the module docstring)."""
    return []


def _echelon(rows: Sequence[Sequence[int]], rhs: Sequence[int]) -> tuple[list[list[int]], list[int]]:
    """Fraction-free (Bareiss) row echelon form of [rows | -1 | rhs] and its pivot columns (among the
    first d + 1 only). Exact integers throughout: every entry is a minor of the matrix, so no rational
    ever appears, and the pivot columns are those of the reduced row echelon form (the first columns
    independent of the ones before them)."""
    M = [[mpz(v) for v in r] + [mpz(-1), mpz(y)] for r, y in zip(rows, rhs)]
    width, prev, pivots, i = len(M[0]) - 1, mpz(1), [], 0
    for j in range(width):
        if i == len(M):
            break
        p = next((k for k in range(i, len(M)) if M[k][j]), None)
        if p is None:
            continue
        M[i], M[p] = M[p], M[i]
        top, a = M[i], M[i][j]
        for k in range(i + 1, len(M)):
            f = M[k][j]
            # Bareiss' step: the division by the previous pivot is exact (Sylvester's identity)
            M[k] = [(a * x - f * y) // prev for x, y in zip(M[k], top)]
        prev, i = a, i + 1
        pivots.append(j)
    return M, pivots


def _back_substitute(E: list[list[int]], pivots: list[int], column: Sequence[int], den: int) -> list[int]:
    """The integers z_p (p the pivot columns) with sum_p E[i][p] z_p = den * column[i] for every
    pivot row i. Exact: den is the last pivot, the determinant of the pivot block up to sign, so by
    Cramer's rule z is integral and every division below leaves no remainder."""
    z: dict[int, int] = {}
    for i in range(len(pivots) - 1, -1, -1):
        acc = den * column[i] - sum(E[i][q] * z[q] for q in pivots[i + 1 :])
        z[pivots[i]] = acc // E[i][pivots[i]]
    return [z[q] for q in pivots]


def _solve(rows: Sequence[Sequence[int]], ys: Sequence[Rat]) -> tuple[list[list[int]], list[Rat]]:
    """(kernel, z0): an integer basis of {(w; b) : x.w - b = 0 for every row x}, one vector per free
    column, each the reduced-row-echelon basis vector (1 at its free column, 0 at the others) times
    one common nonzero integer; and a rational z0 with x_j.z0[:d] - z0[d] = y_j on every row.

    With the kernel one-dimensional (d affinely independent rows) this is one Bareiss elimination of
    a d x (d + 2) integer matrix: minors of the data, never a rational until the last division."""
    L = lcm_all(q.denominator for q in ys)
    E, pivots = _echelon(rows, [int(q * L) for q in ys])
    den = E[len(pivots) - 1][pivots[-1]]
    width = len(rows[0]) + 1
    free = [j for j in range(width) if j not in pivots]
    kernel = []
    for f in free:
        zp = _back_substitute(E, pivots, [-E[i][f] for i in range(len(pivots))], den)
        vec = [0] * width
        vec[f] = int(den)
        for q, v in zip(pivots, zp):
            vec[q] = int(v)
        kernel.append(vec)
    if len(pivots) < len(rows):  # a row dependent on the others: no solution is needed
        return kernel, []
    zp = _back_substitute(E, pivots, [E[i][width] for i in range(len(pivots))], den)
    z0 = [mpq(0)] * width
    for q, v in zip(pivots, zp):
        z0[q] = mpq(v, den * L)
    return kernel, z0


def _primitive(vec: Sequence[Rat]) -> list[int]:
    """The primitive integer multiple of a nonzero rational vector, first nonzero entry positive."""
    L = lcm_all(q.denominator for q in vec)
    ints = [int(q * L) for q in vec]
    g = 0
    for v in ints:
        g = int(gmpy2.gcd(g, v))
    sign = 1 if next(v for v in ints if v) > 0 else -1
    return [sign * v // g for v in ints]


def _hyperplane(basis: Sequence[Sequence[int]], rng: random.Random) -> list[int]:
    """(w; b): the kernel generator when it is one-dimensional, else a random small combination."""
    if len(basis) == 1:
        return _primitive([mpq(v) for v in basis[0]])
    coef = [rng.choice((1, -1)) * rng.randint(1, 7) for _ in basis]
    return _primitive([mpq(sum(c * vec[k] for c, vec in zip(coef, basis))) for k in range(len(basis[0]))])


def _label_fit(z0: Sequence[Rat], basis: Sequence[Sequence[int]]) -> tuple[list[Rat], Rat]:
    """(v, c) with v.x_j - c = y_j on the group, orthogonal to the kernel: z0 minus its orthogonal
    projection on the kernel's span (the unique solution in the row space of [X_S | -1])."""
    K = [[mpq(v) for v in vec] for vec in basis]
    gram = [[sum(a * b for a, b in zip(u, w)) for w in K] for u in K]
    rhs = [sum(a * b for a, b in zip(u, z0)) for u in K]
    alpha = _solve_small(gram, rhs)
    z = [e - sum(a * u[k] for a, u in zip(alpha, K)) for k, e in enumerate(z0)]
    return z[:-1], z[-1]


def _solve_small(A: list[list[Rat]], b: list[Rat]) -> list[Rat]:
    """The solution of a nonsingular square rational system (a Gram matrix of the kernel basis,
    at most d x d), by Gaussian elimination in exact rationals."""
    n = len(b)
    M = [list(r) + [v] for r, v in zip(A, b)]
    for j in range(n):
        p = next(k for k in range(j, n) if M[k][j])
        M[j], M[p] = M[p], M[j]
        for k in range(n):
            if k != j and M[k][j]:
                f = M[k][j] / M[j][j]
                M[k] = [x - f * y for x, y in zip(M[k], M[j])]
    return [M[j][n] / M[j][j] for j in range(n)]


class _Points:
    """The data's integer rows for exact affine scans: Python integers, and float64 copies with
    which most points are decided without big-integer arithmetic."""

    def __init__(self, data: Dataset):
        self.rows = [list(map(int, r)) for r in data.num]
        self.bits = max((abs(v).bit_length() for r in self.rows for v in r), default=0)
        ok = self.bits < _FLOAT_BITS
        self.f = np.array(self.rows, dtype=np.float64) if ok else None
        self.abs = np.abs(self.f) if ok else None
        self.d = data.d

    def exact(self, w: Sequence[int], b: int, idx) -> list[int]:
        """w.x_i - b for the points i of idx, exactly."""
        return [sum(a * x for a, x in zip(w, self.rows[i])) - b for i in idx]

    def approx(self, w: Sequence[int], b: int) -> tuple[np.ndarray, np.ndarray] | None:
        """(v, tau) with |v_i - (w.x_i - b)| < tau_i for every point, or None when the numbers leave
        the range of the filter.

        The integers x and w rounded to float64 cost a relative u = 2^-53 each, and a sum of d + 1
        products, in any order, is within gamma_(d+1) = (d + 1) u / (1 - (d + 1) u) of its exact
        value relative to S_i = sum_k |w_k| |x_ik| + |b| (Higham, Accuracy and Stability of
        Numerical Algorithms, 2nd ed., (3.4)-(3.5)): the error is below (d + 5) u S_i. S_i is itself
        computed in float64 (relative error below (d + 3) u), so tau_i = 2 (d + 5) u fl(S_i) bounds it
        with room to spare. Magnitudes stay below 2^(_FLOAT_BITS + 64): no overflow."""
        top = max(abs(v).bit_length() for v in (*w, b))
        if self.f is None or top + self.bits + self.d.bit_length() + 2 > _FLOAT_BITS:
            return None
        wf = np.array([float(a) for a in w])
        v = self.f @ wf - float(b)
        tau = (2 * (self.d + 5) * 2.0**-53) * (self.abs @ np.abs(wf) + abs(float(b)))
        return v, tau

    def min_abs(self, w: Sequence[int], b: int, idx: np.ndarray) -> tuple[int, int | None]:
        """(min over idx of |w.x_i - b|, the first i of idx where it is 0 or None), exactly; the
        float filter only chooses which points are computed exactly."""
        if not idx.size:
            return 1, None
        est = self.approx(w, b)
        if est is None:
            vals = self.exact(w, b, idx.tolist())
        else:
            v, tau = np.abs(est[0][idx]), est[1][idx]
            # |t_i| lies in [v - tau, v + tau]: only the points whose interval reaches below the
            # smallest upper end can attain the minimum (and only those can be 0)
            near = np.flatnonzero(v - tau <= (v + tau).min())
            idx = idx[near]
            vals = self.exact(w, b, idx.tolist())
        m = min(abs(t) for t in vals)
        return m, (int(idx[[abs(t) for t in vals].index(0)]) if m == 0 else None)

    def max_abs(self, w: Sequence[int], b: int) -> int:
        """max_i |w.x_i - b| over every point, exactly (the float filter chooses the candidates)."""
        idx = np.arange(len(self.rows))
        est = self.approx(w, b)
        if est is not None:
            v, tau = np.abs(est[0]), est[1]
            idx = np.flatnonzero(v + tau >= (v - tau).max())
        return max(abs(t) for t in self.exact(w, b, idx.tolist()))


def _integer_form(w: Sequence[Rat], b: Rat) -> tuple[list[int], int, int]:
    """(W, B, D): w.x - b = (W.x - B) / D with integers, D the common denominator."""
    D = lcm_all([q.denominator for q in (*w, b)])
    return [int(q * D) for q in w], int(b * D), int(D)


def _group(data: Dataset, pts: _Points, S: list[int], rng: random.Random) -> dict:
    """The exact constants of one group, or _GroupFails."""
    rows = [data.num[i] for i in S]
    ys = [mpq(data.labels[i]) for i in S]
    basis, z0 = _solve(rows, ys)
    if len(basis) != data.d + 1 - len(S):
        raise _GroupFails(f"points {S} are affinely dependent")
    v, c = _label_fit(z0, basis)
    W, B, s_den = _integer_form(v, c)
    s_max = pts.max_abs(W, B)
    eta = max(abs(y) for y in ys)
    outside = np.ones(data.n, dtype=bool)
    outside[S] = False
    outside_idx = np.flatnonzero(outside)
    for draw in range(DRAWS if len(basis) > 1 else 1):
        wb = _hyperplane(basis, rng)
        t_min, on = pts.min_abs(wb[:-1], wb[-1], outside_idx)
        if on is None:
            break
    else:
        raise _GroupFails(f"point {on} lies on the hyperplane of points {S}")
    lam = -(-(eta + mpq(s_max, s_den)) // mpq(t_min))
    return {"w": wb[:-1], "b": wb[-1], "v": v, "c": c, "eta": eta, "lam": int(lam), "points": S}


def _groups(data: Dataset, seed: int) -> tuple[list[dict], int]:
    """Groups of up to d consecutive points, split in halves where general position fails."""
    todo = [list(range(k, min(k + data.d, data.n))) for k in range(0, data.n, data.d)]
    # Two of a group's four ReLUs read lambda w_j M scale_j, a nonzero multiple of scale_j (w != 0).
    refuse_scaled_inputs(NAME, data.scale, 2 * sum(1 for S in todo if any(data.labels[i] != 0 for i in S)))
    pts = _Points(data)
    rng = random.Random(seed)
    done, splits, budget = [], 0, Budget(NAME)
    while todo:
        S = todo.pop(0)
        if all(data.labels[i] == 0 for i in S):
            continue
        try:
            done.append(_group(data, pts, S, rng))
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
