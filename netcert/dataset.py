"""Datasets as exact rationals: loading, refusals, merging, digest.

The rules are those of ``specs/README.md`` section 2. What is exact:

- every coordinate and label is the rational its file denotes: a float is the
  dyadic rational m * 2^e it encodes, a CSV field ``0.1`` is 1/10;
- coordinates are held per column as integers over a positive column scale,
  x[i][j] = num[i][j] / scale[j] with scale[j] the lcm of the column's
  denominators (a power of two for float data), which is the integer form the
  constructions and the evaluator work in (classic.md section 1.1);
- identical points with equal labels are merged (first occurrence kept);
  identical points with different labels are refused, since no function can
  interpolate them.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from netcert import exact
from netcert.errors import DatasetError, NumberError
from netcert.exact import Int, Rat, mpq, mpz

INTEGER = "integer"
REAL = "real"
_MAX_LISTED = 5
_MAX_EXPONENT = 10**4


@dataclass(frozen=True)
class Dataset:
    """The distinct points of a dataset file, exactly.

    ``num[i][j] / scale[j]`` is coordinate j of distinct point i; ``labels[i]``
    its label. ``kept[i]`` is that point's row in the file, and ``merged`` lists
    ``(dropped_row, kept_row)`` for every row merged into an earlier identical one.
    """

    num: tuple[tuple[int, ...], ...]
    scale: tuple[Int, ...]
    labels: tuple[Rat, ...]
    label_kind: str
    rows: int
    kept: tuple[int, ...]
    merged: tuple[tuple[int, int], ...]
    digest: str
    sha256: str | None = None
    path: str | None = None
    floats: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def n(self) -> int:
        return len(self.num)

    @property
    def d(self) -> int:
        return len(self.scale)

    def point(self, i: int) -> tuple[Rat, ...]:
        """Point i as exact rationals."""
        return tuple(mpq(v, s) for v, s in zip(self.num[i], self.scale))


@dataclass(frozen=True)
class _Columns:
    """Exact values of a table before merging: per-column integers over scales."""

    num: list[list[int]]
    scale: list[Int]
    labels: list[Rat]
    label_kind: str
    floats: np.ndarray | None


def load(path: str | Path) -> Dataset:
    """Read a ``.npz`` or ``.csv`` dataset file (``specs/README.md`` section 2).

    Raises ``DatasetError`` with a one-line message naming the file and the
    offending indices or field.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DatasetError(f"{path}: cannot read: {e.strerror or e}") from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".npz":
            cols = _read_npz(path)
        elif suffix == ".csv":
            cols = _read_csv(raw)
        else:
            raise DatasetError(f"unknown dataset type {suffix!r} (expected .npz or .csv)")
    except (DatasetError, NumberError) as e:
        raise DatasetError(f"{path}: {e}") from None
    data = from_columns(cols, sha256=hashlib.sha256(raw).hexdigest(), path=str(path))
    return data


def from_arrays(X: object, y: object, *, path: str | None = None) -> Dataset:
    """A dataset from in-memory arrays, under the same rules as an ``.npz`` file."""
    try:
        cols = _columns_from_arrays(np.asarray(X), np.asarray(y))
    except (DatasetError, NumberError) as e:
        raise DatasetError(f"{path or 'arrays'}: {e}") from None
    return from_columns(cols, path=path)


def from_columns(cols: _Columns, *, sha256: str | None = None, path: str | None = None) -> Dataset:
    """Merge identical points and compute the digest (raises on conflicting labels)."""
    rows = len(cols.labels)
    digest = digest_of(cols.num, cols.scale, cols.labels)
    first: dict[tuple[int, ...], int] = {}
    kept: list[int] = []
    merged: list[tuple[int, int]] = []
    conflicts: list[str] = []
    for i, row in enumerate(cols.num):
        key = tuple(row)
        j = first.setdefault(key, i)
        if j == i:
            kept.append(i)
        elif cols.labels[j] == cols.labels[i]:
            merged.append((i, j))
        elif len(conflicts) < _MAX_LISTED:
            conflicts.append(f"rows {j} and {i} (labels {cols.labels[j]} and {cols.labels[i]})")
    if conflicts:
        where = f"{path}: " if path else ""
        raise DatasetError(f"{where}identical points with different labels, no function can interpolate them: "
                           + "; ".join(conflicts))
    floats = cols.floats[kept] if cols.floats is not None else None
    return Dataset(
        num=tuple(tuple(cols.num[i]) for i in kept),
        scale=tuple(cols.scale),
        labels=tuple(cols.labels[i] for i in kept),
        label_kind=cols.label_kind,
        rows=rows,
        kept=tuple(kept),
        merged=tuple(merged),
        digest=digest,
        sha256=sha256,
        path=path,
        floats=floats,
    )


