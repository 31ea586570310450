"""baum1988: one hidden layer of threshold units, two per group of d points (Baum 1988).

Baum, "On the capabilities of multilayer perceptrons", Journal of Complexity
4 (1988): ceil(n/d) hidden threshold units memorize n points in general
position in R^d. This is the exact slab version of docs/constructions/baum1988.md:

1. the default label is the most frequent one (the smallest among ties); the
   points of every other label c, in increasing order of c, are permuted
   (``numpy.random.default_rng(seed)``) and cut into groups of d, the last
   possibly smaller and padded with random auxiliary integer rows;
2. each group's hyperplane v(x) = w.X - beta = 0 (X = D x, the integer rows)
   is a primitive integer kernel vector (w; beta) of [P | -1], P the group's
   rows (the first free column's basis vector in reduced row echelon form
   when the kernel is larger);
3. general position, as far as it is used, is checked exactly: no data point
   outside the group has v = 0. On failure the group's points but its first go
   back to the label's list, which is reshuffled, and the first point forms a
   group alone (with fresh auxiliary rows); a point whose one-point group fails
   64 times in a row is refused by name;
4. two step units per group, h+ = step(2v + 1) and h- = step(2v - 1): since v
   is an integer, h+ - h- = [v = 0], a slab of width zero that needs no
   epsilon; the affine output is F = y_def + sum_g (c_g - y_def)(h+_g - h-_g).

Labels may be any exact numbers. The hidden weights are big integers (minors
of the data, about d times the coordinate bits): this is the construction
whose weight size grows, against rajput2021's bounded integers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import gmpy2
import networkx as nx
import numpy as np
import sympy

from netcert import separation
from netcert.constructions.base import Construction, SizeClaim, Theorem, input_nodes
from netcert.dataset import Dataset
from netcert.errors import PreconditionError
from netcert.constructions.exactmath import Budget
from netcert.exact import format_rational, mpq
from netcert.ir import keys
from netcert.ir import network as net

NAME = "baum1988"
PAPER = "Baum. On the capabilities of multilayer perceptrons. Journal of Complexity 4(3), 1988"
REFERENCE = "doi:10.1016/0885-064X(88)90020-9; docs/constructions/baum1988.md (exact slab construction)"
AUX_RANGE = 2**30
ONE_POINT_TRIES = 64
_PRIME = 2**31 - 1  # the modular filter of the position check
_LISTED = 10


def check(data: Dataset, options: Mapping) -> list[str]:
    """General position is checked exactly while building (module docstring, step 3)."""
    return []


def hyperplane(rows: Sequence[Sequence[int]]) -> list[int]:
    """A primitive integer (w; beta) with x.w - beta = 0 for every row x, first nonzero entry positive.

    The kernel vector of the first free column of rref([rows | -1]) (1 there, 0 at the other free
    columns), computed without rationals: a fraction-free (Bareiss) elimination, whose entries are
    minors of the matrix, then back-substitution, which gives that vector times the last pivot.
    """
    M = [[gmpy2.mpz(v) for v in r] + [gmpy2.mpz(-1)] for r in rows]
    width, prev, pivots, i = len(M[0]), gmpy2.mpz(1), [], 0
    free = None
    for j in range(width):
        p = next((k for k in range(i, len(M)) if M[k][j]), None) if i < len(M) else None
        if p is None:
            free = j  # the first column dependent on those before it
            break
        M[i], M[p] = M[p], M[i]
        top, a = M[i], M[i][j]
        for k in range(i + 1, len(M)):
            f = M[k][j]
            # Bareiss' step on the columns not yet eliminated; the division is exact (Sylvester)
            M[k][j:] = [(a * x - f * y) // prev for x, y in zip(M[k][j:], top[j:])]
        prev, i = a, i + 1
        pivots.append(j)
    assert free is not None, "a d x (d + 1) matrix always has a free column"
    den = prev  # the determinant of the pivot block, up to sign: Cramer makes every z below integral
    vec = [gmpy2.mpz(0)] * width
    vec[free] = den
    for r in range(len(pivots) - 1, -1, -1):
        acc = -den * M[r][free] - sum(M[r][q] * vec[q] for q in pivots[r + 1 :])
        vec[pivots[r]] = acc // M[r][pivots[r]]
    g = 0
    for v in vec:
        g = gmpy2.gcd(g, v)
    sign = 1 if next(v for v in vec if v) > 0 else -1
    return [int(sign * v // g) for v in vec]


class _Rows:
    """The integer rows X = D x, with their residues for the modular filter."""

    def __init__(self, data: Dataset):
        X, D = separation.common_rows(data)
        self.X = [[int(v) for v in row] for row in X]
        self.D = int(D)
        self.mod = np.array([[v % _PRIME for v in row] for row in self.X], dtype=np.int64)

    def first_on_plane(self, w: Sequence[int], beta: int, skip: Sequence[int]) -> int | None:
        """The least i not in ``skip`` with w.X_i = beta, exactly, or None (residues first, integers
        for the candidates, in increasing order until the first that is on the plane)."""
        wm = np.array([v % _PRIME for v in w], dtype=np.int64)
        res = ((self.mod * wm[None, :]) % _PRIME).sum(axis=1) % _PRIME
        skipped = set(skip)
        for i in np.flatnonzero(res == beta % _PRIME).tolist():
            if i not in skipped and sum(a * x for a, x in zip(w, self.X[i])) == beta:
                return i
        return None


@dataclass(frozen=True)
class Group:
    label: object  # the group's label c_g (mpq)
    points: tuple[int, ...]
    w: tuple[int, ...]
    beta: int


def aux_rows(rng: np.random.Generator, count: int, d: int) -> list[list[int]]:
    """``count`` auxiliary integer rows padding a group (in units of 1/D; not data points)."""
    return rng.integers(-AUX_RANGE, AUX_RANGE, size=(count, d)).tolist() if count else []


def default_label(labels: Sequence) -> object:
    """The most frequent label; the smallest among equally frequent ones."""
    counts = Counter(labels)
    return min(counts, key=lambda c: (-counts[c], c))


def groups(data: Dataset, rows: _Rows, seed: int) -> tuple[list[Group], list[tuple[tuple[int, ...], int]]]:
    """The groups of docs/constructions/baum1988.md sections 2-4 and every failed position check (group, point on its plane)."""
    d = data.d
    rng = np.random.default_rng(seed)
    y_def = default_label(data.labels)
    done, failures, budget = [], [], Budget(NAME)
    for c in sorted(set(data.labels) - {y_def}):
        remaining = [int(i) for i in rng.permutation([i for i, y in enumerate(data.labels) if y == c])]
        single, streak = None, 0
        while remaining or single is not None:
            if single is None:
                S, remaining = remaining[:d], remaining[d:]
            else:
                S = [single]
            aux = aux_rows(rng, d - len(S), d)
            *w, beta = hyperplane([rows.X[i] for i in S] + aux)
            other = rows.first_on_plane(w, beta, S)
            if other is None:
                done.append(Group(c, tuple(S), tuple(w), beta))
                # the two threshold units' weights 2 D w_j and biases -2 beta +- 1: refused at the first
                # group over max_bits(), or once the groups so far exceed the total limit (exactmath)
                budget.add(
                    f"the weights of group {len(done) - 1}",
                    [2 * rows.D * a for a in w] * 2 + [-2 * beta + 1, -2 * beta - 1],
                )
                single, streak = None, 0
                continue
            failures.append((tuple(S), other))
            streak = streak + 1 if len(S) == 1 else 0
            if streak == ONE_POINT_TRIES:
                raise PreconditionError(
                    f"{NAME}: point {data.kept[S[0]]} is not in general position: every hyperplane tried through it "
                    f"({ONE_POINT_TRIES} draws) also contains another data point (last: point {data.kept[other]})"
                )
            remaining = [int(i) for i in rng.permutation(S[1:] + remaining)]
            single = S[0]
    return done, failures


def build(data: Dataset, *, seed: int = 0) -> nx.DiGraph:
    """Baum's slab network of ``data`` (module docstring)."""
    rows = _Rows(data)
    found, failures = groups(data, rows, seed)
    y_def = default_label(data.labels)
    options = {
        "seed": seed,
        "default_label": format_rational(y_def),
        "groups": len(found),
        "groups_general": general_groups(data),
        "failed_checks": len(failures),
        "failures": [{"group": [data.kept[i] for i in S], "on_plane": data.kept[i]} for S, i in failures[:_LISTED]],
        "zero_weights": sum(1 for g in found for a in g.w if a == 0),
        "denominator": format_rational(rows.D),
    }
    inputs = input_nodes(data)
    G = net.new_network(
        inputs, construction={"name": NAME, "options": options, "reference": REFERENCE}, dataset=data.digest
    )
    out = []
    tag = len(str(max(len(found), 1) - 1))
    for k, g in enumerate(found):
        incoming = [(x, mpq(2 * rows.D * a)) for x, a in zip(inputs, g.w) if a]
        for part, shift, sign in ((".0", 1, 1), (".1", -1, -1)):
            node = f"g[{k:0{tag}d}]{part}"
            net.add_neuron(G, node, layer=1, activation=keys.THRESHOLD, bias=-2 * g.beta + shift, incoming=incoming)
            out.append((node, sign * (g.label - y_def)))
    if not found:  # one label: a silent hidden node and the constant output (docs/constructions/baum1988.md section 5)
        net.add_neuron(G, "g[0].0", layer=1, activation=keys.THRESHOLD, bias=0)
    net.add_neuron(G, "out", layer=2, activation=keys.IDENTITY, bias=y_def, incoming=out)
    net.set_outputs(G, ["out"])
    return G


