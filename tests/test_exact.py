"""The exact-number codec and measures of specs/README.md sections 1 and 3.4.

Expected values are computed here independently, with Python ints and
fractions.Fraction, never with netcert's own helpers.
"""

import math
import random
import time
from fractions import Fraction

import gmpy2
import numpy as np
import pytest

from netcert import exact
from netcert.errors import InputError, NumberError
from netcert.exact import (
    DEFAULT_MAX_BITS,
    bitlen,
    bits,
    float_to_rat,
    format_rational,
    is_exact,
    max_bits,
    parse_rational,
    storage_bits,
    to_rat,
)


def frac(q) -> Fraction:
    """An mpq as a Fraction, through its integer parts only."""
    return Fraction(int(q.numerator), int(q.denominator))


# ---------------------------------------------------------------- parse: accepted


@pytest.mark.parametrize(
    "text, value",
    [
        ("0", Fraction(0)),
        ("1", Fraction(1)),
        ("-1", Fraction(-1)),
        ("7", Fraction(7)),
        ("3/8", Fraction(3, 8)),
        ("-3/8", Fraction(-3, 8)),
        ("-1125899906842624/3", Fraction(-1125899906842624, 3)),
        ("10", Fraction(10)),
        ("100/3", Fraction(100, 3)),
        ("0x0", Fraction(0)),
        ("0x1f", Fraction(31)),
        ("-0x1f", Fraction(-31)),
        ("0x3/0x8", Fraction(3, 8)),
        ("-0xff/0x100", Fraction(-255, 256)),
        ("0xa", Fraction(10)),
    ],
)
def test_parse_accepts_canonical(text, value):
    q = parse_rational(text)
    assert isinstance(q, exact.Rat)
    assert frac(q) == value


def test_parse_returns_lowest_terms_positive_denominator():
    q = parse_rational("-12345678901234567890123/1000")
    assert q.denominator > 0
    assert math.gcd(int(q.numerator), int(q.denominator)) == 1
    assert frac(q) == Fraction(-12345678901234567890123, 1000)


# ---------------------------------------------------------------- parse: refused


@pytest.mark.parametrize(
    "text",
    [
        "-0",  # no negative zero
        "6/4",  # not in lowest terms
        "0/5",  # zero must be written "0"
        "5/1",  # denominator 1 written out
        "0/1",
        "-5/1",
        "007",  # leading zeros
        "00",
        "-007",
        "1/02",
        "0x1F",  # upper-case hex digits
        "0X1f",  # upper-case prefix
        "0x01",  # leading zero in hex
        "0x6/0x4",  # hex not in lowest terms
        "0x5/0x1",  # hex denominator 1
        "-0x0",  # hex negative zero
        "0x1/3",  # mixed forms
        "1/0x3",
        "1.5",  # a float literal
        "1e3",
        "1.0",
        "inf",
        "nan",
        "+1",  # no plus sign
        " 1",  # no white space
        "1 ",
        "1\n",  # not even a trailing newline
        "",
        "-",
        "/2",
        "1/",
        "1/0",  # zero denominator
        "1/-2",  # negative denominator
        "--1",
        "1/2/3",
        "0x",
        "\u0661",  # a non-ASCII digit
    ],
)
def test_parse_refuses_non_canonical(text):
    with pytest.raises(NumberError):
        parse_rational(text)


@pytest.mark.parametrize(
    "value",
    [
        1,
        0,
        -3,
        1.5,
        0.0,
        float("nan"),
        None,
        b"1",
        True,
        [1],
        gmpy2.mpq(1, 2),
        gmpy2.mpz(3),
        Fraction(1, 2),
        np.int64(1),
    ],
)
def test_parse_refuses_non_strings(value):
    with pytest.raises(NumberError):
        parse_rational(value)


def test_number_error_is_an_input_error_with_exit_code_3():
    with pytest.raises(InputError) as info:
        parse_rational("6/4")
    assert info.value.exit_code == 3
    assert isinstance(info.value, ValueError)


# ---------------------------------------------------------------- parse: size limit


def test_default_limit_is_a_million_bits(monkeypatch):
    monkeypatch.delenv("NETCERT_MAX_BITS", raising=False)
    assert DEFAULT_MAX_BITS == 10**6
    assert max_bits() == 10**6


def test_within_default_limit_parses(monkeypatch):
    monkeypatch.delenv("NETCERT_MAX_BITS", raising=False)
    # 300000 decimal digits: at most ceil(300000 log2 10) = 996579 bits <= 10^6.
    q = parse_rational("1" * 300_000)
    assert q.denominator == 1
    assert q.numerator == (gmpy2.mpz(10) ** 300_000 - 1) // 9


