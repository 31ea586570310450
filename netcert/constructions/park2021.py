"""park2021: memorization with O(N^(2/3)) parameters, and at width 3 (Park, Lee, Yun & Shin 2021).

Park, Lee, Yun & Shin, "Provable Memorization via Deep Neural Networks using
Sub-linear Parameters", COLT 2021, Theorem 1 (w = 2/3: O(d + log Delta +
N^(2/3) log C) parameters) and Theorem 2 (width 3). This follows
docs/constructions/park2021.md exactly (its sections are cited below), including its
corrections of the paper's Eq. (5) and (8) (section 9). The network is
first written as a STEP+ID network, one function per stage as in the proof,
then compiled to ReLU exactly (section 2):

1. S1 projection (section 3, Lemma 4), ``project``: the best of 8 integer
   directions u by range / min gap; z = (u.x L - P_min) / 2^k has pairwise
   distinct floors in [0, K0) and lives on the grid 2^-k (margin eps_x);
2. S2 halving folds (section 4, Lemma 5 = 14), ``halving_folds``: width 3,
   K -> max(ceil(K/2), floor(N^2/4) + 1), one random shift each;
3. S3 piece folds (section 5, Lemma 6 = 15), ``piece_folds``: K -> ceil(K/2)
   with about N^2/(2T) pieces shifted mod T, while the cost model of section 8
   says a fold pays; then K_f;
4. S4 lookup (section 6, Lemma 19), ``lookup``: B slots per word, A =
   ceil(K_f/B) words w_a of B D bits (``pack``), a staircase of A - 1 steps
   returns w = w_floor(z/B) and xi = z mod B;
5. S5 decoder (section 7), ``decoder``: the "counter" decoder (Lemma 22,
   shifted so every ID input is >= 0), or the "blocks" decoder (Lemma 20/21,
   R = 1), reads the D label bits of slot floor(xi) into the low bits of v;
6. S6 output: F = 2^(BD + D) v + y0.

Variants (``variant``): counter (default) and blocks compile by rule W (same
depth, two ReLUs per STEP); width3 is Theorem 2's network (section 7: every
STEP+ID layer has <= 3 neurons, S3 folds and the lookup as chains, the slot
decrement in its own layer) compiled by rule D (same width, two ReLU layers
per STEP+ID layer): width exactly 3. The fold stop and the slot count B
minimize the cost model of section 8 (the exact dense count from the lookup
on, up to a constant), unless ``block`` fixes B. ``shifts``: random (default,
section 4's rule: up to 200 draws, then the smallest valid shift) or smallest
(the worked example's deterministic mode).

Delta-separateness (section 1: Delta = diameter / minimum distance) is not an
assumption of the algorithm; ``delta_sq`` computes Delta^2 exactly and the
size claim reports it beside K0 and the theorem's bound. Assumed: distinct
points (loading merges or refuses duplicates) and integer labels, shifted by
y0 = min y (section 9). Everything is exact: weights are dyadic for float
data, floats only pre-select candidate pairs for the exact diameter.

This module is longer than the 400 lines aimed at because it holds the five
stages, their compiler, the exact diameter and the size formulas of one
construction; none of them is shared with another one.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import overload

import networkx as nx
import numpy as np
import sympy

from netcert.constructions.base import (
    Construction,
    SizeClaim,
    Theorem,
    choice_option,
    input_nodes,
    integer_labels,
    positive_option,
)
from netcert.dataset import Dataset
from netcert.errors import NetcertError, PreconditionError
from netcert.exact import Rat, format_rational, mpq
from netcert.constructions.exactmath import JSON_INT_BITS, Budget, ceil_log2_int, ceil_root, ceil_sqrt_pi, json_int
from netcert.gadgets.projection import Draws, given, search
from netcert.gadgets.steps import step
from netcert.gadgets.wiring import Affine, combination, output, relu
from netcert.ir import keys
from netcert.ir import measures
from netcert.ir import network as net
from netcert.separation import common_rows, min_sq_separation

NAME = "park2021"
PAPER = (
    "Park, Lee, Yun, Shin. Provable Memorization via Deep Neural Networks using Sub-linear Parameters. "
    "COLT 2021, Theorems 1 (w = 2/3) and 2"
)
REFERENCE = (
    "arXiv:2010.13363, Thm 1 and 2; docs/constructions/park2021.md (STEP+ID construction, exact ReLU rules W and D)"
)
VARIANTS = ("counter", "blocks", "width3")
SHIFTS = ("random", "smallest")
DIRECTIONS_PER_BATCH = 8
DIRECTION_RANGE = 2**16
SHIFT_TRIES = 200


# -- labels (section 9) -----------------------------------------------------------------


def check(data: Dataset, options: Mapping) -> list[str]:
    """Integer labels are the only assumption beyond distinct points."""
    return integer_labels(data, NAME)


# -- S1: projection (section 3) -----------------------------------------------------------


@dataclass(frozen=True)
class Projection:
    """z_i = (P_i - P_min) / 2^k with P = u . (x L): floors distinct in [0, K0), grid 2^-k."""

    u: tuple[int, ...]
    L: int  # common denominator of the coordinates (2^e for float data)
    p_min: int
    k: int
    floors: tuple[int, ...]
    draws: int  # directions drawn

    @property
    def K0(self) -> int:
        return max(self.floors) + 1


def project(data: Dataset, seed: int, direction: Sequence[int] | None = None) -> Projection:
    """Section 3: of each batch of 8 directions u_j = randint(-2^16, 2^16) (``random.Random(seed)``),
    the injective one with the smallest exact range / min gap (first on ties); further batches
    while none is injective (``gadgets.projection.search``). ``direction`` fixes u instead (refused
    if not injective)."""
    rows, L = common_rows(data)
    draws = Draws(seed)
    if direction is not None:
        found = given(data, rows, direction, NAME)
    else:
        found = search(
            data, rows, lambda: [draws.vector(data.d, DIRECTION_RANGE) for _ in range(DIRECTIONS_PER_BATCH)], NAME
        )
    gap = 1 if found.gap is None else found.gap  # one point: k = 0
    k = int(gap).bit_length() - 1
    p_min = min(found.z)
    return Projection(found.u, int(L), p_min, k, tuple((p - p_min) >> k for p in found.z), draws.count)


def projection_form(data: Dataset, proj: Projection) -> Affine:
    """z(x) = sum_j (u_j L / 2^k) x_j - P_min / 2^k over the input nodes."""
    scale = mpq(proj.L, 1 << proj.k)
    terms: dict[Hashable, Rat] = {x: a * scale for x, a in zip(input_nodes(data), proj.u) if a}
    return Affine(terms, mpq(-proj.p_min, 1 << proj.k))


# -- S2 and S3: folds (sections 4 and 5) ------------------------------------------------------


@dataclass(frozen=True)
class Fold:
    """One fold z -> z + sum_i coef_i 1[z >= theta_i]: each piece of [T, K) shifted mod T.

    ``steps`` are the merged (theta, coef) pairs in increasing theta, all < K
    and nonzero (sections 4-5); ``shifts`` the b_i; ``K`` the range after.
    """

    kind: str  # "halving" (S2) or "piece" (S3)
    T: int
    shifts: tuple[int, ...]
    steps: tuple[tuple[int, int], ...]
    K: int


def _fits(piece: Sequence[int], used: set[int], T: int, b: int) -> bool:
    return all((f + b) % T not in used for f in piece)


def choose_shift(piece: Sequence[int], used: set[int], T: int, rng: random.Random, mode: str) -> int:
    """Section 4's shift rule: b in [T] with (piece + b) mod T disjoint from ``used``.

    random: the first valid of up to 200 draws ``rng.randrange(T)``; then (or
    in mode smallest) the smallest valid b. One exists when |piece| |used| < T.
    """
    if mode == "random":
        for _ in range(SHIFT_TRIES):
            b = rng.randrange(T)
            if _fits(piece, used, T, b):
                return b
    for b in range(T):
        if _fits(piece, used, T, b):
            return b
    raise NetcertError(f"{NAME}: no valid shift mod {T} (internal error: |piece| |used| >= T)")


def fold(
    floors: Sequence[int], K: int, T: int, chunk: int, kind: str, rng: random.Random, mode: str
) -> tuple[Fold, list[int]]:
    """Sections 4-5: cut hi = {floors >= T} into chunks of ``chunk`` points, shift each mod T.

    Returns the fold with its corrected step form (section 9)

        z' = z + sum_i [(T + b_i - b_(i-1) - 2T [i = 1]) 1[z >= M_i] - T 1[z >= t_i]],
        t_i = max(M_i, min(2T - b_i, M_(i+1))),   M_1 = T, M_(J+1) = K,

    and the new floors, computed by that form (an internal error if they are
    not distinct in [0, T)).
    """
    hi = sorted(f for f in floors if f >= T)
    chunks = [hi[i : i + chunk] for i in range(0, len(hi), chunk)]
    M = [T] + [c[0] for c in chunks[1:]] + [K]
    used = {f for f in floors if f < T}
    coef: dict[int, int] = {}
    shifts, prev = [], 0
    for i, piece in enumerate(chunks):
        b = choose_shift(piece, used, T, rng, mode)
        used.update((f + b) % T for f in piece)
        coef[M[i]] = coef.get(M[i], 0) + T + b - prev - (2 * T if i == 0 else 0)
        t = max(M[i], min(2 * T - b, M[i + 1]))
        coef[t] = coef.get(t, 0) - T
        shifts.append(b)
        prev = b
    steps = tuple((theta, c) for theta, c in sorted(coef.items()) if theta < K and c)
    thresholds = [theta for theta, _ in steps]
    sums = [0]
    for _, c in steps:
        sums.append(sums[-1] + c)
    new = [f + sums[bisect_right(thresholds, f)] for f in floors]
    if len(set(new)) != len(new) or min(new) < 0 or max(new) >= T:
        raise NetcertError(f"{NAME}: fold mod {T} is not injective (internal error)")
    return Fold(kind, T, tuple(shifts), steps, max(new) + 1), new


def halving_folds(floors: list[int], K: int, N: int, rng: random.Random, mode: str) -> tuple[list[Fold], list[int]]:
    """Section 4: while T = max(ceil(K/2), floor(N^2/4) + 1) < K, one fold with one piece."""
    Q = N * N // 4 + 1
    folds: list[Fold] = []
    while True:
        T = max(-(-K // 2), Q)
        if T >= K:
            return folds, floors
        f, floors = fold(floors, K, T, len(floors), "halving", rng, mode)
        folds.append(f)
        K = f.K


def piece_folds(
    floors: list[int], K: int, N: int, rng: random.Random, mode: str, stop: Callable[[int, int, int], bool]
) -> tuple[list[Fold], list[int]]:
    """Section 5: T = ceil(K/2), pieces of q = floor(T/N) points, while T >= N and ``stop(K, T, J)`` is False."""
    folds: list[Fold] = []
    while True:
        T = -(-K // 2)
        if T < N or T >= K:
            return folds, floors
        q = T // N
        J = -(-sum(1 for f in floors if f >= T) // q)
        if stop(K, T, J):
            return folds, floors
        f, floors = fold(floors, K, T, q, "piece", rng, mode)
        folds.append(f)
        K = f.K


# -- the cost model (section 8) -------------------------------------------------------------


@overload
def block_cost(K: int, B: int, D: int, variant: str) -> int: ...
@overload
def block_cost(K: int, B: np.ndarray, D: int, variant: str) -> np.ndarray: ...
def block_cost(K: int, B: int | np.ndarray, D: int, variant: str) -> int | np.ndarray:
    """Section 8's estimate of the lookup-to-output size for range K and B slots per word
    (B an int, or a numpy array of candidates)."""
    A = -(-K // B)
    if variant == "counter":
        return 8 * A + 40 * B * D + 18 * B + 3
    if variant == "blocks":
        return 8 * A + 76 * B * D - 13
    return (A - 1) + 2 * B * D + (B - 1)  # width3: STEP+ID layers


def best_block(K: int, D: int, variant: str) -> tuple[int, int]:
    """(B(K), L(K)): the smallest B in 1 .. max(2, 4 floor(sqrt K)) - 1 minimizing the cost, and that cost.

    The cost is evaluated on all candidates at once (int64 numpy: K < 2^50 here)."""
    costs = block_cost(K, np.arange(1, max(2, 4 * math.isqrt(K)), dtype=np.int64), D, variant)
    B = int(np.argmin(costs)) + 1  # argmin returns the first minimizer
    return B, block_cost(K, B, D, variant)


def fold_pays(K: int, T: int, J: int, D: int, variant: str, block: int | None) -> bool:
    """Section 5's stopping rule: fold iff 12 J + 6 + L(T) < L(K) (width3: 2 J + L3(T) < L3(K)).

    With a fixed B (``block``) L is the cost at that B (a netcert choice; the paper
    does not say which L applies then).
    """

    def L(k: int) -> int:
        return block_cost(k, block, D, variant) if block else best_block(k, D, variant)[1]

    fold_cost = 2 * J if variant == "width3" else 12 * J + 6
    return fold_cost + L(T) < L(K)


# -- S4 words (section 6) ---------------------------------------------------------------------


def pack(floors: Sequence[int], fields: Sequence[int], A: int, B: int, D: int) -> list[int]:
    """W_a: the B D-bit fields lab(aB), ..., lab(aB + B - 1), first slot highest; w_a = W_a / 2^(BD)."""
    W = [0] * A
    for f, lab in zip(floors, fields):
        a, c = divmod(f, B)
        W[a] |= lab << ((B - 1 - c) * D)
    return W


# -- STEP+ID -> ReLU (section 2) ---------------------------------------------------------------


@dataclass(frozen=True)
class Neuron:
    """A STEP+ID neuron: ID(t) when ``margin`` is None, else STEP(t) = 1[t >= 0] with that margin.

    Contract (checked by evaluating the compiled network): on the data an ID
    pre-activation is >= 0 and a STEP pre-activation is >= 0 or <= -margin.
    """

    name: str
    t: Affine
    margin: Rat | None = None


def emit(G: nx.DiGraph, at: int, layer: Sequence[Neuron], rule: str) -> tuple[list[Affine], int]:
    """Compile one STEP+ID layer at ReLU layer ``at``; its read-back ports and the next free layer.

    Rule W: ID(t) -> relu(t); STEP(t) -> the step unit relu(t/eps + 1) - relu(t/eps)
    (``gadgets.steps.step``, nodes .P, .Q). Rule D: two ReLU layers; ID(t) ->
    B = relu(A), A = relu(t); STEP(t) -> B = relu(1 - A), A = relu(-t/eps).
    """
    ports = []
    for n in layer:
        if rule == "W":
            if n.margin is None:
                ports.append(relu(G, n.name, at, n.t))
            else:
                ports.append(step(G, n.name, at, n.t * (1 / n.margin), -1))
        elif n.margin is None:
            ports.append(relu(G, f"{n.name}.B", at + 1, relu(G, f"{n.name}.A", at, n.t)))
        else:
            a = relu(G, f"{n.name}.A", at, n.t * (-1 / n.margin))
            ports.append(relu(G, f"{n.name}.B", at + 1, 1 - a))
    return ports, at + (1 if rule == "W" else 2)


# -- stages -----------------------------------------------------------------------------------


def emit_fold(
    G: nx.DiGraph, at: int, name: str, z: Affine, f: Fold, eps: Rat, rule: str, chain: bool
) -> tuple[Affine, int]:
    """One fold: [ID(z), STEP(z - theta; eps_x) ...] (plus a width-1 bypass [ID(z')] after an S3
    fold under rule W), or, for width3 S3 folds (``chain``), one layer
    [ID(z), ID(y_p), STEP(z - theta_p)] per threshold with y_1 = z, y_(p+1) = y_p + c_p s_p."""
    tag = len(str(max(len(f.steps) - 1, 0)))
    if not chain:
        layer = [Neuron(f"{name}.z", z)] + [
            Neuron(f"{name}.s[{i:0{tag}d}]", z - theta, eps) for i, (theta, _) in enumerate(f.steps)
        ]
        ports, at = emit(G, at, layer, rule)
        out = combination(0, [(1, ports[0])] + [(c, p) for (_, c), p in zip(f.steps, ports[1:])])
        if f.kind == "halving":
            return out, at
        ports, at = emit(G, at, [Neuron(f"{name}.bypass", out)], rule)
        return ports[0], at
    y = z
    for i, (theta, c) in enumerate(f.steps):
        zz, yy, s = emit(
            G,
            at,
            [
                Neuron(f"{name}[{i:0{tag}d}].z", z),
                Neuron(f"{name}[{i:0{tag}d}].y", y),
                Neuron(f"{name}[{i:0{tag}d}].s", z - theta, eps),
            ],
            rule,
        )[0]
        at += 2
        z, y = zz, combination(0, [(1, yy), (c, s)])
    return y, at


def lookup(
    G: nx.DiGraph, at: int, z: Affine, words: Sequence[int], B: int, nb: int, eps: Rat, rule: str, chain: bool
) -> tuple[Affine, Affine, int]:
    """Section 6: w = w_0 + sum_a (w_a - w_(a-1)) 1[z >= aB] and xi = z - B sum_a 1[z >= aB].

    Rule W: [ID(z), STEP(z - aB; eps_x), a = 1..A-1], then the bypass [ID(w), ID(xi)].
    width3 (``chain``): one layer [ID(x), ID(w), STEP(x - B)] per a, x <- x - B s,
    w <- w + (w_a - w_(a-1)) s, with x = z and w = w_0 at a = 1.
    """
    A, den = len(words), 1 << nb
    jumps = [mpq(words[a] - words[a - 1], den) for a in range(1, A)]
    tag = len(str(max(A - 1, 1)))
    if not chain:
        layer = [Neuron("S4.z", z)] + [Neuron(f"S4.s[{a:0{tag}d}]", z - a * B, eps) for a in range(1, A)]
        ports, at = emit(G, at, layer, rule)
        w = combination(mpq(words[0], den), zip(jumps, ports[1:]))
        xi = combination(0, [(1, ports[0])] + [(-B, p) for p in ports[1:]])
        (w, xi), at = emit(G, at, [Neuron("S4.w", w), Neuron("S4.xi", xi)], rule)
        return w, xi, at
    x, w = z, Affine.constant(mpq(words[0], den))
    for a in range(1, A):
        xx, ww, s = emit(
            G,
            at,
            [
                Neuron(f"S4[{a:0{tag}d}].x", x),
                Neuron(f"S4[{a:0{tag}d}].w", w),
                Neuron(f"S4[{a:0{tag}d}].s", x - B, eps),
            ],
            rule,
        )[0]
        at += 2
        x, w = combination(0, [(1, xx), (-B, s)]), combination(0, [(1, ww), (jumps[a - 1], s)])
    return w, x, at


@dataclass(frozen=True)
class Bit:
    """Bit l of a word (section 7): slot j, bit i of that slot's label, tested at 2^-l, stored at 2^-(nb+i)."""

    name: str
    j: int
    i: int
    place: Rat
    store: Rat


def decoder(
    G: nx.DiGraph, at: int, v: Affine, xi: Affine, B: int, D: int, eps_x: Rat, variant: str, rule: str
) -> tuple[Affine, int]:
    """Section 7: read the D bits of slot floor(xi) of v = w into bits nb+1 .. nb+D (nb = BD).

    Bit l is tested by n = STEP(v - 2^-l; eps_v), eps_v = 2^-(nb+D), and subtracted
    (v < 2^-l implies v <= 2^-l - eps_v, since v is on the 2^-(nb+D) grid); its copy
    a (n AND "slot j is the point's") is stored at 2^-(nb+i), below every data bit.
    """
    nb = B * D
    eps_v = mpq(1, 1 << (nb + D))
    tag = len(str(nb))
    for ell in range(1, nb + 1):
        j, i = divmod(ell - 1, D)
        bit = Bit(f"S5[{ell:0{tag}d}]", j, i + 1, mpq(1, 1 << ell), mpq(1, 1 << (nb + i + 1)))
        if variant == "blocks":
            v, xi, at = blocks_bit(G, at, v, xi, bit, B, eps_x, eps_v, rule)
        else:
            v, xi, at = counter_bit(G, at, v, xi, bit, B, eps_x, eps_v, rule, variant == "width3")
    return v, at


def counter_bit(
    G: nx.DiGraph, at: int, v: Affine, xi: Affine, bit: Bit, B: int, eps_x: Rat, eps_v: Rat, rule: str, own_layer: bool
) -> tuple[Affine, Affine, int]:
    """Section 7, Lemma 22 shifted so every ID input is >= 0: xi is in [0, 1) exactly during the
    point's slot. g: [ID xi, ID v, n]; at a slot start (i = 1, j >= 1) also s = STEP(xi - 1; eps_x),
    xi <- xi - 1 + 3B (1 - s) (width3: in its own layer h = [ID v, ID xi, s] before g);
    f: [ID xi, ID(v - 2^-l n), a = STEP(n - xi - eps_x; eps_x)], a = AND(n, xi < 1)."""
    name, start = bit.name, bit.i == 1 and bit.j >= 1
    if start and own_layer:
        (v, xi, s), at = emit(
            G, at, [Neuron(f"{name}.h.v", v), Neuron(f"{name}.h.xi", xi), Neuron(f"{name}.h.s", xi - 1, eps_x)], rule
        )
        xi = combination(3 * B - 1, [(1, xi), (-3 * B, s)])
    layer = [Neuron(f"{name}.g.xi", xi), Neuron(f"{name}.g.v", v), Neuron(f"{name}.g.n", v - bit.place, eps_v)]
    if start and not own_layer:
        layer.append(Neuron(f"{name}.g.s", xi - 1, eps_x))
    ports, at = emit(G, at, layer, rule)
    xi, v, n = ports[:3]
    if start and not own_layer:
        xi = combination(3 * B - 1, [(1, xi), (-3 * B, ports[3])])
    (xi, v, a), at = emit(
        G,
        at,
        [
            Neuron(f"{name}.f.xi", xi),
            Neuron(f"{name}.f.v", combination(0, [(1, v), (-bit.place, n)])),
            Neuron(f"{name}.f.a", combination(-eps_x, [(1, n), (-1, xi)]), eps_x),
        ],
        rule,
    )
    return combination(0, [(1, v), (bit.store, a)]), xi, at


def blocks_bit(
    G: nx.DiGraph, at: int, v: Affine, xi: Affine, bit: Bit, B: int, eps_x: Rat, eps_v: Rat, rule: str
) -> tuple[Affine, Affine, int]:
    """Section 7, Lemma 20/21 with R = 1: xi stays in [0, B). a: [ID xi, ID v, u = STEP(v - 2^-l),
    STEP(xi - j), STEP(xi - j - 1)] (the first dropped for j = 0, the second for j + 1 = B), so
    I = 1[xi >= j] - 1[xi >= j + 1]; b: [ID xi, ID(v - 2^-l u), a = STEP(u + I - 2; 1)]."""
    name, j = bit.name, bit.j
    layer = [Neuron(f"{name}.a.xi", xi), Neuron(f"{name}.a.v", v), Neuron(f"{name}.a.u", v - bit.place, eps_v)]
    if j > 0:
        layer.append(Neuron(f"{name}.a.lo", xi - j, eps_x))
    if j + 1 < B:
        layer.append(Neuron(f"{name}.a.hi", xi - j - 1, eps_x))
    ports, at = emit(G, at, layer, rule)
    xi, v, u = ports[:3]
    inside = combination(int(j == 0), ([(1, ports[3])] if j > 0 else []) + ([(-1, ports[-1])] if j + 1 < B else []))
    (xi, v, a), at = emit(
        G,
        at,
        [
            Neuron(f"{name}.b.xi", xi),
            Neuron(f"{name}.b.v", combination(0, [(1, v), (-bit.place, u)])),
            Neuron(f"{name}.b.a", combination(-2, [(1, u), (1, inside)]), mpq(1)),
        ],
        rule,
    )
    return combination(0, [(1, v), (bit.store, a)]), xi, at


# -- build ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """Every choice of one build: projection, folds, B, and the packed words (sections 3-6)."""

    proj: Projection
    folds: list[Fold]
    floors: list[int]  # after the folds, distinct in [0, K_f)
    K: int  # K_f
    B: int
    D: int
    words: list[int]

    @property
    def A(self) -> int:
        return len(self.words)


def plan(
    data: Dataset,
    fields: Sequence[int],
    D: int,
    *,
    seed: int,
    variant: str,
    shifts: str,
    block: int | None,
    direction: Sequence[int] | None,
) -> Plan:
    """Sections 3-6 on the floors alone: the STEP+ID network's every number, before any neuron."""
    proj = project(data, seed, direction)
    if not json_int(proj.K0):  # K0 and the halving folds' ranges T, K are recorded as JSON integers
        raise PreconditionError(
            f"{NAME}: the projection's range K0 has {proj.K0.bit_length():,} bits, over the "
            f"{JSON_INT_BITS:,} bits of an integer in the build record (Python reads and "
            "writes at most 4,300 digits); Delta = diameter / min distance is too large"
        )
    rng = random.Random(seed)  # the shift generator (section 4), shared by all folds in build order
    N = data.n
    folds, floors = halving_folds(list(proj.floors), proj.K0, N, rng, shifts)
    K = folds[-1].K if folds else proj.K0
    more, floors = piece_folds(floors, K, N, rng, shifts, lambda K, T, J: not fold_pays(K, T, J, D, variant, block))
    folds += more
    K = folds[-1].K if folds else proj.K0
    B = block if block else best_block(K, D, variant)[0]
    A = -(-K // B)
    return Plan(proj, folds, floors, K, B, D, pack(floors, fields, A, B, D))


def build(
    data: Dataset,
    *,
    seed: int = 0,
    variant: str = "counter",
    shifts: str = "random",
    block: int | str | None = None,
    direction: Sequence[int] | None = None,
) -> nx.DiGraph:
    """The memorizing network of ``data`` (module docstring); every choice is in its construction options."""
    variant = choice_option(variant, VARIANTS, "variant")
    shifts = choice_option(shifts, SHIFTS, "shifts")
    block = positive_option(block, "block")
    problems = integer_labels(data, NAME)
    if problems:
        raise PreconditionError(problems[0])
    y = [int(v) for v in data.labels]
    y0 = min(y)
    C = max(y) - y0 + 1
    D = max(1, (C - 1).bit_length())
    p = plan(data, [v - y0 for v in y], D, seed=seed, variant=variant, shifts=shifts, block=block, direction=direction)
    rule, chain = ("D", True) if variant == "width3" else ("W", False)
    options = {
        "seed": seed,
        "variant": variant,
        "shifts": shifts,
        "block": block,
        "y0": y0,
        "C": C,
        "D": D,
        **_record(p),
    }
    G = net.new_network(
        input_nodes(data), construction={"name": NAME, "options": options, "reference": REFERENCE}, dataset=data.digest
    )
    eps_x = mpq(1, 1 << p.proj.k)
    z, at = projection_form(data, p.proj), 1
    tag = len(str(max(len(p.folds) - 1, 0)))
    charge = _Charge(G)
    for i, f in enumerate(p.folds):
        stage = "S2" if f.kind == "halving" else "S3"
        z, at = emit_fold(G, at, f"{stage}[{i:0{tag}d}]", z, f, eps_x, rule, chain and f.kind == "piece")
        charge(f"fold {i}")
    w, xi, at = lookup(G, at, z, p.words, p.B, p.B * p.D, eps_x, rule, chain)
    charge("the lookup")
    v, at = decoder(G, at, w, xi, p.B, p.D, eps_x, variant, rule)
    output(G, "out", at, v * (1 << (p.B * p.D + p.D)) + y0)
    charge("the decoder")
    return G


class _Charge:
    """The size limits (``exactmath.Budget``) on the neurons added to G since the last call: every STEP
    divides its input by eps_x = 2^-k, so on data with a large common denominator each one holds
    k-bit numbers; the build stops at the first stage that takes the network over a limit."""

    def __init__(self, G: nx.DiGraph):
        self.G, self.seen, self.budget = G, G.number_of_nodes(), Budget(NAME)

    def __call__(self, what: str) -> None:
        nodes = list(self.G.nodes)[self.seen :]
        self.seen += len(nodes)
        numbers = [self.G.nodes[v][keys.BIAS] for v in nodes]
        numbers += [w for v in nodes for _, _, w in self.G.in_edges(v, data=keys.WEIGHT)]
        self.budget.add(what, numbers)


def _record(p: Plan) -> dict:
    """The build's choices, enough to rebuild it and to state its size formulas."""
    zero = sum(1 for a in range(1, p.A) if p.words[a] == p.words[a - 1])
    return {
        "direction": list(p.proj.u),
        "draws": p.proj.draws,
        "k": p.proj.k,
        "p_min": format_rational(p.proj.p_min),
        "K0": p.proj.K0,
        "K_f": p.K,
        "B": p.B,
        "A": p.A,
        "folds": [
            {"kind": f.kind, "T": f.T, "K": f.K, "steps": len(f.steps), "shifts": list(f.shifts)} for f in p.folds
        ],
        "zero_jumps": zero,
        "last_jump_zero": int(p.A > 1 and p.words[-1] == p.words[-2]),
    }


# -- Delta-separateness (section 1) -----------------------------------------------------------

_DIAMETER_CACHE: dict[str, Rat] = {}


def max_sq_diameter(data: Dataset) -> Rat:
    """max over pairs of ||x_i - x_j||^2, exact (0 for one point).

    Floats only pre-select pairs. The points, centred by an integer vector and
    scaled by 2^-e into [-1, 1], have float images within err = sqrt(d) 2^-52 of
    the truth. With U the exact value of the farthest pair found so far (a far
    pair first, then each block's float maximum), a pair can beat U only if both
    points are at least sqrt(U) - R from the float centroid (R: the largest such
    distance) and its float distance, computed as a Gram product with error at
    most 2 (d + 3) 2^-52 (|a|^2 + |b|^2), can reach sqrt(U) - 2 err; exactly
    those pairs are compared in integers.
    """
    if data.digest in _DIAMETER_CACHE:
        return _DIAMETER_CACHE[data.digest]
    rows, L = common_rows(data)
    n, d = len(rows), data.d
    if n < 2:
        return mpq(0)
    mid = [(min(c) + max(c)) // 2 for c in zip(*rows)]
    rows = [[v - m for v, m in zip(r, mid)] for r in rows]

    def exact(i: int, j: int) -> int:
        return sum((a - b) ** 2 for a, b in zip(rows[i], rows[j]))

    e = max(abs(v).bit_length() for r in rows for v in r)
    X = np.array([[v / (1 << e) for v in r] for r in rows], dtype=np.float64)
    err = math.sqrt(d) * 2.0**-52 + 2.0**-1000

    def floor_of_root(U: int) -> float:  # a float <= sqrt(U) in the scaled units, minus the image errors
        return max(0.0, math.sqrt(float(mpq(U, 1 << (2 * e)))) * (1 - 1e-12) - 2 * err)

    i = int(np.argmax(((X - X.mean(axis=0)) ** 2).sum(axis=1)))
    j = int(np.argmax(((X - X[i]) ** 2).sum(axis=1)))
    U = exact(i, j)
    c = X.mean(axis=0)
    rho = np.sqrt(((X - c) ** 2).sum(axis=1))
    R = float(rho.max()) * (1 + 1e-9) + err
    keep = np.nonzero(rho * (1 + 1e-9) + err >= floor_of_root(U) - R)[0]
    S = X[keep]
    sq = (S**2).sum(axis=1)
    gamma = 4 * (d + 3) * 2.0**-52
    size = max(64, int(math.sqrt(2**22 / d)))
    cand: list[tuple[int, int]] = []
    for a in range(0, len(S), size):
        for b in range(a, len(S), size):
            D2 = sq[a : a + size, None] + sq[None, b : b + size] - 2.0 * (S[a : a + size] @ S[b : b + size].T)
            p, q = np.unravel_index(int(np.argmax(D2)), D2.shape)
            if a + p != b + q:
                U = max(U, exact(int(keep[a + p]), int(keep[b + q])))
            slack = gamma * (sq[a : a + size, None] + sq[None, b : b + size])
            ii, jj = np.nonzero(D2 + slack >= floor_of_root(U) ** 2 * (1 - 1e-9))
            cand += [(int(keep[a + s]), int(keep[b + t])) for s, t in zip(ii.tolist(), jj.tolist()) if a + s < b + t]
    value = mpq(max([U] + [exact(s, t) for s, t in cand]), L * L)
    _DIAMETER_CACHE.clear()
    _DIAMETER_CACHE[data.digest] = value
    return value


def delta_sq(data: Dataset) -> Rat | None:
    """Delta^2 = diameter^2 / min distance^2 (section 1), exact; None for one point."""
    sep = min_sq_separation(data).value
    return None if sep is None else max_sq_diameter(data) / sep


# -- size claims (section 8) ---------------------------------------------------------------------


@dataclass(frozen=True)
class Front:
    """The fold layers (S2, S3) of a build, counted from the fold list alone (no weights needed)."""

    layers: int  # ReLU layers
    dense: int
    edges: int
    units: int
    width: int  # widest fold layer (0 without folds)
    h_out: int  # units of the last fold layer (d without folds)
    m_out: int  # terms of the z form the lookup reads


def front(variant: str, d: int, first_terms: int, folds: Sequence[tuple[str, int]]) -> Front:
    """Rule W: an S2 fold with s steps is one layer of 1 + 2s units; an S3 fold W = 1 + 2s units and
    a 1-unit bypass. Rule D (width3): an S2 fold is 2 layers of 1 + s units, an S3 fold s chain
    layers, each 2 layers of 3 units (section 8). ``first_terms``: nonzero entries of u."""
    relus: list[tuple[int, int]] = []  # (units, edges) of each ReLU layer
    m = first_terms  # terms of the z form the next layer reads
    for kind, s in folds:
        if variant != "width3":
            W = 1 + 2 * s
            relus.append((W, m * W))
            m = W
            if kind == "piece":
                relus.append((1, W))
                m = 1
        elif kind == "halving":
            relus += [(1 + s, m * (1 + s)), (1 + s, 1 + s)]
            m = 1 + s
        else:
            for p in range(s):  # [ID z, ID y_p, STEP]: z and the step read z, y_p reads y and s
                relus += [(3, 3 * m if p == 0 else 4), (3, 3)]
                m = 1
            m = 2
    widths = [d] + [u for u, _ in relus]
    return Front(
        len(relus),
        sum((a + 1) * b for a, b in zip(widths, widths[1:])),
        sum(e for _, e in relus),
        sum(u for u, _ in relus),
        max(widths[1:], default=0),
        widths[-1],
        m,
    )


_sym = {
    name: sympy.Symbol(name, integer=True, nonnegative=True)
    for name in (
        "N",
        "d",
        "C",
        "D",
        "A",
        "B",
        "front_layers",
        "front_dense",
        "front_edges",
        "front_units",
        "front_width",
        "h_L",
        "m_L",
        "zero_jumps",
        "last_jump_zero",
        "zero_biases",
        "y0_nonzero",
        "variant_code",
        "log2_delta_sq_d",
    )
}


def formulas(variant: str) -> dict[str, sympy.Expr]:
    """Depth, width, dense and nonzero counts: the fold layers (``front``) plus section 8's closed
    forms for the lookup (A words), the decoder (B slots of D bits) and the output."""
    s = _sym
    A, B, D, F = s["A"], s["B"], s["D"], s["front_dense"]
    hL, mL, zj, lz = s["h_L"], s["m_L"], s["zero_jumps"], s["last_jump_zero"]
    if variant == "width3":
        rest = (A - 1) + 2 * B * D + (B - 1)  # STEP+ID layers of 3 neurons after the folds
        depth = s["front_layers"] + 2 * rest + 1
        width = sympy.Integer(3)
        dense = F + 3 * hL + 24 * rest - 5
        edges = mL + mL * sympy.Min(A - 1, 1) + 9 * (A - 1) + 16 * B * D + 6 * B - 9 - zj - lz
        neurons = 6 * rest + 1
    else:
        depth = s["front_layers"] + 2 * B * D + 3
        lookup_dense = (hL + 1) * (2 * A - 1) + 4 * A
        lookup_edges = mL * (2 * A - 1) + 2 * (A - 1) - 2 * zj + 2 * A - 1
        if variant == "counter":
            width = sympy.Max(s["front_width"], 2 * A - 1, 4 + 2 * sympy.Min(1, B - 1))
            dense = F + lookup_dense + 40 * B * D + 18 * B - 21
            edges = lookup_edges + 20 * B * D + 8 * B - 14 + 3
            neurons = 2 * A + 1 + 8 * B * D + 2 * (B - 1) + 1
        else:
            width = sympy.Max(s["front_width"], 2 * A - 1, 4 + 2 * sympy.Min(2, B - 1))
            dense = F + lookup_dense + 76 * B * D - 36 * D - 8 - 4 * sympy.Min(1, B - 1) + 5
            edges = lookup_edges + 18 * B * D + 12 * D * (B - 1) - 6 + 3
            neurons = 2 * A + 1 + 8 * B * D + 4 * D * (B - 1) + 1
    nonzero = s["front_edges"] + edges + s["front_units"] + neurons - s["zero_biases"]
    return {"depth": depth, "width": width, "params_dense": dense, "params_nonzero": nonzero}


def size(G: nx.DiGraph, data: Dataset) -> SizeClaim:
    """Exact depth, width, dense and nonzero counts in the build's choices (section 8).

    The fold part is counted from the recorded folds (``front``); the data facts
    are the jumps w_a = w_(a-1) (no edge) and the biases that are 0, read from the
    graph. The variables also give Delta^2 exactly (section 1), K0 beside the
    Lemma-4 bound ceil(N^2 Delta sqrt(pi d / 8)), and the theorem's estimate, which reads
    log2_delta_sq_d = ceil(log2(Delta^2 d)). Delta^2 and the Lemma-4 bound are left out when
    they have more than exactmath.JSON_INT_BITS bits (a certificate could not hold them).
    """
    o = G.graph[keys.CONSTRUCTION]["options"]
    variant = o["variant"]
    fr = front(variant, data.d, sum(1 for a in o["direction"] if a), [(f["kind"], f["steps"]) for f in o["folds"]])
    zero_biases = sum(1 for v, b in G.nodes(data=keys.BIAS) if b is not None and b == 0)
    dsq = delta_sq(data) or mpq(1)
    variables = {
        "N": data.n,
        "d": data.d,
        "C": o["C"],
        "D": o["D"],
        "A": o["A"],
        "B": o["B"],
        "front_layers": fr.layers,
        "front_dense": fr.dense,
        "front_edges": fr.edges,
        "front_units": fr.units,
        "front_width": fr.width,
        "h_L": fr.h_out,
        "m_L": fr.m_out,
        "zero_jumps": o["zero_jumps"],
        "last_jump_zero": o["last_jump_zero"],
        "zero_biases": zero_biases,
        "variant_code": VARIANTS.index(variant),
        "log2_delta_sq_d": ceil_log2_int(dsq * data.d),
        "K0": o["K0"],
        "K_f": o["K_f"],
        "k": o["k"],
        "n_H": sum(1 for f in o["folds"] if f["kind"] == "halving"),
        "n_M": sum(1 for f in o["folds"] if f["kind"] == "piece"),
    }
    # Reported exactly when a JSON integer can hold them (exactmath.JSON_INT_BITS); no formula reads them.
    facts = {
        "delta_sq_num": int(dsq.numerator),
        "delta_sq_den": int(dsq.denominator),
        "K0_lemma4_bound": lemma4_bound(data.n, data.d, dsq),
    }
    variables.update({k: v for k, v in facts.items() if json_int(v)})
    return SizeClaim(formulas(variant), variables)


def predict(data: Dataset, seed: int = 0) -> tuple[int, dict] | None:
    """Nonzero parameters of the default build, by building it: the closed forms of ``size`` need
    facts only the emitted network has (the biases that come out 0), and the build costs little more
    than its plan. None when the labels are not integers (``check`` refuses then)."""
    if integer_labels(data, NAME):
        return None
    return measures.measure(build(data, seed=seed)).params_nonzero, {}


def lemma4_bound(N: int, d: int, dsq: Rat) -> int:
    """Lemma 4's ceil(N^2 Delta sqrt(pi d / 8)) = ceil(sqrt(N^4 Delta^2 d / 8 * pi)), exactly
    (``exactmath.ceil_sqrt_pi``: no float, whatever the size of Delta)."""
    return ceil_sqrt_pi(mpq(N) ** 4 * dsq * d / 8)


def _bound() -> sympy.Expr:
    """Section 8's balance of the S3 folds (about 12 N^2 / K_f dense) against the lookup and decoder
    (2 sqrt(8 * 40 D K_f)): 47 N^(2/3) D^(1/3) + 30 log2(Delta sqrt d) + 5d for the counter decoder.
    The same balance with 76 per bit (blocks) gives 58; in STEP+ID layers (width3: 2 N^2 / K_f +
    2 sqrt((2D + 1) K_f), 24 dense each) it gives 24 (3 2^(1/3) N^(2/3) (2D + 1)^(1/3)
    + log2(Delta sqrt d)) + 3d. Estimates of the rate's constants, not proven bounds.

    Written with exact integer functions so that it evaluates by substitution alone:
    N^(2/3) D^(1/3) as ceil_root(N^2 D, 3), 3 2^(1/3) N^(2/3) (2D + 1)^(1/3) as
    3 ceil_root(2 N^2 (2D + 1), 3), and 30 log2(Delta sqrt d) = 15 log2(Delta^2 d) as
    15 log2_delta_sq_d = 15 ceil(log2(Delta^2 d)): each term rounded up, never through a float."""
    s = _sym
    N, d, D = s["N"], s["d"], s["D"]
    log_delta_sq_d = s["log2_delta_sq_d"]  # ceil(log2(Delta^2 d)), exact (ceil_log2_int in ``size``)
    counter = 47 * ceil_root(N**2 * D, 3) + 15 * log_delta_sq_d + 5 * d
    blocks = 58 * ceil_root(N**2 * D, 3) + 15 * log_delta_sq_d + 5 * d
    width3 = 72 * ceil_root(2 * N**2 * (2 * D + 1), 3) + 12 * log_delta_sq_d + 3 * d
    code = s["variant_code"]
    return sympy.Piecewise((counter, sympy.Eq(code, 0)), (blocks, sympy.Eq(code, 1)), (width3, True))


CONSTRUCTION = Construction(
    name=NAME,
    paper=PAPER,
    reference=REFERENCE,
    assumptions="distinct points and integer labels (shifted by y0 = min y); Delta = diameter / min distance "
    "enters only the number of halving folds and the bit sizes",
    options={
        "seed": "seed of the direction draws and of the shifts (two random.Random(seed), docs/constructions/park2021.md sections 3-4)",
        "variant": "counter (default: Theorem 1, Lemma 22 decoder), blocks (Lemma 20/21 decoder) or "
        "width3 (Theorem 2: width exactly 3, rule D)",
        "shifts": "random (default: docs/constructions/park2021.md section 4's rule) or smallest (the smallest valid shift; library only, "
        "no CLI flag)",
        "block": "fix the slots per word B instead of minimizing the cost model",
    },
    check=check,
    build=build,
    size=size,
    predict=predict,
    formulas_text={
        "depth": "n_H + 2 n_M + 2BD + 3 (counter, blocks); 2 L3 + 1, L3 = n_H + sum m_j + (A - 1) + 2BD + (B - 1) "
        "(width3)",
        "params_dense": "folds + (h_L + 1)(2A - 1) + 4A + 40BD + 18B - 21 (counter); "
        "folds + (h_L + 1)(2A - 1) + 4A + 76BD - 36D - 3 - 4 min(1, B - 1) (blocks); "
        "folds + 3 h_L + 24 ((A - 1) + 2BD + (B - 1)) - 5 (width3)",
        "params_nonzero": "edges + neurons - zero biases, edges in closed form per stage (docs/constructions/park2021.md section 8)",
    },
    theorem=Theorem(
        statement="Any N distinct points in R^d that are Delta-separated (diameter < Delta * min distance) with "
        "labels in [C] are memorized by a network with O(d + log Delta + N^(2/3) log C) parameters "
        "(Theorem 1, w = 2/3), and by one of width 3 with Theta(log d + log Delta + N^(2/3) log C) "
        "hidden layers (Theorem 2)",
        rate="O(d + log Delta + N^(2/3) log C) parameters; width 3",
        bound=_bound(),
        bound_measure="params_dense, docs/constructions/park2021.md section 8's balanced estimate (not a proven bound): "
        "47 N^(2/3) D^(1/3) + 30 log2(Delta sqrt d) + 5d for counter, the same balance for blocks "
        "and width3, each term rounded up to an integer (ceil_root, log2_delta_sq_d); "
        "log2_delta_sq_d = ceil(log2(Delta^2 d)), Delta^2 = delta_sq_num / delta_sq_den exactly",
    ),
)
