"""Exact evaluation of two-layer networks: the hidden signs from float64 under a proved error
bound, and the output collapsed to one linear form of the point
(docs/performance.md, "The two-layer collapse").

The network is x -> Z = A x + B (layer 1, the integer rows of ``program.integer_rows``) ->
y = act(c + sum_j w_j act_j(Z_j)). Every hidden activation is a 0/1 mask times a form of x
(``activations``' functions read as masks): relu(Z) = m Z with m = [Z > 0], threshold(Z) = m with
m = [Z >= 0], identity(Z) = Z with m = 1.
So, with x_d = 1, the output before its activation is

    c + sum_{k <= d} x_k G_k,   G_k = sum_j m_j M_jk,

where M_jk = w_j A_jk (k < d) and M_jd = w_j B_j for relu and identity rows, and M_jk = 0 (k < d),
M_jd = w_j for threshold rows. Per point only the mask and the d + 1 integers G_k are formed,
never the hidden values: on the benchmark shape Ad that is one product of 1,000 x 11 for the signs and
one of 1,000 x 22 for G, against five limbs of every hidden value for the layer-by-layer kernel.

**The mask: a float filter that decides only what it proves.** Zf = fl(Af xf), one float64
product with the bias as an extra column (xf_d = 1), where xf and Af are the inputs and the
integer weights rounded to nearest. Let u = 2^-53 and S_j = |B_j| + sum_k |A_jk| V_k with V_k
the exact maximum |x_k| over the data (``batch.layer_bounds``). Rounding xf and Af costs a
relative u each, and a sum of d + 1 products, in any order, with or without fused multiply-add,
is within gamma_{d+1} = (d + 1) u / (1 - (d + 1) u) of its exact value relative to the sum of
the magnitudes (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., (3.4)-(3.5)).
So |Zf_j - Z_j| <= (2u + u^2 + gamma_{d+1} (1 + u)^2) S_j < tau_j := (d + 5) u S_j (for
d < 2^30), with tau_j rounded up. No overflow or underflow happens: every magnitude is 0 or in
[1, 2^1000). Hence Zf_j > tau_j proves Z_j > 0 and Zf_j < -tau_j proves Z_j < 0; the other,
*ambiguous* entries are evaluated exactly with Python integers (Z_j = 0 is always ambiguous, so
relu's > and threshold's >= are never confused). Identity rows take tau_j = -inf: always 1.

**The collapse: exact.** Column k of M is shifted right by its common trailing zeros (whole
multiples of rho bits, kept as a position offset) and cut into sign-magnitude limbs of R = 2 rho
bits, with H 2^R <= 2^52 for H hidden rows. The product M_limbs^T m sums at most H limbs below
2^R, so every partial sum is an integer below 2^52 and the float64 product is exact (as in
``batch``). Each G limb is split into floor(G / 2^rho) (below 2^(52 - rho) in magnitude) and
G mod 2^rho, the inputs into rho-bit limbs in floor normal form (below 2^rho in magnitude): every
half times an input limb is below 2^52, and the plan proves that fewer than 2^11 of them meet at
any position, so the int64 position sums cannot overflow. The output is c + sum_p P_p 2^(rho p),
assembled in Python integers, and its activation applied exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from netcert.engine import batch
from netcert.engine.batch import LayerPlan, Plan, Row
from netcert.ir.keys import IDENTITY, RELU, THRESHOLD

MAX_BITS = 1000  # magnitudes the float filter may meet: far from float64's 2^1024
MAX_TERMS = 2**11 - 1  # products below 2^52 one int64 position may sum
CHUNK_ELEMENTS = 2**17  # float64 entries of the chunk's hidden layer (1 MB: cache-sized)
NS_OBJECT = 50.0  # one element of a vectorised operation on Python integers
UNIT = 2.0**-53


@dataclass(frozen=True)
class Pair:
    """A planned two-layer network ready to run (``forward``)."""

    plan: Plan
    weights: np.ndarray  # (H, d + 1) float64: A rounded, the bias B as the last column
    above: np.ndarray  # (H, 1) tau: Zf > tau proves Z > 0 (-inf for identity rows)
    below: np.ndarray  # (H, 1) -tau: Zf < -tau proves Z < 0 (+inf for identity rows)
    rows: tuple[Row, ...]  # the exact hidden rows, for the ambiguous entries
    limbs: np.ndarray  # (columns, H) float64: the R-bit limbs of M's kept columns
    column_input: np.ndarray  # (2 columns,) the x_k each G half multiplies (d: the constant 1), sorted
    starts: np.ndarray  # first half of each run of equal positions (np.add.reduceat)
    positions: np.ndarray  # the distinct positions, one per run
    order: np.ndarray  # the halves (low of every column, then high) in position order
    rho: int
    input_limbs: int
    width: int  # number of output positions
    out_bias: int
    out_activation: str


@dataclass(frozen=True)
class Shape:
    """What the plan proved, for ``build``: columns are (k, t, offset), limb t of column k of M
    whose entries were shifted right by rho * offset bits."""

    rho: int
    columns: tuple[tuple[int, int, int], ...]
    input_limbs: int
    width: int  # output positions
    M: list  # the exact collapsed matrix (``_collapsed_matrix``)
    S: list  # S_j of the module docstring


def plan(layers: Sequence[Sequence[Row]], input_bounds: Sequence[int]) -> tuple[Plan, Shape] | None:
    """The collapse plan of a two-layer network with one output and what it proved, or None when
    the network is not one or a bound of the module docstring fails (``batch`` plans it then)."""
    shape = _shape(layers, input_bounds)
    if shape is None:
        return None
    hidden, out = layers
    d, H, columns = len(input_bounds), len(hidden), shape.columns
    elements = batch.NS_DENSE_MAC * H * (d + 1 + len(columns)) + batch.NS_ELEMENT * H * 5
    small = batch.NS_ELEMENT * 2 * len(columns) * shape.input_limbs * 4 + NS_OBJECT * 2 * shape.width
    chunk = chunk_size(H)
    ns = elements + small + batch.NS_CALL * (12 + 3 * shape.input_limbs) / chunk
    acts = ",".join(sorted({r.activation for r in hidden}))
    filt = LayerPlan(
        1,
        H,
        sum(len(r.sources) for r in hidden),
        max(len(r.sources) for r in hidden),
        acts,
        max(shape.S).bit_length(),
        "sign-filter",
        ns=elements,
        why=f"signs from float64, |error| < {d + 5} 2^-53 S_j proved; ambiguous entries exact",
    )
    z_out = batch.layer_bounds(out, [batch.value_bound(b, r.activation) for b, r in zip(shape.S, hidden)])[0]
    coll = LayerPlan(
        2,
        1,
        len(out[0].sources),
        len(out[0].sources),
        out[0].activation,
        z_out.bit_length(),
        "collapse",
        radix=2 * shape.rho,
        limbs=shape.input_limbs,
        weight_limbs=max(t for _, t, _ in columns) + 1,
        ns=small,
        why=f"y = c + sum_k x_k G_k, G = M^T mask: {len(columns)} limb columns, sums below 2^52",
    )
    return Plan(
        (filt, coll), True, chunk, f"two layers collapsed to one form per point: about {ns / 1000:.1f} us per point", ns
    ), shape


def chunk_size(hidden: int) -> int:
    """Points per chunk: a power of two keeping the chunk's hidden layer near ``CHUNK_ELEMENTS``."""
    chunk = 32
    while chunk < 4096 and 2 * chunk * hidden <= CHUNK_ELEMENTS:
        chunk *= 2
    return chunk


