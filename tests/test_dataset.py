"""Datasets (specs/README.md section 2) and their exact extreme distances (netcert.separation).

Expected digests, values and pairs are computed here independently from the
spec text, with hashlib, fractions.Fraction and Python ints.
"""

import hashlib
import math
import random
import shutil
import time
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform

from netcert import dataset, separation
from netcert.errors import DatasetError


# ---------------------------------------------------------------- helpers


def frac(q) -> Fraction:
    return Fraction(int(q.numerator), int(q.denominator))


def canon(value: Fraction) -> str:
    """Canonical decimal rational of specs/README.md section 1, written independently."""
    value = Fraction(value)
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def spec_digest(X_rows, y) -> str:
    """sha256 of the text of section 2.5, from exact values (Fractions or ints)."""
    d = len(X_rows[0])
    lines = ["netcert.dataset 1", f"{len(X_rows)} {d}"]
    for row, label in zip(X_rows, y):
        lines.append(" ".join(canon(Fraction(v)) for v in list(row) + [label]))
    return hashlib.sha256(("\n".join(lines) + "\n").encode("utf-8")).hexdigest()


def exact_rows(X) -> list[list[Fraction]]:
    """The exact values of a numpy array (floats widened exactly, ints as ints)."""
    return [[Fraction(v) for v in row] for row in np.asarray(X).tolist()]


def save_npz(tmp_path, name="d.npz", **arrays) -> Path:
    path = tmp_path / name
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    return path