def test_over_default_limit_refused_quickly(monkeypatch):
    monkeypatch.delenv("NETCERT_MAX_BITS", raising=False)
    # 400000 decimal digits are ~1.33e6 bits, over the default limit of 10^6 bits.
    start = time.perf_counter()
    with pytest.raises(NumberError, match="too large"):
        parse_rational("1" * 400_000)
    with pytest.raises(NumberError, match="too large"):
        parse_rational("9" * 3_000_000)
    with pytest.raises(NumberError, match="too large"):
        parse_rational("0x" + "f" * 1_000_000)
    with pytest.raises(NumberError, match="too large"):
        parse_rational("1/" + "3" * 3_000_000)
    assert time.perf_counter() - start < 2.0


def test_env_limit_refuses_quickly(monkeypatch):
    monkeypatch.setenv("NETCERT_MAX_BITS", "1000")
    assert max_bits() == 1000
    start = time.perf_counter()
    with pytest.raises(NumberError, match="too large"):
        parse_rational("1" * 400_000)
    with pytest.raises(NumberError, match="too large"):
        parse_rational("-1/" + "7" * 400_000)
    assert time.perf_counter() - start < 0.5
    # Small numbers still parse under the lowered limit.
    assert frac(parse_rational("-3/8")) == Fraction(-3, 8)


@pytest.mark.parametrize("limit", [1, 7, 64, 1000, 4099])
def test_limit_is_on_the_true_bit_length(monkeypatch, limit):
    """A part of exactly `limit` bits is accepted, one of `limit + 1` bits refused, in both forms."""
    monkeypatch.setenv("NETCERT_MAX_BITS", str(limit))
    top = (1 << limit) - 1  # limit bits
    over = 1 << limit  # limit + 1 bits
    assert int(parse_rational(str(top)).numerator) == top
    assert int(parse_rational(f"-{top:#x}").numerator) == -top
    if top > 1:
        assert frac(parse_rational(f"1/{top}")) == Fraction(1, top)
    for text in (str(over), f"{over:#x}", f"1/{over}", f"-1/{over:#x}", f"{over + 1}/{over}"):
        with pytest.raises(NumberError):
            parse_rational(text)


def test_explicit_limit_argument_overrides_environment(monkeypatch):
    monkeypatch.setenv("NETCERT_MAX_BITS", "10")
    assert int(parse_rational(str(2**50), limit=64).numerator) == 2**50
    with pytest.raises(NumberError):
        parse_rational(str(2**50))
    with pytest.raises(NumberError):
        parse_rational(str(2**50), limit=50)


@pytest.mark.parametrize("bad", ["abc", "0", "-5", "1e3", " 10", ""])
def test_bad_env_limit_refused(monkeypatch, bad):
    monkeypatch.setenv("NETCERT_MAX_BITS", bad)
    with pytest.raises(NumberError, match="NETCERT_MAX_BITS"):
        max_bits()


def test_hundred_thousand_digit_numbers_parse_exactly(monkeypatch):
    monkeypatch.delenv("NETCERT_MAX_BITS", raising=False)
    k = 11_112
    text = "123456789" * k  # 100008 digits
    expected = 123456789 * (10 ** (9 * k) - 1) // (10**9 - 1)
    start = time.perf_counter()
    q = parse_rational(text)
    assert int(q.numerator) == expected and q.denominator == 1
    assert format_rational(q) == text

    # A ratio of two 10^5-digit integers in lowest terms: a repunit (odd, not
    # divisible by 5) over a power of ten.
    num, den = (10**100_000 - 1) // 9, 10**99_999
    text = "1" * 100_000 + "/1" + "0" * 99_999
    q = parse_rational(text)
    assert int(q.numerator) == num and int(q.denominator) == den
    assert format_rational(q) == text
    assert frac(parse_rational("-" + text)) == -Fraction(num, den)

    # The same magnitude in hex, against Python's (linear-time) hex formatting.
    rng = random.Random(5)
    big = rng.getrandbits(332_000) | 1
    assert int(parse_rational(f"{big:#x}").numerator) == big
    assert int(parse_rational(f"-{big:#x}").numerator) == -big
    assert time.perf_counter() - start < 2.0


def test_not_in_lowest_terms_refused_for_big_numbers():
    g = 3**2000
    with pytest.raises(NumberError, match="lowest terms"):
        parse_rational(f"{7 * g}/{11 * g}")


# ---------------------------------------------------------------- format


@pytest.mark.parametrize(
    "value, text",
    [
        (0, "0"),
        (-0, "0"),
        (5, "5"),
        (-5, "-5"),
        (gmpy2.mpz(12), "12"),
        (gmpy2.mpq(6, 4), "3/2"),
        (gmpy2.mpq(-6, 4), "-3/2"),
        (gmpy2.mpq(6, -4), "-3/2"),
        (gmpy2.mpq(10, 5), "2"),
        (gmpy2.mpq(0, 7), "0"),
        (Fraction(-10, 4), "-5/2"),
        (Fraction(8, 4), "2"),
        (2**200, str(2**200)),
    ],
)
def test_format_rational(value, text):
    assert format_rational(value) == text


@pytest.mark.parametrize("value", [1.5, 0.0, float("inf"), True, False, "1", None, np.float64(1.0)])
def test_format_refuses_inexact(value):
    with pytest.raises(NumberError):
        format_rational(value)


