"""netcert's CSV reader and the kernel's implement one grammar (specs/README.md 2.2).

The two are written apart on purpose, so they are held to each other here: on a
corpus of awkward files and on random texts over the characters that matter (line
terminators, white space, signs, points, slashes, exponents, non-ASCII digits),
both give the same exact values or both refuse. A CSV that one reader builds and
the other refuses would make ``verify`` REFUTE an honest network.

With reading options (``CsvOptions``; the record a certificate's ``dataset.csv``
holds): netcert with explicit options and the kernel with the same record agree
in the same way; and whatever netcert decides with its "auto" options, the kernel
given the record netcert made (or none, for a default reading) reads the same values.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st

from netcert import dataset
from netcert.dataset import CsvOptions
from netcert.errors import DatasetError, NumberError
from netcert.kernel import read as kread


def netcert_read(raw: bytes, options: CsvOptions = CsvOptions()):
    """((rows, labels, kind) as Fractions, the record of how the file was read), or None when netcert refuses."""
    try:
        cols = dataset._read_csv(raw, options)
    except (DatasetError, NumberError):
        return None
    rows = [tuple(Fraction(int(v), int(s)) for v, s in zip(row, cols.scale)) for row in cols.num]
    labels = [Fraction(int(q.numerator), int(q.denominator)) for q in cols.labels]
    return (rows, labels, cols.label_kind), cols.csv


def netcert_rows(raw: bytes, options: CsvOptions = CsvOptions()):
    """(rows, labels, kind) as Fractions, or None when netcert refuses."""
    read = netcert_read(raw, options)
    return None if read is None else read[0]


def kernel_rows(raw: bytes, csv: dict | None = None):
    try:
        rows, ys, kind = kread.read_csv(raw.decode("utf-8"), csv)
    except (kread.KernelError, UnicodeDecodeError):
        return None
    frac = lambda q: Fraction(int(q.numerator), int(q.denominator))  # noqa: E731
    return [tuple(map(frac, r)) for r in rows], [frac(y) for y in ys], kind


CORPUS = [
    "1,2,3\n",
    "1,2,3",
    "1,2,3\r\n4,5,6\r\n",
    "1,2,3\r4,5,6\r",
    "1,2,3\n\r\n4,5,6\n",
    "\ufeffa,b,y\n1,2,3\n",
    "\ufeff1,2,3\n",
    "a,b,y\r\n1,2,3\r\n",
    " 1 ,\t2\t, 3 \n",
    "1,2,3\n\x0c\n4,5,6\n",
    "1,2\x0c,3\n",
    "1,2,3\u20284,5,6\n",
    "1,2,3\u2029",
    "1,2,3\x85\n",
    "1,2,3\x0b\n",
    "1,\u00a02,3\n",
    "1,\u0662,3\n",
    "1,\uff12,3\n",
    "0.1,1e-3,7\n",
    "1.,2,3\n",
    ".5,2,3\n",
    "+1,-2,+3\n",
    "1,2/4,3\n",
    "1,2/0,3\n",
    "1,-2/3,3\n",
    "1,+2/3,3\n",
    "1,2/-3,3\n",
    "1,1e+0000001,2\n",
    "1,1e10000,2\n",
    "1,1e10001,2\n",
    "1,1e-10000,2\n",
    "1,1E5,2\n",
    "1,1e,2\n",
    "1,e5,2\n",
    "1,00012,2\n",
    "1,2,3.0\n",
    "1,2,-0\n",
    "1,2\n3\n",
    "x\n",
    "",
    "\n\n",
    "a,b\n",
    "1,2,3\n\n\n",
    "1;2;3\n",
    "1,2,3,\n",
    ",1,2\n",
    "1,,2\n",
    "1,2,3\x00\n",
    "\r\n1,2\r\n",
    "1,2\r\r\n3,4\n",
    "h,y\n1,2\n",
    "1,x\n2,3\n",
    "1,2\n\t\n3,4\n",
    "1 2,3\n",
    "1,2 /3,4\n",
]


@pytest.mark.parametrize("text", CORPUS)
def test_readers_agree_on_the_corpus(text):
    raw = text.encode("utf-8")
    assert netcert_rows(raw) == kernel_rows(raw)


@pytest.mark.parametrize("raw", [b"1,2,3\n\xff,1,2\n", b"\xef\xbb\xbf1,2,3\n", b"1,2,3\n\xc3\n"])
def test_readers_agree_on_bytes(raw):
    assert netcert_rows(raw) == kernel_rows(raw)


def test_carriage_returns_alone_are_refused_by_both():
    """The case that made verify REFUTE: a file that builds must check, so neither accepts it."""
    raw = b"3\r15.609375,1\r"
    assert netcert_rows(raw) is None and kernel_rows(raw) is None


def test_a_crlf_file_is_read_like_its_lf_twin():
    assert netcert_rows(b"a,y\r\n1.5,2\r\n-3/4,1\r\n") == netcert_rows(b"a,y\n1.5,2\n-3/4,1\n") is not None


ALPHABET = "0123456789" * 3 + ".,,,-+/eE \t\r\n\n\n\x0c\u2028\u0661\u00a0\ufeff;x"


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.text(alphabet=ALPHABET, max_size=40))
def test_readers_agree_on_random_texts(text):
    raw = text.encode("utf-8")
    assert netcert_rows(raw) == kernel_rows(raw)


# ---------------------------------------------------------------- reading options

ALPHABET_OPTIONS = "0123456789" * 3 + ".,,,;;|-+/e \t\r\n\n\n\u0661abcxy"
RECORDS = [
    {"delimiter": sep, "header": header, "label_column": label, "index_column": index, "labels": labels}
    for sep in (",", ";")
    for header in (True, False)
    for label in (1, 2, 3)
    for index in ("keep", "drop")
    for labels in (None, "map")
]


def expected_map(text: str, record: dict) -> dict:
    """The labels map of section 2.2 for a record: the sorted distinct label fields (lines split by the
    kernel's own line function, which the corpus tests above hold to netcert's)."""
    table = kread.lines(text[1:] if text.startswith("\ufeff") else text, record["delimiter"])[record["header"] :]
    c = record["label_column"] - 1
    return {s: i for i, s in enumerate(sorted({fields[c] for _, fields in table if c < len(fields)}))}


def explicit(text: str, record: dict) -> tuple[CsvOptions, dict]:
    """The options that say exactly what ``record`` says, and the record the kernel reads by (with its map)."""
    full = dict(record, labels=expected_map(text, record) if record["labels"] == "map" else None)
    return CsvOptions.from_record(full), full


def assert_explicit_agree(text: str, record: dict) -> None:
    options, full = explicit(text, record)
    raw = text.encode("utf-8")
    assert netcert_rows(raw, options) == kernel_rows(raw, full), (text, record)


def assert_kernel_rereads(text: str, options: CsvOptions) -> None:
    """What netcert read with ``options``, the kernel reads again from netcert's record."""
    raw = text.encode("utf-8")
    read = netcert_read(raw, options)
    if read is not None:
        assert kernel_rows(raw, read[1]) == read[0], (text, options, read[1])


