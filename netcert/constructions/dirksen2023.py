"""dirksen2023: a randomized three-layer threshold network for two classes, sized by their geometry.

Dirksen, Finke and Genzel, "Memorization with neural nets: going beyond the
worst case" (2023): two classes of points are memorized by a three-layer
network, built by a randomized polynomial-time algorithm, whose size depends
on the geometry of the classes (how far apart they are, and how many clusters
of one class no point of the other reaches) rather than on the number N of
points. The paper's full text was not available here: this is netcert's
exact reconstruction from the statement (docs/constructions/dirksen2023.md),
with the paper's random hyperplanes, a greedy covering of one class by
clusters, and an OR at the output. Its sizes are exact counts of what is
built, in terms of the clusters and hyperplanes actually drawn.

1. the covered class P is the less frequent label (the larger label on a
   tie), the other class Q the rest; the points are the integer rows X = D x
   about the dyadic centre c of ``gadgets.codes.lift``;
2. clusters, greedily: the next seed p is the first uncovered point of P in
   a random order (``numpy.random.default_rng(seed)``); its candidate cluster
   S is every uncovered point of P closer to p than p's nearest point of Q
   (float64 distances: they only choose candidates);
3. hyperplanes: random directions a (Gaussians times 2^P_BITS rounded to
   integers, zero on the columns where every point agrees) are drawn one at a
   time; each one whose supporting halfspace a.(X - c) <= beta, beta = (the
   least value of a point of Q beyond max_S a.(X - c)) - 1, excludes a point
   of Q not excluded yet is kept, until every point of Q is excluded. The
   values are exact integers, so "excluded" is exact. After STALL draws in a
   row that exclude nothing new, S is cut to its nearer half and the cluster
   redrawn; a single point is always separable (each draw excludes a point of
   Q with probability about 1/2) and is refused by name only after
   SINGLE_DRAWS draws;
4. pruning: in reverse draw order, a kept hyperplane is dropped when the
   others still exclude every point of Q; the cluster is then every point of
   P inside the polytope (exactly), all marked covered;
5. the network: layer 1 one threshold unit per hyperplane,
   h = step(-a.x + (beta + a.c)/D) = [a.(X - c) <= beta]; layer 2 one AND
   unit per cluster, g = step(sum of its h - F) with F its hyperplanes; layer 3
   the OR of the clusters. With labels (P, Q) = (1, 0) the OR is the output,
   step(sum g - 1); with (0, 1) it is the NOR, step(-sum g); otherwise an
   identity unit F = y_Q + (y_P - y_Q) OR follows (depth 4).

Every point of P is in its cluster's polytope and every point of Q outside
every polytope (each is excluded by a hyperplane of each cluster), so the
network interpolates; ``netcert verify`` checks it on every point. One class
alone gives one cluster without hyperplanes. More than two labels are refused.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import networkx as nx
import numpy as np
import sympy

from netcert.constructions.base import Construction, SizeClaim, Theorem, input_nodes
from netcert.dataset import Dataset
from netcert.errors import PreconditionError
from netcert.exact import Rat, display, format_rational, mpq
from netcert.gadgets import codes
from netcert.ir import keys
from netcert.ir import network as net

NAME = "dirksen2023"
PAPER = "Dirksen, Finke, Genzel. Memorization with neural nets: going beyond the worst case. 2023 (arXiv:2310.00327)"
REFERENCE = (
    "arXiv:2310.00327; docs/constructions/dirksen2023.md (a reconstruction from the statement: the paper's "
    "full text was not available)"
)
P_BITS = 8  # fractional bits of the Gaussian directions: layer-1 weights are integers below about 2^11
STALL = 16  # draws in a row that exclude nothing new before a cluster is halved
SINGLE_DRAWS = 512  # draws for a one-point cluster before it is refused (never reached on distinct points)
_FLOAT_BITS = 60  # the float copy of the rows (candidate choice only) keeps this many leading bits


# -- classes ---------------------------------------------------------------------------------------------


def classes(labels) -> tuple[Rat, Rat, str]:
    """(covered label y_P, other label y_Q, output form): y_P the less frequent label (the larger on a tie).
    One label: y_Q is the value that makes the output form exist (1 for y_P = 0, else y_P - 1)."""
    counts = Counter(labels)
    ordered = sorted(counts, key=lambda c: (counts[c], -c))
    y_p = ordered[0]
    y_q = ordered[1] if len(ordered) > 1 else (mpq(1) if y_p == 0 else y_p - 1)
    form = "or" if (y_p, y_q) == (1, 0) else "nor" if (y_p, y_q) == (0, 1) else "affine"
    return y_p, y_q, form


def check(data: Dataset, options: Mapping) -> list[str]:
    """Two classes at most (any two label values)."""
    distinct = sorted(set(data.labels))
    if len(distinct) <= 2:
        return []
    shown = ", ".join(display(v) for v in distinct[:5]) + (", ..." if len(distinct) > 5 else "")
    return [f"{NAME} memorizes two classes; the data has {len(distinct)} distinct labels ({shown})"]


# -- the data side: exact values, float copies -------------------------------------------------------------


class _Values:
    """Exact integers v_i = hi_i 2^s + lo_i, 0 <= lo_i < 2^s, as two arrays (int64, or Python integers when the
    data is too large): compared, maximized and minimized exactly without big integers per point."""

    def __init__(self, hi: np.ndarray, lo: np.ndarray, s: int):
        self.hi, self.lo, self.s = hi, lo, s

    def split(self, v: int) -> tuple[int, int]:
        return v >> self.s, v & ((1 << self.s) - 1)

    def at(self, i: int) -> int:
        return (int(self.hi[i]) << self.s) + int(self.lo[i])

    def greater(self, idx: np.ndarray, v: int) -> np.ndarray:
        """[v_i > v] for i in idx (bool)."""
        h, l = self.split(v)
        hi, lo = self.hi[idx], self.lo[idx]
        return np.asarray((hi > h) | ((hi == h) & (lo > l)), dtype=bool)

    def extreme(self, idx: np.ndarray, largest: bool) -> int:
        """max (or min) of v_i over the nonempty idx."""
        pick = np.max if largest else np.min
        top = pick(self.hi[idx])
        rest = idx[np.asarray(self.hi[idx] == top, dtype=bool)]
        return (int(top) << self.s) + int(pick(self.lo[rest]))


class _Rows:
    """The centred integer rows, exact (two int64 halves when they fit, Python integers otherwise), and a float
    copy for the choice of candidates."""

    def __init__(self, data: Dataset):
        self.lift = codes.lift(data)
        rows = self.lift.centred()
        d = data.d
        top = max(abs(v) for row in rows for v in row)
        a_bits = (d * (2 ** (P_BITS + 7))).bit_length()  # |a|_1 < d 2^(P_BITS + 7): Gaussians below 2^7 in practice
        self.s = max(0, 62 - a_bits)
        self.fits = top.bit_length() - self.s + a_bits < 62  # both halves' products stay below 2^62
        mask = (1 << self.s) - 1
        if self.fits:
            self.hi = np.array([[v >> self.s for v in row] for row in rows], dtype=np.int64)
            self.lo = np.array([[v & mask for v in row] for row in rows], dtype=np.int64)
        else:
            self.obj = np.array(rows, dtype=object)
        self.limit = 2 ** (P_BITS + 7) * d
        shift = max(0, top.bit_length() - _FLOAT_BITS)
        self.f64 = np.array([[float(v >> shift) for v in row] for row in rows], dtype=np.float64)
        self.constant = [len({row[j] for row in rows}) == 1 for j in range(d)]

    def values(self, a: np.ndarray) -> _Values:
        """a.(X_i - c) for every point i, exact."""
        if self.fits and int(np.abs(a).sum()) < self.limit:
            hi, lo = self.hi @ a, self.lo @ a  # lo_i in (-2^62, 2^62): carry it into hi
            return _Values(hi + (lo >> self.s), lo & ((1 << self.s) - 1), self.s)
        v = (self.obj if not self.fits else (self.hi.astype(object) * (1 << self.s) + self.lo)) @ np.array(
            [int(t) for t in a], dtype=object
        )
        return _Values(v, np.zeros(len(v), dtype=np.int64), 0)


# -- the plan: clusters and their hyperplanes --------------------------------------------------------------


@dataclass(frozen=True)
class Facet:
    a: tuple[int, ...]  # the direction (integers)
    beta: int  # the halfspace a.(X - c) <= beta


@dataclass(frozen=True)
class Cluster:
    seed: int  # the seed point of P
    facets: tuple[Facet, ...]
    candidates: int  # |S| of the attempt that succeeded
    members: int  # points of P inside the polytope


@dataclass(frozen=True)
class Plan:
    y_p: Rat
    y_q: Rat
    form: str
    clusters: list[Cluster]
    draws: int  # directions drawn in all
    halvings: int  # attempts that failed and were halved
    centre: tuple[int, ...]  # c, in units of 1/D
    D: int

    def bias(self, f: Facet) -> Rat:
        """The layer-1 bias (beta + a.c)/D of facet f."""
        return mpq(f.beta + sum(a * x for a, x in zip(f.a, self.centre)), self.D)


def _direction(rng: np.random.Generator, rows: _Rows) -> np.ndarray:
    a = np.rint(rng.standard_normal(len(rows.constant)) * 2.0**P_BITS).astype(np.int64)
    a[np.array(rows.constant, dtype=bool)] = 0
    return a


def _attempt(rng, rows: _Rows, S: np.ndarray, Q: np.ndarray, cap: int, stall: int) -> tuple[list | None, int]:
    """Draw directions for candidate cluster S until every point of Q is excluded (the kept facets with the
    points of Q each excludes, pruned), or ``stall`` draws in a row exclude nothing new, or ``cap`` draws;
    (facets, draws), facets None on failure."""
    excluded = np.zeros(Q.size, dtype=bool)
    kept, quiet, draws = [], 0, 0
    while not excluded.all():
        if quiet == stall or draws == cap:
            return None, draws
        draws += 1
        a = _direction(rng, rows)
        if not a.any():
            quiet += 1
            continue
        v = rows.values(a)
        beyond = v.greater(Q, v.extreme(S, largest=True))
        if (beyond & ~excluded).any():
            kept.append((Facet(tuple(int(t) for t in a), v.extreme(Q[beyond], largest=False) - 1), beyond, v))
            excluded |= beyond
            quiet = 0
        else:
            quiet += 1
    for t in range(len(kept) - 1, -1, -1):  # reverse draw order: drop what the others already exclude
        others = [f[1] for s, f in enumerate(kept) if s != t]
        if others and np.logical_or.reduce(others).all():
            kept.pop(t)
    return kept, draws


def plan(data: Dataset, seed: int = 0) -> Plan:
    """Steps 1-4 of the module docstring (no network yet)."""
    problems = check(data, {})
    if problems:
        raise PreconditionError(problems[0])
    y_p, y_q, form = classes(data.labels)
    labels = np.array([y == y_p for y in data.labels])
    P, Q = np.flatnonzero(labels), np.flatnonzero(~labels)
    rows = _Rows(data)
    rng = np.random.default_rng(seed)
    order = rng.permutation(P)
    covered = np.zeros(data.n, dtype=bool)
    clusters, draws, halvings = [], 0, 0
    for p in order.tolist():
        if covered[p]:
            continue
        dist = ((rows.f64 - rows.f64[p]) ** 2).sum(axis=1)
        free = P[~covered[P]]
        radius = dist[Q].min() if Q.size else np.inf
        S = free[np.argsort(dist[free], kind="stable")]
        S = S[dist[S] < radius] if Q.size else S
        S = S if S.size and S[0] == p else np.concatenate(([p], S[S != p]))
        while True:
            single = S.size == 1
            facets, used = _attempt(rng, rows, S, Q, SINGLE_DRAWS if single else 10**9, 10**9 if single else STALL)
            draws += used
            if facets is not None:
                break
            if single:
                raise PreconditionError(
                    f"{NAME}: point {data.kept[p]} could not be cut off from the other class in {SINGLE_DRAWS} "
                    "random directions"
                )
            halvings += 1
            S = S[: -(-S.size // 2)]
        inside = np.ones(P.size, dtype=bool)
        for f, _, v in facets:
            inside &= ~v.greater(P, f.beta)
        covered[P[inside]] = True
        clusters.append(Cluster(int(p), tuple(f for f, _, _ in facets), int(S.size), int(inside.sum())))
    return Plan(y_p, y_q, form, clusters, draws, halvings, tuple(rows.lift.centre), int(rows.lift.D))


# -- the network -------------------------------------------------------------------------------------------


def build(data: Dataset, *, seed: int = 0) -> nx.DiGraph:
    """The three-layer network of ``data`` (module docstring)."""
    P = plan(data, seed)
    inputs = input_nodes(data)
    G = net.new_network(
        inputs, construction={"name": NAME, "options": _record(P, seed), "reference": REFERENCE}, dataset=data.digest
    )
    k = sum(len(c.facets) for c in P.clusters)
    th, tg = len(str(max(k, 1) - 1)), len(str(max(len(P.clusters), 1) - 1))
    one, t = mpq(1), 0
    ports = []
    for ci, c in enumerate(P.clusters):
        mine = []
        for f in c.facets:
            node = f"h[{t:0{th}d}]"
            net.add_neuron(
                G,
                node,
                layer=1,
                activation=keys.THRESHOLD,
                bias=P.bias(f),
                incoming=[(x, mpq(-a)) for x, a in zip(inputs, f.a) if a],
            )
            mine.append((node, one))
            t += 1
        node = f"g[{ci:0{tg}d}]"
        net.add_neuron(G, node, layer=2, activation=keys.THRESHOLD, bias=-len(c.facets), incoming=mine)
        ports.append(node)
    if P.form == "nor":
        net.add_neuron(G, "out", layer=3, activation=keys.THRESHOLD, bias=0, incoming=[(g, -one) for g in ports])
    else:
        top = "out" if P.form == "or" else "or"
        net.add_neuron(G, top, layer=3, activation=keys.THRESHOLD, bias=-1, incoming=[(g, one) for g in ports])
        if P.form == "affine":
            net.add_neuron(G, "out", layer=4, activation=keys.IDENTITY, bias=P.y_q, incoming=[("or", P.y_p - P.y_q)])
    net.set_outputs(G, ["out"])
    return G


def _record(P: Plan, seed: int) -> dict:
    """The options and every drawn quantity the size formulas read (JSON-ready, exact)."""
    facets = [f for c in P.clusters for f in c.facets]
    return {
        "seed": seed,
        "p_bits": P_BITS,
        "covered_label": format_rational(P.y_p),
        "other_label": format_rational(P.y_q),
        "output": P.form,
        "clusters": len(P.clusters),
        "hyperplanes": len(facets),
        "layer1_weights": sum(1 for f in facets for a in f.a if a),
        "zero_biases": sum(1 for f in facets if P.bias(f) == 0),
        "empty_clusters": sum(1 for c in P.clusters if not c.facets),
        "draws": P.draws,
        "halvings": P.halvings,
        "cluster_sizes": [c.members for c in P.clusters],
        "cluster_facets": [len(c.facets) for c in P.clusters],
    }


def predict(data: Dataset, seed: int = 0) -> tuple[int, dict] | None:
    """The nonzero parameters of ``build`` with this seed by the size formula; None for more than two labels."""
    if check(data, {}):
        return None
    G = build(data, seed=seed)  # the plan is most of the cost; the network is linear in it
    claim = size(G, data)
    return int(_formulas()["params_nonzero"].xreplace({s: claim.variables[s.name] for s in _SYMBOLS})), {}


# -- size claims -------------------------------------------------------------------------------------------

_k, _C, _d, _W, _Z, _E, _aff, _orb, _low = _SYMBOLS = sympy.symbols(
    "hyperplanes clusters d layer1_weights zero_biases empty_clusters affine or_bias_nonzero other_label_nonzero",
    integer=True,
    nonnegative=True,
)


def _formulas() -> dict[str, sympy.Expr]:
    """Exact measures in the hyperplanes k and clusters C drawn (each hyperplane feeds one cluster)."""
    return {
        "depth": 3 + _aff,
        "width": sympy.Max(_k, _C, _aff),
        "neurons": _k + _C + 1 + _aff,
        "params_dense": (_d + 1) * _k + (_k + 1) * _C + _C + 1 + 2 * _aff,
        "params_nonzero": _W + _k - _Z + _k + _C - _E + _C + _orb + _aff * (1 + _low),
    }


def size(G: nx.DiGraph, data: Dataset) -> SizeClaim:
    """The formulas of ``_formulas`` with this build's recorded counts."""
    o = G.graph[keys.CONSTRUCTION]["options"]
    form = o["output"]
    return SizeClaim(
        formulas=_formulas(),
        variables={
            "hyperplanes": o["hyperplanes"],
            "clusters": o["clusters"],
            "d": data.d,
            "layer1_weights": o["layer1_weights"],
            "zero_biases": o["zero_biases"],
            "empty_clusters": o["empty_clusters"],
            "affine": int(form == "affine"),
            "or_bias_nonzero": int(form != "nor"),
            "other_label_nonzero": int(form == "affine" and mpq(o["other_label"]) != 0),
        },
    )


