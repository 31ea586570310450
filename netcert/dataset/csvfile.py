"""The CSV grammar and reader (``specs/README.md`` section 2.2), and ``CsvOptions``: how a ``.csv``
file is read (delimiter, header, label column, string labels, a leading row index).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from netcert import exact, limits
from netcert.dataset.record import _MAX_LISTED, INTEGER, REAL, _Columns, _rational_columns
from netcert.errors import DatasetError, UsageError
from netcert.exact import Int, Rat, mpq, mpz

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


class OptionsError(UsageError, DatasetError):
    """Reading options that do not apply to the file (CSV options for an .npz): a usage error (exit 2),
    and a dataset error too, so that a certificate claiming them fails its recheck like any unreadable file."""


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
