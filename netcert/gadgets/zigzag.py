"""The dyadic zig-zag interpolant of points on a line (docs/constructions/zhang2017.md section 3).

Given sorted integers z_1 < ... < z_n and rational labels y_1..y_n, the function

    F(z) = sum_k w_k relu(z - kappa_k)

with slopes alternating +-K (K the least power of two >= every |secant slope|)
satisfies F(z_i) = y_i exactly. sigma_0 = +K if y_1 >= 0 else -K; neuron 0 has
kink kappa_0 = z_1 - y_1 / sigma_0 <= z_1 and weight sigma_0; neuron k >= 1 has

    kappa_k = (y_(k+1) - y_k - sigma_k z_(k+1) + sigma_(k-1) z_k) / (sigma_(k-1) - sigma_k)

in [z_k, z_(k+1)] (because |m_k| <= K) and weight sigma_k - sigma_(k-1) = +-2K.
Every kink has denominator dividing 2K den(y), so the weights are dyadic when
the labels are.
"""

from __future__ import annotations

from collections.abc import Sequence

from netcert.constructions.exactmath import ceil_log2_ratio
from netcert.exact import Rat, mpq, mpz


def slope_bound(z: Sequence[int], y: Sequence[Rat]) -> Rat:
    """K: the least power of two (possibly 2^-e) at least every |secant slope|; 1 if none is nonzero.

    Exact and without forming the slopes: |m_k| = |num(y_(k+1) - y_k)| / (den(y_(k+1) - y_k) |z_(k+1) - z_k|),
    and the least e with 2^e >= |m_k| comes from bit lengths and one comparison
    (``exactmath.ceil_log2_ratio``, no gcd); K = 2^(max_k e_k), because 2^e >= max |m_k| iff it is >= each.
    Halving or doubling K one step at a time would take as many rational steps as the slopes have
    bits (hundreds of thousands for data with a large common denominator).
    """
    top = None
    for k in range(len(z) - 1):
        dy = mpq(y[k + 1]) - mpq(y[k])
        if dy == 0:
            continue
        e = ceil_log2_ratio(abs(dy.numerator), dy.denominator * abs(mpz(z[k + 1]) - mpz(z[k])))
        top = e if top is None else max(top, e)
    if top is None:
        return mpq(1)
    return mpq(mpz(1) << top) if top >= 0 else mpq(1, mpz(1) << -top)


def zigzag(z: Sequence[int], y: Sequence[Rat], K: Rat | None = None) -> tuple[list[Rat], list[Rat]]:
    """Kinks kappa_k and output weights w_k of the zig-zag interpolant of sorted (z, y).

    ``K``, if given, must be ``slope_bound(z, y)`` (a caller that sized the network with it)."""
    K = slope_bound(z, y) if K is None else K
    sigma = [K if y[0] >= 0 else -K]
    for _ in range(1, len(z)):
        sigma.append(-sigma[-1])
    kinks = [z[0] - y[0] / sigma[0]]
    weights = [sigma[0]]
    for k in range(1, len(z)):
        s0, s1 = sigma[k - 1], sigma[k]
        kinks.append((y[k] - y[k - 1] - s1 * z[k] + s0 * z[k - 1]) / (s0 - s1))
        weights.append(s1 - s0)
    return kinks, weights


def value(z: int, kinks: Sequence[Rat], weights: Sequence[Rat]) -> Rat:
    """F(z), exactly: the contract the unit tests check on every point and between them."""
    return sum((w * max(z - k, 0) for k, w in zip(kinks, weights)), mpq(0))