CONSTRUCTION = Construction(
    name=NAME,
    paper=PAPER,
    reference=REFERENCE,
    assumptions="two classes (any two label values; one class gives the constant network); no geometric "
    "assumption: every cluster's hyperplanes are checked exactly to exclude every point of the other class, "
    "and redrawn (halved) when they do not",
    options={"seed": "seed of the cluster order and the random directions (numpy default_rng)"},
    check=check,
    build=build,
    size=size,
    predict=predict,
    formulas_text={
        "depth": "3 (4 when the labels are not 0 and 1: an affine output after the OR)",
        "width": "max(k, C) (k hyperplanes kept, C clusters drawn)",
        "neurons": "k + C + 1 (+ 1 affine output)",
        "params_dense": "(d + 1) k + (k + 1) C + C + 1 (+ 2)",
        "params_nonzero": "nonzero directions + k - zero biases + k + C - empty clusters + C + [OR bias] "
        "(+ 1 + [y_Q != 0])",
    },
    theorem=Theorem(
        statement="two classes are memorized by a three-layer network built by a randomized polynomial-time "
        "algorithm, whose size depends on the classes' geometry (their separation and how many clusters of one "
        "class the other does not reach), not on N",
        rate="geometry-dependent: clusters times hyperplanes per cluster, independent of N for fixed geometry",
    ),
)
