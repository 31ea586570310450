"""Exact numbers: the only place netcert binds its number types.

``Int`` and ``Rat`` are gmpy2's ``mpz`` and ``mpq``. This module holds

- the string codec of ``specs/README.md`` section 1 (decimal or hex, lowest
  terms, positive denominator, no ``-0``), with a size limit checked *before*
  parsing, because a hostile file may hold a number of millions of digits;
- the conversion of floats to the dyadic rationals they denote (never rounded);
- the bit measures of ``specs/README.md`` section 3.4.

gmpy2 parses big decimal strings in sub-quadratic time and without CPython's
4300-digit limit, which is why no number is ever parsed with ``int(str)``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from fractions import Fraction

import gmpy2

# The types themselves, imported under netcert's names so that a type checker takes them as types
# (gmpy2 ships no stubs: they are Any to mypy, but isinstance and annotations read alike).
from gmpy2 import mpq as Rat
from gmpy2 import mpz as Int

from netcert import limits
from netcert.errors import NumberError, UsageError

mpz = gmpy2.mpz
mpq = gmpy2.mpq

DEFAULT_MAX_BITS = limits.BITS.default
"""Default limit on the bit length of a parsed numerator or denominator."""

_DEC = re.compile(r"-?(?:0|[1-9][0-9]*)(?:/[1-9][0-9]*)?\Z")
_HEX = re.compile(r"-?0x(?:0|[1-9a-f][0-9a-f]*)(?:/0x[1-9a-f][0-9a-f]*)?\Z")
_LOG2_10 = math.log2(10)


def max_bits() -> int:
    """The active size limit: ``NETCERT_MAX_BITS`` if set, else the default."""
    try:
        return limits.BITS.value()
    except UsageError as e:
        raise NumberError(str(e)) from None


def digit_bits(digits: str, hexa: bool = False) -> int:
    """The bit length of the largest integer ``digits`` can write: 4k for k hex digits,
    bitlen(10^k) = ceil(k log2 10) for k decimal ones (exact: computed where the float is not sure)."""
    k = len(digits)
    if hexa or k == 0:
        return 4 * k
    estimate = k * _LOG2_10
    if abs(estimate - round(estimate)) > 1e-6:
        return math.ceil(estimate)
    return int((mpz(10) ** k).bit_length())


def parse_rational(text: object, limit: int | None = None) -> Rat:
    """Parse a canonical exact-number string (decimal or hex) into an ``mpq``.

    Refuses (``NumberError``) anything that is not a string of the grammar,
    not in lowest terms, with a denominator of 1 written out, ``-0``, or with a
    part longer than ``limit`` bits (default: ``max_bits()``).
    """
    if not isinstance(text, str):
        raise NumberError(f"expected an exact number as a string, got {type(text).__name__} {text!r:.40}")
    hexa = text.lstrip("-").startswith("0x")
    if not (_HEX if hexa else _DEC).match(text):
        raise NumberError(f"not an exact number: {text!r:.60}")
    limit = max_bits() if limit is None else limit
    parts = text.lstrip("-").split("/")
    for part in parts:
        digits = part[2:] if hexa else part
        if digit_bits(digits, hexa) > limit + 4:
            raise NumberError(f"number too large: {len(digits)} digits exceed the limit of {limit} bits")
    base = 16 if hexa else 10
    num = mpz(parts[0][2:] if hexa else parts[0], base)
    den = mpz(parts[1][2:] if hexa else parts[1], base) if len(parts) == 2 else mpz(1)
    if text.startswith("-"):
        if num == 0:
            raise NumberError("'-0' is not a canonical number")
        num = -num
    if max(num.bit_length(), den.bit_length()) > limit:
        raise NumberError(f"number too large: more than {limit} bits")
    if len(parts) == 2 and den == 1:
        raise NumberError(f"a denominator of 1 must be omitted: {text!r:.60}")
    if gmpy2.gcd(num, den) != 1:
        raise NumberError(f"not in lowest terms: {text!r:.60}")
    return mpq(num, den)


def format_rational(q: object) -> str:
    """The canonical decimal string of an exact number (``"p/q"`` or ``"p"``)."""
    return str(to_rat(q))


def to_rat(value: object) -> Rat:
    """An exact value (int, mpz, mpq, Fraction) as ``mpq``; refuses floats."""
    if isinstance(value, Rat):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, Int, Fraction)):
        raise NumberError(f"not an exact number: {type(value).__name__} {value!r:.40}")
    if isinstance(value, Fraction):
        return mpq(value.numerator, value.denominator)
    return mpq(value)


def is_exact(value: object) -> bool:
    """True for the exact scalar types netcert accepts in a network."""
    return isinstance(value, (Rat, Int, Fraction, int)) and not isinstance(value, bool)


def float_to_rat(x: float) -> Rat:
    """The exact dyadic rational a finite float denotes (no rounding)."""
    if not math.isfinite(x):
        raise NumberError(f"not a finite number: {x!r}")
    num, den = float(x).as_integer_ratio()
    return mpq(num, den)


def bitlen(n: object) -> int:
    """Bit length of ``|n|`` (0 for 0)."""
    return int(mpz(n).bit_length())


def bits(q: Rat) -> int:
    """``specs/README.md`` section 3.4: bits(p/q) = max(bitlen|p|, bitlen q)."""
    return max(bitlen(q.numerator), bitlen(q.denominator))


def storage_bits(q: Rat) -> int:
    """bitlen|p| + bitlen q: the storage a nonzero number adds to total_weight_bits."""
    return bitlen(q.numerator) + bitlen(q.denominator)


def lcm_all(values: Iterable[object]) -> Int:
    """Least common multiple of positive integers (1 for none)."""
    out = mpz(1)
    for v in values:
        out = gmpy2.lcm(out, v)
    return out


def display(q: object, digits: int = 12) -> str:
    """A number for people: exact decimal when it has at most ``digits`` digits after the point
    (``-373.5``, ``0.1``), else rounded to 6 significant digits and marked (``~-373.976``).
    Never for files: those hold ``format_rational``."""
    r = to_rat(q)
    den = int(r.denominator)
    twos = (den & -den).bit_length() - 1
    rest, fives = den >> twos, 0
    while rest % 5 == 0:
        rest, fives = rest // 5, fives + 1
    places = max(twos, fives)
    if rest == 1 and places <= digits:
        scaled = abs(r.numerator) * (10**places // den)
        whole, frac = divmod(int(scaled), 10**places)
        sign = "-" if r < 0 else ""
        return f"{sign}{whole}" + (f".{frac:0{places}d}".rstrip("0") if places else "")
    return f"~{gmpy2.mpfr(r, 53):.6g}"
