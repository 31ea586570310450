"""Exact batch evaluation of layered integer networks: many points per matrix product.

The evaluator's compiled rows (``program.integer_rows``) make every layer an
integer map Z = A H + B on the integer values H of the layer before
(docs/performance.md, "The batch engine"). This module evaluates such layers on a *chunk* of points at
once with numpy and scipy, exactly, and plans which kernel each layer gets:

- **batch-float64**: when every |Z| of the layer is provably below 2^53, one
  float64 product (BLAS for dense layers). Every product a x and every partial
  sum, in whatever order BLAS adds them (with or without fused multiply-add),
  is an integer of magnitude at most sum |a| |x| + |B| < 2^53, and every such
  integer is a float64: no rounding ever happens.
- **batch-int64**: when the bound is below 2^63 (or the layer is sparse, where
  scipy's integer CSR product costs what its float one does): one int64
  product; the same bound rules out any overflow.
- **limb-split(k limbs)**: values (and weights, when that is cheaper) are cut
  into limbs of r bits, x = sum_i x_i 2^(r i), so that each partial product
  A_j X_i has entries below 2^53 (float64, exact as above); the products are
  added per position i + j in int64 and the carries propagated with shifts
  (``normalize``). The sign of a value is the sign of its top limb, so ReLU and
  threshold need no reconstruction.

Values are held as int64 arrays of shape (nodes, limbs, points) in *floor
normal form* of radix 2^r: every limb but the top one in [0, 2^r), the top one
signed, so that the sign is the top limb's; a single limb with r = 0 is the
exact value itself. Bounds are proved at plan time from the exact integer
rows and the exact maxima of the inputs (``layer_bounds``), never estimated.

What is assumed: numpy's int64 shifts are arithmetic (floor) shifts and
``&`` acts on two's complement, both documented numpy semantics; BLAS dgemm
computes each entry as a sum of the exact products (no Strassen-like
algorithm, which OpenBLAS and the reference BLAS never use).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from netcert.ir.keys import IDENTITY, RELU, THRESHOLD

FLOAT_EXACT = 2**53  # every integer of smaller magnitude is a float64
INT64_EXACT = 2**63
MAX_RADIX = 26  # limbs below 2^26: a limb product stays below 2^52
MAX_LIMBS = 12  # beyond about 300-bit values the per-point path is as fast (docs/performance.md, "The batch engine")
DENSE_MAX = 2**24  # entries of one dense weight matrix (128 MB as float64)
CHUNK_ELEMENTS = 2**18  # target int64 entries of one layer's values per chunk (2 MB: cache-sized)

# Cost model, nanoseconds: measured orders of magnitude on the 2-core x86_64 machine of the
# benchmarks (docs/performance.md, "The cost model").
NS_PER_POINT_OP = 100.0  # one Python big-integer operation of the per-point path
NS_DENSE_MAC = 0.15  # one float64 multiply-add inside BLAS
NS_INT_MAC = 1.0  # one int64 multiply-add (numpy's non-BLAS integer matmul)
NS_SPARSE_MAC = 1.5  # one nonzero times one column, scipy CSR
NS_ELEMENT = 1.0  # one element of one vectorised numpy operation
NS_CALL = 3000.0  # one numpy call on a chunk


@dataclass(frozen=True)
class Row:
    """One neuron: Z = bias + sum coefs[k] * H[sources[k]] over the layer before; integers."""

    sources: tuple[int, ...]
    coefs: tuple[int, ...]
    bias: int
    activation: str


@dataclass(frozen=True)
class LayerPlan:
    """The kernel chosen for one layer and the proved bound behind it."""

    layer: int
    width: int
    nonzeros: int
    fan_in: int
    activation: str
    bits: int  # bit length of the proved bound on |Z| over the layer
    engine: str  # batch-float64 | batch-int64 | limb-split | sign-filter | collapse | sweep | rational fallback
    sparse: bool = False
    radix: int = 0  # limb bits (limb-split only)
    limbs: int = 1  # value limbs read (limb-split)
    weight_limbs: int = 1
    out_limbs: int = 1
    ns: float = 0.0  # estimated cost per point
    why: str = ""

    @property
    def label(self) -> str:
        """The engine as ``inspect --plan`` prints it."""
        if self.engine == "limb-split":
            return f"limb-split({self.limbs}x{self.weight_limbs} limbs of {self.radix} bits)"
        if self.engine == "collapse":
            return f"collapse({self.weight_limbs} limbs of {self.radix} bits)"
        return self.engine


@dataclass(frozen=True)
class Plan:
    """How a network is evaluated: every layer batched, or every point alone."""

    layers: tuple[LayerPlan, ...]
    batched: bool
    chunk: int
    why: str
    ns: float = 0.0  # estimated cost per point of the batched evaluation (0: no exact batch kernel)


# -- bounds ----------------------------------------------------------------------------


def layer_bounds(rows: Sequence[Row], value_bounds: Sequence[int]) -> list[int]:
    """Per row, the exact bound |B| + sum |a_k| V_k >= |Z| given |H_k| <= V_k (triangle inequality)."""
    return [abs(r.bias) + sum(abs(a) * value_bounds[s] for s, a in zip(r.sources, r.coefs)) for r in rows]


def value_bound(z_bound: int, activation: str) -> int:
    """A bound on |act(Z)| given |Z| <= z_bound: relu and identity do not grow |Z|; a threshold is 0 or 1."""
    return 1 if activation == THRESHOLD else z_bound


def limbs_needed(bound: int, r: int) -> int:
    """The least n >= 1 with bound < 2^(r n - 1): then every |Z| <= bound has n limbs of radix 2^r in
    floor normal form with the top limb floor(Z / 2^(r (n-1))) in [-2^(r-1), 2^(r-1))."""
    return max(1, -(-(bound.bit_length() + 1) // r))


# -- planning --------------------------------------------------------------------------


def plan_layer(
    layer: int,
    rows: Sequence[Row],
    in_bound: int,
    z_bounds: Sequence[int],
    width_in: int,
    prev_limbs: int,
    prev_radix: int = 0,
) -> LayerPlan:
    """The cheapest exact kernel for one layer, or a ``sweep`` plan saying why none is exact.

    ``in_bound`` bounds every value of the layer before, ``z_bounds`` every row's |Z|.
    """
    nnz = sum(len(r.sources) for r in rows)
    fan_in = max((len(r.sources) for r in rows), default=0)
    acts = sorted({r.activation for r in rows})
    zmax = max(z_bounds, default=0)
    amax = max((abs(a) for r in rows for a in r.coefs), default=0)
    base = dict(
        layer=layer, width=len(rows), nonzeros=nnz, fan_in=fan_in, activation=",".join(acts), bits=zmax.bit_length()
    )
    dense_size = len(rows) * width_in
    sparse = nnz < 0.1 * dense_size or dense_size > DENSE_MAX
    if sparse and nnz > 4 * DENSE_MAX:
        return LayerPlan(**base, engine="sweep", why=f"{nnz} nonzeros: too large for a batch matrix")
    mm = NS_SPARSE_MAC * nnz if sparse else NS_DENSE_MAC * dense_size
    elementwise = NS_ELEMENT * (len(rows) * 4 + width_in * prev_limbs)
    # The matrix holds the weights themselves: a weight too large for the dtype is not exact there,
    # even when its input is bounded by 0 and |Z| is small (a column that is always 0).
    if zmax < FLOAT_EXACT and in_bound < FLOAT_EXACT and amax < FLOAT_EXACT and not sparse:
        return LayerPlan(
            **base,
            engine="batch-float64",
            ns=mm + elementwise,
            why=f"|Z| <= sum|a||x| + |b| < 2^{zmax.bit_length()} <= 2^53: float64 products exact",
        )
    if zmax < INT64_EXACT and in_bound < INT64_EXACT and amax < INT64_EXACT and (sparse or fan_in <= 64):
        cost = (NS_SPARSE_MAC * nnz if sparse else NS_INT_MAC * dense_size) + elementwise
        return LayerPlan(
            **base,
            engine="batch-int64",
            sparse=sparse,
            ns=cost,
            why=f"|Z| < 2^{zmax.bit_length()} <= 2^63: int64 products cannot overflow",
        )
    best = _limb_choice(rows, in_bound, zmax, amax, fan_in, sparse, nnz, dense_size, width_in, prev_limbs, prev_radix)
    if best is None:
        return LayerPlan(
            **base, engine="sweep", sparse=sparse, why=f"|Z| < 2^{zmax.bit_length()} needs more than {MAX_LIMBS} limbs"
        )
    r, n_in, n_w, n_out, cost = best
    return LayerPlan(
        **base,
        engine="limb-split",
        sparse=sparse,
        radix=r,
        limbs=n_in,
        weight_limbs=n_w,
        out_limbs=n_out,
        ns=cost,
        why=f"|Z| < 2^{zmax.bit_length()}: {n_in * n_w} limb products, position sums < 2^53",
    )


def _limb_choice(rows, in_bound, zmax, amax, fan_in, sparse, nnz, dense_size, width_in, prev_limbs, prev_radix):
    """(radix, value limbs, weight limbs, output limbs, ns) of the cheapest exact limb split, or None.

    Value limbs are at most 2^r - 1 in magnitude (the top one at most 2^(r-1)). A partial product
    W_j X_i has entries at most l1 (2^r - 1), with l1 the largest row sum of |weights| of W_j: all
    of |A| when the weights stay whole, at most fan_in (2^r - 1) when they are split into r-bit
    limbs (sign kept). Position q of the sum adds m <= min(value limbs, weight limbs) such products,
    a bias limb below 2^r and the carry from below (at most S / 2^r + 1 for a position sum S), and
    the whole position sum is accumulated in float64, so the plan asks S + S / 2^r + 1 < 2^53:
    then every addition on the way is exact.
    """
    row_l1 = max((sum(abs(a) for a in r.coefs) for r in rows), default=0)
    best = None
    for r in range(MAX_RADIX, 3, -1):
        top = (1 << r) - 1
        n_in, n_out = limbs_needed(in_bound, r), limbs_needed(zmax, r)
        if n_in > MAX_LIMBS or n_out > MAX_LIMBS:
            break
        for n_w, term in ((1, row_l1 * top), (max(1, -(-amax.bit_length() // r)), fan_in * top * top)):
            position = min(n_in, n_w) * term + top
            if n_w > MAX_LIMBS or position + (position >> r) + 1 >= FLOAT_EXACT:
                continue
            macs = (NS_SPARSE_MAC * nnz if sparse else NS_DENSE_MAC * dense_size) * n_in * n_w
            convert = width_in * n_in * (1 if r == prev_radix else 2 * prev_limbs + 1)  # split_limbs
            positions = max(n_in + n_w - 1, n_out)
            cost = macs + NS_ELEMENT * (len(rows) * (2 * n_in * n_w + 3 * positions + n_out) + convert)
            if best is None or cost < best[-1]:
                best = (r, n_in, n_w, n_out, cost)
    return best


def plan(
    layers: Sequence[Sequence[Row]],
    input_bounds: Sequence[int],
    n_points: int,
    point_ns: float | None,
    *,
    complete: bool = True,
) -> Plan:
    """Plan every layer; batch the network when every layer has an exact kernel and the batch is
    estimated cheaper than ``point_ns`` per point (the per-point path's estimate; None: always batch).
    ``complete=False`` stops at the first layer without one (the bounds of deep networks' later
    layers are big integers, and only ``inspect --plan`` shows them)."""
    bounds, limbs, radix, out, width_in = list(input_bounds), 1, 0, [], len(input_bounds)
    for k, rows in enumerate(layers, start=1):
        z = layer_bounds(rows, bounds)
        p = plan_layer(k, rows, max(bounds, default=0), z, width_in, limbs, radix)
        out.append(p)
        if p.engine == "sweep" and not complete:
            break
        bounds = [value_bound(b, r.activation) for b, r in zip(z, rows)]
        limbs, radix = (1, 0) if all(r.activation == THRESHOLD for r in rows) else (p.out_limbs, p.radix)
        width_in = len(rows)
    chunk = chunk_size(out)
    blocked = [p for p in out if p.engine == "sweep"]
    if blocked:
        return Plan(tuple(out), False, chunk, f"layer {blocked[0].layer}: {blocked[0].why}")
    calls = sum(8 + p.limbs * p.weight_limbs + 5 * max(p.limbs + p.weight_limbs - 1, p.out_limbs) for p in out)
    batch_ns = sum(p.ns for p in out) + NS_CALL * calls / max(1, min(chunk, n_points))
    if point_ns is not None and point_ns <= batch_ns:
        return Plan(
            tuple(out),
            False,
            chunk,
            f"per point is cheaper: about {point_ns / 1000:.1f} us against {batch_ns / 1000:.1f} us per point batched",
            batch_ns,
        )
    versus = "" if point_ns is None else f" against {point_ns / 1000:.1f} us per point alone"
    return Plan(
        tuple(out),
        True,
        chunk,
        f"every layer exact in batch: about {batch_ns / 1000:.1f} us per point" + versus,
        batch_ns,
    )


def chunk_size(layers: Sequence[LayerPlan]) -> int:
    """Points per chunk: a power of two keeping the widest layer's limbs near ``CHUNK_ELEMENTS``."""
    widest = max((p.width * max(p.limbs, p.out_limbs) * p.weight_limbs for p in layers), default=1)
    chunk = 32
    while chunk < 4096 and 2 * chunk * widest <= CHUNK_ELEMENTS:
        chunk *= 2
    return chunk


# -- compiled layers -------------------------------------------------------------------


@dataclass(frozen=True)
class Layer:
    """One layer ready to run: the weight limbs stacked, bias limbs, activation masks."""

    plan: LayerPlan
    weights: object  # float64 or int64, dense ndarray or CSR, shape (weight limbs * width, width_in)
    bias: np.ndarray  # (width, bias limbs) float64 limbs in floor normal form (radix plan.radix), or (width, 1)
    relu: np.ndarray | None  # row masks when the layer mixes activations
    threshold: np.ndarray | None


def build(plan_: Plan, layers: Sequence[Sequence[Row]], widths_in: Sequence[int]) -> tuple[Layer, ...]:
    """The matrices of a batched plan (``plan_.batched``)."""
    return tuple(_build_layer(p, rows, w) for p, rows, w in zip(plan_.layers, layers, widths_in))


def _build_layer(p: LayerPlan, rows: Sequence[Row], width_in: int) -> Layer:
    r, n_w, width = p.radix, p.weight_limbs, len(rows)
    split = p.engine == "limb-split" and n_w > 1
    dtype = np.int64 if p.engine == "batch-int64" else np.float64
    ri, ci, vals = [], [], []
    for i, row in enumerate(rows):
        for s, a in zip(row.sources, row.coefs):
            if split:  # limb j is row j * width + i
                for j in range(n_w):
                    ri.append(j * width + i), ci.append(s), vals.append(signed_limb(a, r, j))
            else:
                ri.append(i), ci.append(s), vals.append(a)
    shape = (n_w * width if split else width, width_in)
    if p.sparse:
        weights = sp.csr_matrix(
            (np.array(vals, dtype=dtype), (np.array(ri, dtype=np.int64), np.array(ci, dtype=np.int64))), shape=shape
        )
    else:
        weights = np.zeros(shape, dtype=dtype)
        weights[ri, ci] = np.array(vals, dtype=dtype)
    biases = np.array([row.bias for row in rows], dtype=object)
    if p.engine == "limb-split":
        n_b = limbs_needed(max((abs(b) for b in biases), default=0), r)
        bias = split_limbs(biases[:, None, None], 0, r, n_b)[:, :, 0].astype(np.float64)  # limbs < 2^r
    else:
        bias = biases.astype(np.int64)[:, None]  # |B| <= the layer's bound < 2^63
        if p.engine == "batch-float64":
            bias = bias.astype(np.float64)  # < 2^53: exact
    acts = [row.activation for row in rows]
    mixed = len(set(acts)) > 1
    relu = np.array([a == RELU for a in acts])[:, None] if mixed else None
    thr = np.array([a == THRESHOLD for a in acts])[:, None] if mixed else None
    return Layer(p, weights, bias, relu, thr)


# -- limb arithmetic -------------------------------------------------------------------


def signed_limb(a: int, r: int, j: int) -> int:
    """Limb j of a in sign-magnitude radix 2^r: |a| = sum_j m_j 2^(r j) with 0 <= m_j < 2^r, and
    limb j is m_j with a's sign (so a = sum_j limb_j 2^(r j), every limb below 2^r in magnitude)."""
    m = (abs(a) >> (r * j)) & ((1 << r) - 1)
    return -m if a < 0 else m


def split_limbs(H: np.ndarray, r: int, r2: int, n2: int) -> np.ndarray:
    """The values of ``H`` (nodes, limbs, points) in radix 2^r (r = 0: one exact limb) rewritten with
    n2 limbs of radix 2^r2 (r2 = 0: one exact limb), both in floor normal form.

    Contract: the caller guarantees |value| < 2^(r2 n2 - 1) (or < 2^63 for r2 = 0). Proof sketch:
    in two's complement the old limbs occupy disjoint bit ranges (the top one all bits from its
    offset up), so the bits of a new limb are the sum of the old limbs' bits in its window, and
    the new top limb floor(Z / 2^lo) is the sum of the old limbs' floor shifts (no carries
    between disjoint ranges). Works on int64 arrays and on object arrays of Python ints; float64
    limbs (exact integers) are read as int64.
    """
    n = H.shape[1]
    if (r, n) == (r2, n2) or (n == 1 and n2 == 1 and r2 == 0):
        return H
    if H.dtype == np.float64:
        H = H.astype(np.int64)
    out = np.zeros((H.shape[0], n2, H.shape[2]), dtype=H.dtype)
    mask = (1 << r2) - 1
    for q in range(n2):
        lo, last = r2 * q, q == n2 - 1
        for p in range(n):
            e = r * p
            if p < n - 1 and e + r <= lo:  # a lower limb entirely below this window
                continue
            if not last and e >= lo + r2:  # entirely above it (the old top too)
                continue
            piece = H[:, p] << (e - lo) if e >= lo else H[:, p] >> (lo - e)
            out[:, q] += piece if last else piece & mask
    return out


def normalize(C: list, r: int, n_out: int, out: np.ndarray | None = None, work: dict | None = None) -> np.ndarray:
    """Floor normal form (n_out float64 limbs of radix 2^r) of Z = sum_q C[q] 2^(r q); ``C[q]`` is
    the list of terms (float64 arrays broadcasting to one shape) summed at position q.

    Contract: every term is an integer, and at every position the terms, the carry and every
    partial sum of them are below 2^53 in magnitude (``plan_layer`` proves it), and
    |Z| < 2^(r n_out - 1). Then every float64 operation here is exact: sums of integers below
    2^53, scaling by 2^-r and 2^r, floor. The carry is floor(t / 2^r), so every limb below the
    top is t - 2^r floor(t / 2^r) = t mod 2^r; positions above n_out - 1 (when the partial
    products reach further than the bound) only hold the sign: Z < 0 iff their top is negative,
    and then floor(Z / 2^(r n_out)) = -1, which is folded into limb n_out - 1. All in float64
    because numpy's int64 shifts, masks and mixed-type additions cost 2-5 times as much. ``out``:
    a float64 array of shape (nodes, n_out, points) to write into, ``work`` a dict keeping the
    scratch arrays (both reused between chunks: no allocation).
    """
    shape = np.broadcast_shapes(*(t.shape for terms in C for t in terms))
    if out is None:
        out = np.empty((shape[0], n_out, shape[1]))
    work = {} if work is None else work
    T, carry = scratch(work, ("T", shape), shape, np.float64), scratch(work, ("carry", shape), shape, np.float64)
    total, radix, inverse = max(len(C), n_out), float(1 << r), 1.0 / (1 << r)
    for q in range(total):
        terms = C[q] if q < len(C) else []
        if q == 0:
            T[...] = terms[0]
        else:
            np.add(terms[0], carry, out=T) if terms else np.copyto(T, carry)
        for t in terms[1:]:
            np.add(T, t, out=T)
        if q == total - 1:
            if total == n_out:
                out[:, q] = T
            else:
                out[:, n_out - 1] -= (T < 0) * radix
            break
        np.multiply(T, inverse, out=carry)
        np.floor(carry, out=carry)
        if q < n_out:
            limb = out[:, q]
            np.multiply(carry, -radix, out=limb)
            np.add(limb, T, out=limb)
    return out


# -- evaluation ------------------------------------------------------------------------


def forward(layers: Sequence[Layer], X: np.ndarray, work: dict | None = None) -> tuple[np.ndarray, int]:
    """The output layer's values (nodes, limbs, points) and their radix, for inputs ``X`` (d, points)
    (int64, or object when some input needs 63 bits or more); exact. ``work`` holds each layer's
    arrays between calls of the same chunk size, so a run of chunks allocates nothing after the
    first (fresh pages cost as much as the arithmetic); the returned array is one of them, valid
    until the next call."""
    work = {} if work is None else work
    H, r = X[:, None, :], 0
    for k, layer in enumerate(layers):
        H, r = _layer(layer, H, r, work, k)
    return H, r


def scratch(work: dict, key, shape: tuple, dtype) -> np.ndarray:
    """The array ``work[key]``, allocated only when missing or of another shape: chunks of one
    run reuse their arrays (fresh pages cost as much as the arithmetic)."""
    buf = work.get(key)
    if buf is None or buf.shape != shape:
        buf = work[key] = np.empty(shape, dtype=dtype)
    return buf


def _exact(H: np.ndarray, r: int, dtype) -> np.ndarray:
    """The values of ``H`` as one exact limb (nodes, points) of ``dtype`` (the plan proved they fit)."""
    X = split_limbs(H, r, 0, 1)[:, 0, :]
    return X if X.dtype == dtype else X.astype(dtype)


def _layer(L: Layer, H: np.ndarray, r_in: int, work: dict, k: int) -> tuple[np.ndarray, int]:
    p = L.plan
    c = H.shape[2]
    if p.engine == "batch-float64":
        X = _exact(H, r_in, np.float64)
        Z = (
            L.weights @ X
            if p.sparse
            else np.matmul(L.weights, X, out=scratch(work, (k, "Z"), (p.width, c), np.float64))
        )
        Z += L.bias
        return _activate_exact(L, Z)[:, None, :], 0
    if p.engine == "batch-int64":
        return _activate_exact(L, np.asarray(L.weights @ _exact(H, r_in, np.int64)) + L.bias)[:, None, :], 0
    r, n_in, n_w = p.radix, p.limbs, p.weight_limbs
    X = split_limbs(H, r_in, r, n_in)
    if X.dtype != np.float64:  # limbs below 2^r: exact as float64
        Xf = scratch(work, (k, "X"), X.shape, np.float64)
        np.copyto(Xf, X, casting="unsafe")
        X = Xf
    Xs = X.reshape(X.shape[0], n_in * c)
    if p.sparse:
        P = np.asarray(L.weights @ Xs)
    else:
        P = np.matmul(L.weights, Xs, out=scratch(work, (k, "P"), (L.weights.shape[0], n_in * c), np.float64))
    P = P.reshape(n_w, p.width, n_in, c)
    C = [[P[j, :, q - j] for j in range(n_w) if 0 <= q - j < n_in] for q in range(n_in + n_w - 1)]
    for q in range(L.bias.shape[1]):
        C.extend([] for _ in range(q + 1 - len(C)))
        C[q].append(L.bias[:, q : q + 1])
    Z = normalize(C, r, p.out_limbs, scratch(work, (k, "N"), (p.width, p.out_limbs, c), np.float64), work)
    return _activate_limbs(L, Z, r, work, k)


def _activate_exact(L: Layer, Z: np.ndarray) -> np.ndarray:
    """``activations``' relu, threshold and identity on exact values (float64 or int64), by row."""
    acts = L.plan.activation
    if L.relu is None:
        if acts == RELU:
            return np.maximum(Z, 0, out=Z)
        return (Z >= 0).astype(Z.dtype) if acts == THRESHOLD else Z
    relu, thr = L.relu, L.threshold
    return np.where(relu, np.maximum(Z, 0), np.where(thr, (Z >= 0).astype(Z.dtype), Z))


def _activate_limbs(L: Layer, H: np.ndarray, r: int, work: dict, k: int) -> tuple[np.ndarray, int]:
    """``activations``' functions on values in limbs: the sign of a value is its top limb's, so relu
    zeroes the values whose top limb is negative; a threshold is [top limb >= 0] (float64
    0/1: multiplying by them needs no mixed-type ufunc, which numpy runs several times slower)."""
    acts = L.plan.activation
    if L.relu is None and acts == IDENTITY:
        return H, r
    keep = (H[:, -1:, :] >= 0).astype(np.float64)
    if L.relu is None:
        if acts == THRESHOLD:
            return keep, 0
        return np.multiply(H, keep, out=scratch(work, (k, "H"), H.shape, np.float64)), r
    step = np.zeros_like(H)
    step[:, :1, :] = keep  # 0/1 in floor normal form: the lowest limb is the bit, every other one 0
    H = np.where(L.threshold[:, :, None], step, H)
    return np.where(L.relu[:, :, None], H * keep, H), r


def to_ints(H: np.ndarray, r: int, node: int = 0) -> list[int]:
    """The exact integers of node ``node`` of ``H`` (nodes, limbs, points), one per point."""
    if H.dtype == np.float64:
        H = H[node : node + 1].astype(np.int64)
        node = 0
    if r == 0:
        return [int(v) for v in H[node, 0]]
    total = np.zeros(H.shape[2], dtype=object)
    for p in range(H.shape[1]):
        total += H[node, p].astype(object) << (r * p)
    return [int(v) for v in total]
