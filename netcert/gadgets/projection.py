"""Projection to a line on which all points are distinct (docs/constructions/README.md section 2).

Finds an integer vector u with z_i = u . x_int[i] pairwise distinct, where
x_int is the dataset's per-column integer form. Tried in order:

1. the coordinate axes e_1, ..., e_d (no extra bits);
2. (netcert's addition, for nonzero weights) up to 8 two-axis directions
   u = e_i + k e_j on the two columns with the most distinct values, k uniform
   on +-[1, R], R = max(2, n^2): two points that differ on columns i or j
   collide for at most one k, so a try fails with probability < 1/4 unless
   some points agree on both columns (then no k works and the next step runs).
   Every neuron then reads 2 inputs instead of d;
3. up to 8 random integer vectors in [-R, R]^d from the same generator; a pair
   collides with probability <= 1/(2R+1) (Schwartz-Zippel), so each try fails
   with probability < 1/4;
4. u = (1, M, ..., M^(d-1)) with M = 2 max|x_int| + 1, injective on integer
   points (base-M digits).

Every candidate is checked exactly (the z_i are integers), never trusted on
probability.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np

from netcert.dataset import Dataset
from netcert.exact import Rat, mpq
from netcert.separation import common_rows

RANDOM_TRIES = 8


@dataclass(frozen=True)
class Projection:
    """u, the images z_i = u . x_int[i], and how u was found."""

    u: tuple[int, ...]
    z: tuple[int, ...]
    method: str  # "axis j", "random (try k)", "base-M"


def images(data: Dataset, u: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(sum(a * x for a, x in zip(u, row) if a) for row in data.num)


def _distinct(z: tuple[int, ...]) -> bool:
    return len(set(z)) == len(z)


def find_projection(data: Dataset, seed: int = 0) -> Projection:
    """An integer direction on which the dataset's distinct points have distinct images."""
    d, n = data.d, data.n
    for j in range(d):
        u = tuple(int(k == j) for k in range(d))
        z = images(data, u)
        if _distinct(z):
            return Projection(u, z, f"axis {j}")
    rng = random.Random(seed)
    R = max(2, n * n)
    if d > 2:
        found = _two_axis(data, rng, R)
        if found is not None:
            return found
    for attempt in range(1, RANDOM_TRIES + 1):
        u = tuple(rng.randint(-R, R) for _ in range(d))
        z = images(data, u)
        if _distinct(z):
            return Projection(u, z, f"random (try {attempt})")
    M = 2 * max(abs(x) for row in data.num for x in row) + 1
    u = tuple(M**j for j in range(d))
    return Projection(u, images(data, u), "base-M")


def _two_axis(data: Dataset, rng: random.Random, R: int) -> Projection | None:
    """u = e_i + k e_j on the two most varied columns, or None if no try separates."""
    varied = sorted(range(data.d), key=lambda j: (-len({row[j] for row in data.num}), j))
    i, j = sorted(varied[:2])
    if len({(row[i], row[j]) for row in data.num}) < data.n:
        return None
    for attempt in range(1, RANDOM_TRIES + 1):
        k = rng.randint(1, R) * rng.choice((1, -1))
        u = tuple(1 if c == i else k if c == j else 0 for c in range(data.d))
        z = images(data, u)
        if _distinct(z):
            return Projection(u, z, f"random pair (axes {i}, {j}, try {attempt})")
    return None


@dataclass(frozen=True)
class Line:
    """A spread projection: t_i = s (a . x_i) + beta with t >= 2 and sorted gaps >= 2.

    ``a`` is an integer direction, ``s`` a positive rational (dyadic for float
    data), ``beta`` an integer. ``t`` holds the exact images, ``keys`` their
    floors (pairwise at least 2 apart, all >= 2), ``order`` the points sorted
    by t. ``draws`` counts the random directions drawn.
    """

    a: tuple[int, ...]
    s: Rat
    beta: int
    t: tuple[Rat, ...]
    keys: tuple[int, ...]
    order: tuple[int, ...]
    draws: int