def write_csv(tmp_path, text, name="d.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def points(ds) -> list[tuple[Fraction, ...]]:
    return [tuple(frac(v) for v in ds.point(i)) for i in range(ds.n)]


def refused(path, *fragments):
    """Loading ``path`` raises DatasetError whose message names the file and every fragment."""
    with pytest.raises(DatasetError) as info:
        dataset.load(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message, message
    for fragment in fragments:
        assert fragment in message, message
    assert info.value.exit_code == 3
    return message


def brute_separation(pts):
    """min ||x_i - x_j||^2 over i < j and the lexicographically smallest pair, by brute force.

    The points are put over one common denominator L, so the comparison is of
    Python integers; the value is returned as the Fraction D / L^2."""
    L = 1
    for p in pts:
        for v in p:
            L = math.lcm(L, Fraction(v).denominator)
    rows = [[int(Fraction(v) * L) for v in p] for p in pts]
    best, pair = None, None
    n = len(rows)
    for i in range(n):
        a = rows[i]
        for j in range(i + 1, n):
            b = rows[j]
            dist = sum((u - v) * (u - v) for u, v in zip(a, b))
            if best is None or dist < best:
                best, pair = dist, (i, j)
    return Fraction(best, L * L), pair


def check_separation(ds):
    sep = separation.min_sq_separation(ds)
    value, pair = brute_separation(points(ds))
    assert sep.value is not None
    assert frac(sep.value) == value
    assert tuple(sep.pair) == pair
    return sep


# ---------------------------------------------------------------- .npz refusals


def test_nan_in_X_names_file_and_index(tmp_path):
    X = np.arange(12, dtype=np.float64).reshape(4, 3)
    X[2, 1] = np.nan
    X[3, 0] = np.inf
    path = save_npz(tmp_path, X=X, y=np.arange(4))
    refused(path, "X[2, 1]", "X[3, 0]")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_in_y_names_index(tmp_path, bad):
    y = np.array([0.0, 1.0, 2.0, bad, 4.0])
    path = save_npz(tmp_path, X=np.arange(5.0).reshape(5, 1), y=y)
    refused(path, "y[3]")


def test_nan_in_float32_and_float16(tmp_path):
    X = np.zeros((3, 2), dtype=np.float32)
    X[1, 1] = np.float32("inf")
    refused(save_npz(tmp_path, "a.npz", X=X, y=np.arange(3)), "X[1, 1]")
    X = np.zeros((3, 2), dtype=np.float16)
    X[0, 1] = np.float16("nan")
    refused(save_npz(tmp_path, "b.npz", X=X, y=np.arange(3)), "X[0, 1]")


def test_n_zero(tmp_path):
    path = save_npz(tmp_path, X=np.zeros((0, 3)), y=np.zeros(0, dtype=np.int64))
    refused(path, "n = 0")


def test_d_zero(tmp_path):
    path = save_npz(tmp_path, X=np.zeros((3, 0)), y=np.arange(3))
    refused(path, "d = 0")


def test_mismatched_lengths(tmp_path):
    path = save_npz(tmp_path, X=np.zeros((3, 2)), y=np.arange(4))
    refused(path, "3", "4")


@pytest.mark.parametrize(
    "X, y, what",
    [
        (np.arange(3.0), np.arange(3), "X"),
        (np.zeros((2, 2, 2)), np.arange(2), "X"),
        (np.float64(1.0), np.arange(1), "X"),
        (np.zeros((3, 2)), np.zeros((3, 1)), "y"),
        (np.zeros((3, 2)), np.int64(1), "y"),
    ],
)
def test_rank_errors(tmp_path, X, y, what):
    path = save_npz(tmp_path, X=X, y=y)
    message = refused(path, "rank")
    assert what in message


@pytest.mark.parametrize("keys, missing", [("X", "y"), ("y", "X"), ("", "X")])
def test_missing_key(tmp_path, keys, missing):
    arrays = {"X": np.zeros((2, 2)), "y": np.arange(2), "other": np.arange(3)}
    kept = {k: v for k, v in arrays.items() if k in keys or k == "other"}
    path = save_npz(tmp_path, **kept)
    message = refused(path, "missing")
    assert missing in message


def test_other_keys_are_ignored(tmp_path):
    path = save_npz(tmp_path, X=np.eye(2), y=np.arange(2), z=np.array(["text"]), meta=np.zeros(3))
    ds = dataset.load(path)
    assert ds.n == 2 and ds.d == 2


@pytest.mark.parametrize(
    "which, array",
    [
        ("X", np.array([[True, False], [False, True]])),
        ("y", np.array([True, False])),
        ("X", np.array([[1 + 2j, 0], [0, 1]])),
        ("y", np.array([1j, 2])),
        ("X", np.array([["a", "b"], ["c", "d"]])),
        ("y", np.array(["a", "b"])),
        ("X", np.array([[b"a", b"b"], [b"c", b"d"]])),
        ("X", np.array([["2020-01-01", "2020-01-02"], ["2020-01-03", "2020-01-04"]], dtype="datetime64[D]")),
        ("y", np.array([1, 2], dtype="timedelta64[s]")),
    ],
)
def test_refused_dtypes(tmp_path, which, array):
    arrays = {"X": np.eye(2), "y": np.arange(2)}
    arrays[which] = array
    path = save_npz(tmp_path, **arrays)
    refused(path, which, "dtype")


def test_pickled_object_array_refused(tmp_path):
    path = tmp_path / "obj.npz"
    np.savez(path, X=np.array([[1, 2], [3, 4]], dtype=object), y=np.arange(2))
    refused(path)


def test_from_arrays_refuses_object_dtype():
    with pytest.raises(DatasetError, match="dtype"):
        dataset.from_arrays(np.array([[1, 2]], dtype=object), np.array([1]))


@pytest.mark.parametrize("content", [b"hello, not a zip", b"", b"PK\x03\x04 truncated"])
def test_not_a_zip_file(tmp_path, content):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    refused(path)


def test_npy_file_with_npz_name_refused(tmp_path):
    """np.load returns a bare array for .npy content: refused like any non-archive."""
    npy = tmp_path / "a.npy"
    np.save(npy, np.zeros((3, 2)))
    path = tmp_path / "a.npz"
    shutil.copyfile(npy, path)
    refused(path)


def test_missing_file(tmp_path):
    refused(tmp_path / "nope.npz", "cannot read")


def test_unknown_suffix(tmp_path):
    path = tmp_path / "d.txt"
    path.write_text("1,2\n")
    refused(path, ".txt")


def test_conflicting_duplicates_name_both_rows_and_labels(tmp_path):
    X = np.array([[0.5, 1.0], [2.0, 3.0], [0.5, 1.0], [4.0, 4.0]])
    y = np.array([7, 1, 9, 2])
    path = save_npz(tmp_path, X=X, y=y)
    refused(path, "rows 0 and 2", "labels 7 and 9")


def test_conflicting_duplicates_across_dtypes_and_real_labels(tmp_path):
    # 0.25 as float32 and float64 are the same exact point.
    X = np.array([[0.25], [1.0], [0.25]], dtype=np.float32)
    y = np.array([0.5, 1.0, 0.75])
    message = refused(save_npz(tmp_path, X=X, y=y), "rows 0 and 2")
    assert "1/2" in message and "3/4" in message


# ---------------------------------------------------------------- merging


def test_same_label_duplicates_are_merged(tmp_path):
    X = np.array([[1.0, 2.0], [3.0, 4.0], [1.0, 2.0], [5.0, 6.0], [3.0, 4.0], [1.0, 2.0]])
    y = np.array([0, 1, 0, 2, 1, 0])
    path = save_npz(tmp_path, X=X, y=y)
    ds = dataset.load(path)
    assert ds.rows == 6
    assert ds.n == 3
    assert ds.d == 2
    assert ds.kept == (0, 1, 3)
    assert sorted(ds.merged) == [(2, 0), (4, 1), (5, 0)]
    assert points(ds) == [(1, 2), (3, 4), (5, 6)]
    assert [frac(v) for v in ds.labels] == [0, 1, 2]
    # The digest is of the rows as in the file, before merging.
    assert ds.digest == spec_digest(exact_rows(X), y.tolist())
    assert ds.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_merging_compares_exact_values_across_forms(tmp_path):
    path = write_csv(tmp_path, "1/2,3\n0.5,3\n2/4,3\n5e-1,3\n1,4\n")
    ds = dataset.load(path)
    assert ds.rows == 5 and ds.n == 2
    assert ds.kept == (0, 4)
    assert points(ds) == [(Fraction(1, 2),), (Fraction(1),)]


def test_separation_indices_refer_to_distinct_points(tmp_path):
    X = np.array([[0.0], [10.0], [0.0], [10.0], [3.0], [4.0]])
    y = np.array([1, 2, 1, 2, 3, 4])
    ds = dataset.load(save_npz(tmp_path, X=X, y=y))
    assert ds.n == 4
    sep = separation.min_sq_separation(ds)
    assert frac(sep.value) == 1 and tuple(sep.pair) == (2, 3)


# ---------------------------------------------------------------- exact conversion and digest


def test_float32_and_float64_files_have_one_digest(tmp_path):
    rng = np.random.default_rng(0)
    X32 = rng.standard_normal((30, 4)).astype(np.float32)
    y = rng.integers(-5, 5, 30)
    a = dataset.load(save_npz(tmp_path, "a.npz", X=X32, y=y))
    b = dataset.load(save_npz(tmp_path, "b.npz", X=X32.astype(np.float64), y=y))
    assert a.digest == b.digest
    assert a.sha256 != b.sha256
    assert points(a) == points(b)
    assert a.digest == spec_digest(exact_rows(X32.astype(np.float64)), y.tolist())
    # The same exact values written as decimals in a CSV file: one digest again.
    text = "\n".join(
        ",".join(str(Decimal(float(v))) for v in row) + f",{label}" for row, label in zip(X32.tolist(), y.tolist())
    )
    c = dataset.load(write_csv(tmp_path, "x0,x1,x2,x3,label\n" + text + "\n"))
    assert c.digest == a.digest
    assert points(c) == points(a)


def test_float_values_are_the_dyadic_rationals_they_denote(tmp_path):
    X = np.array([[0.1, -2.5e-300], [1e300, 5e-324], [-0.0, 3.0]])
    y = np.array([0.1, 0.2, 0.3])
    ds = dataset.load(save_npz(tmp_path, X=X, y=y))
    assert points(ds) == [tuple(Fraction(v) for v in row) for row in X.tolist()]
    assert [frac(v) for v in ds.labels] == [Fraction(0.1), Fraction(0.2), Fraction(0.3)]
    assert ds.label_kind == "real"
    assert ds.digest == spec_digest(exact_rows(X), [Fraction(v) for v in y.tolist()])


def test_csv_decimal_is_exact_not_the_float(tmp_path):
    ds = dataset.load(write_csv(tmp_path, "0.1,+2.50,-1.5e-3,1E2,3/6,-4/10,0\n"))
    assert points(ds) == [
        (Fraction(1, 10), Fraction(5, 2), Fraction(-3, 2000), Fraction(100), Fraction(1, 2), Fraction(-2, 5))
    ]
    assert [frac(v) for v in ds.labels] == [0]
    assert ds.label_kind == "integer"
    assert ds.digest == spec_digest(
        [[Fraction(1, 10), Fraction(5, 2), Fraction(-3, 2000), 100, Fraction(1, 2), Fraction(-2, 5)]], [0]
    )
    assert frac(ds.point(0)[0]) != Fraction(0.1)


def test_float16_values(tmp_path):
    X = np.array([[0.1, 65504.0], [-6e-8, 1.0]], dtype=np.float16)
    y = np.array([0.5, -1.0], dtype=np.float16)
    ds = dataset.load(save_npz(tmp_path, X=X, y=y))
    expected = [tuple(Fraction(float(v)) for v in row) for row in X]
    assert points(ds) == expected
    assert points(ds)[0][0] == Fraction(819, 8192)
    assert ds.label_kind == "real"
    assert ds.digest == spec_digest([list(r) for r in expected], [Fraction(1, 2), -1])


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64])
def test_integer_dtypes(tmp_path, dtype):
    info = np.iinfo(dtype)
    X = np.array([[info.min, info.max], [0, 1], [info.max, info.min]], dtype=dtype)
    y = np.array([info.max, 0, info.min], dtype=dtype)
    ds = dataset.load(save_npz(tmp_path, X=X, y=y))
    assert ds.label_kind == "integer"
    assert points(ds) == [(int(info.min), int(info.max)), (0, 1), (int(info.max), int(info.min))]
    assert [frac(v) for v in ds.labels] == [int(info.max), 0, int(info.min)]
    assert ds.digest == spec_digest(
        [[int(info.min), int(info.max)], [0, 1], [int(info.max), int(info.min)]], [int(info.max), 0, int(info.min)]
    )


