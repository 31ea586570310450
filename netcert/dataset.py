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
from netcert.errors import DatasetError, InputError, NumberError, UsageError
from netcert.formats import files
from netcert.exact import Int, Rat, mpq, mpz

INTEGER = "integer"
REAL = "real"
_MAX_LISTED = 5


class OptionsError(UsageError, DatasetError):
    """Reading options that do not apply to the file (CSV options for an .npz): a usage error (exit 2),
    and a dataset error too, so that a certificate claiming them fails its recheck like any unreadable file."""


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
    show = (lambda v: repr(cols.label_names[v])) if cols.label_names else str  # noqa: E731
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


# -- .csv ------------------------------------------------------------------
# The grammar of specs/README.md 2.2, which the kernel's reader implements on its own: lines end
# with \n (a \r before it is dropped), white space is space and tab, digits are ASCII. Any other
# character (a lone \r, a form feed, U+2028, a non-ASCII digit) is part of a field, so the field is
# not a number and the file is refused, the same way by both readers.

_NUMBER = re.compile(r"([+-]?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?|([+-]?)([0-9]+)/([0-9]+)")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_BLANK = " \t"
MAX_EXPONENT = 10**4
DELIMITERS = (",", ";", "\t", "|")  # in the order delimiter "auto" prefers them
SNIFF_LINES = 10  # delimiter "auto" decides on this many first non-blank lines
INDEX_NAMES = ("", "Unnamed: 0")  # the header pandas' to_csv writes over its index, and re-reading names it
_SHOWN = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}
_CHOICES = {
    "header": ("auto", "yes", "no"),
    "delimiter": ("auto", *DELIMITERS),
    "labels": ("numbers", "map"),
    "index_column": ("refuse", "drop", "keep"),
}


@dataclass(frozen=True)
class CsvOptions:
    """How a ``.csv`` file is read (specs/README.md 2.2). The defaults are the rules of section 2.2.

    - ``label_column``: the label's column among the file's columns, counted from 1
      (negative: from the end, -1 the last), or the header name of that column;
    - ``header``: ``"yes"`` (the first non-blank line is a header), ``"no"``, or
      ``"auto"`` (it is one exactly when none of its fields is a number literal);
    - ``delimiter``: one of ``DELIMITERS``, or ``"auto"``: the first of ``DELIMITERS``
      that splits each of the first ``SNIFF_LINES`` non-blank lines into one same number
      >= 2 of fields (so a comma wins a tie), refused when none does;
    - ``labels``: ``"numbers"`` (each label is a number literal) or ``"map"``: the label
      fields are strings, mapped to 0, 1, 2, ... in the order of the sorted distinct strings;
    - ``index_column``: a leading column that looks like pandas' row index (a header field
      in ``INDEX_NAMES`` over the values 0, 1, ..., n-1 in order) is refused (``"refuse"``);
      ``"drop"`` drops column 1 whatever it holds; ``"keep"`` reads it as a coordinate.

    A value outside these raises ``UsageError`` (exit 2).
    """

    label_column: int | str = -1
    header: str = "auto"
    delimiter: str = ","
    labels: str = "numbers"
    index_column: str = "refuse"

    def __post_init__(self) -> None:
        for name, allowed in _CHOICES.items():
            if getattr(self, name) not in allowed:
                raise UsageError(
                    f"--{name.replace('_', '-')}: {getattr(self, name)!r} is not one of "
                    + ", ".join(_SHOWN.get(a, a) for a in allowed)
                )
        c = self.label_column
        if isinstance(c, bool) or not isinstance(c, (int, str)) or c == 0:
            raise UsageError(
                f"--label-column: {c!r} is not a column (count from 1, negative from the end, or name a header field)"
            )

    @staticmethod
    def parse_label_column(text: str) -> int | str:
        """A command line's label column: an integer literal is an index (``"1"``, ``"-1"``), else a header name."""
        return int(text) if _INTEGER.fullmatch(text.strip(_BLANK)) else text.strip(_BLANK)

    @classmethod
    def from_record(cls, record: dict | None) -> CsvOptions:
        """The options that read a file again exactly as a ``record`` (``Dataset.csv``, a certificate's
        ``dataset.csv``) says it was read; the defaults for None."""
        if record is None:
            return DEFAULT_CSV
        return cls(
            label_column=record["label_column"],
            header="yes" if record["header"] else "no",
            delimiter=record["delimiter"],
            labels="numbers" if record["labels"] is None else "map",
            index_column=record["index_column"],
        )

    def changed(self) -> str:
        """The options that differ from the defaults, as command-line flags."""
        return (
            ", ".join(
                f"--{k.replace('_', '-')} {_SHOWN.get(v, v)}"
                for k, v in vars(self).items()
                if v != getattr(DEFAULT_CSV, k)
            )
            or "the defaults"
        )


