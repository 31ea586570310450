"""Binary codes of data points, exactly: the data side of docs/constructions/rajput2021.md sections 2-6.

The threshold construction turns points into bits in stages, and each stage
is checked on the data before a neuron is emitted:

- ``lift`` (Stage 0): integer rows X = D x over one denominator, a dyadic
  centre c_X (the mean rounded to a grid of 2^-8 times the radius) and a
  power-of-two height h_X >= max ||X_i - c_X||;
- ``angle_histogram``/``union_k``/``worst_k`` (Stage 1 sizing, float64): the
  angles between the lifted points (X_i - c_X, h_X), binned down to 4000
  log-spaced edges, and the number k of random hyperplanes for which the
  expected number of unseparated pairs is <= eta;
- ``code_bits``/``signs`` (Stage 1 check): bit t of point i is
  [A_t.(X_i - c_X) + s_t >= 0], the sign of an exact integer;
- ``Partition`` (verified sizing): the classes of points whose bits agree so
  far, refined one bit at a time until every class is a single point;
  ``prune_columns``: drop bits greedily while the rows stay distinct;
- ``draw_rows``/``parities``/``min_hamming`` (Stages 2 and 3): random subsets
  of code bits and the parity of each, on codes packed 64 to a word;
- ``private_blocks`` (Stage 3 check): a point's first block whose value no
  other member of its group shares.

Floats only size things (k, and which entries need an exact recheck); every
bit a network depends on is decided in integers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from netcert.dataset import Dataset
from netcert.errors import PreconditionError
from netcert.separation import common_rows

EDGES = np.geomspace(1e-13, np.pi, 4000)  # the angle histogram's bins
_LOG_EDGE0, _LOG_STEP = math.log(EDGES[0]), math.log(EDGES[-1] / EDGES[0]) / (len(EDGES) - 1)
_PAIR_BLOCK = 2**22  # entries per block of the pairwise computations
_CODE_CHUNK = 512  # hyperplanes per block of the exact sign computation
_POP8 = np.array([bin(v).count("1") for v in range(256)], dtype=np.uint8)


def popcount(words: np.ndarray) -> np.ndarray:
    """Bits set in each uint64 (numpy >= 2 has it built in; a byte table otherwise)."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(words)
    return _POP8[words.view(np.uint8)].reshape(*words.shape, 8).sum(axis=-1, dtype=np.uint8)


# -- Stage 0 ----------------------------------------------------------------------------------------------


def ceil_log2_root(S: int) -> int:
    """The least e >= 0 with 4^e >= S, i.e. ceil(log2 sqrt(S)) for S >= 1 (0 for S <= 1), exactly."""
    return (int(S - 1).bit_length() + 1) // 2 if S > 1 else 0


@dataclass(frozen=True)
class Lift:
    """The points in units of 1/D (x = X / D), the centre c_X and the height h_X (Stage 0)."""

    X: list[list[int]]
    D: int
    centre: list[int]
    h: int
    grid: int

    def centred(self) -> list[list[int]]:
        return [[v - c for v, c in zip(row, self.centre)] for row in self.X]


def lift(data: Dataset) -> Lift:
    """grid g = 2^max(0, ceil(log2 max(R_0, 1)) - 8), c_X = g round(mean X / g) (half to even), h_X the least
    power of two >= max(max_i ||X_i - c_X||, 1).

    Computed exactly (the union-bound sizing would allow float64 here; exact integers give the
    same values except within rounding of a power of two or of a half).
    """
    X, D = common_rows(data)
    X = [[int(v) for v in row] for row in X]
    n, d = len(X), len(X[0])
    grid = 2 ** max(0, ceil_log2_root(max(sum(v * v for v in row) for row in X)) - 8)
    centre = [grid * round(Fraction(sum(row[j] for row in X), n * grid)) for j in range(d)]
    R2 = max(sum((v - c) ** 2 for v, c in zip(row, centre)) for row in X)
    return Lift(X, int(D), centre, 2 ** ceil_log2_root(R2), grid)


def floats(rows: Sequence[Sequence[int]], what: str) -> np.ndarray:
    """Integers as float64; refuses values beyond its range."""
    try:
        out = np.array(rows, dtype=object).astype(np.float64)
    except OverflowError:
        out = np.array([math.inf])
    if not np.isfinite(out).all():
        raise PreconditionError(
            f"{what} exceed the float64 range used for sizing (2^1024, after scaling "
            "to the common denominator of the data); quantize the data"
        )
    return out


