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
import io
import math
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from netcert import exact, limits
from netcert.errors import DatasetError, InputError, NumberError
from netcert.formats import files
from netcert.exact import Int, Rat, mpq, mpz

INTEGER = "integer"
REAL = "real"
_MAX_LISTED = 5


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
    offending indices or field. Every size is bounded before it is allocated
    (``netcert.limits``): the file's bytes, each array's claimed element count,
    the bits of every number and of each column's common denominator.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".npz", ".csv"):
        raise DatasetError(f"{path}: unknown dataset type {suffix!r} (expected .npz or .csv)")
    try:
        raw = files.read_bytes(path, gunzip=False)
    except InputError as e:
        raise DatasetError(str(e)) from None
    try:
        cols = _read_npz(raw) if suffix == ".npz" else _read_csv(raw)
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

def _read_npz(raw: bytes) -> _Columns:
    """``X`` and ``y`` of an .npz archive, each array's header read and bounded before its data.

    np.load would allocate whatever shape a header claims (10^18 elements) and
    inflate whatever a member holds; here a member is refused when it is
    encrypted, compressed in a way zipfile cannot read, of a refused dtype, or
    larger than ``limits.VALUES``, and only the bytes its header announces are inflated.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, NotImplementedError,
            RuntimeError) as e:
        raise DatasetError(f"not a readable .npz file (not a zip archive: {_one_line(e)})") from None
    with archive:
        names = {n[:-4] if n.endswith(".npy") else n: n for n in archive.namelist()}
        missing = [k for k in ("X", "y") if k not in names]
        if missing:
            raise DatasetError(f"missing array {' and '.join(missing)} (found: {', '.join(sorted(names)) or 'none'})")
        return _columns_from_arrays(_npz_member(archive, names["X"], "X"), _npz_member(archive, names["y"], "y"))


def _npz_member(archive: zipfile.ZipFile, member: str, name: str) -> np.ndarray:
    info = archive.getinfo(member)
    if info.flag_bits & 0x1:
        raise DatasetError(f"array {name}: the archive member {member} is encrypted")
    try:
        with archive.open(info) as fp:
            version = np.lib.format.read_magic(fp)
            if version not in ((1, 0), (2, 0)):
                raise DatasetError(f"array {name}: .npy format version {version[0]}.{version[1]} is not read")
            header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, _, dtype = header(fp)
        _check_dtype(name, dtype)
        count = math.prod(shape)
        if count > limits.VALUES.value():
            raise DatasetError(f"array {name}: " + limits.VALUES.exceeded(f"shape {shape}", f"{count} values"))
        with archive.open(info) as fp:
            return np.lib.format.read_array(fp, allow_pickle=False)
    except DatasetError:
        raise
    except Exception as e:  # noqa: BLE001  zipfile's and numpy's parsers on hostile bytes raise what they like
        # (ValueError, zlib.error, NotImplementedError, tokenize.TokenError, ...): each is a refusal here.
        raise DatasetError(f"array {name}: not a readable .npy member ({_one_line(e)})") from None


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split())[:160] or type(e).__name__


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


def _check_dtype(name: str, a: np.ndarray | np.dtype) -> None:
    dtype = a if isinstance(a, np.dtype) else a.dtype
    if dtype.kind not in "iuf" or dtype.fields is not None or dtype.subdtype is not None:
        raise DatasetError(f"{name} has dtype {dtype}, expected an integer or float dtype")


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
    """Per-column integers over the lcm of the column's denominators, every size bounded first:
    each lcm is refused as soon as it passes ``limits.BITS`` (not after a quadratic climb to
    millions of bits), and the integer form as a whole must fit in ``limits.BYTES``."""
    scale = [_column_lcm((row[j].denominator for row in values), j) for j in range(d)]
    total = len(values) * sum(int(s.bit_length()) for s in scale)
    if total > 8 * limits.BYTES.value():
        raise DatasetError("the integer form of the points over their common denominators: "
                           + limits.BYTES.exceeded("its size", f"{total // 8} bytes"))
    num = [[int(v.numerator * (scale[j] // v.denominator)) for j, v in enumerate(row)] for row in values]
    return num, scale


def _column_lcm(denominators, j: int) -> Int:
    top, out = exact.max_bits(), mpz(1)
    for q in set(denominators):
        if out % q:
            out = exact.lcm_all((out, q))
            if out.bit_length() > top:
                raise DatasetError(f"column {j + 1}: the common denominator of its values exceeds the limit of "
                                   f"{top} bits (raise it with {limits.BITS.flag} or {limits.BITS.env})")
    return out


# -- .csv ------------------------------------------------------------------
# The grammar of specs/README.md 2.2, which the kernel's reader implements on its own: lines end
# with \n (a \r before it is dropped), white space is space and tab, digits are ASCII. Any other
# character (a lone \r, a form feed, U+2028, a non-ASCII digit) is part of a field, so the field is
# not a number and the file is refused, the same way by both readers.

_NUMBER = re.compile(r"([+-]?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?|([+-]?)([0-9]+)/([0-9]+)")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_BLANK = " \t"
MAX_EXPONENT = 10**4


def csv_lines(text: str) -> list[tuple[int, list[str]]]:
    """(line number from 1, stripped fields) of every non-blank line, header included."""
    if text.startswith("\ufeff"):  # the byte order mark spreadsheets write
        text = text[1:]
    out = []
    for k, line in enumerate(text.split("\n")):
        line = line[:-1] if line.endswith("\r") else line
        if line.strip(_BLANK):
            out.append((k + 1, [f.strip(_BLANK) for f in line.split(",")]))
    return out


def _read_csv(raw: bytes) -> _Columns:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DatasetError(f"not UTF-8 text (byte {e.start})") from None
    table = csv_lines(text)
    if table and not any(_NUMBER.fullmatch(f) for f in table[0][1]):
        table = table[1:]
    if not table:
        raise DatasetError("no points (n = 0)")
    width = len(table[0][1])
    if width < 2:
        other = next((c for c in ";\t|" if c in table[0][1][0]), None)
        hint = f" (fields are separated by commas; this line has {other!r}: re-save the file comma-separated)" \
            if other else ""
        raise DatasetError(f"line {table[0][0]}: need at least one coordinate and a label, found {width} field"
                           + hint)
    if len(table) * (width - 1) > limits.VALUES.value():
        raise DatasetError(limits.VALUES.exceeded(f"{len(table)} rows of {width - 1} coordinates",
                                                  f"{len(table) * (width - 1)} values"))
    values = [[_csv_field(f, lineno, col, width) for col, f in enumerate(fields)]
              for lineno, fields in table if _csv_width(fields, lineno, width)]
    kind = INTEGER if all(_INTEGER.fullmatch(fields[-1]) for _, fields in table) else REAL
    num, scale = _rational_columns([row[:-1] for row in values], width - 1)
    labels = [row[-1] for row in values]
    return _Columns(num, scale, labels, kind, None)


def _csv_width(fields: list[str], lineno: int, width: int) -> bool:
    if len(fields) != width:
        raise DatasetError(f"line {lineno}: {len(fields)} fields, expected {width} like the first line")
    return True


def _csv_field(text: str, lineno: int, col: int, width: int) -> Rat:
    """The exact rational a CSV number literal denotes (gmpy2 parses it exactly).

    Bounded before parsing as the kernel bounds it: each digit run at most
    ``max_bits()`` bits (ceil(k log2 10) for k digits), a decimal exponent of at
    most 10^4 in absolute value."""
    what = f"column {col + 1} (the label)" if col == width - 1 else f"column {col + 1}"
    m = _NUMBER.fullmatch(text)
    if not m:
        raise DatasetError(f"line {lineno}, {what}: not a number: {text!r:.40}")
    sign, whole, frac, exp, fsign, num, den = m.groups()
    top = exact.max_bits()
    if any(exact.digit_bits(part or "") > top for part in (whole, frac, num, den)) \
            or exact.digit_bits((whole or "") + (frac or "")) > top:
        raise DatasetError(f"line {lineno}, {what}: number exceeds the size limit of {top} bits "
                           f"(raise it with {limits.BITS.flag})")
    if num is not None:
        if not den.strip("0"):
            raise DatasetError(f"line {lineno}, {what}: zero denominator in {text!r:.40}")
        value = mpq(mpz(num), mpz(den))
        return -value if fsign == "-" else value
    e = (exp or "0").lstrip("+-").lstrip("0")
    if len(e) > 5 or (e and int(e) > MAX_EXPONENT):
        raise DatasetError(f"line {lineno}, {what}: exponent beyond the limit of {MAX_EXPONENT}")
    e = int(e or "0") * (-1 if (exp or "").startswith("-") else 1) - len(frac or "")
    digits = mpz((whole or "") + (frac or ""))
    value = mpq(digits * mpz(10) ** e) if e >= 0 else mpq(digits, mpz(10) ** -e)
    if max(value.numerator.bit_length(), value.denominator.bit_length()) > top:  # 1e400 under a 1000-bit limit
        raise DatasetError(f"line {lineno}, {what}: number exceeds the size limit of {top} bits "
                           f"(raise it with {limits.BITS.flag})")
    return -value if sign == "-" else value