def test_uint64_big_values_exact(tmp_path):
    big = [2**64 - 1, 2**63 + 1, 2**53 + 1, 2**64 - 2]
    X = np.array([[big[0], big[1]], [big[2], big[3]]], dtype=np.uint64)
    y = np.array([2**64 - 1, 2**53 + 1], dtype=np.uint64)
    ds = dataset.load(save_npz(tmp_path, X=X, y=y))
    assert points(ds) == [(big[0], big[1]), (big[2], big[3])]
    assert [frac(v) for v in ds.labels] == [2**64 - 1, 2**53 + 1]
    assert ds.digest == spec_digest([[big[0], big[1]], [big[2], big[3]]], [2**64 - 1, 2**53 + 1])
    sep = separation.min_sq_separation(ds)
    assert frac(sep.value) == (big[0] - big[2]) ** 2 + (big[1] - big[3]) ** 2
    assert frac(separation.max_sq_norm(ds)) == big[0] ** 2 + big[1] ** 2


@pytest.mark.skipif(np.finfo(np.longdouble).nmant <= 52, reason="longdouble is float64 here")
def test_longdouble_exact(tmp_path):
    X = np.array([[1, 2]], dtype=np.longdouble)
    X[0, 0] += np.longdouble(2) ** -60
    y = np.array([1.5], dtype=np.longdouble)
    ds = dataset.load(save_npz(tmp_path, X=X, y=y))
    assert points(ds) == [(1 + Fraction(1, 2**60), Fraction(2))]
    assert ds.label_kind == "real"
    assert ds.digest == spec_digest([[1 + Fraction(1, 2**60), 2]], [Fraction(3, 2)])


