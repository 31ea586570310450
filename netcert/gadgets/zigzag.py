"""The dyadic zig-zag interpolant of points on a line (classic.md section 2.2).

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

from netcert.exact import Rat, mpq


def slope_bound(z: Sequence[int], y: Sequence[Rat]) -> Rat:
    """K: the least power of two (possibly 2^-e) at least every |secant slope|; 1 if none is nonzero."""
    m = max((abs((y[k + 1] - y[k]) / (z[k + 1] - z[k])) for k in range(len(z) - 1)), default=mpq(0))
    if m == 0:
        return mpq(1)
    K = mpq(1)
    while K < m:
        K *= 2
    while K / 2 >= m:
        K /= 2
    return K


def zigzag(z: Sequence[int], y: Sequence[Rat]) -> tuple[list[Rat], list[Rat]]:
    """Kinks kappa_k and output weights w_k of the zig-zag interpolant of sorted (z, y)."""
    K = slope_bound(z, y)
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