OPTIONS_CORPUS = CORPUS + [
    "a;b;y\n1;2;3\n4;5;6\n",
    "y,a,b\n0,1.5,2\n1,3,4\n",
    ",a,y\n0,1,2\n1,3,4\n",
    "Unnamed: 0,a,y\n0,1,2\n",
    "a,b,y\n1,2,cat\n3,4,dog\n",
    "cat,1,2\ndog,3,4\n",
    "1|2|3\n4|5|6\n",
    "1\t2\t3\n4\t5\t6\n",
    "a,b,c\n1,2,\n",
    "x;y\n1;2\n1;2\n",
    "1,2\n",
    "h\n1,2,3\n",
    "a,b,y\n 1 , cat dog , 3\n",
]


@pytest.mark.parametrize("text", OPTIONS_CORPUS)
def test_readers_agree_with_explicit_options_on_the_corpus(text):
    for record in RECORDS:
        assert_explicit_agree(text, record)


AUTO_OPTIONS = [
    CsvOptions(delimiter=sep, header=header, label_column=label, labels=labels, index_column=index)
    for sep in ("auto", ",")
    for header in ("auto", "yes")
    for label in (-1, 1, "y")
    for labels in ("numbers", "map")
    for index in ("refuse", "drop", "keep")
]


@pytest.mark.parametrize("text", OPTIONS_CORPUS)
def test_the_kernel_rereads_what_netcert_decided_on_the_corpus(text):
    for options in AUTO_OPTIONS:
        assert_kernel_rereads(text, options)


def test_the_iris_file_is_read_alike_with_options():
    text = "species;a;b\nsetosa;5.1;3.5\nvirginica;6.3;3.3\nsetosa;4.9;3\n"
    read = netcert_read(text.encode(), CsvOptions(delimiter="auto", label_column="species", labels="map"))
    assert read is not None and read[0][1] == [0, 1, 0]
    assert read[1] == {
        "delimiter": ";",
        "header": True,
        "label_column": 1,
        "index_column": "keep",
        "labels": {"setosa": 0, "virginica": 1},
    }
    assert kernel_rows(text.encode(), read[1]) == read[0]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(alphabet=ALPHABET_OPTIONS, max_size=40), st.sampled_from(RECORDS))
def test_readers_agree_with_explicit_options_on_random_texts(text, record):
    assert_explicit_agree(text, record)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(alphabet=ALPHABET_OPTIONS, max_size=40), st.sampled_from(AUTO_OPTIONS))
def test_the_kernel_rereads_what_netcert_decided_on_random_texts(text, options):
    assert_kernel_rereads(text, options)