def digest_of(num: list[list[int]], scale: list[Int], labels: list[Rat]) -> str:
    """sha256 of the canonical text of the exact rows (``specs/README.md`` 2.5)."""
    h = hashlib.sha256()
    d = len(scale)
    h.update(f"netcert.dataset 1\n{len(labels)} {d}\n".encode())
    formats = [_column_formatter(s) for s in scale]
    for row, label in zip(num, labels):
        fields = [f(v) for f, v in zip(formats, row)]
        fields.append(str(label))
        h.update((" ".join(fields) + "\n").encode())
    return h.hexdigest()


def _column_formatter(scale: Int):
    """Canonical string of v / scale, with a fast path for integer columns."""
    if scale == 1:
        return str
    return lambda v: str(mpq(v, scale))


# -- .npz ------------------------------------------------------------------

def _read_npz(path: Path) -> _Columns:
    # np.load also reads .npy and pickle content (returning no archive): only a zip is an .npz.
    if not zipfile.is_zipfile(path):
        raise DatasetError("not a readable .npz file (not a zip archive)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [k for k in ("X", "y") if k not in archive.files]
            if missing:
                raise DatasetError(f"missing array {' and '.join(missing)} (found: {', '.join(archive.files) or 'none'})")
            X, y = archive["X"], archive["y"]
    except DatasetError:
        raise
    except ValueError as e:
        raise DatasetError(f"refused array: {e}") from None
    except (OSError, zipfile.BadZipFile, EOFError) as e:
        raise DatasetError(f"not a readable .npz file ({e})") from None
    return _columns_from_arrays(X, y)


def _columns_from_arrays(X: np.ndarray, y: np.ndarray) -> _Columns:
    _check_shapes(X, y)
    _check_dtype("X", X)
    _check_dtype("y", y)
    _check_finite("X", X)
    _check_finite("y", y)
    num, scale = _exact_columns(X)
    labels = [exact.float_to_rat(v) if isinstance(v, float) else mpq(v) for v in _exact_list(y)]
    kind = INTEGER if y.dtype.kind in "iu" else REAL
    floats = X.astype(np.float64) if X.dtype.kind == "f" and X.dtype.itemsize <= 8 else None
    return _Columns(num, scale, labels, kind, floats)


def _check_shapes(X: np.ndarray, y: np.ndarray) -> None:
    if X.ndim != 2:
        raise DatasetError(f"X must have rank 2 (n, d), got shape {X.shape}")
    if y.ndim != 1:
        raise DatasetError(f"y must have rank 1 (n,), got shape {y.shape}")
    if X.shape[0] == 0:
        raise DatasetError("no points (n = 0)")
    if X.shape[1] == 0:
        raise DatasetError("points have no coordinates (d = 0)")
    if X.shape[0] != y.shape[0]:
        raise DatasetError(f"X has {X.shape[0]} rows but y has {y.shape[0]} labels")


def _check_dtype(name: str, a: np.ndarray) -> None:
    if a.dtype.kind not in "iuf":
        raise DatasetError(f"{name} has dtype {a.dtype}, expected an integer or float dtype")


def _check_finite(name: str, a: np.ndarray) -> None:
    if a.dtype.kind != "f":
        return
    bad = np.argwhere(~np.isfinite(a))
    if len(bad):
        where = ", ".join(f"{name}[{', '.join(map(str, idx))}]" for idx in bad[:_MAX_LISTED].tolist())
        more = f" and {len(bad) - _MAX_LISTED} more" if len(bad) > _MAX_LISTED else ""
        raise DatasetError(f"NaN or infinity at {where}{more}")


def _exact_list(a: np.ndarray) -> list:
    """Python ints for integer arrays, Python floats (exact widening) for floats."""
    if a.dtype.kind == "f" and a.dtype.itemsize > 8:
        return [mpq(*v.as_integer_ratio()) for v in a.ravel()]
    if a.dtype.kind == "f":
        return a.astype(np.float64).tolist()
    return a.tolist()


def _exact_columns(X: np.ndarray) -> tuple[list[list[int]], list[Int]]:
    """Per-column integer numerators and scales of an integer or float array."""
    n, d = X.shape
    if X.dtype.kind in "iu":
        return X.tolist(), [mpz(1)] * d
    if X.dtype.itemsize <= 8:
        return _dyadic_columns(X.astype(np.float64))
    values = [[mpq(*v.as_integer_ratio()) for v in row] for row in X]
    return _rational_columns(values, d)


def _dyadic_columns(X: np.ndarray) -> tuple[list[list[int]], list[Int]]:
    """Exact integer form of a float64 array: x = M * 2^E, scaled per column.

    ``np.frexp`` gives x = m * 2^e with m in [0.5, 1); M = m * 2^53 is an
    integer held exactly by float64, so the whole conversion is exact.
    """
    m, e = np.frexp(X)
    M = (m * 2.0**53).astype(np.int64)
    E = e.astype(np.int64) - 53
    nz = M != 0
    tz = np.zeros_like(M)
    low = (M[nz] & -M[nz]).astype(np.float64)
    tz[nz] = np.log2(low).astype(np.int64)
    M = np.where(nz, M >> tz, 0)
    E = np.where(nz, E + tz, 0)
    shift_cols = np.maximum(0, -np.where(nz, E, 0).min(axis=0))
    S = np.where(nz, E + shift_cols[None, :], 0)
    num = [[mv << sv for mv, sv in zip(mr, sr)] for mr, sr in zip(M.tolist(), S.tolist())]
    scale = [mpz(1) << int(k) for k in shift_cols.tolist()]
    return num, scale


def _rational_columns(values: list[list[Rat]], d: int) -> tuple[list[list[int]], list[Int]]:
    scale = [exact.lcm_all(row[j].denominator for row in values) for j in range(d)]
    for j, s in enumerate(scale):
        if s.bit_length() > exact.max_bits():
            raise DatasetError(f"column {j}: common denominator exceeds the size limit of {exact.max_bits()} bits")
    num = [[int(v.numerator * (scale[j] // v.denominator)) for j, v in enumerate(row)] for row in values]
    return num, scale


# -- .csv ------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?(?:[eE]([+-]?\d+))?\Z|[+-]?\d+/\d+\Z")
_INTEGER = re.compile(r"[+-]?\d+\Z")


def _read_csv(raw: bytes) -> _Columns:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DatasetError(f"not UTF-8 text (byte {e.start})") from None
    lines = [(k + 1, line) for k, line in enumerate(text.splitlines()) if line.strip()]
    if lines and not any(_NUMBER.match(f.strip()) for f in lines[0][1].split(",")):
        lines = lines[1:]
    if not lines:
        raise DatasetError("no points (n = 0)")
    table = [(lineno, [f.strip() for f in line.split(",")]) for lineno, line in lines]
    width = len(table[0][1])
    if width < 2:
        raise DatasetError(f"line {table[0][0]}: need at least one coordinate and a label, found {width} field")
    values = [[_csv_field(f, lineno, col, width) for col, f in enumerate(fields)]
              for lineno, fields in table if _csv_width(fields, lineno, width)]
    kind = INTEGER if all(_INTEGER.match(fields[-1]) for _, fields in table) else REAL
    num, scale = _rational_columns([row[:-1] for row in values], width - 1)
    labels = [row[-1] for row in values]
    return _Columns(num, scale, labels, kind, None)


def _csv_width(fields: list[str], lineno: int, width: int) -> bool:
    if len(fields) != width:
        raise DatasetError(f"line {lineno}: {len(fields)} fields, expected {width} like the first line")
    return True


def _csv_field(text: str, lineno: int, col: int, width: int) -> Rat:
    """The exact rational a CSV number literal denotes (gmpy2 parses it exactly)."""
    what = "label" if col == width - 1 else f"column {col}"
    match = _NUMBER.match(text)
    if not match:
        raise DatasetError(f"line {lineno}, {what}: not a number: {text!r:.40}")
    exponent = int(match.group(1)) if match.group(1) and len(match.group(1)) < 8 else 0
    if (match.group(1) and len(match.group(1)) >= 8) or abs(exponent) > _MAX_EXPONENT:
        raise DatasetError(f"line {lineno}, {what}: exponent beyond the limit of {_MAX_EXPONENT}")
    if (len(text) + abs(exponent)) * 3.33 > exact.max_bits():
        raise DatasetError(f"line {lineno}, {what}: number exceeds the size limit of {exact.max_bits()} bits")
    if "/" in text and not text.rsplit("/", 1)[1].strip("0"):
        raise DatasetError(f"line {lineno}, {what}: zero denominator in {text!r:.40}")
    return mpq(text.lstrip("+"))
