"""Exact batch evaluation of layered integer networks: many points per matrix product.

The evaluator's compiled rows (``evaluate.integer_rows``) make every layer an
integer map Z = A H + B on the integer values H of the layer before (perf.md,
"Design advice" 2). This module evaluates such layers on a *chunk* of points at
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

FLOAT_EXACT = 2**53  # every integer of smaller magnitude is a float64
INT64_EXACT = 2**63
MAX_RADIX = 26  # limbs below 2^26: a limb product stays below 2^52
MAX_LIMBS = 12  # beyond about 300-bit values the per-point path is as fast (perf.md)
DENSE_MAX = 2**24  # entries of one dense weight matrix (128 MB as float64)
CHUNK_ELEMENTS = 2**18  # target int64 entries of one layer's values per chunk (2 MB: cache-sized)

# Cost model, nanoseconds (measured orders of magnitude on perf.md's machine).
NS_PER_POINT_OP = 100.0  # one Python big-integer operation of the per-point path
NS_DENSE_MAC = 0.15  # one float64 multiply-add inside BLAS
NS_INT_MAC = 1.0  # one int64 multiply-add (numpy's non-BLAS integer matmul)
NS_SPARSE_MAC = 1.5  # one nonzero times one column, scipy CSR
NS_ELEMENT = 1.0  # one int64 element of one vectorised numpy operation
NS_CALL = 3000.0  # one numpy call on a chunk

RELU, THRESHOLD, IDENTITY = "relu", "threshold", "identity"


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
    engine: str  # batch-float64 | batch-int64 | limb-split | sweep | rational fallback
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
        return self.engine


@dataclass(frozen=True)
class Plan:
    """How a network is evaluated: every layer batched, or every point alone."""

    layers: tuple[LayerPlan, ...]
    batched: bool
    chunk: int
    why: str


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

def plan_layer(layer: int, rows: Sequence[Row], in_bound: int, z_bounds: Sequence[int], width_in: int,
               prev_limbs: int, prev_radix: int = 0) -> LayerPlan:
    """The cheapest exact kernel for one layer, or a ``sweep`` plan saying why none is exact.

    ``in_bound`` bounds every value of the layer before, ``z_bounds`` every row's |Z|.
    """
    nnz = sum(len(r.sources) for r in rows)
    fan_in = max((len(r.sources) for r in rows), default=0)
    acts = sorted({r.activation for r in rows})
    zmax = max(z_bounds, default=0)
    amax = max((abs(a) for r in rows for a in r.coefs), default=0)
    base = dict(layer=layer, width=len(rows), nonzeros=nnz, fan_in=fan_in, activation=",".join(acts),
                bits=zmax.bit_length())
    dense_size = len(rows) * width_in
    sparse = nnz < 0.1 * dense_size or dense_size > DENSE_MAX
    if sparse and nnz > 4 * DENSE_MAX:
        return LayerPlan(**base, engine="sweep", why=f"{nnz} nonzeros: too large for a batch matrix")
    mm = NS_SPARSE_MAC * nnz if sparse else NS_DENSE_MAC * dense_size
    elementwise = NS_ELEMENT * (len(rows) * 4 + width_in * prev_limbs)
    if zmax < FLOAT_EXACT and in_bound < FLOAT_EXACT and not sparse:
        return LayerPlan(**base, engine="batch-float64", ns=mm + elementwise,
                         why=f"|Z| <= sum|a||x| + |b| < 2^{zmax.bit_length()} <= 2^53: float64 products exact")
    if zmax < INT64_EXACT and in_bound < INT64_EXACT and (sparse or fan_in <= 64):
        cost = (NS_SPARSE_MAC * nnz if sparse else NS_INT_MAC * dense_size) + elementwise
        return LayerPlan(**base, engine="batch-int64", sparse=sparse, ns=cost,
                         why=f"|Z| < 2^{zmax.bit_length()} <= 2^63: int64 products cannot overflow")
    best = _limb_choice(rows, in_bound, zmax, amax, fan_in, sparse, nnz, dense_size, width_in, prev_limbs,
                        prev_radix)
    if best is None:
        return LayerPlan(**base, engine="sweep", sparse=sparse,
                         why=f"|Z| < 2^{zmax.bit_length()} needs more than {MAX_LIMBS} limbs")
    r, n_in, n_w, n_out, cost = best
    return LayerPlan(**base, engine="limb-split", sparse=sparse, radix=r, limbs=n_in, weight_limbs=n_w,
                     out_limbs=n_out, ns=cost,
                     why=f"|Z| < 2^{zmax.bit_length()}: {n_in * n_w} limb products, each entry < 2^53")


def _limb_choice(rows, in_bound, zmax, amax, fan_in, sparse, nnz, dense_size, width_in, prev_limbs, prev_radix):
    """(radix, value limbs, weight limbs, output limbs, ns) of the cheapest exact limb split, or None.

    Value limbs are at most 2^r - 1 in magnitude (the top one at most 2^(r-1)). Unsplit weights
    are exact when max_row sum |a| * (2^r - 1) < 2^53; weights split into r-bit limbs (sign kept)
    when fan_in * (2^r - 1)^2 < 2^53. Either way every entry of every partial product is below 2^53.
    """
    row_l1 = max((sum(abs(a) for a in r.coefs) for r in rows), default=0)
    best = None
    for r in range(MAX_RADIX, 3, -1):
        top = (1 << r) - 1
        n_in, n_out = limbs_needed(in_bound, r), limbs_needed(zmax, r)
        if n_in > MAX_LIMBS or n_out > MAX_LIMBS:
            break
        options = []
        if row_l1 * top < FLOAT_EXACT:
            options.append(1)
        if fan_in * top * top < FLOAT_EXACT:
            options.append(max(1, -(-amax.bit_length() // r)))
        for n_w in options:
            if n_w > MAX_LIMBS:
                continue
            macs = (NS_SPARSE_MAC * nnz if sparse else NS_DENSE_MAC * dense_size) * n_in * n_w
            convert = width_in * n_in * (1 if r == prev_radix else 2 * prev_limbs + 1)  # split_limbs
            cost = macs + NS_ELEMENT * (len(rows) * (2 * n_in * n_w + 6 * n_out) + convert)
            if best is None or cost < best[-1]:
                best = (r, n_in, n_w, n_out, cost)
    return best


def plan(layers: Sequence[Sequence[Row]], input_bounds: Sequence[int], n_points: int,
         point_ns: float | None) -> Plan:
    """Plan every layer; batch the network when every layer has an exact kernel and the batch is
    estimated cheaper than ``point_ns`` per point (the per-point path's estimate; None: always batch)."""
    bounds, limbs, radix, out, width_in = list(input_bounds), 1, 0, [], len(input_bounds)
    for k, rows in enumerate(layers, start=1):
        z = layer_bounds(rows, bounds)
        p = plan_layer(k, rows, max(bounds, default=0), z, width_in, limbs, radix)
        out.append(p)
        bounds = [value_bound(b, r.activation) for b, r in zip(z, rows)]
        limbs, radix = (1, 0) if all(r.activation == THRESHOLD for r in rows) else (p.out_limbs, p.radix)
        width_in = len(rows)
    chunk = chunk_size(out)
    blocked = [p for p in out if p.engine == "sweep"]
    if blocked:
        return Plan(tuple(out), False, chunk, f"layer {blocked[0].layer}: {blocked[0].why}")
    calls = sum(8 + 4 * p.limbs * p.weight_limbs + 6 * p.out_limbs for p in out)
    batch_ns = sum(p.ns for p in out) + NS_CALL * calls / max(1, min(chunk, n_points))
    if point_ns is not None and point_ns <= batch_ns:
        return Plan(tuple(out), False, chunk, f"per point is cheaper: about {point_ns / 1000:.1f} us against "
                                              f"{batch_ns / 1000:.1f} us per point batched")
    versus = "" if point_ns is None else f" against {point_ns / 1000:.1f} us per point alone"
    return Plan(tuple(out), True, chunk, f"every layer exact in batch: about {batch_ns / 1000:.1f} us per point"
                                         + versus)


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
    """One layer ready to run: weight matrices (one per weight limb), bias limbs, activations."""

    plan: LayerPlan
    weights: tuple  # float64 or int64, dense ndarray or CSR, shape (width, width_in)
    bias: np.ndarray  # (width, bias limbs) int64 in floor normal form (radix plan.radix), or (width, 1)
    relu: np.ndarray | None  # row masks when the layer mixes activations
    threshold: np.ndarray | None


def build(plan_: Plan, layers: Sequence[Sequence[Row]], widths_in: Sequence[int]) -> tuple[Layer, ...]:
    """The matrices of a batched plan (``plan_.batched``)."""
    return tuple(_build_layer(p, rows, w) for p, rows, w in zip(plan_.layers, layers, widths_in))


def _build_layer(p: LayerPlan, rows: Sequence[Row], width_in: int) -> Layer:
    r, n_w = p.radix, p.weight_limbs
    split = p.engine == "limb-split" and n_w > 1
    dtype = np.int64 if p.engine == "batch-int64" else np.float64
    ri, ci, vals = [], [], [[] for _ in range(n_w)]
    for i, row in enumerate(rows):
        for s, a in zip(row.sources, row.coefs):
            ri.append(i)
            ci.append(s)
            if split:  # |a| = sum_j m_j 2^(r j) with 0 <= m_j < 2^r; the limb keeps a's sign
                m, sign = abs(a), (1 if a > 0 else -1)
                for j in range(n_w):
                    vals[j].append(sign * ((m >> (r * j)) & ((1 << r) - 1)))
            else:
                vals[0].append(a)
    weights = []
    for v in vals:
        if p.sparse:
            weights.append(sp.csr_matrix((np.array(v, dtype=dtype), (np.array(ri, dtype=np.int64),
                                          np.array(ci, dtype=np.int64))), shape=(len(rows), width_in)))
        else:
            W = np.zeros((len(rows), width_in), dtype=dtype)
            W[ri, ci] = np.array(v, dtype=dtype)
            weights.append(W)
    biases = np.array([row.bias for row in rows], dtype=object)
    if p.engine == "limb-split":
        n_b = limbs_needed(max((abs(b) for b in biases), default=0), r)
        bias = split_limbs(biases[:, None, None], 0, r, n_b)[:, :, 0].astype(np.int64)
    else:
        bias = biases.astype(np.int64)[:, None]  # |B| <= the layer's bound < 2^63
    acts = [row.activation for row in rows]
    mixed = len(set(acts)) > 1
    relu = np.array([a == RELU for a in acts])[:, None] if mixed else None
    thr = np.array([a == THRESHOLD for a in acts])[:, None] if mixed else None
    return Layer(p, tuple(weights), bias, relu, thr)


# -- limb arithmetic -------------------------------------------------------------------

def split_limbs(H: np.ndarray, r: int, r2: int, n2: int) -> np.ndarray:
    """The values of ``H`` (nodes, limbs, points) in radix 2^r (r = 0: one exact limb) rewritten with
    n2 limbs of radix 2^r2 (r2 = 0: one exact limb), both in floor normal form.

    Contract: the caller guarantees |value| < 2^(r2 n2 - 1) (or < 2^63 for r2 = 0). Proof sketch:
    in two's complement the old limbs occupy disjoint bit ranges (the top one all bits from its
    offset up), so the bits of a new limb are the sum of the old limbs' bits in its window, and
    the new top limb floor(Z / 2^lo) is the sum of the old limbs' floor shifts (no carries
    between disjoint ranges). Works on int64 arrays and on object arrays of Python ints.
    """
    n = H.shape[1]
    if (r, n) == (r2, n2) or (n == 1 and n2 == 1 and r2 == 0):
        return H
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


def normalize(C: list, r: int, n_out: int) -> np.ndarray:
    """Floor normal form (n_out limbs of radix 2^r) of Z = sum_p C[p] 2^(r p).

    Contract: |C[p]| < 2^62 and |Z| < 2^(r n_out - 1). Carries are floor shifts, so every limb
    below the top is C[p] + carry mod 2^r; positions above n_out - 1 (when the partial products
    reach further than the bound) only hold the sign: Z < 0 iff their top is negative, and then
    floor(Z / 2^(r n_out)) = -1, which is folded into limb n_out - 1.
    """
    total = max(len(C), n_out)
    out = np.empty((C[0].shape[0], n_out, C[0].shape[1]), dtype=np.int64)
    mask = (1 << r) - 1
    carry = 0
    for p in range(total):
        t = C[p] + carry if p < len(C) else carry
        if p == total - 1:
            if total == n_out:
                out[:, p] = t
            else:
                out[:, n_out - 1] -= (t < 0).astype(np.int64) << r
            break
        if p < n_out:
            out[:, p] = t & mask
        carry = t >> r
    return out


# -- evaluation ------------------------------------------------------------------------

def forward(layers: Sequence[Layer], X: np.ndarray) -> tuple[np.ndarray, int]:
    """The output layer's values (nodes, limbs, points) and their radix, for inputs ``X`` (d, points)
    (int64, or object when some input needs 63 bits or more); exact."""
    H, r = X[:, None, :], 0
    for layer in layers:
        H, r = _layer(layer, H, r)
    return H, r


def _layer(L: Layer, H: np.ndarray, r_in: int) -> tuple[np.ndarray, int]:
    p = L.plan
    if p.engine != "limb-split":
        X = split_limbs(H, r_in, 0, 1)[:, 0, :]
        if X.dtype == object:
            X = X.astype(np.int64)  # the plan proved |x| < 2^63
        if p.engine == "batch-float64":
            Z = (L.weights[0] @ X.astype(np.float64) + L.bias.astype(np.float64)).astype(np.int64)
        else:
            Z = L.weights[0] @ X + L.bias
        return _activate_exact(L, np.asarray(Z)[:, None, :]), 0
    r, n_in = p.radix, p.limbs
    X = split_limbs(H, r_in, r, n_in)
    if X.dtype == object:
        X = X.astype(np.int64)  # limbs are below 2^r
    w_in, c = X.shape[0], X.shape[2]
    Xs = X.reshape(w_in, n_in * c).astype(np.float64)
    C: list = [None] * (n_in + p.weight_limbs - 1)
    for j, W in enumerate(L.weights):
        P = np.asarray(W @ Xs).astype(np.int64).reshape(-1, n_in, c)  # entries < 2^53: exact (plan)
        for i in range(n_in):
            C[i + j] = P[:, i] if C[i + j] is None else C[i + j] + P[:, i]
    for k in range(L.bias.shape[1]):
        if k < len(C):
            C[k] = C[k] + L.bias[:, k:k + 1]
        else:
            C.append(np.broadcast_to(L.bias[:, k:k + 1], C[0].shape))
    return _activate_limbs(L, normalize(C, r, p.out_limbs), r)


def _activate_exact(L: Layer, Z: np.ndarray) -> np.ndarray:
    acts = L.plan.activation
    if L.relu is None:
        if acts == RELU:
            return np.maximum(Z, 0)
        return (Z >= 0).astype(np.int64) if acts == THRESHOLD else Z
    relu, thr = L.relu[:, :, None], L.threshold[:, :, None]
    return np.where(relu, np.maximum(Z, 0), np.where(thr, (Z >= 0).astype(np.int64), Z))


def _activate_limbs(L: Layer, H: np.ndarray, r: int) -> tuple[np.ndarray, int]:
    """relu zeroes the values whose top limb is negative; a threshold is [top limb >= 0]."""
    acts = L.plan.activation
    neg = H[:, -1:, :] < 0
    if L.relu is None:
        if acts == THRESHOLD:
            return (~neg).astype(np.int64), 0
        if acts == RELU:
            H *= ~neg
        return H, r
    step = np.zeros_like(H)
    step[:, :1, :] = ~neg  # 0/1 in floor normal form: the lowest limb is the bit, every other one 0
    H = np.where(L.threshold[:, :, None], step, H)
    H[np.broadcast_to(neg & L.relu[:, :, None], H.shape)] = 0
    return H, r


def to_ints(H: np.ndarray, r: int) -> list[int]:
    """The exact integers of the single node of ``H`` (1, limbs, points)."""
    if r == 0:
        return [int(v) for v in H[0, 0]]
    total = np.zeros(H.shape[2], dtype=object)
    for p in range(H.shape[1]):
        total += H[0, p].astype(object) << (r * p)
    return [int(v) for v in total]
