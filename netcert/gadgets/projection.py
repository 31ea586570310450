"""Projection to a line on which all points are distinct (classic.md section 1.2).

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

import random
from dataclasses import dataclass

from netcert.dataset import Dataset

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