def test_format_parse_round_trip_random():
    rng = random.Random(0)
    for _ in range(2000):
        p = rng.randint(-(2 ** rng.randint(0, 300)), 2 ** rng.randint(0, 300))
        q = rng.randint(1, 2 ** rng.randint(1, 300))
        value = Fraction(p, q)
        text = format_rational(value)
        # The canonical decimal form of section 1, written independently.
        expected = str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
        assert text == expected
        assert frac(parse_rational(text)) == value
        assert format_rational(parse_rational(text)) == text


def test_hex_reads_back_as_decimal():
    assert format_rational(parse_rational("-0xff/0x100")) == "-255/256"
    assert format_rational(parse_rational("0x0")) == "0"


def test_to_rat_and_is_exact():
    assert to_rat(Fraction(3, 6)) == gmpy2.mpq(1, 2)
    assert to_rat(7) == 7 and isinstance(to_rat(7), exact.Rat)
    assert to_rat(gmpy2.mpz(-2)) == -2
    q = gmpy2.mpq(1, 3)
    assert to_rat(q) is q
    for ok in (1, 0, gmpy2.mpz(1), gmpy2.mpq(1, 2), Fraction(1, 3)):
        assert is_exact(ok)
    for bad in (True, 1.0, "1", None, np.float64(1)):
        assert not is_exact(bad)
        with pytest.raises(NumberError):
            to_rat(bad)


# ---------------------------------------------------------------- floats


def test_float_to_rat_is_exact_on_random_floats():
    rng = np.random.default_rng(1)
    values = np.concatenate(
        [
            rng.standard_normal(500),
            rng.standard_normal(200) * 10.0 ** rng.integers(-300, 300, 200),
            rng.standard_normal(100).astype(np.float32).astype(np.float64),
            rng.standard_normal(100).astype(np.float16).astype(np.float64),
        ]
    )
    for x in values.tolist():
        q = float_to_rat(x)
        assert frac(q) == Fraction(x)  # Fraction(float) is exact
        assert float(frac(q)) == x


@pytest.mark.parametrize(
    "x, expected",
    [
        (0.1, Fraction(3602879701896397, 36028797018963968)),
        (0.5, Fraction(1, 2)),
        (-2.0, Fraction(-2)),
        (0.0, Fraction(0)),
        (-0.0, Fraction(0)),
        (5e-324, Fraction(1, 2**1074)),  # smallest subnormal
        (2.2250738585072014e-308, Fraction(1, 2**1022)),  # smallest normal
        (1.7976931348623157e308, Fraction((2**53 - 1) * 2**971)),
        (2.0**-1074 * 3, Fraction(3, 2**1074)),
    ],
)
def test_float_to_rat_values(x, expected):
    q = float_to_rat(x)
    assert frac(q) == expected
    if expected == 0:
        assert format_rational(q) == "0"


def test_float_to_rat_numpy_scalars():
    assert frac(float_to_rat(np.float32(0.1))) == Fraction(13421773, 134217728)
    assert frac(float_to_rat(np.float16(0.1))) == Fraction(819, 8192)
    assert frac(float_to_rat(np.float64(1.25))) == Fraction(5, 4)


@pytest.mark.parametrize("x", [float("nan"), float("inf"), float("-inf"), np.float32("nan")])
def test_float_to_rat_refuses_non_finite(x):
    with pytest.raises(NumberError):
        float_to_rat(x)


# ---------------------------------------------------------------- bit measures


def test_bitlen():
    assert bitlen(0) == 0
    assert bitlen(1) == 1
    assert bitlen(-1) == 1
    assert bitlen(255) == 8
    assert bitlen(-256) == 9
    assert bitlen(2**1000) == 1001


@pytest.mark.parametrize(
    "p, q",
    [(1, 1), (-1, 1), (1, 2), (3, 8), (-1025, 3), (3, 1024), (2**70, 3**50), (-(3**50), 2**70 + 1), (7, 1), (255, 256)],
)
def test_bits_and_storage_bits_definitions(p, q):
    value = gmpy2.mpq(p, q)
    # bits(p/q) = max(bitlen|p|, bitlen q); storage = bitlen|p| + bitlen q (lowest terms).
    assert bits(value) == max(abs(p).bit_length(), q.bit_length())
    assert storage_bits(value) == abs(p).bit_length() + q.bit_length()


def test_bits_use_lowest_terms():
    value = gmpy2.mpq(6, 4)  # = 3/2
    assert bits(value) == 2
    assert storage_bits(value) == 4


def test_bits_examples():
    assert bits(gmpy2.mpq(-1025, 3)) == 11
    assert storage_bits(gmpy2.mpq(-1025, 3)) == 13
    assert bits(gmpy2.mpq(1, 2)) == 2
    assert storage_bits(gmpy2.mpq(1)) == 2


def test_lcm_all():
    assert exact.lcm_all([]) == 1
    assert exact.lcm_all([4, 6, 10]) == 60
    assert exact.lcm_all([2**100, 2**3]) == 2**100