DEFAULT_CSV = CsvOptions()


def csv_lines(text: str, delimiter: str = ",") -> list[tuple[int, list[str]]]:
    """(line number from 1, stripped fields) of every non-blank line, header included."""
    return [(k, [f.strip(_BLANK) for f in line.split(delimiter)]) for k, line in _text_lines(text)]


def _text_lines(text: str) -> list[tuple[int, str]]:
    """(line number from 1, text) of every non-blank line: split at \\n, a \\r before it dropped."""
    if text.startswith("\ufeff"):  # the byte order mark spreadsheets write
        text = text[1:]
    out = []
    for k, line in enumerate(text.split("\n")):
        line = line[:-1] if line.endswith("\r") else line
        if line.strip(_BLANK):
            out.append((k + 1, line))
    return out


def sniff_delimiter(lines: list[tuple[int, str]]) -> tuple[str, str]:
    """(delimiter, what auto decided): the first of ``DELIMITERS`` that splits every one of the first
    ``SNIFF_LINES`` lines into one same number >= 2 of fields. Raises ``DatasetError`` when none does."""
    first = lines[:SNIFF_LINES]
    if not first:
        return ",", "delimiter: auto found no line, so ','"
    for sep in DELIMITERS:
        counts = {line.count(sep) + 1 for _, line in first}
        if len(counts) == 1 and min(counts) >= 2:
            return (
                sep,
                f"delimiter: auto chose {_SHOWN[sep]} (it splits each of the first {len(first)} lines "
                f"into {min(counts)} fields)",
            )
    raise DatasetError(
        f"delimiter: auto found none of ',', ';', tab, '|' splitting each of the first {len(first)} "
        "lines into one same number (at least 2) of fields: pass --delimiter"
    )


@dataclass(frozen=True)
class _Layout:
    """Where things are in a CSV table: its data lines, its header, the dropped column, the label's column."""

    data: list[tuple[int, list[str]]]
    header: list[str] | None
    drop: int  # 1 when column 1 is dropped (an index), else 0
    label: int  # the label's column, from 0
    delimiter: str
    auto_header: bool  # what the default rule says of the first line (the record is None when it is followed)
    notes: tuple[str, ...]


def _read_csv(raw: bytes, options: CsvOptions = DEFAULT_CSV) -> _Columns:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DatasetError(f"not UTF-8 text (byte {e.start})") from None
    at = _layout(_text_lines(text), options)
    coords = [c for c in range(at.drop, len(at.data[0][1])) if c != at.label]
    if len(at.data) * len(coords) > limits.VALUES.value():
        raise DatasetError(
            limits.VALUES.exceeded(
                f"{len(at.data)} rows of {len(coords)} coordinates", f"{len(at.data) * len(coords)} values"
            )
        )
    width, why, first, mapped = len(at.data[0][1]), _why(at.notes), at.data[0][0], options.labels == "map"
    values, texts = [], []
    for lineno, fields in at.data:  # line by line, so the first problem reported is the first in the file
        _csv_width(fields, lineno, width, first, why)
        values.append([_csv_field(fields[c], lineno, c, at.label) for c in coords])
        texts.append(fields[at.label])
        if not mapped:
            values[-1].append(_csv_field(texts[-1], lineno, at.label, at.label))
    names = _label_map(texts, at.data, at.label) if mapped else None
    if names is None:
        labels = [row.pop() for row in values]
        kind = INTEGER if all(_INTEGER.fullmatch(t) for t in texts) else REAL
    else:
        labels, kind = [mpq(names[t]) for t in texts], INTEGER
    num, scale = _rational_columns(values, len(coords))
    record = {
        "delimiter": at.delimiter,
        "header": at.header is not None,
        "label_column": at.label + 1,
        "index_column": "drop" if at.drop else "keep",
        "labels": names,
    }
    default = (
        at.delimiter == ","
        and (at.header is not None) == at.auto_header
        and at.label == width - 1
        and not at.drop
        and names is None
    )
    notes = at.notes + ((_map_note(names),) if names else ())
    return _Columns(
        num,
        scale,
        labels,
        kind,
        None,
        lines=[lineno for lineno, _ in at.data],
        label_names={mpq(v): s for s, v in names.items()} if names else None,
        label_where=_label_where(at, coords, scale, kind),
        csv=None if default else record,
        notes=notes,
    )


