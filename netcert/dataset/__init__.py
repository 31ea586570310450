"""Datasets as exact rationals: loading, refusals, merging, digest.

The rules are those of ``specs/README.md`` section 2. What is exact:

- every coordinate and label is the rational its file denotes: a float is the
  dyadic rational m * 2^e it encodes, a CSV field ``0.1`` is 1/10;
- coordinates are held per column as integers over a positive column scale,
  x[i][j] = num[i][j] / scale[j] with scale[j] the lcm of the column's
  denominators (a power of two for float data), which is the integer form the
  constructions and the evaluator work in;
- identical points with equal labels are merged (first occurrence kept);
  identical points with different labels are refused, since no function can
  interpolate them.

A ``.csv`` file is read as ``CsvOptions`` say (delimiter, header, label column,
string labels, a leading row index); the defaults are section 2.2's rules, and a
file read otherwise records how (``Dataset.csv``) so that certificates and the
kernel re-read it the same way.

The package by role: ``record`` (the ``Dataset`` record, merging, the digest, integer
columns), ``npz`` (the ``.npz`` reader and in-memory arrays), ``csvfile`` (the CSV grammar,
its reader and ``CsvOptions``). The names the rest of netcert uses are imported here.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from netcert.dataset.csvfile import (
    DEFAULT_CSV,
    DELIMITERS,
    INDEX_NAMES,
    MAX_EXPONENT,
    SNIFF_LINES,
    CsvOptions,
    OptionsError,
    _read_csv,
    csv_lines,
    sniff_delimiter,
)
from netcert.dataset.npz import _columns_from_arrays, _read_npz
from netcert.dataset.record import INTEGER, REAL, Dataset, digest_of, from_columns
from netcert.errors import DatasetError, InputError, NumberError
from netcert.formats import files

__all__ = [
    "DEFAULT_CSV",
    "DELIMITERS",
    "INDEX_NAMES",
    "INTEGER",
    "MAX_EXPONENT",
    "REAL",
    "SNIFF_LINES",
    "CsvOptions",
    "Dataset",
    "OptionsError",
    "csv_lines",
    "digest_of",
    "from_arrays",
    "from_columns",
    "load",
    "sniff_delimiter",
]


def load(path: str | Path, csv: CsvOptions | None = None) -> Dataset:
    """Read a ``.npz`` or ``.csv`` dataset file (``specs/README.md`` section 2).

    Raises ``DatasetError`` with a one-line message naming the file and the
    offending indices or field. Every size is bounded before it is allocated
    (``netcert.limits``): the file's bytes, each array's claimed element count,
    the bits of every number and of each column's common denominator.

    ``csv`` says how a ``.csv`` file is read (default ``CsvOptions()``: section
    2.2's rules); options other than the defaults for an ``.npz`` file raise
    ``UsageError``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    options = csv if csv is not None else DEFAULT_CSV
    if suffix not in (".npz", ".csv"):
        raise DatasetError(f"{path}: unknown dataset type {suffix!r} (expected .npz or .csv)")
    if suffix == ".npz" and options != DEFAULT_CSV:
        raise OptionsError(f"{path}: the CSV options ({options.changed()}) apply to .csv files only")
    try:
        raw = files.read_bytes(path, gunzip=False)
    except InputError as e:
        raise DatasetError(str(e)) from None
    try:
        cols = _read_npz(raw) if suffix == ".npz" else _read_csv(raw, options)
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