# -- Stage 1: sizing ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Angles:
    """Pairs per bin (each angle rounded down to an edge), the least angle and its pair."""

    counts: np.ndarray
    theta_min: float
    pair: tuple[int, int]


def unit_rows(L: Lift) -> np.ndarray:
    """U_i = (X_i - c_X, h_X) / ||(X_i - c_X, h_X)||, float64."""
    U = floats([[*row, L.h] for row in L.centred()], "coordinates")
    return U / np.linalg.norm(U, axis=1)[:, None]


def angle_histogram(U: np.ndarray, names: Sequence[int] | None = None) -> Angles:
    """theta_ij = 2 arcsin(min(1, ||U_i - U_j|| / 2)) for all i < j (n >= 2), binned down to ``EDGES``.

    Refuses two points closer than 1e-13 radians (``names``: how to call point i in the message)."""
    n, width = U.shape
    counts = np.zeros(len(EDGES), dtype=np.int64)
    best, pair = math.inf, (0, 1)
    rows = max(1, _PAIR_BLOCK // max(n, 1))
    for a in range(0, n - 1, rows):
        b = min(n - 1, a + rows)
        sq = np.zeros((b - a, n - a - 1))
        diff = np.empty_like(sq)
        for c in range(width):
            np.subtract(U[a:b, c, None], U[None, a + 1 :, c], out=diff)
            diff *= diff
            sq += diff
        np.sqrt(sq, out=sq)
        sq *= 0.5
        np.minimum(sq, 1.0, out=sq)
        theta = np.arcsin(sq, out=sq)
        theta *= 2
        keep = np.arange(a + 1, n)[None, :] > np.arange(a, b)[:, None]
        theta = theta[keep]
        k = int(np.argmin(theta))
        if theta[k] < best:
            i, j = np.nonzero(keep)
            best, pair = float(theta[k]), (a + int(i[k]), a + 1 + int(j[k]))
        if best < EDGES[0]:
            first, second = pair if names is None else (names[pair[0]], names[pair[1]])
            raise PreconditionError(
                f"points {first} and {second} are too close for the float64 angle statistics "
                f"(angle {best:.3g} < 1e-13); quantize the data"
            )
        counts += np.bincount(edge_index(theta), minlength=len(EDGES))
    return Angles(counts, best, pair)


def edge_index(theta: np.ndarray) -> np.ndarray:
    """The index of the largest edge <= theta (theta >= EDGES[0]), as ``searchsorted`` gives it: a
    logarithmic guess, off by at most one bin, corrected by exact comparisons with the edges."""
    top = len(EDGES) - 1
    idx = np.clip(((np.log(theta) - _LOG_EDGE0) / _LOG_STEP).astype(np.int64), 0, top)
    idx -= EDGES.take(idx) > theta
    idx += (EDGES.take(np.minimum(idx + 1, top)) <= theta) & (idx < top)
    return idx


def union_k(counts: np.ndarray, eta: float) -> int:
    """k_u = min{k >= 1 : sum over pairs of (1 - theta/pi)^k <= eta}, by doubling then bisection."""
    used = counts > 0
    c, base = counts[used].astype(np.float64), 1 - EDGES[used] / np.pi

    def excess(k: int) -> bool:
        return float(np.sum(c * base**k)) > eta

    hi = 1
    while excess(hi):
        hi *= 2
    lo = hi // 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if excess(mid) else (lo, mid)
    return hi


def worst_k(theta_min: float, n: int, eta: float) -> int:
    """The paper-style k_wc = ceil((pi / theta_min) ln(n (n - 1) / (2 eta)))."""
    return math.ceil(np.pi / theta_min * math.log(n * (n - 1) / (2 * eta)))


# -- Stage 1: exact codes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Centred:
    """The centred rows X_i - c_X as Python integers, with int64 and float64 copies for the sign tests."""

    rows: list[list[int]]
    f64: np.ndarray
    i64: np.ndarray | None  # None when an entry reaches 2^62
    top: int  # the largest |entry|


def centred(L: Lift) -> Centred:
    rows = L.centred()
    top = max(abs(v) for row in rows for v in row)
    return Centred(rows, floats(rows, "coordinates"), np.array(rows, dtype=np.int64) if top < 2**62 else None, top)


def signs(P: Centred, A: np.ndarray, s: Sequence[int], points: np.ndarray | None = None) -> np.ndarray:
    """[A_t.(X_i - c_X) + s_t >= 0] for the points i (all by default) and rows t of A, exactly (bool).

    int64 when every value is below 2^62; otherwise a float64 filter with a
    proven error bound, and Python integers for the entries it cannot decide.
    """
    idx = np.arange(len(P.rows)) if points is None else points
    top = P.top * int(np.abs(A).sum(axis=1).max(initial=0)) + max((abs(int(v)) for v in s), default=0)
    if top < 2**62 and P.i64 is not None:
        return P.i64[idx] @ A.T + np.array(s, dtype=np.int64)[None, :] >= 0
    return filtered_signs([P.rows[i] for i in idx.tolist()], P.f64[idx], A, s)


def code_bits(L: Lift, A: np.ndarray, s: Sequence[int]) -> np.ndarray:
    """Packed codes, n x 8 ceil(k/64) bytes (little bit order): bit t of point i is
    [A_t.(X_i - c_X) + s_t >= 0], exactly (``signs``)."""
    P = centred(L)
    k = A.shape[0]
    out = np.zeros((len(P.rows), 8 * (-(-k // 64))), dtype=np.uint8)
    for t0 in range(0, k, _CODE_CHUNK):
        t1 = min(k, t0 + _CODE_CHUNK)
        bits = signs(P, A[t0:t1], s[t0:t1])
        out[:, t0 // 8 : t0 // 8 + -(-(t1 - t0) // 8)] = np.packbits(bits, axis=1, bitorder="little")
    return out


def pack(bits: np.ndarray) -> np.ndarray:
    """A boolean n x k matrix packed as ``code_bits`` packs codes."""
    n, k = bits.shape
    out = np.zeros((n, 8 * (-(-k // 64))), dtype=np.uint8)
    out[:, : -(-k // 8)] = np.packbits(bits, axis=1, bitorder="little")
    return out


def filtered_signs(Xc: Sequence[Sequence[int]], Xf: np.ndarray, A: np.ndarray, s: Sequence[int]) -> np.ndarray:
    """[A_t.Xc_i + s_t >= 0] for integers too large for int64: the float64 value decides wherever it
    exceeds its error bound (d + 4) 2^-51 (|A||Xf| + |s|), which covers the rounding of Xc and s to
    float64 and of the products and sums in any order; Python integers decide the rest."""
    Af = A.astype(np.float64)
    sf = floats([s], "biases")[0]
    Z = Xf @ Af.T + sf[None, :]
    bound = (Xf.shape[1] + 4) * 2.0**-51 * (np.abs(Xf) @ np.abs(Af).T + np.abs(sf)[None, :])
    bits = Z >= 0
    for i, t in zip(*np.nonzero(np.abs(Z) <= bound)):
        bits[i, t] = sum(int(a) * v for a, v in zip(A[t], Xc[i])) + s[t] >= 0
    return bits


def distinct(rows: np.ndarray) -> bool:
    """No two rows are equal."""
    return np.unique(rows, axis=0).shape[0] == rows.shape[0]


# -- verified sizing: refine until distinct, then prune ------------------------------------------------------


class Partition:
    """The classes of n points whose bits agree so far; ``active`` (increasing) holds the points whose
    class has two or more members, ``cls`` their class numbers 0..classes-1."""

    def __init__(self, n: int):
        self.active = np.arange(n) if n > 1 else np.arange(0)
        self.cls = np.zeros(self.active.size, dtype=np.int64)
        self.classes = int(n > 1)

    @property
    def done(self) -> bool:
        """Every class is a single point."""
        return not self.active.size

    def refine(self, bits: np.ndarray) -> bool:
        """Split every class by one more bit of its active points (in the order of ``active``); whether
        some class split. Points left alone in their class leave ``active``."""
        u, inv, counts = np.unique(self.cls * 2 + bits, return_inverse=True, return_counts=True)
        if u.size == self.classes:
            return False
        multi = counts[inv] > 1
        self.active = self.active[multi]
        u, self.cls = np.unique(inv[multi], return_inverse=True)
        self.classes = u.size
        return True


def prune_columns(bits: np.ndarray, order: Sequence[int]) -> np.ndarray:
    """Greedy and exact: in ``order``, drop each column of the boolean matrix whose removal leaves its
    (pairwise distinct) rows pairwise distinct; at least one column stays. The kept columns (mask).

    A linear hash of each row (the xor of fixed 64-bit keys over its set bits)
    only speeds the test up: distinct hashes prove distinct rows, and the rows
    of equal hashes are compared bit by bit, so the keys never change the answer.
    """
    n, k = int(bits.shape[0]), int(bits.shape[1])
    keys = np.random.default_rng(20210607).integers(1, 2**63, size=k, dtype=np.uint64)
    H = np.zeros(n, dtype=np.uint64)
    for t0 in range(0, k, 256):
        H ^= np.bitwise_xor.reduce(np.where(bits[:, t0 : t0 + 256], keys[None, t0 : t0 + 256], np.uint64(0)), axis=1)
    keep = np.ones(k, dtype=bool)
    for t in order:
        if keep.sum() == 1:
            break
        trial = H ^ np.where(bits[:, t], keys[t], np.uint64(0))
        keep[t] = False
        if _distinct_given_hash(bits, keep, trial):
            H = trial
        else:
            keep[t] = True
    return keep


def _distinct_given_hash(bits: np.ndarray, keep: np.ndarray, H: np.ndarray) -> bool:
    """Whether the rows of bits[:, keep] are pairwise distinct, given their hashes H."""
    order = np.argsort(H, kind="stable")
    same = H[order[1:]] == H[order[:-1]]
    if not same.any():
        return True
    suspects = np.unique(np.concatenate([order[1:][same], order[:-1][same]]))
    sub = bits[np.ix_(suspects, keep)]
    return distinct(np.packbits(sub, axis=1)) if sub.shape[1] else suspects.size < 2


# -- Stages 2 and 3: parities of random subsets --------------------------------------------------------------


def draw_rows(rng: np.random.Generator, width: int, count: int, rho: float) -> list[np.ndarray]:
    """``count`` random subsets S_r = {i : U_i < rho} of range(width), U = rng.random(width); empty ones drawn
    again at once."""
    rows = []
    for _ in range(count):
        while True:
            S = np.flatnonzero(rng.random(width) < rho)
            if S.size:
                rows.append(S)
                break
    return rows


def parities(codes: np.ndarray, rows: Sequence[np.ndarray]) -> np.ndarray:
    """n x len(rows) bits: the parity of the packed code bits in each row."""
    words = codes.view(np.uint64)
    out = np.zeros((codes.shape[0], len(rows)), dtype=np.uint8)
    step = max(1, _PAIR_BLOCK // max(words.shape[1], 1))
    for r, S in enumerate(rows):
        mask = np.zeros(codes.shape[1] * 8, dtype=bool)
        mask[S] = True
        m = np.packbits(mask, bitorder="little").view(np.uint64)
        for a in range(0, words.shape[0], step):
            folded = np.bitwise_xor.reduce(words[a : a + step] & m[None, :], axis=1)
            out[a : a + step, r] = popcount(folded) & 1
    return out


def min_hamming(codes: np.ndarray) -> int:
    """The exact minimum Hamming distance between packed codes (n >= 2)."""
    words = codes.view(np.uint64)
    n, W = words.shape
    best = codes.shape[1] * 8
    rows = max(1, _PAIR_BLOCK // max(n * W, 1))
    for a in range(0, n - 1, rows):
        b = min(n - 1, a + rows)
        dist = popcount(words[a:b, None, :] ^ words[None, a + 1 :, :]).sum(axis=2, dtype=np.int64)
        keep = np.arange(a + 1, n)[None, :] > np.arange(a, b)[:, None]
        best = min(best, int(np.where(keep, dist, best).min()))
    return best


def chunk_value(E: np.ndarray, start: int, width: int) -> np.ndarray:
    """The integer each point's bits E[:, start:start + width] spell, least significant bit first."""
    total = np.zeros(len(E), dtype=np.int64)
    for t in range(width):
        total += E[:, start + t].astype(np.int64) << t
    return total


def private_blocks(E: np.ndarray, b0: int, b: int, L: int) -> tuple[np.ndarray, np.ndarray]:
    """(group, private) per point: the group is chunk 0 (b0 bits); ``private`` is the one-hot coordinate
    2^b0 + (l - 1) 2^b + v of the first block l whose value v no other member of the group has, or -1."""
    R0, R = 2**b0, 2**b
    group = chunk_value(E, 0, b0)
    private = np.full(E.shape[0], -1, dtype=np.int64)
    for block in range(L, 0, -1):  # the last write is the first private block
        value = chunk_value(E, b0 + (block - 1) * b, b)
        key = group * R + value
        alone = np.bincount(key, minlength=R0 * R)[key] == 1
        private[alone] = R0 + (block - 1) * R + value[alone]
    return group, private