def test_label_kinds(tmp_path):
    assert dataset.load(save_npz(tmp_path, "a.npz", X=np.eye(2), y=np.array([1, 2]))).label_kind == "integer"
    assert dataset.load(save_npz(tmp_path, "b.npz", X=np.eye(2), y=np.array([1.0, 2.0]))).label_kind == "real"
    assert dataset.load(write_csv(tmp_path, "1,+2\n2,-3\n", "c.csv")).label_kind == "integer"
    assert dataset.load(write_csv(tmp_path, "1,2.0\n2,3\n", "d.csv")).label_kind == "real"
    assert dataset.load(write_csv(tmp_path, "1,1/2\n2,3\n", "e.csv")).label_kind == "real"
    assert dataset.load(write_csv(tmp_path, "1,1e2\n2,3\n", "f.csv")).label_kind == "real"


def test_digest_text_layout_small_example(tmp_path):
    ds = dataset.load(write_csv(tmp_path, "x,y,label\n1/2,-3,4\n0.25,7,-1/3\n"))
    text = "netcert.dataset 1\n2 2\n1/2 -3 4\n1/4 7 -1/3\n"
    assert ds.digest == hashlib.sha256(text.encode()).hexdigest()


def test_from_arrays_matches_load(tmp_path):
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((10, 3)), rng.integers(0, 3, 10)
    a = dataset.from_arrays(X, y)
    b = dataset.load(save_npz(tmp_path, X=X, y=y))
    assert a.digest == b.digest and points(a) == points(b)


