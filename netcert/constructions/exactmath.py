"""Exact integer functions for size formulas, and the size limits a build must respect.

Size claims and theorem bounds are evaluated by substitution alone (no evalf,
no float): every formula is rational arithmetic, Min/Max, Piecewise,
ceiling/floor of rationals, and the two integer functions defined here, which
sympy evaluates exactly as soon as their arguments are numbers:

- ``ceil_log2(x)``: the least integer e with 2^e >= x, for a rational x > 0
  (from bit lengths, one exact comparison);
- ``ceil_root(x, k)``: the least integer r >= 0 with r^k >= x, for a rational
  x >= 0 (``gmpy2.iroot`` on ceil(x)).

``ceil_sqrt_pi`` gives ceil(sqrt(q pi)) exactly from a rational bracket of pi
computed in integers (Machin's formula with a proved error bound), refined
until the ceiling is decided.

The size limits (``specs/README.md`` section 1): no number of a network may
exceed ``max_bits()`` bits (a net.json holding one could not be read back), and
a network's numbers together may hold at most ``TOTAL_FACTOR * max_bits()``
bits (10^9 by default: about 10^9 / 3.3 decimal digits of JSON, the scale at
which building and evaluating take minutes and gigabytes). ``refuse_bits`` and
``Budget`` raise ``PreconditionError`` (exit 3) naming the limit, so that a
construction stops before computing numbers it could not write.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import gmpy2
import sympy

from netcert.errors import InternalError, PreconditionError
from netcert.exact import Rat, max_bits, mpq, mpz

TOTAL_FACTOR = 1000
"""A network may hold at most TOTAL_FACTOR * max_bits() bits in all its numbers."""

JSON_INT_BITS = 13_000
"""The largest bit length of an integer written as a JSON integer (options, size variables): below
Python's 4300-digit limit on int <-> str conversion (13,000 bits are at most 3,914 digits), which
would make the file unwritable, and unreadable by ``json.loads``."""


# -- integer functions -------------------------------------------------------------------------------


def ceil_log2_ratio(p: int, r: int) -> int:
    """The least integer e with 2^e >= p / r, for integers p, r > 0 (not necessarily coprime: no gcd).

    With e0 = bitlen p - bitlen r, 2^(e0-1) < p/r < 2^(e0+1), so e is e0 or e0 + 1 and one exact
    comparison of shifted integers decides.
    """
    p, r = mpz(p), mpz(r)
    if p <= 0 or r <= 0:
        raise ValueError(f"ceil_log2 needs a positive ratio, got {p}/{r}")
    e0 = int(p.bit_length()) - int(r.bit_length())
    fits = p <= (r << e0) if e0 >= 0 else (p << -e0) <= r  # 2^e0 >= p/r
    return e0 if fits else e0 + 1


def ceil_log2_int(q: object) -> int:
    """The least integer e with 2^e >= q, for a rational q > 0, exactly."""
    x = mpq(q)
    if x <= 0:
        raise ValueError(f"ceil_log2 needs a positive rational, got {x}")
    return ceil_log2_ratio(x.numerator, x.denominator)


def ceil_root_int(q: object, k: int) -> int:
    """The least integer r >= 0 with r^k >= q, for a rational q >= 0 and k >= 1, exactly.

    For an integer r, r^k >= q iff r^k >= ceil(q), so the integer k-th root of ceil(q) decides.
    """
    x = mpq(q)
    if x < 0 or k < 1:
        raise ValueError(f"ceil_root needs q >= 0 and k >= 1, got {x}, {k}")
    t = -((-x.numerator) // x.denominator)
    if t == 0:
        return 0
    root, exact = gmpy2.iroot(mpz(t), k)
    return int(root) if exact else int(root) + 1


def bits_of(q: object) -> int:
    """bits(p/q) = max(bitlen |p|, bitlen q) of an exact number."""
    x = mpq(q)
    return max(int(x.numerator.bit_length()), int(x.denominator.bit_length()))


# -- sympy functions that evaluate exactly ---------------------------------------------------------------


def _number(x: sympy.Expr) -> Rat | None:
    """x as an mpq when it is a sympy rational number, else None (x is still symbolic)."""
    if isinstance(x, sympy.Rational):
        return mpq(int(x.p), int(x.q))
    return None


class ceil_log2(sympy.Function):  # noqa: N801 (prints as the function it is)
    """ceil(log2(x)) for a rational x > 0; unevaluated while x is symbolic."""

    is_integer = True

    @classmethod
    def eval(cls, x: sympy.Expr) -> sympy.Integer | None:
        q = _number(x)
        return None if q is None else sympy.Integer(ceil_log2_int(q))


class ceil_root(sympy.Function):  # noqa: N801
    """ceil(x^(1/k)) for a rational x >= 0 and an integer k >= 1; unevaluated while x is symbolic."""

    is_integer = True
    is_nonnegative = True

    @classmethod
    def eval(cls, x: sympy.Expr, k: sympy.Expr) -> sympy.Integer | None:
        q = _number(x)
        if q is None or not isinstance(k, sympy.Integer):
            return None
        return sympy.Integer(ceil_root_int(q, int(k)))


# -- pi, exactly bracketed ----------------------------------------------------------------------------


def _atan_inv(x: int, one: int) -> tuple[int, int]:
    """(s, e): |s - one * atan(1/x)| <= e, by the alternating series in integers.

    Each term floor(floor(one / x^(2j+1)) / (2j+1)) = floor(one / ((2j+1) x^(2j+1))) is off by
    less than 1, and the series stops at a term of 0, beyond which the tail is below 1.
    """
    total, power, j, x2 = 0, one // x, 0, x * x
    while power:
        term = power // (2 * j + 1)
        total += -term if j % 2 else term
        power //= x2
        j += 1
    return total, j + 2


def pi_bracket(precision: int) -> tuple[Rat, Rat]:
    """Rationals lo <= pi <= hi with hi - lo <= 2^-precision (Machin: pi = 16 atan(1/5) - 4 atan(1/239))."""
    guard = int(precision).bit_length() + 8
    one = mpz(1) << (precision + guard)
    a, ea = _atan_inv(5, one)
    b, eb = _atan_inv(239, one)
    value, err = 16 * a - 4 * b, 16 * ea + 4 * eb
    return mpq(value - err, one), mpq(value + err, one)


def ceil_sqrt_pi(q: object) -> int:
    """ceil(sqrt(q pi)) for a rational q > 0, exactly.

    sqrt(q pi) is never an integer (pi is irrational), so brackets of pi precise enough give
    the same ceiling at both ends; the precision starts at about the bits of the answer and doubles.
    """
    x = mpq(q)
    if x <= 0:
        raise ValueError(f"ceil_sqrt_pi needs a positive rational, got {x}")
    precision = max(64, bits_of(x) + 64)
    while True:
        lo, hi = pi_bracket(precision)
        a, b = ceil_root_int(x * lo, 2), ceil_root_int(x * hi, 2)
        if a == b:
            return a
        precision *= 2


def json_int(v: int) -> bool:
    """True when ``v`` can be written (and read back) as a JSON integer: at most JSON_INT_BITS bits."""
    return int(mpz(v).bit_length()) <= JSON_INT_BITS


# -- size limits -----------------------------------------------------------------------------------------


def total_limit() -> int:
    """The most bits a network's numbers may hold in all: TOTAL_FACTOR * max_bits()."""
    return TOTAL_FACTOR * max_bits()