def _shape(layers: Sequence[Sequence[Row]], input_bounds: Sequence[int]) -> Shape | None:
    """The collapse's shape when every bound of the module docstring holds, else None."""
    if len(layers) != 2 or len(layers[1]) != 1 or not layers[0]:
        return None
    hidden, (out,) = layers
    acts = {r.activation for r in hidden} | {out.activation}
    d, H = len(input_bounds), len(hidden)
    if not acts <= {RELU, THRESHOLD, IDENTITY} or H * (d + 1) > batch.DENSE_MAX:
        return None
    S = batch.layer_bounds(hidden, input_bounds)
    big = max([*S, *input_bounds, *(abs(a) for r in hidden for a in r.coefs)], default=0) * (d + 5)
    if big.bit_length() > MAX_BITS:
        return None
    rho = (52 - H.bit_length()) // 2
    M = _collapsed_matrix(hidden, out, d)
    columns = []
    for k in range(d + 1):
        entries = [row[k] for row in M if row[k]]
        if not entries:
            continue
        offset = min((v & -v).bit_length() - 1 for v in entries) // rho
        bits = max(abs(v) for v in entries).bit_length() - rho * offset
        columns += [(k, t, offset) for t in range(-(-bits // (2 * rho)))]
    if not columns:
        return None
    input_limbs = batch.limbs_needed(max(input_bounds, default=0), rho)
    width = max(offset + 2 * t for _, t, offset in columns) + 1 + input_limbs
    meet = [0] * width  # nonzero products per position (the constant 1 has one nonzero limb)
    for k, t, offset in columns:
        for half in (0, 1):
            for s in range(input_limbs if k < d else 1):
                meet[offset + 2 * t + half + s] += 1
    if max(meet) > MAX_TERMS:
        return None
    return Shape(rho, tuple(columns), input_limbs, width, M, S)


def _collapsed_matrix(hidden: Sequence[Row], out: Row, d: int) -> list[list[int]]:
    """M of the module docstring: row j is hidden row j's contribution w_j (A_j, B_j), or
    (0, w_j) for a threshold row; exact integers."""
    w = dict(zip(out.sources, out.coefs))
    M = []
    for j, row in enumerate(hidden):
        line = [0] * (d + 1)
        wj = w.get(j, 0)
        if wj and row.activation == THRESHOLD:
            line[d] = wj
        elif wj:
            for s, a in zip(row.sources, row.coefs):
                line[s] = wj * a
            line[d] = wj * row.bias
        M.append(line)
    return M


def build(plan_: Plan, shape: Shape, layers: Sequence[Sequence[Row]]) -> Pair:
    """The matrices of a collapse plan (``plan``)."""
    hidden, (out,) = layers
    H, d, rho, R = len(hidden), len(shape.M[0]) - 1, shape.rho, 2 * shape.rho
    weights = np.zeros((H, d + 1))
    for j, row in enumerate(hidden):
        for s, a in zip(row.sources, row.coefs):
            weights[j, s] = float(a)  # rounded to nearest: the filter's bound counts it
        weights[j, d] = float(row.bias)
    tau = np.array([_round_up((d + 5) * b) * UNIT for b in shape.S])
    identity = np.array([r.activation == IDENTITY for r in hidden])
    above, below = np.where(identity, -np.inf, tau)[:, None], np.where(identity, np.inf, -tau)[:, None]
    limbs = np.zeros((len(shape.columns), H))
    for c, (k, t, offset) in enumerate(shape.columns):
        # exact: every entry of the column has rho * offset trailing zeros
        limbs[c] = [batch.signed_limb(row[k] >> (rho * offset), R, t) for row in shape.M]
    columns = shape.columns
    halves = [(k, offset + 2 * t + half) for half in (0, 1) for k, t, offset in columns]
    order = np.array(sorted(range(len(halves)), key=lambda i: halves[i][1]), dtype=np.int64)
    position = np.array([halves[i][1] for i in order], dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, position[1:] != position[:-1]])
    return Pair(
        plan_,
        weights,
        above,
        below,
        tuple(hidden),
        limbs,
        np.array([halves[i][0] for i in order], dtype=np.int64),
        starts,
        position[starts],
        order,
        rho,
        shape.input_limbs,
        shape.width,
        out.bias,
        out.activation,
    )


def _round_up(v: int) -> float:
    """A float64 >= the integer v >= 0 (float() rounds to nearest, off by at most a relative 2^-53)."""
    f = float(v)
    return f if int(f) >= v else math.nextafter(f, math.inf)


def forward(pair: Pair, X: np.ndarray, work: dict | None = None) -> list[int]:
    """The exact output on every point of ``X`` (d, points), int64 or object; ``work`` keeps the
    chunk's arrays between calls of the same size (no allocation after the first)."""
    work = {} if work is None else work
    d, c = X.shape
    H = len(pair.rows)
    Xa = batch.scratch(work, "Xa", (d + 1, c), np.float64)
    Xa[:d] = X  # int64 or Python integers rounded to nearest
    Xa[d] = 1.0
    Z = np.matmul(pair.weights, Xa, out=batch.scratch(work, "Z", (H, c), np.float64))
    positive = np.greater(Z, pair.above, out=batch.scratch(work, "pos", (H, c), np.bool_))
    mask = batch.scratch(work, "mask", (H, c), np.float64)
    np.copyto(mask, positive)
    decided = np.less(Z, pair.below, out=batch.scratch(work, "neg", (H, c), np.bool_))
    # Every entry proved one way or the other, or some settled exactly. Not a count of both: an
    # identity row is "proved" both ways (its mask is 1 whatever Z), so counts hid undecided entries.
    if not np.logical_or(decided, positive, out=decided).all():
        _settle(pair, X, Z, mask)
    G = np.matmul(pair.limbs, mask, out=batch.scratch(work, "G", (pair.limbs.shape[0], c), np.float64))
    return _assemble(pair, X, G)


def _settle(pair: Pair, X: np.ndarray, Z: np.ndarray, mask: np.ndarray) -> None:
    """The mask, exactly, on the entries the filter left ambiguous."""
    for j, i in zip(*np.nonzero((Z >= pair.below) & (Z <= pair.above))):
        row = pair.rows[j]
        z = row.bias + sum(a * int(X[s, i]) for s, a in zip(row.sources, row.coefs))
        mask[j, i] = z > 0 if row.activation == RELU else z >= 0


def _assemble(pair: Pair, X: np.ndarray, G: np.ndarray) -> list[int]:
    """c + sum_k x_k G_k as exact integers, with the output's activation (module docstring)."""
    rho, n_x = pair.rho, pair.input_limbs
    c = X.shape[1]
    high = np.floor(G * (1.0 / (1 << rho)))
    low = G - high * float(1 << rho)
    halves = np.concatenate([low, high]).astype(np.int64)[pair.order]  # exact integers below 2^52
    limbs = batch.split_limbs(X[:, None, :], 0, rho, n_x).astype(np.int64)
    one = np.zeros((1, n_x, c), dtype=np.int64)
    one[0, 0] = 1
    factors = np.concatenate([limbs, one])[pair.column_input]  # (halves, n_x, points)
    P = np.zeros((pair.width, c), dtype=np.int64)
    for s in range(n_x):
        P[pair.positions + s] += np.add.reduceat(halves * factors[:, s], pair.starts, axis=0)
    total = P[-1].astype(object)
    for p in range(pair.width - 2, -1, -1):
        total = (total << rho) + P[p].astype(object)
    outs = [int(v) + pair.out_bias for v in total]
    if pair.out_activation == RELU:
        return [max(v, 0) for v in outs]
    if pair.out_activation == THRESHOLD:
        return [int(v >= 0) for v in outs]
    return outs