# ---------------------------------------------------------------- .csv


def test_csv_header_and_blank_lines(tmp_path):
    ds = dataset.load(write_csv(tmp_path, "a, b ,label\n\n 1 , 2 , 3 \n   \n4,5,6\n\n"))
    assert ds.n == 2 and ds.d == 2
    assert points(ds) == [(1, 2), (4, 5)]
    assert [frac(v) for v in ds.labels] == [3, 6]


def test_csv_first_line_with_a_number_is_data(tmp_path):
    # "2" is a number literal, so the first line is not a header: "x1" is then unparsable.
    refused(write_csv(tmp_path, "x1,2,y\n1,2,3\n"), "line 1", "column 1")


def test_csv_header_only_is_empty(tmp_path):
    refused(write_csv(tmp_path, "a,b,c\n\n"), "n = 0")
    refused(write_csv(tmp_path, "", "e.csv"), "n = 0")


def test_csv_unparsable_field_names_line_and_column(tmp_path):
    refused(write_csv(tmp_path, "a,b,y\n1,2,3\n\n4,x,6\n"), "line 4", "column 2", "'x'")
    refused(write_csv(tmp_path, "1,2,3\n4,5,six\n", "l.csv"), "line 2", "label")


@pytest.mark.parametrize(
    "field",
    [
        "1.",
        ".5",
        "-.5",
        "1.e3",
        "1e",
        "e3",
        "1/",
        "/2",
        "1/2/3",
        "0x10",
        "inf",
        "nan",
        "1,5".replace(",", ";"),
        "1 2",
        "--1",
        "+-1",
        "1/2e3",
        "½",
        "1_000",
    ],
)
def test_csv_refused_literals(tmp_path, field):
    refused(write_csv(tmp_path, f"0,1\n{field},2\n"), "line 2", "column 1")


