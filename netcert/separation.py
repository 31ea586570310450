"""Exact extreme distances of a dataset: ``min_sq_separation``, ``max_sq_norm``.

The minimum over all pairs is found without the O(n^2) exact pass:

1. every point, rescaled by one positive constant so that its coordinates lie
   in [-1, 1] (nothing overflows or underflows), gets a correctly rounded
   float64 image x~ with a proven error bound ||x - x~|| <= e_i;
2. some close pair is found (an approximate k-d tree query in low dimension,
   neighbours along a random projection in high dimension); its exact squared
   distance U is an upper bound of the minimum, however the pair was found;
3. every pair whose true distance is at most sqrt(U) has a float distance of at
   most r = sqrt(U) + e_i + e_j; all pairs within r, widened by a relative 1e-9
   that covers the rounding of float distance computations (relative error
   below (d + 2) * 2^-53), are listed: by a bounded exact k-d tree query
   (scipy) for d <= 16, by blocked Gram products with the rounding bound
   gamma_(d+3) (||a||^2 + ||b||^2) of the expanded form above that;
4. those candidates are compared exactly, in integers.

The float stage only chooses which pairs to compare; the value returned is an
exact rational, and the lexicographically smallest pair attaining it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from netcert.dataset import Dataset
from netcert.exact import Int, Rat, lcm_all, mpq

_SLACK = 1e-9
_EXACT_PAIRS_LIMIT = 200
_KDTREE_MAX_D = 16


@dataclass(frozen=True)
class Separation:
    """min ||x_i - x_j||^2 over distinct points, and the smallest pair attaining it."""

    value: Rat | None
    pair: tuple[int, int] | None
    candidates: int


def common_rows(data: Dataset) -> tuple[list[list[int]], Int]:
    """Rows over one common denominator L: x[i][j] = rows[i][j] / L."""
    L = lcm_all(data.scale)
    factors = [int(L // s) for s in data.scale]
    if all(f == 1 for f in factors):
        return [list(r) for r in data.num], L
    return [[v * f for v, f in zip(r, factors)] for r in data.num], L


def max_sq_norm(data: Dataset) -> Rat:
    """max_i ||x_i||^2, exact."""
    rows, L = common_rows(data)
    best = max(sum(v * v for v in r) for r in rows)
    return mpq(best, L * L)


_LAST: dict[str, Separation] = {}


def min_sq_separation(data: Dataset) -> Separation:
    """The exact minimum squared distance between distinct points (None if n = 1).

    The last result is kept by dataset digest, because a verification asks
    for it twice (the certificate and a construction's bound).
    """
    found = _LAST.get(data.digest)
    if found is None:
        found = _min_sq_separation(data)
        _LAST.clear()
        _LAST[data.digest] = found
    return found


def _min_sq_separation(data: Dataset) -> Separation:
    n = data.n
    if n < 2:
        return Separation(None, None, 0)
    rows, L = common_rows(data)
    pairs: list[tuple[int, int]] | set[tuple[int, int]]
    if n <= _EXACT_PAIRS_LIMIT:
        pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    else:
        pairs = _candidate_pairs(data, rows, L)
    best, best_pair = None, None
    for i, j in sorted(pairs):
        dist = _sq_dist(rows[i], rows[j])
        if best is None or dist < best:
            best, best_pair = dist, (i, j)
    return Separation(mpq(best, L * L), best_pair, len(pairs))


def _sq_dist(a: list[int], b: list[int]) -> int:
    return sum((u - v) * (u - v) for u, v in zip(a, b))


def _candidate_pairs(data: Dataset, rows: list[list[int]], L: Int) -> set[tuple[int, int]]:
    """A superset of the pairs at minimum distance (see the module docstring)."""
    approx, err, e = _float_image(data, rows, L)
    if data.d <= _KDTREE_MAX_D:
        return _kdtree_pairs(approx, err, rows, e)
    return _gram_pairs(approx, err, rows, e)


def _exact_upper(pair: tuple[int, int], rows: list[list[int]], e: int) -> float:
    """A float at least the distance of ``pair`` in the rescaled units of ``_float_image``."""
    i, j = pair
    return math.sqrt(float(mpq(_sq_dist(rows[i], rows[j]), 1 << (2 * e)))) * (1 + 1e-12) + 2.0**-1000


def _kdtree_pairs(approx: np.ndarray, err: float, rows: list[list[int]], e: int) -> set[tuple[int, int]]:
    """Low dimension: an approximate nearest pair bounds the minimum, then a
    bounded exact k-d tree query lists every pair within the widened radius."""
    tree = cKDTree(approx)
    dist, idx = tree.query(approx, k=2, eps=1.0)
    i0 = int(np.argmin(dist[:, 1]))
    # Distinct points may share a float image: then the query point itself need
    # not come first among its neighbours at distance 0, so pick the other index.
    j0 = int(idx[i0, 1]) if int(idx[i0, 1]) != i0 else int(idx[i0, 0])
    first = (min(i0, j0), max(i0, j0))
    radius = (_exact_upper(first, rows, e) + 2 * err) * (1 + _SLACK)
    pairs = {first}
    todo, k = np.arange(len(approx)), 8
    while len(todo):
        dist, idx = tree.query(approx[todo], k=min(k, len(approx)), distance_upper_bound=radius)
        for row, (ds, js) in zip(todo.tolist(), zip(dist.tolist(), idx.tolist())):
            pairs.update((min(row, j), max(row, j)) for dv, j in zip(ds, js) if dv <= radius and j != row)
        full = np.isfinite(dist[:, -1]) if k < len(approx) else np.zeros(len(todo), bool)
        todo, k = todo[full], 4 * k
    return pairs


def _gram_pairs(
    approx: np.ndarray, err: float, rows: list[list[int]], e: int, block: int = 2048
) -> set[tuple[int, int]]:
    """High dimension: blocked ||a||^2 + ||b||^2 - 2 a.b with BLAS, keeping every
    entry within the rounding bound gamma_(d+3) * 2 (||a||^2 + ||b||^2) of the radius."""
    n, d = approx.shape
    sq = (approx * approx).sum(axis=1)
    gamma = (d + 3) * 2.0**-52
    first = _sampled_pair(approx)
    bound = ((_exact_upper(first, rows, e) + 2 * err) * (1 + _SLACK)) ** 2
    pairs = {first}
    for a in range(0, n, block):
        A = approx[a : a + block]
        for b in range(a, n, block):
            B = approx[b : b + block]
            D = sq[a : a + block, None] + sq[None, b : b + block] - 2.0 * (A @ B.T)
            slack = gamma * 2 * (sq[a : a + block, None] + sq[None, b : b + block])
            ii, jj = np.nonzero(D <= bound * (1 + _SLACK) + slack)
            pairs.update((a + i, b + j) for i, j in zip(ii.tolist(), jj.tolist()) if a + i < b + j)
    return pairs


def _sampled_pair(approx: np.ndarray) -> tuple[int, int]:
    """A close pair from neighbours in a random projection order (any pair is a valid bound)."""
    order = np.argsort(approx @ np.random.default_rng(0).standard_normal(approx.shape[1]), kind="stable")
    best, pair = np.inf, (0, 1)
    for w in range(1, min(16, len(order))):
        dd = ((approx[order[w:]] - approx[order[:-w]]) ** 2).sum(axis=1)
        k = int(np.argmin(dd))
        if dd[k] < best:
            i, j = int(order[k]), int(order[k + w])
            best, pair = dd[k], (min(i, j), max(i, j))
    return pair


def _float_image(data: Dataset, rows: list[list[int]], L: Int) -> tuple[np.ndarray, float, int]:
    """float64 images of the points rescaled by the constant L / 2^e (so |x~| <= 1
    and nothing overflows or underflows in squared distances), a bound on
    ||x_i - x~_i|| in those units, and e. Rescaling by one positive constant
    keeps the closest pairs; exact distances are always taken from ``rows``."""
    e = max((abs(v).bit_length() for r in rows for v in r), default=0)
    D = 1 << e
    approx = np.array([[v / D for v in r] for r in rows], dtype=np.float64)
    # Correct rounding: |x - x~| <= 2^-53 |x~| for normal values, <= 2^-1075 below.
    per_coord = np.abs(approx) * 2.0**-52 + 2.0**-1073
    err = float(np.sqrt((per_coord**2).sum(axis=1)).max()) * (1 + 1e-6)
    return approx, err, e