def _layout(lines: list[tuple[int, str]], options: CsvOptions) -> _Layout:
    """Split the lines, take the header, find the index and label columns, as ``options`` say."""
    notes: list[str] = []
    sep = options.delimiter
    if sep == "auto":
        sep, note = sniff_delimiter(lines)
        notes.append(note)
    table = [(k, [f.strip(_BLANK) for f in line.split(sep)]) for k, line in lines]
    auto = bool(table) and not any(_NUMBER.fullmatch(f) for f in table[0][1])
    has_header = auto if options.header == "auto" else options.header == "yes"
    if options.header == "auto" and auto:
        notes.append(f"header: auto took line {table[0][0]} as a header because none of its fields is a number")
    header, data = (table[0][1], table[1:]) if has_header and table else (None, table)
    if not data:
        raise DatasetError("no points (n = 0)" + _why(notes))
    drop = _index_column(header, data, options.index_column)
    if drop:
        notes.append("index_column: dropped column 1")
    width = len(data[0][1])
    if width < 2 + drop:
        raise DatasetError(
            f"line {data[0][0]}: need at least one coordinate and a label"
            + (" besides the dropped column 1" if drop else "")
            + f", found {width} field{'s' if width != 1 else ''}"
            + _other_delimiter(data[0][1], sep)
            + _why(notes)
        )
    return _Layout(
        data, header, drop, _label_column(options.label_column, width, header, drop), sep, auto, tuple(notes)
    )


def _why(notes) -> str:
    """What "auto" decided, said beside a refusal it may explain."""
    return f" ({'; '.join(notes)})" if notes else ""


def _other_delimiter(fields: list[str], sep: str) -> str:
    other = next((c for c in DELIMITERS if c != sep and any(c in f for f in fields)), None)
    if other is None:
        return ""
    what = "commas" if sep == "," else _SHOWN[sep]
    return (
        f" (fields are separated by {what}; this line has {_SHOWN[other]}: pass --delimiter "
        f"{'tab' if other == chr(9) else repr(other)} or --delimiter auto)"
    )


def _index_column(header: list[str] | None, data: list[tuple[int, list[str]]], choice: str) -> int:
    """1 when column 1 is dropped; refuses ("refuse") a column 1 that looks like pandas' row index."""
    if choice == "drop":
        return 1
    if (
        choice == "refuse"
        and header is not None
        and header[0] in INDEX_NAMES
        and all(fields[0] == str(i) for i, (_, fields) in enumerate(data))
    ):
        raise DatasetError(
            f"column 1 looks like a row index (header field {header[0]!r} over the values 0 to "
            f"{len(data) - 1} in order, as pandas' to_csv writes it): pass --index-column drop, "
            "or re-save the file with to_csv(..., index=False) (--index-column keep reads it as a "
            "coordinate)"
        )
    return 0


