"""netcert's CSV reader and the kernel's implement one grammar (specs/README.md 2.2).

The two are written apart on purpose, so they are held to each other here: on a
corpus of awkward files and on random texts over the characters that matter (line
terminators, white space, signs, points, slashes, exponents, non-ASCII digits),
both give the same exact values or both refuse. A CSV that one reader builds and
the other refuses would make ``verify`` REFUTE an honest network.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st

from netcert import dataset
from netcert.errors import DatasetError, NumberError
from netcert.kernel import read as kread


def netcert_rows(raw: bytes):
    """(rows, labels, kind) as Fractions, or None when netcert refuses."""
    try:
        cols = dataset._read_csv(raw)
    except (DatasetError, NumberError):
        return None
    rows = [tuple(Fraction(int(v), int(s)) for v, s in zip(row, cols.scale)) for row in cols.num]
    labels = [Fraction(int(q.numerator), int(q.denominator)) for q in cols.labels]
    return rows, labels, cols.label_kind


def kernel_rows(raw: bytes):
    try:
        rows, ys, kind = kread.read_csv(raw.decode("utf-8"))
    except (kread.KernelError, UnicodeDecodeError):
        return None
    frac = lambda q: Fraction(int(q.numerator), int(q.denominator))  # noqa: E731
    return [tuple(map(frac, r)) for r in rows], [frac(y) for y in ys], kind


CORPUS = [
    "1,2,3\n", "1,2,3", "1,2,3\r\n4,5,6\r\n", "1,2,3\r4,5,6\r", "1,2,3\n\r\n4,5,6\n", "\ufeffa,b,y\n1,2,3\n",
    "\ufeff1,2,3\n", "a,b,y\r\n1,2,3\r\n", " 1 ,\t2\t, 3 \n", "1,2,3\n\x0c\n4,5,6\n", "1,2\x0c,3\n",
    "1,2,3\u20284,5,6\n", "1,2,3\u2029", "1,2,3\x85\n", "1,2,3\x0b\n", "1,\u00a02,3\n", "1,\u0662,3\n",
    "1,\uff12,3\n", "0.1,1e-3,7\n", "1.,2,3\n", ".5,2,3\n", "+1,-2,+3\n", "1,2/4,3\n", "1,2/0,3\n", "1,-2/3,3\n",
    "1,+2/3,3\n", "1,2/-3,3\n", "1,1e+0000001,2\n", "1,1e10000,2\n", "1,1e10001,2\n", "1,1e-10000,2\n",
    "1,1E5,2\n", "1,1e,2\n", "1,e5,2\n", "1,00012,2\n", "1,2,3.0\n", "1,2,-0\n", "1,2\n3\n", "x\n", "",
    "\n\n", "a,b\n", "1,2,3\n\n\n", "1;2;3\n", "1,2,3,\n", ",1,2\n", "1,,2\n", "1,2,3\x00\n", "\r\n1,2\r\n",
    "1,2\r\r\n3,4\n", "h,y\n1,2\n", "1,x\n2,3\n", "1,2\n\t\n3,4\n", "1 2,3\n", "1,2 /3,4\n",
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