@pytest.mark.parametrize("field", ["1/0", "-3/000", "0/0"])
def test_csv_zero_denominator(tmp_path, field):
    refused(write_csv(tmp_path, f"0,1\n{field},2\n"), "line 2", "column 1", "zero denominator")


def test_csv_ragged_rows(tmp_path):
    refused(write_csv(tmp_path, "1,2,3\n4,5,6\n7,8\n"), "line 3", "2 fields", "3")
    refused(write_csv(tmp_path, "a,b\n1,2\n\n3,4,5\n", "b.csv"), "line 4", "3 fields")


def test_csv_needs_two_fields(tmp_path):
    refused(write_csv(tmp_path, "1\n2\n"), "line 1")


def test_csv_huge_exponent_refused_quickly(tmp_path):
    start = time.perf_counter()
    refused(write_csv(tmp_path, "0,1\n1e10001,2\n"), "line 2", "column 1")
    refused(write_csv(tmp_path, "0,1\n1e-99999999999999999999,2\n", "b.csv"), "line 2")
    refused(write_csv(tmp_path, "0,1\n2,1e123456789\n", "c.csv"), "line 2", "label")
    refused(write_csv(tmp_path, "0,1\n" + "1" * 400_000 + ",2\n", "d.csv"), "line 2")
    assert time.perf_counter() - start < 2.0


def test_csv_exponent_at_the_limit_is_exact(tmp_path):
    ds = dataset.load(write_csv(tmp_path, "1e-10000,1\n1e10000,2\n"))
    assert points(ds) == [(Fraction(1, 10**10000),), (Fraction(10**10000),)]


def test_csv_size_limit_follows_env(tmp_path, monkeypatch):
    monkeypatch.setenv("NETCERT_MAX_BITS", "1000")
    refused(write_csv(tmp_path, "1e400,2\n"), "line 1")
    ds = dataset.load(write_csv(tmp_path, "1e200,2\n", "ok.csv"))
    assert points(ds) == [(Fraction(10**200),)]


def test_csv_not_utf8(tmp_path):
    path = tmp_path / "bin.csv"
    path.write_bytes(b"1,2\n\xff\xfe,3\n")
    refused(path, "UTF-8")


def test_csv_sha256_is_of_the_file_bytes(tmp_path):
    path = write_csv(tmp_path, "1,2\n3,4\n")
    ds = dataset.load(path)
    assert ds.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert ds.digest == spec_digest([[1], [3]], [2, 4])


def test_csv_conflicting_duplicates(tmp_path):
    refused(write_csv(tmp_path, "x,y\n1,2\n0.5,1\n1/2,2\n"), "rows 1 and 2")


def test_csv_conflicting_duplicates_name_lines_and_the_label_column(tmp_path):
    # rows count from 0 like every index of a certificate; lines and columns from 1, as an editor shows them
    refused(
        write_csv(tmp_path, "x,y\n\n1,2\n0.5,1\n1/2,2\n"),
        "rows 1 and 2 (lines 4 and 5, labels 1 and 2)",
        "the label is column 2, the last",
    )


# ---------------------------------------------------------------- separation and max_sq_norm


