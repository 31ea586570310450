"""The Dataset record and its exact quantities: merging, the digest, integer columns over scales.

What the readers (``netcert.dataset.npz``, ``netcert.dataset.csvfile``) produce is a ``_Columns``:
the exact values of a table, per column integers over a positive scale. ``from_columns`` merges
identical points into a ``Dataset`` and computes its digest (``specs/README.md`` 2.5).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from netcert import exact, limits
from netcert.errors import DatasetError
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
    ``csv`` is how a ``.csv`` file was read (``CsvOptions.record``) when that is not
    how the default options read it, else None (always None for ``.npz``), so a file
    read by the defaults gives the Dataset it always gave. ``csv_notes`` say what
    the reader's "auto" options decided, for people (not compared).
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
    csv: dict | None = None
    csv_notes: tuple[str, ...] = field(default=(), repr=False, compare=False)

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
    lines: list[int] | None = None  # the file line of each row (CSV), for messages
    label_names: dict | None = None  # label value -> the string it was mapped from (CSV, labels "map")
    label_where: str = ""  # which column held the labels and a hint, for the conflict refusal (CSV)
    csv: dict | None = None
    notes: tuple[str, ...] = ()


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
            conflicts.append(_conflict(cols, j, i))
    if conflicts:
        where = f"{path}: " if path else ""
        raise DatasetError(
            f"{where}identical points with different labels, no function can interpolate them: "
            + "; ".join(conflicts)
            + cols.label_where
        )
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
        csv=cols.csv,
        csv_notes=cols.notes,
    )


def _conflict(cols: _Columns, j: int, i: int) -> str:
    """Rows j < i, identical points with different labels: their indices, file lines and labels as written."""
    names = cols.label_names

    def show(v: Rat) -> str:  # a mapped label as the string it was mapped from
        return repr(names[v]) if names else str(v)

    lines = f"lines {cols.lines[j]} and {cols.lines[i]}, " if cols.lines else ""
    return f"rows {j} and {i} ({lines}labels {show(cols.labels[j])} and {show(cols.labels[i])})"


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
    """Canonical string of v / scale, with a fast path for integer columns (gmpy2 past Python's
    4300-digit str limit: a CSV value of 1e4500 is a legal integer)."""
    if scale == 1:
        return _int_text
    return lambda v: str(mpq(v, scale))


def _int_text(v: int) -> str:
    try:
        return str(v)
    except ValueError:
        return str(mpz(v))


def _rational_columns(values: list[list[Rat]], d: int) -> tuple[list[list[int]], list[Int]]:
    """Per-column integers over the lcm of the column's denominators, every size bounded first:
    each lcm is refused as soon as it passes ``limits.BITS`` (not after a quadratic climb to
    millions of bits), and the integer form as a whole must fit in ``limits.BYTES``."""
    scale = [_column_lcm((row[j].denominator for row in values), j) for j in range(d)]
    total = len(values) * sum(int(s.bit_length()) for s in scale)
    if total > 8 * limits.BYTES.value():
        raise DatasetError(
            "the integer form of the points over their common denominators: "
            + limits.BYTES.exceeded("its size", f"{total // 8} bytes")
        )
    num = [[int(v.numerator * (scale[j] // v.denominator)) for j, v in enumerate(row)] for row in values]
    return num, scale


def _column_lcm(denominators, j: int) -> Int:
    top, out = exact.max_bits(), mpz(1)
    for q in set(denominators):
        if out % q:
            out = exact.lcm_all((out, q))
            if out.bit_length() > top:
                raise DatasetError(
                    f"column {j + 1}: the common denominator of its values exceeds the limit of "
                    f"{top} bits (raise it with {limits.BITS.flag} or {limits.BITS.env})"
                )
    return out
