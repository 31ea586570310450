"""The ``.npz`` reader and in-memory arrays (``specs/README.md`` section 2.1): exact columns of
integer and float arrays, each array's header read and bounded before its data.
"""

from __future__ import annotations

import io
import math
import zipfile

import numpy as np

from netcert import exact, limits
from netcert.dataset.record import _MAX_LISTED, INTEGER, REAL, _Columns, _rational_columns
from netcert.errors import DatasetError
from netcert.exact import Int, mpq, mpz


def _read_npz(raw: bytes) -> _Columns:
    """``X`` and ``y`` of an .npz archive, each array's header read and bounded before its data.

    np.load would allocate whatever shape a header claims (10^18 elements) and
    inflate whatever a member holds; here a member is refused when it is
    encrypted, compressed in a way zipfile cannot read, of a refused dtype, or
    larger than ``limits.VALUES``, and only the bytes its header announces are inflated.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        ValueError,
        OSError,
        EOFError,
        NotImplementedError,
        RuntimeError,
    ) as e:
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