def predict(data: Dataset, seed: int = 0) -> tuple[int, dict]:
    """The nonzero parameters of ``build`` with this seed, by the size formula: the groups and their exact
    position checks (most of a build's time) without the network."""
    found, _ = groups(data, _Rows(data), seed)
    zero = sum(1 for g in found for a in g.w if a == 0)
    return 2 * (data.d * len(found) - zero) + 4 * len(found) + int(default_label(data.labels) != 0), {}


def general_groups(data: Dataset) -> int:
    """sum over non-default labels c of ceil(n_c / d): the groups when every check passes."""
    counts = Counter(data.labels)
    y_def = default_label(data.labels)
    return sum(-(-n_c // data.d) for c, n_c in counts.items() if c != y_def)


_G, _d, _zw, _ynz, _GG = sympy.symbols(
    "groups d zero_weights y_default_nonzero groups_general", integer=True, nonnegative=True
)


def size(G: nx.DiGraph, data: Dataset) -> SizeClaim:
    """Depth 2, two step units per group (one silent unit without groups), exact dense and nonzero counts."""
    o = G.graph[keys.CONSTRUCTION]["options"]
    H = sympy.Max(2 * _G, 1)
    return SizeClaim(
        formulas={
            "depth": sympy.Integer(2),
            "width": H,
            "neurons": H + 1,
            "params_dense": H * (_d + 2) + 1,
            "params_nonzero": 2 * (_d * _G - _zw) + 4 * _G + _ynz,
        },
        variables={
            "groups": o["groups"],
            "d": data.d,
            "zero_weights": o["zero_weights"],
            "y_default_nonzero": int(mpq(o["default_label"]) != 0),
            "groups_general": o["groups_general"],
        },
    )


CONSTRUCTION = Construction(
    name=NAME,
    paper=PAPER,
    reference=REFERENCE,
    assumptions="general position where it is used (no other data point on a group's hyperplane), checked exactly "
    "while building; failing groups are regrouped, and a point is refused only when 64 hyperplanes "
    "through it all contain another data point; any exact labels",
    options={"seed": "seed of the grouping permutations and the auxiliary rows (numpy default_rng)"},
    check=check,
    build=build,
    size=size,
    predict=predict,
    formulas_text={
        "depth": "2",
        "width": "2 G (G groups; sum over non-default labels c of ceil(n_c/d) in general position)",
        "neurons": "2 G + 1",
        "params_dense": "2 G (d + 2) + 1",
        "params_nonzero": "2 (d G - zero weights) + 4 G + [default label != 0]",
    },
    theorem=Theorem(
        statement="n points in general position in R^d are memorized by one hidden layer of ceil(n/d) threshold "
        "units (Baum 1988); here two step units per group of d points of a non-default label",
        rate="O(n/d) neurons",
        bound=2 * _GG,
        bound_measure="width (hidden threshold units) when every group passes its position check: "
        "2 sum over non-default labels c of ceil(n_c/d)",
    ),
)
