"""The data side of the threshold construction (gadgets/codes.py): exact codes against Python integers,
the float-filtered path for coordinates beyond int64, parities, Hamming distances, the angle bins, k_u,
the lift and private blocks."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from netcert import dataset
from netcert.gadgets import codes


def _brute_bits(Xc, A, s) -> np.ndarray:
    return np.array([[int(sum(int(a) * v for a, v in zip(row, x)) + st >= 0) for row, st in zip(A, s)] for x in Xc])


def _unpack(packed: np.ndarray, k: int) -> np.ndarray:
    return np.unpackbits(packed, axis=1, bitorder="little")[:, :k]


@pytest.mark.parametrize("seed", range(3))
def test_code_bits_are_exact_signs_on_both_paths(seed):
    rng = np.random.default_rng(seed)
    n, d, k = 40, 3, 70
    X = rng.integers(-50, 50, (n, d)).tolist()
    L = codes.Lift(X, 1, [0] * d, 64, 1)
    A = rng.integers(-4, 5, (k, d))
    s = [int(v) for v in rng.integers(-60, 60, k)]
    s[:5] = [-int(A[t] @ np.array(X[t])) for t in range(5)]  # ties: value 0 exactly, bit 1
    want = _brute_bits(X, A, s)
    assert (_unpack(codes.code_bits(L, A, s), k) == want).all()
    assert (codes.filtered_signs(X, codes.floats(X, "x"), A, s) == want).all()
    big = 2**80  # beyond int64: code_bits takes the filtered path
    Xb = [[v * big for v in row] for row in X]
    Lb = codes.Lift(Xb, 1, [0] * d, 64 * big, 1)
    sb = [v * big for v in s]
    assert (_unpack(codes.code_bits(Lb, A, sb), k) == want).all()


def test_filtered_signs_decide_near_ties_with_integers():
    x = [[2**70 + 1, -(2**70)]]
    A = np.array([[1, 1], [1, 1]])
    assert codes.filtered_signs(x, codes.floats(x, "x"), A, [-1, -2]).tolist() == [[True, False]]


def test_parities_and_min_hamming_against_brute_force():
    rng = np.random.default_rng(5)
    n, k = 30, 100
    bits = rng.integers(0, 2, (n, k)).astype(np.uint8)
    packed = np.zeros((n, 16), dtype=np.uint8)
    packed[:, :13] = np.packbits(bits, axis=1, bitorder="little")
    rows = codes.draw_rows(np.random.default_rng(1), k, 9, 0.5)
    assert all(S.size and S.max() < k for S in rows)
    want = np.stack([bits[:, S].sum(axis=1) % 2 for S in rows], axis=1)
    assert (codes.parities(packed, rows) == want).all()
    brute = min(int((bits[i] != bits[j]).sum()) for i, j in itertools.combinations(range(n), 2))
    assert codes.min_hamming(packed) == brute


def test_popcount_of_words():
    w = np.array([0, 1, 2**63 + 5, 2**64 - 1], dtype=np.uint64)
    assert codes.popcount(w).tolist() == [0, 1, 3, 64]
    assert codes._POP8[255] == 8


def test_edge_index_is_searchsorted():
    rng = np.random.default_rng(2)
    e = codes.EDGES
    theta = np.concatenate(
        [np.exp(rng.uniform(np.log(e[0]), np.log(np.pi), 20000)), e, np.nextafter(e, 0)[1:], np.nextafter(e, 4)[:-1]]
    )
    assert (codes.edge_index(theta) == np.searchsorted(e, theta, side="right") - 1).all()


def test_union_k_is_the_least_k_under_eta():
    rng = np.random.default_rng(3)
    counts = rng.integers(0, 5, len(codes.EDGES))
    k = codes.union_k(counts, 0.5)
    f = lambda k: float(np.sum(counts * (1 - codes.EDGES / np.pi) ** k))  # noqa: E731
    assert f(k) <= 0.5 < f(k - 1)
    assert codes.union_k(np.zeros(len(codes.EDGES), dtype=np.int64), 0.5) == 1


def test_worst_k_and_angles_of_two_points():
    data = dataset.from_arrays(np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([1, 2]))
    L = codes.lift(data)
    assert (L.centre, L.h) == ([0, 0], 1)  # U = (+-1, 1)/sqrt 2: a right angle
    a = codes.angle_histogram(codes.unit_rows(L))
    assert abs(a.theta_min - np.pi / 2) < 1e-12 and a.pair == (0, 1) and a.counts.sum() == 1
    # the angle pi/2 is binned down to the edge below it, so one hyperplane misses with probability > 1/2
    assert codes.union_k(a.counts, 0.5) == 2 and codes.worst_k(a.theta_min, 2, 0.5) == 2  # ceil(2 ln 2)


def test_lift_rounds_the_mean_half_to_even_and_takes_a_power_of_two_height():
    assert [codes.ceil_log2_root(S) for S in (0, 1, 2, 4, 5, 16, 17)] == [0, 0, 1, 1, 2, 2, 3]
    data = dataset.from_arrays(np.array([[3.0, 0.0], [0.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([1] * 4))
    L = codes.lift(data)  # mean (1, 1/2): rounds to (1, 0); radius 3 -> grid 1
    assert (L.D, L.grid, L.centre, L.h) == (1, 1, [1, 0], 2)
    rng = random.Random(0)
    for _ in range(20):
        X = np.array([[rng.randint(-(10**6), 10**6) for _ in range(3)] for _ in range(5)], dtype=float)
        L = codes.lift(dataset.from_arrays(X, np.arange(5)))
        R2 = max(sum((v - c) ** 2 for v, c in zip(r, L.centre)) for r in L.X)
        assert L.h * L.h >= R2 > (L.h // 2) ** 2 or L.h == 1
        assert all(c % L.grid == 0 for c in L.centre) and L.grid == 2 ** max(0, L.grid.bit_length() - 1)


def test_private_blocks_pick_the_first_block_no_group_member_shares():
    # b0 = 1 group bit, two blocks of b = 1 bit: E = (group, block 1, block 2)
    E = np.array([[0, 0, 1], [0, 1, 1], [0, 1, 0], [1, 0, 0]])
    group, private = codes.private_blocks(E, 1, 1, 2)
    assert group.tolist() == [0, 0, 0, 1]
    # R0 = 2, R = 2: block 1 value v -> 2 + v, block 2 -> 4 + v; point 1 shares block 1 with point 2 and
    # block 2 with point 0, so it has no private block
    assert private.tolist() == [2, -1, 4, 2]
    group, private = codes.private_blocks(np.array([[0, 1], [0, 1]]), 1, 1, 1)
    assert private.tolist() == [-1, -1]


# ------------------------------------------------------------------ verified sizing: refinement and pruning


def test_signs_on_a_subset_of_points_match_the_full_codes():
    rng = np.random.default_rng(5)
    X = rng.integers(-50, 50, (30, 3)).tolist()
    L = codes.Lift(X, 1, [1, -2, 0], 64, 1)
    A, s = rng.integers(-4, 5, (9, 3)), [int(v) for v in rng.integers(-60, 60, 9)]
    full = codes.signs(codes.centred(L), A, s)
    assert (full == _brute_bits(L.centred(), A, s)).all()
    idx = np.array([2, 3, 17, 29])
    assert (codes.signs(codes.centred(L), A, s, idx) == full[idx]).all()
    assert (codes.pack(full) == codes.code_bits(L, A, s)).all()


def test_partition_refines_until_every_point_is_alone():
    bits = np.array([[0, 0, 1], [0, 1, 1], [0, 0, 0], [1, 1, 1], [0, 0, 1]])  # rows 0 and 4 never split
    part = codes.Partition(5)
    assert part.refine(bits[:, 0]) and part.active.tolist() == [0, 1, 2, 4]  # point 3 alone
    assert not part.refine(np.array([1, 1, 1, 1]))  # a constant bit splits nothing
    assert part.refine(bits[part.active, 1]) and part.active.tolist() == [0, 2, 4]
    assert part.refine(bits[part.active, 2]) and part.active.tolist() == [0, 4] and not part.done
    assert part.refine(np.array([0, 1])) and part.done
    assert codes.Partition(1).done


@pytest.mark.parametrize("seed", range(4))
def test_pruned_columns_keep_rows_distinct_and_each_kept_column_is_needed(seed):
    rng = np.random.default_rng(seed)
    bits = rng.random((60, 40)) < 0.3
    bits = bits[np.unique(bits, axis=0, return_index=True)[1]]
    order = rng.permutation(40).tolist()
    keep = codes.prune_columns(bits, order)
    assert codes.distinct(bits[:, keep])
    for t in np.flatnonzero(keep):  # greedy: dropping any kept column now makes two rows equal
        trial = keep.copy()
        trial[t] = False
        assert not codes.distinct(bits[:, trial])
    assert keep.sum() >= 6  # 60 distinct rows need 6 bits
    assert codes.prune_columns(bits, order).tolist() == keep.tolist()


def test_pruning_never_drops_the_last_column():
    assert codes.prune_columns(np.array([[True, False]]), [0, 1]).tolist() == [False, True]


def test_equal_hashes_are_settled_by_comparing_the_rows():
    bits = np.array([[1, 0, 1], [0, 1, 1], [1, 1, 0]], dtype=bool)
    same = np.zeros(3, dtype=np.uint64)  # every hash equal: the rows decide
    assert codes._distinct_given_hash(bits, np.array([True, True, False]), same)
    assert not codes._distinct_given_hash(bits, np.array([False, False, True]), same)