@pytest.mark.parametrize(
    "n, d, seed",
    [
        (2, 1, 0),
        (5, 3, 1),
        (60, 2, 2),
        (200, 4, 3),  # exact all-pairs path (n <= 200)
        (300, 1, 4),
        (250, 2, 5),
        (260, 3, 6),
        (240, 16, 7),  # k-d tree path
        (230, 17, 8),
        (260, 40, 9),  # Gram path (d > 16)
    ],
)
@pytest.mark.slow
def test_min_sq_separation_random_floats(n, d, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    ds = dataset.from_arrays(X, np.zeros(n, dtype=np.int64))
    check_separation(ds)


@pytest.mark.parametrize("d", [1, 3, 20])
def test_min_sq_separation_clustered(d):
    """Pairs 1e-9 apart hidden among well-spread points: only exact comparison tells them apart."""
    rng = np.random.default_rng(10 + d)
    n = 260
    X = rng.standard_normal((n, d))
    for k in range(0, 40, 2):
        X[k + 1] = X[k] + 1e-9 * rng.standard_normal(d)
    X[rng.permutation(n)] = X.copy()
    ds = dataset.from_arrays(X, np.zeros(n, dtype=np.int64))
    sep = check_separation(ds)
    assert 0 < frac(sep.value) < Fraction(1, 10**14)


@pytest.mark.parametrize("d", [1, 2, 20])
def test_min_sq_separation_float32_data(d):
    rng = np.random.default_rng(20 + d)
    X = (rng.standard_normal((250, d)) * 1000).astype(np.float32)
    X[7] = np.nextafter(X[3], np.float32(np.inf))
    ds = dataset.from_arrays(X, np.zeros(250, dtype=np.int64))
    check_separation(ds)


@pytest.mark.parametrize("d", [2, 18])
def test_min_sq_separation_csv_rationals(tmp_path, d):
    """Non-float data (thirds, sevenths, long decimals): the float image has a rounding error bound."""
    rng = random.Random(d)
    n = 240
    rows = []
    for i in range(n):
        row = [f"{rng.randint(-3000, 3000)}/{rng.choice([1, 3, 7, 9])}" for _ in range(d)]
        rows.append(row)
    # Two pairs closer than float64 can tell from their coordinates' magnitude.
    rows[50][0] = "1234.000000000000000001"
    rows[51] = list(rows[50])
    rows[51][0] = "1234.000000000000000002"
    rows[120] = list(rows[50])
    rows[120][0] = "1234.0000000000000000015"
    text = "\n".join(",".join(r) + f",{i % 5}" for i, r in enumerate(rows)) + "\n"
    ds = dataset.load(write_csv(tmp_path, text))
    assert ds.floats is None
    sep = check_separation(ds)
    assert frac(sep.value) == (Fraction("1234.0000000000000000015") - Fraction("1234.000000000000000001")) ** 2
    assert tuple(sep.pair) == (50, 120)


@pytest.mark.parametrize("d", [2, 20])
def test_min_sq_separation_big_integers(d):
    """int64 coordinates near 2^60 differing by units: float64 cannot see the differences."""
    rng = np.random.default_rng(30 + d)
    n = 250
    X = (2**60 + rng.integers(0, 2000, (n, d))).astype(np.int64)
    X = np.unique(X, axis=0)
    X = X[rng.permutation(len(X))]
    ds = dataset.from_arrays(X, np.zeros(len(X), dtype=np.int64))
    assert ds.floats is None
    check_separation(ds)


def test_min_sq_separation_ties_on_a_grid():
    """Shuffled integer grid: many pairs at distance 1, the smallest pair (i, j) wins."""
    rng = np.random.default_rng(40)
    grid = np.array([(a, b) for a in range(15) for b in range(15)], dtype=np.int64)
    for trial in range(3):
        X = grid[rng.permutation(len(grid))]
        ds = dataset.from_arrays(X, np.zeros(len(X), dtype=np.int64))
        sep = check_separation(ds)
        assert frac(sep.value) == 1
    # Float data on the same grid, scaled by 1/8 (the float fast path).
    X = grid[rng.permutation(len(grid))] / 8.0
    sep = check_separation(dataset.from_arrays(X, np.zeros(len(X), dtype=np.int64)))
    assert frac(sep.value) == Fraction(1, 64)


def test_min_sq_separation_ties_3d_grid_small_n():
    rng = np.random.default_rng(41)
    grid = np.array([(a, b, c) for a in range(5) for b in range(5) for c in range(5)], dtype=np.float64)
    ds = dataset.from_arrays(grid[rng.permutation(len(grid))], np.zeros(len(grid), dtype=np.int64))
    assert ds.n == 125
    sep = check_separation(ds)
    assert frac(sep.value) == 1


def test_min_sq_separation_ties_high_dimension():
    """Distinct binary vectors in d = 20: many ties at distance 1 (Gram path)."""
    rng = np.random.default_rng(42)
    seen, rows = set(), []
    while len(rows) < 260:
        v = tuple(int(b) for b in rng.integers(0, 2, 20))
        if v not in seen:
            seen.add(v)
            rows.append(v)
    for dtype in (np.int64, np.float64):
        ds = dataset.from_arrays(np.array(rows, dtype=dtype), np.zeros(len(rows), dtype=np.int64))
        check_separation(ds)


def test_min_sq_separation_one_point():
    ds = dataset.from_arrays(np.array([[1.0, 2.0]]), np.array([3]))
    sep = separation.min_sq_separation(ds)
    assert sep.value is None and sep.pair is None
    assert frac(separation.max_sq_norm(ds)) == 5


def test_min_sq_separation_mixed_column_scales(tmp_path):
    """Columns with different denominators are put over one exact common denominator."""
    ds = dataset.load(write_csv(tmp_path, "1/3,0.5,1\n2/3,0.25,2\n1/7,1e-3,3\n"))
    check_separation(ds)
    pts = points(ds)
    assert frac(separation.max_sq_norm(ds)) == max(sum(v * v for v in p) for p in pts)


@pytest.mark.parametrize("scale", [1e200, 1e-160, 1e-300])
@pytest.mark.parametrize("d", [2, 20])
def test_min_sq_separation_extreme_float_scales(scale, d):
    """Valid float64 data whose squared distances over- or underflow float64: still exact."""
    rng = np.random.default_rng(50 + d)
    X = rng.standard_normal((220, d)) * scale
    ds = dataset.from_arrays(X, np.zeros(220, dtype=np.int64))
    check_separation(ds)


def test_min_sq_separation_csv_beyond_float_range(tmp_path):
    """CSV values beyond the float64 range are valid (within the size limit): still exact."""
    rng = random.Random(7)
    text = "".join(f"{rng.randint(1, 10**6)}e400,{rng.randint(-9, 9)}e350,{i % 2}\n" for i in range(230))
    ds = dataset.load(write_csv(tmp_path, text))
    check_separation(ds)


def test_max_sq_norm_exact(tmp_path):
    rng = np.random.default_rng(60)
    X = rng.standard_normal((50, 7)) * 10.0 ** rng.integers(-5, 5, (50, 1))
    ds = dataset.from_arrays(X, np.zeros(50, dtype=np.int64))
    expected = max(sum(Fraction(v) ** 2 for v in row) for row in X.tolist())
    assert frac(separation.max_sq_norm(ds)) == expected
    ds = dataset.load(write_csv(tmp_path, "0.1,-0.2,1\n1/3,0,2\n"))
    assert frac(separation.max_sq_norm(ds)) == Fraction(1, 9)


@pytest.mark.slow
def test_separation_is_fast_enough():
    rng = np.random.default_rng(70)
    start = time.perf_counter()
    for d in (3, 30):
        X = rng.standard_normal((3000, d))
        ds = dataset.from_arrays(X, np.zeros(3000, dtype=np.int64))
        sep = separation.min_sq_separation(ds)
        i, j = sep.pair
        assert frac(sep.value) == sum((Fraction(a) - Fraction(b)) ** 2 for a, b in zip(X[i].tolist(), X[j].tolist()))
        # Brute force in float64 (accurate enough to identify the pair on Gaussian data).
        D = squareform(pdist(X, "sqeuclidean"))
        D[np.tril_indices(3000)] = np.inf
        k = np.unravel_index(np.argmin(D), D.shape)
        assert (i, j) == (int(k[0]), int(k[1]))
    assert time.perf_counter() - start < 10