def _label_column(choice: int | str, width: int, header: list[str] | None, drop: int) -> int:
    """The label's column, counted from 0, of an index (from 1, negative from the end) or a header name."""
    if isinstance(choice, str):
        if header is None:
            raise DatasetError(
                f"label column {choice!r}: the file has no header line to find it in "
                "(pass --header yes, or the column's number)"
            )
        if len(header) != width:
            raise DatasetError(
                f"label column {choice!r}: the header has {len(header)} fields, the data lines "
                f"{width} (pass the column's number)"
            )
        found = [c for c, name in enumerate(header) if name == choice]
        if len(found) != 1:
            raise DatasetError(
                f"label column {choice!r}: {len(found) or 'no'} header fields have this name "
                f"(the header is {', '.join(map(repr, header))[:200]})"
            )
        c = found[0]
    else:
        c = choice - 1 if choice > 0 else width + choice
        if not 0 <= c < width:
            raise DatasetError(
                f"label column {choice}: the lines have {width} fields (columns count from 1, negative from the end)"
            )
    if c < drop:
        raise DatasetError("label column 1: it is the column that --index-column drop drops")
    return c


def _label_map(texts: list[str], data: list[tuple[int, list[str]]], label: int) -> dict[str, int]:
    """labels "map": the sorted distinct label strings to 0, 1, 2, ... (an empty label is refused)."""
    for t, (lineno, _) in zip(texts, data):
        if not t:
            raise DatasetError(f"line {lineno}, column {label + 1} (the label): empty label")
    return {s: i for i, s in enumerate(sorted(set(texts)))}


def _map_note(names: dict[str, int]) -> str:
    shown = ", ".join(f"{s!r:.40} -> {v}" for s, v in list(names.items())[:_MAX_LISTED])
    more = ", ..." if len(names) > _MAX_LISTED else ""
    return f"labels: {len(names)} strings mapped in sorted order: {shown}{more}"


def _label_where(at: _Layout, coords: list[int], scale: list[Int], kind: str) -> str:
    """Which column the labels were read from, for the refusal of identical points with different labels
    (reading a coordinate as the label makes them): and, when the labels are not integers but the first or
    last coordinate column is, that column as the likely label."""
    last = at.label == len(at.data[0][1]) - 1
    out = f"; the label is column {at.label + 1}{', the last' if last else ''} (--label-column chooses another)"
    for k in (0, len(coords) - 1) if kind == REAL else ():
        if scale[k] == 1:
            return (
                out + f"; column {coords[k] + 1} holds integers only: if it holds the labels, pass "
                f"--label-column {coords[k] + 1}"
            )
    return out


def _csv_width(fields: list[str], lineno: int, width: int, first: int, why: str) -> None:
    if len(fields) != width:
        raise DatasetError(f"line {lineno}: {len(fields)} fields, expected {width} like line {first}{why}")


def _csv_field(text: str, lineno: int, col: int, label: int) -> Rat:
    """The exact rational a CSV number literal denotes (gmpy2 parses it exactly); ``label`` is the label's column.

    Bounded before parsing as the kernel bounds it: each digit run at most
    ``max_bits()`` bits (ceil(k log2 10) for k digits), a decimal exponent of at
    most 10^4 in absolute value."""
    what = f"column {col + 1} (the label)" if col == label else f"column {col + 1}"
    m = _NUMBER.fullmatch(text)
    if not m:
        hint = (
            " (string labels: pass --labels map)"
            if col == label
            else f" (if column {col + 1} holds the labels: pass --label-column {col + 1}, and --labels map for strings)"
            if col == 0
            else ""
        )
        raise DatasetError(f"line {lineno}, {what}: not a number: {text!r:.40}{hint}")
    sign, whole, frac, exp, fsign, num, den = m.groups()
    top = exact.max_bits()
    if (
        any(exact.digit_bits(part or "") > top for part in (whole, frac, num, den))
        or exact.digit_bits((whole or "") + (frac or "")) > top
    ):
        raise DatasetError(
            f"line {lineno}, {what}: number exceeds the size limit of {top} bits (raise it with {limits.BITS.flag})"
        )
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
        raise DatasetError(
            f"line {lineno}, {what}: number exceeds the size limit of {top} bits (raise it with {limits.BITS.flag})"
        )
    return -value if sign == "-" else value