def refuse_bits(name: str, what: str, need: int) -> None:
    """Refuse (PreconditionError) when one number of ``what`` would need more than max_bits() bits."""
    limit = max_bits()
    if need > limit:
        raise PreconditionError(
            f"{name}: {what} would need {need:,} bits, over the size limit of {limit:,} bits "
            "per number (NETCERT_MAX_BITS)"
        )


def refuse_total(name: str, what: str, need: int) -> None:
    """Refuse when the network's numbers would hold more than ``total_limit()`` bits in all."""
    limit = total_limit()
    if need > limit:
        raise PreconditionError(
            f"{name}: {what} would hold about {need:,} bits in all, over the limit of "
            f"{limit:,} bits per network ({TOTAL_FACTOR} x NETCERT_MAX_BITS)"
        )


class Budget:
    """The exact numbers of one build, checked as they are made against both size limits."""

    def __init__(self, name: str):
        self.name = name
        self.total = 0

    def add(self, what: str, numbers: Iterable[object]) -> None:
        """Count ``numbers`` (refusing one over max_bits(), or the running total over total_limit())."""
        limit, total = max_bits(), self.total
        for v in numbers:
            q = mpq(v)
            p, r = int(q.numerator.bit_length()), int(q.denominator.bit_length())
            if max(p, r) > limit:
                refuse_bits(self.name, what, max(p, r))
            total += p + r
        self.total = total
        refuse_total(self.name, what, total)


def refuse_scaled_inputs(name: str, scale: Iterable[object], neurons: int) -> None:
    """Refuse, before anything is computed, a network of ``neurons`` neurons that each read some input j
    with a nonzero integer multiple of the column scale scale_j (``base.on_inputs``): each such
    weight has at least min_j bitlen(scale_j) bits, a certain lower bound on the network's total."""
    low = min(int(mpz(s).bit_length()) for s in scale)
    refuse_bits(name, "a first-layer weight (a multiple of the column scale)", low)
    refuse_total(
        name,
        f"{neurons:,} neurons, each with a first-layer weight of at least {low:,} bits "
        "(a multiple of the column scale),",
        neurons * low,
    )


def evaluate_formula(formula: sympy.Expr, variables: Mapping[str, int]) -> int:
    """The integer value of a sympy formula, its symbols matched to ``variables`` by name.

    Exact: the symbols are replaced by sympy Integers and sympy's own exact rules
    evaluate the rest (rational arithmetic, Min/Max, Piecewise, ceiling of a
    rational, the integer functions of ``constructions.exactmath``). Nothing is
    rounded through evalf or a float, which would overflow or run out of
    precision on numbers of thousands of digits; a formula that does not come
    out an exact integer is an error of its construction, refused as such.
    """
    value = formula.xreplace({sym: sympy.Integer(variables[sym.name]) for sym in formula.free_symbols})
    if not isinstance(value, sympy.Integer):
        raise InternalError(
            f"size formula {str(formula)[:200]} is not an exact integer at {dict(variables)!s:.200}: {str(value)[:200]}"
        )
    return int(value)


def ceil_sqrt_ratio(num: object, den: object) -> int:
    """ceil(sqrt(num / den)) for rationals num >= 0, den > 0, exactly; at least 1 (the r / delta of
    a dataset of one point, or of points all at the origin, is taken as 1)."""
    return max(ceil_root_int(mpq(num) / mpq(den), 2), 1)
