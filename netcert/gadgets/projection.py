"""Projections to a line on which all points are distinct (docs/constructions/README.md section 2).

One search serves every construction: ``Draws`` makes the seeded random
directions (Python's ``random.Random(seed)`` or numpy's ``default_rng(seed)``,
as each construction's documentation fixes), ``images_of`` computes the exact
integer images u . r of the rows, ``collision`` is the exact distinctness
check, ``best_of`` keeps the separating direction of a batch with the
smallest exact range / min gap (first on ties), ``search`` draws batches
until one separates, and ``refusal`` is the one message of every way a search
can fail: a given direction, coincident points, or ``MAX_BATCHES`` batches
without a separating direction. The three searches built on it:

``find_projection`` (zhang2017, yun2019) finds an integer vector u with
z_i = u . x_int[i] pairwise distinct, where x_int is the dataset's per-column
integer form. Tried in order:

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

``spread_line`` (vardi2022) and ``constructions.park2021.project`` rank
batches of random directions over the rows on one common denominator.

Every candidate is checked exactly (the z_i are integers), never trusted on
probability; floats at most rank candidates.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from netcert.dataset import Dataset
from netcert.errors import InternalError, PreconditionError, UsageError
from netcert.exact import Rat, mpq
from netcert.separation import common_rows

RANDOM_TRIES = 8
MAX_BATCHES = 64
"""Batches a search draws before it refuses. On distinct points a batch fails with a probability far below 1
(Schwartz-Zippel, in the ranges the constructions draw from), so 64 failed batches mean that the images
cannot be distinct in that range (more points than the range has values): a refusal, not an endless loop."""

Direction = tuple[int, ...]
Images = tuple[int, ...]


# -- the shared search ---------------------------------------------------------------------------------


class Draws:
    """Seeded random integer directions, counted in ``count``.

    ``generator`` is "python" (``random.Random(seed)``: one ``randint(-R, R)``
    per coordinate) or "numpy" (``numpy.random.default_rng(seed)``: one
    ``integers(-R, R + 1, size=d)`` call per direction). The streams are the
    ones the constructions' documents fix, so a seed always gives the same
    directions.
    """

    def __init__(self, seed: int, generator: str = "python") -> None:
        if generator not in ("python", "numpy"):
            raise ValueError(f"unknown generator {generator!r}")
        self.generator = generator
        self._python = random.Random(seed) if generator == "python" else None
        self._numpy = np.random.default_rng(seed) if generator == "numpy" else None
        self.count = 0

    def vector(self, d: int, R: int) -> Direction:
        """A direction uniform on [-R, R]^d (the zero vector included)."""
        self.count += 1
        if self._numpy is not None:
            return tuple(int(v) for v in self._numpy.integers(-R, R + 1, size=d))
        rng = self._require_python()
        return tuple(rng.randint(-R, R) for _ in range(d))

    def signed(self, R: int) -> int:
        """An integer uniform on +-[1, R] (``randint(1, R)`` times a random sign; Python's generator)."""
        rng = self._require_python()
        return rng.randint(1, R) * rng.choice((1, -1))

    def _require_python(self) -> random.Random:
        if self._python is None:
            raise InternalError("Draws.signed needs Python's generator")
        return self._python


def images_of(rows: Sequence[Sequence[int]], u: Sequence[int]) -> Images:
    """The exact integer images z_i = u . rows[i] (zero coefficients skipped: cheap for sparse u)."""
    nz = [(j, a) for j, a in enumerate(u) if a]
    return tuple(sum(a * r[j] for j, a in nz) for r in rows)


def collision(z: Sequence[object]) -> tuple[int, int] | None:
    """The exact distinctness check: None if the z_i are pairwise distinct, else the first pair i < j
    (smallest j, then its first i) with z_i = z_j."""
    first: dict[object, int] = {}
    for j, v in enumerate(z):
        i = first.setdefault(v, j)
        if i != j:
            return i, j
    return None


@dataclass(frozen=True)
class Candidate:
    """A direction u with its exact images z, their range max z - min z and smallest gap between sorted
    images (0: two images coincide; None for fewer than two points, where every direction separates)."""

    u: Direction
    z: Images
    spread: int
    gap: int | None

    @property
    def separates(self) -> bool:
        return self.gap is None or self.gap > 0

    def narrower(self, other: Candidate) -> bool:
        """range / gap strictly smaller than ``other``'s, exactly (both separate; no gap counts as 1)."""
        return self.spread * (other.gap or 1) < other.spread * (self.gap or 1)


def candidate(rows: Sequence[Sequence[int]], u: Sequence[int]) -> Candidate:
    """u measured on ``rows``: its images, their range and smallest gap."""
    z = images_of(rows, u)
    zs = sorted(z)
    gap = min((q - p for p, q in zip(zs, zs[1:])), default=None)
    return Candidate(tuple(u), z, zs[-1] - zs[0] if zs else 0, gap)


def best_of(
    rows: Sequence[Sequence[int]], directions: Iterable[Sequence[int]]
) -> tuple[Candidate | None, Candidate | None]:
    """The separating direction with the smallest exact range / min gap, first on ties (None if none
    separates), and the last direction tried (None for no direction; kept for the refusal)."""
    best: Candidate | None = None
    last: Candidate | None = None
    for u in directions:
        last = candidate(rows, u)
        if last.separates and (best is None or last.narrower(best)):
            best = last
    return best, last


def refusal(data: Dataset, who: str, direction: str, z: Sequence[object], why: str = "") -> str:
    """The one message of a failed search: which direction (or "every direction") maps which two points
    (their rows in the file) to one image, and why that ends the search."""
    pair = collision(z)
    if pair is None:
        raise InternalError(f"{who}: a refusal for {direction}, whose images are distinct")
    i, j = pair
    where = f"{data.path}: " if data.path else ""
    return f"{where}{who}: {direction} maps points {data.kept[i]} and {data.kept[j]} to one image{why}"


def refuse_coincident(data: Dataset, rows: Sequence[Sequence[int]], who: str) -> None:
    """Refuse (PreconditionError) points that coincide: then no direction separates them, and a search
    would never end. ``dataset.load`` merges such rows, so only a Dataset made by hand has them."""
    if collision([tuple(r) for r in rows]) is not None:
        raise PreconditionError(
            refusal(data, who, "every direction", [tuple(r) for r in rows], " (they coincide; merge duplicate rows)")
        )


def given(data: Dataset, rows: Sequence[Sequence[int]], direction: Sequence[int], who: str) -> Candidate:
    """A direction the caller fixed, measured; refused (UsageError) if it has the wrong length or does
    not separate the points."""
    u = tuple(int(a) for a in direction)
    if len(u) != data.d:
        raise UsageError(f"--direction needs {data.d} integers, got {len(u)}")
    found = candidate(rows, u)
    if not found.separates:
        raise UsageError(refusal(data, who, f"direction {list(u)}", found.z))
    return found


def search(
    data: Dataset,
    rows: Sequence[Sequence[int]],
    batch: Callable[[], Sequence[Sequence[int]]],
    who: str,
    max_batches: int = MAX_BATCHES,
) -> Candidate:
    """``best_of`` the batches ``batch()`` draws, the first batch with a separating direction deciding;
    refused (PreconditionError) on coincident points, or after ``max_batches`` batches without one."""
    refuse_coincident(data, rows, who)
    tried, last = 0, None
    for _ in range(max_batches):
        directions = batch()
        tried += len(directions)
        best, last_of_batch = best_of(rows, directions)
        if best is not None:
            return best
        last = last_of_batch or last
    why = f"; none of the {tried:,} directions tried separates the points"
    if last is None:  # every batch was empty (vardi2022 skips zero draws): say so without a pair
        raise PreconditionError(f"{who}: {max_batches} batches of directions drew only the zero vector")
    raise PreconditionError(refusal(data, who, f"direction {list(last.u)}, the last tried,", last.z, why))


# -- zhang2017 and yun2019: the first separating direction ---------------------------------------------


@dataclass(frozen=True)
class Projection:
    """u, the images z_i = u . x_int[i], and how u was found."""

    u: Direction
    z: Images
    method: str  # "axis j", "random pair (axes i, j, try k)", "random (try k)", "base-M"


def images(data: Dataset, u: Sequence[int]) -> Images:
    """z_i = u . x_int[i] over the dataset's per-column integer form."""
    return images_of(data.num, u)


def find_projection(data: Dataset, seed: int = 0, who: str = "projection") -> Projection:
    """An integer direction on which the dataset's distinct points have distinct images (module docstring:
    axes, two-axis, random, base-M, in that order; ``random.Random(seed)``)."""
    d, n = data.d, data.n
    refuse_coincident(data, data.num, who)
    for j in range(d):
        u = tuple(int(k == j) for k in range(d))
        z = images(data, u)
        if collision(z) is None:
            return Projection(u, z, f"axis {j}")
    draws = Draws(seed)
    R = max(2, n * n)
    if d > 2:
        found = _two_axis(data, draws, R)
        if found is not None:
            return found
    for attempt in range(1, RANDOM_TRIES + 1):
        u = draws.vector(d, R)
        z = images(data, u)
        if collision(z) is None:
            return Projection(u, z, f"random (try {attempt})")
    M = 2 * max(abs(x) for row in data.num for x in row) + 1
    u = tuple(M**j for j in range(d))
    z = images(data, u)
    if collision(z) is not None:  # base-M digits are injective on distinct integer points
        raise InternalError(refusal(data, who, f"the base-M direction {list(u)}", z))
    return Projection(u, z, "base-M")


def _two_axis(data: Dataset, draws: Draws, R: int) -> Projection | None:
    """u = e_i + k e_j on the two most varied columns, or None if no try separates."""
    varied = sorted(range(data.d), key=lambda j: (-len({row[j] for row in data.num}), j))
    i, j = sorted(varied[:2])
    if len({(row[i], row[j]) for row in data.num}) < data.n:
        return None
    for attempt in range(1, RANDOM_TRIES + 1):
        k = draws.signed(R)
        u = tuple(1 if c == i else k if c == j else 0 for c in range(data.d))
        z = images(data, u)
        if collision(z) is None:
            return Projection(u, z, f"random pair (axes {i}, {j}, try {attempt})")
    return None


# -- vardi2022: a spread line --------------------------------------------------------------------------


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
    data: Dataset,
    seed: int = 0,
    tries: int = 16,
    keep: int = 4,
    direction: Sequence[int] | None = None,
    who: str = "projection",
) -> Line:
    """docs/constructions/vardi2022.md section 2: the best of ``tries`` random integer directions in [-2^15, 2^15]^d.

    Each batch of ``tries`` draws (numpy ``default_rng(seed)``, one
    ``integers(-2^15, 2^15 + 1, size=d)`` call per draw, a zero draw skipped)
    is scored in float64 by range / smallest gap; the ``keep`` best are then
    computed exactly and the one with the smallest exact range / gap wins
    (first on ties). Floats only rank candidates: the gaps of the winner are
    exact integers, and a batch without a separating direction draws another
    (``search``: refused after ``MAX_BATCHES``). ``direction`` fixes a instead
    (refused if it does not separate the points).
    The scale s = ceil(2^K 2 L / g) / 2^K (9 significant bits) makes every
    gap at least 2, and beta puts min t in [2, 3).
    """
    rows, L = common_rows(data)
    draws = Draws(seed, "numpy")
    if direction is not None:
        found = given(data, rows, direction, who)
    else:
        approx = _score_floats(data, rows)

        def batch() -> list[Direction]:
            """The ``keep`` of ``tries`` nonzero draws with the smallest float range / gap, in that order."""
            scored: list[tuple[float, int, Direction]] = []
            for _ in range(tries):
                a = draws.vector(data.d, 2**15)
                if any(a):
                    scored.append((_float_score(approx @ np.array(a, dtype=np.float64)), len(scored), a))
            return [a for _, _, a in sorted(scored)[:keep]]

        found = search(data, rows, batch, who)
    a, z = found.u, found.z
    gap = L if found.gap is None else found.gap  # one point: any scale works, this one is 2
    K = max(0, 9 + int(gap).bit_length() - (int(2 * L).bit_length() - 1))
    s_num = -((-(2 * L) << K) // gap)  # ceil(2^K 2L / gap)
    den = L << K
    beta = int(2 - (s_num * min(z)) // den)
    s = mpq(s_num, 1 << K)
    t = tuple(mpq(s_num * zi, den) + beta for zi in z)
    keys = tuple(int((s_num * zi) // den + beta) for zi in z)
    order = tuple(sorted(range(data.n), key=lambda i: z[i]))
    return Line(a, s, beta, t, keys, order, draws.count)


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