def spread_line(
    data: Dataset, seed: int = 0, tries: int = 16, keep: int = 4, direction: tuple[int, ...] | None = None
) -> Line:
    """docs/constructions/vardi2022.md section 2: the best of ``tries`` random integer directions in [-2^15, 2^15]^d.

    Each batch of ``tries`` draws (numpy ``default_rng(seed)``, one
    ``integers(-2^15, 2^15 + 1, size=d)`` call per draw, a zero draw skipped)
    is scored in float64 by range / smallest gap; the ``keep`` best are then
    computed exactly and the one with the smallest exact range / gap wins
    (first on ties). Floats only rank candidates: the gaps of the winner are
    exact integers, and a batch without a separating direction draws another.
    The scale s = ceil(2^K 2 L / g) / 2^K (9 significant bits) makes every
    gap at least 2, and beta puts min t in [2, 3).
    """
    rows, L = common_rows(data)
    approx = _score_floats(data, rows)
    rng = np.random.default_rng(seed)
    draws = 0
    while direction is None:
        scored = []
        for _ in range(tries):
            a = rng.integers(-(2**15), 2**15 + 1, size=data.d)
            draws += 1
            if not a.any():
                continue
            scored.append((_float_score(approx @ a.astype(np.float64)), len(scored), tuple(int(v) for v in a)))
        best = None
        for _, _, a in sorted(scored)[:keep]:
            z = [sum(ai * v for ai, v in zip(a, r) if ai) for r in rows]
            zs = sorted(z)
            gap = min((q - p for p, q in zip(zs, zs[1:])), default=L)
            if gap == 0:
                continue
            spread = mpq(zs[-1] - zs[0], gap)
            if best is None or spread < best[0]:
                best = (spread, a, z, gap)
        if best is not None:
            break
    if direction is not None:
        a = tuple(int(v) for v in direction)
        z = [sum(ai * v for ai, v in zip(a, r) if ai) for r in rows]
        zs = sorted(z)
        gap = min((q - p for p, q in zip(zs, zs[1:])), default=L)
        if gap == 0:
            raise ValueError(f"direction {a} maps two points to one image")
    else:
        _, a, z, gap = best
    K = max(0, 9 + int(gap).bit_length() - (int(2 * L).bit_length() - 1))
    s_num = -((-(2 * L) << K) // gap)  # ceil(2^K 2L / gap)
    den = L << K
    beta = int(2 - (s_num * min(z)) // den)
    s = mpq(s_num, 1 << K)
    t = tuple(mpq(s_num * zi, den) + beta for zi in z)
    keys = tuple(int((s_num * zi) // den + beta) for zi in z)
    order = tuple(sorted(range(data.n), key=lambda i: z[i]))
    return Line(a, s, beta, t, keys, order, draws)


def _score_floats(data: Dataset, rows: list[list[int]]) -> np.ndarray:
    """float64 images of the points for ranking directions by range / gap, which one positive factor
    leaves unchanged: the file's floats while they are below 2^900 (so a . x with |a_j| <= 2^15 cannot
    overflow), else the rows scaled by 2^-e into [-1, 1] (int / int divides exactly rounded; a float of
    the coordinate itself would overflow beyond 1.8e308). Only a filter: the winner is checked exactly."""
    if data.floats is not None and float(np.abs(data.floats).max(initial=0.0)) < 2.0**900:
        return data.floats
    e = max((abs(v).bit_length() for r in rows for v in r), default=0)
    scale = 1 << e
    return np.array([[v / scale for v in r] for r in rows], dtype=np.float64)


def _float_score(p: np.ndarray) -> float:
    """range / smallest gap of float projections (inf on a zero gap, 0 for one point)."""
    if len(p) < 2:
        return 0.0
    p = np.sort(p)
    gap = float(np.min(np.diff(p)))
    return float(p[-1] - p[0]) / gap if gap > 0 else math.inf
