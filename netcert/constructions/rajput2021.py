"""rajput2021: deep threshold networks with O~(1/delta + sqrt n) neurons and O~(d/delta + n) weights.

Rajput, Sreenivasan, Papailiopoulos & Karbasi, "An Exponential Improvement on
the Memorization Capacity of Deep Threshold Networks", NeurIPS 2021, Theorem 1.
Only the paper's abstract, introduction and Figure 1 were available; this is
the reconstruction of threshold.md section 2 (its sections are cited below),
which follows the paper's pipeline and meets its budget. It is correct by
construction and by exact verification, not necessarily the paper's own wiring.

0. Stage 0 (``gadgets.codes.lift``): a dyadic centre c and a power-of-two
   height h; the point x is seen as u(x) = (x - c, h), so hyperplanes through
   the origin of R^(d+1) are affine hyperplanes of R^d, and no sphere
   assumption is needed;
1. ``stage_one``: k random hyperplanes z_t = step(A_t.x + b1_t / 2^q), A_t
   the Gaussians rounded to 2^-p (integers after scaling by 2^p); k is the
   data-dependent union bound k_u of the pairwise angles
   (``gadgets.codes.union_k``);
2. ``stage_two``: m = ceil(log2(n(n-1)/(2 eta))) parities of random subsets
   of the k code bits (a random linear code) compress the codes to m bits;
3. ``stage_three``: b0 + L b further parities (the expansion), read as a
   group chunk of b0 bits and L blocks of b bits, and decoded one-hot;
4. memorization: one neuron per group and label bit, gated by its group's
   one-hot coordinate (weight L) and reading the *private* coordinate of each
   member whose label bit is set (a block value no other member of the group
   shares);
5. the affine readout F = y0 + sum_(g,l) 2^l h_(g,l).

Every random stage is drawn from one ``numpy.random.default_rng(seed)`` in
that order, then verified exactly (distinct codes, distinct compressed codes,
a private coordinate for every point) and redrawn on failure, at most 100
times; the draws are reported. The data side of every stage (codes, parities,
private coordinates) is ``gadgets.codes``; the neurons are ``gadgets.threshold``.
All weights after layer 1 are small integers.

Options (library): ``seed``; ``fan_in`` f of the parity trees (8; trades
depth 2 log_f k against about f k m / 2 weights, threshold.md section 7);
``k`` (fixed) or ``k_mult`` (k = ceil(k_mult k_u)); ``p`` (16) fractional
bits of the Gaussians; ``rho`` = "dense" (rows of density 1/2) or "sparse"
(rows from the exact minimum Hamming distance of the codes, the paper's
route); ``b0``, ``b``, ``L`` force Stage 3's parameters (L still grows on a
failed draw). The command line offers --seed and --fan-in.

Assumed: distinct points (loading merges or refuses duplicates) and integer
labels; the labels are shifted by y0 = min y, C = max y - y0 + 1,
B = max(1, ceil(log2 C)) label bits. Not offered: Vershynin 2020's
e^(1/delta^2) construction (threshold.md section 8); each build records the
size its leading term would have on the data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

import gmpy2
import networkx as nx
import numpy as np
import sympy

from netcert import separation
from netcert.constructions.base import Construction, SizeClaim, Theorem, input_nodes, integer_labels
from netcert.dataset import Dataset
from netcert.errors import PreconditionError, UsageError
from netcert.exact import format_rational, mpq
from netcert.gadgets import codes, threshold
from netcert.gadgets.threshold import const, tree_shape
from netcert.ir import keys
from netcert.ir import network as net

NAME = "rajput2021"
PAPER = ("Rajput, Sreenivasan, Papailiopoulos, Karbasi. An Exponential Improvement on the Memorization "
         "Capacity of Deep Threshold Networks. NeurIPS 2021, Theorem 1")
REFERENCE = ("arXiv:2106.07724, Thm 1 and Figure 1; netcert spec threshold.md section 2 (a reconstruction "
             "of the pipeline: the paper's own gadgets were not available)")
ETA = 0.5  # failure budget per random stage (threshold.md section 2); the logarithms below read 2n for n/eta
P_BITS = 16
FAN_IN = 8
MAX_DRAWS = 100
RHOS = ("dense", "sparse")


# -- labels and options ---------------------------------------------------------------------

def _integer_labels(data: Dataset) -> list[str]:
    return integer_labels(data, NAME)


def check(data: Dataset, options: Mapping) -> list[str]:
    """Integer labels are the only assumption beyond distinct points."""
    return _integer_labels(data)


def _int_option(value, name: str, low: int) -> int | None:
    if value in (None, ""):
        return None
    try:
        v = int(value)
    except (TypeError, ValueError):
        raise UsageError(f"--{name} takes an integer >= {low}, got {value!r}") from None
    if v < low or (isinstance(value, float) and v != value):
        raise UsageError(f"--{name} takes an integer >= {low}, got {value!r}")
    return v


def _mult_option(value) -> Fraction | None:
    if value in (None, ""):
        return None
    try:
        v = Fraction(str(value))
    except (TypeError, ValueError):
        raise UsageError(f"--k-mult takes a positive number, got {value!r}") from None
    if v <= 0:
        raise UsageError(f"--k-mult takes a positive number, got {value!r}")
    return v


# -- the random stages, drawn and checked --------------------------------------------------------------

@dataclass(frozen=True)
class Hyperplanes:
    A: np.ndarray  # k x d integers
    b1: list[int]  # biases in units of 1/D
    bits: np.ndarray  # the packed codes of the points (gadgets.codes.code_bits)
    draws: int


def stage_one(rng: np.random.Generator, L: codes.Lift, k: int, p: int) -> Hyperplanes:
    """Stage 1: k hyperplanes A_t = round(2^p g_t), b1_t = round(2^p g'_t) h_X - A_t.c_X, drawn (first the
    k x d Gaussians, then the k offsets) until the n codes are distinct."""
    d = len(L.centre)
    for draw in range(1, MAX_DRAWS + 1):
        A = np.rint(rng.standard_normal((k, d)) * 2.0**p).astype(np.int64)
        beta = np.rint(rng.standard_normal(k) * 2.0**p).astype(np.int64)
        s = [int(v) * L.h for v in beta]
        bits = codes.code_bits(L, A, s)
        if codes.distinct(bits):
            b1 = [st - sum(int(a) * c for a, c in zip(row, L.centre)) for st, row in zip(s, A)]
            return Hyperplanes(A, b1, bits, draw)
    raise PreconditionError(f"{NAME}: {k} hyperplanes gave no distinct codes in {MAX_DRAWS} draws; "
                            "k is too small for this data")


def code_length(n: int, rho: str, bits: np.ndarray) -> tuple[int, float, int | None]:
    """(m, row density, minimum Hamming distance w or None) of Stage 2."""
    if n == 1:
        return 1, 0.5, None
    pairs = n * (n - 1) / (2 * ETA)
    if rho == "dense":
        return math.ceil(math.log2(pairs)), 0.5, None
    w = codes.min_hamming(bits)
    density = min(0.5, math.log(4) / (2 * w))
    q_c = (1 + (1 - 2 * density) ** w) / 2
    return math.ceil(math.log(pairs) / math.log(1 / q_c)), density, w


@dataclass(frozen=True)
class Code:
    rows: list[np.ndarray]
    bits: np.ndarray  # n x m
    density: float
    w: int | None
    draws: int


def stage_two(rng: np.random.Generator, bits: np.ndarray, k: int, n: int, rho: str) -> Code:
    """Stage 2: m parity rows over the k code bits, drawn until the compressed codes are distinct."""
    m, density, w = code_length(n, rho, bits)
    for draw in range(1, MAX_DRAWS + 1):
        rows = codes.draw_rows(rng, k, m, density)
        compressed = codes.parities(bits, rows)
        if codes.distinct(compressed):
            return Code(rows, compressed, density, w, draw)
    raise PreconditionError(f"{NAME}: {m} parities gave no distinct compressed codes in {MAX_DRAWS} draws")


def lift_parameters(n: int, B: int) -> tuple[int, int, int]:
    """(b0, b, L) of Stage 3 (float64 logarithms, round half to even)."""
    l2n, l22n = math.log2(n), math.log2(2 * n)
    b0 = max(1, round(0.5 * math.log2(2 * n * l22n / (1 + B))))
    b = max(1, math.ceil(l2n - b0 + 1.44))
    L = max(1, math.ceil(l22n / max(b0 + b - l2n, 0.5)))
    return b0, b, L


@dataclass(frozen=True)
class Expansion:
    rows: list[np.ndarray]
    b0: int
    b: int
    L: int
    group: np.ndarray  # group of each point
    private: np.ndarray  # one-hot coordinate of each point's first private block
    draws: int


def stage_three(rng: np.random.Generator, comp: np.ndarray, b0: int, b: int, L: int) -> Expansion:
    """Stage 3: b0 + L b parities of the compressed bits, drawn until every point has a private block;
    L grows by 1 after each failed draw."""
    for draw in range(1, MAX_DRAWS + 1):
        rows = codes.draw_rows(rng, comp.shape[1], b0 + L * b, 0.5)
        E = np.stack([comp[:, S].sum(axis=1, dtype=np.int64) & 1 for S in rows], axis=1)
        group, private = codes.private_blocks(E, b0, b, L)
        if (private >= 0).all():
            return Expansion(rows, b0, b, L, group, private, draw)
        L += 1
    raise PreconditionError(f"{NAME}: no private coordinates for every point in {MAX_DRAWS} expansion draws")


# -- build -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Plan:
    """Everything random or data-dependent that fixes the network."""

    lift: codes.Lift
    k: int
    k_u: int | None
    k_wc: int | None
    planes: Hyperplanes
    code: Code
    expansion: Expansion
    y: list[int]
    y0: int
    B: int


def plan(data: Dataset, *, seed: int, p: int, rho: str, k: int | None, k_mult: Fraction | None,
         b0: int | None, b: int | None, L: int | None) -> Plan:
    """Stages 0-3: sizes, draws and exact checks (no network yet)."""
    y = [int(v) for v in data.labels]
    y0 = min(y)
    B = max(1, (max(y) - y0).bit_length())
    try:
        lifted = codes.lift(data)
        k_u = k_wc = None
        if data.n > 1:
            angles = codes.angle_histogram(codes.unit_rows(lifted), data.kept)
            k_u, k_wc = codes.union_k(angles.counts, ETA), codes.worst_k(angles.theta_min, data.n, ETA)
    except PreconditionError as e:
        raise PreconditionError(f"{NAME}: {e}") from None
    if k is None:
        base = k_u or 1
        k = base if k_mult is None else math.ceil(k_mult * base)
    rng = np.random.default_rng(seed)
    planes = stage_one(rng, lifted, k, p)
    code = stage_two(rng, planes.bits, k, data.n, rho)
    auto = lift_parameters(data.n, B)
    b0, b, L = (v if v is not None else a for v, a in zip((b0, b, L), auto))
    expansion = stage_three(rng, code.bits, b0, b, L)
    return Plan(lifted, k, k_u, k_wc, planes, code, expansion, y, y0, B)


def emit(G: nx.DiGraph, P: Plan, inputs: list[str], f: int) -> None:
    """Write the network of plan P into G (in place), layer by layer."""
    k, D = P.k, P.lift.D
    tag = len(str(k - 1))
    z = []
    for t in range(k):
        node = f"z[{t:0{tag}d}]"
        incoming = [(x, const(int(a))) for x, a in zip(inputs, P.planes.A[t]) if a]
        net.add_neuron(G, node, layer=1, activation=keys.THRESHOLD, bias=mpq(P.planes.b1[t], D), incoming=incoming)
        z.append(node)
    compressed = threshold.parity_tree(G, "c", 2, [[z[i] for i in S] for S in P.code.rows], f)
    at = 2 + 2 * tree_shape([len(S) for S in P.code.rows], f).levels
    expanded = threshold.parity_tree(G, "e", at, [[compressed[i] for i in S] for S in P.expansion.rows], f)
    at += 2 * tree_shape([len(S) for S in P.expansion.rows], f).levels
    ex = P.expansion
    chunks = [expanded[:ex.b0]] + [expanded[ex.b0 + j * ex.b: ex.b0 + (j + 1) * ex.b] for j in range(ex.L)]
    hot = threshold.one_hot(G, "hot", at, chunks)
    R0, B = 2**ex.b0, P.B
    readers: dict[int, list[str]] = {}
    for i, (g, c) in enumerate(zip(ex.group.tolist(), ex.private.tolist())):
        for bit in range(B):
            if (P.y[i] - P.y0) >> bit & 1:
                readers.setdefault(int(g) * B + bit, []).append(hot[c])
    tag = len(str(R0 * B - 1))
    out = []
    for g in range(R0):
        for bit in range(B):
            node = f"mem[{g * B + bit:0{tag}d}]"
            incoming = [(hot[g], const(ex.L))] + [(u, const(1)) for u in sorted(readers.get(g * B + bit, []))]
            net.add_neuron(G, node, layer=at + 1, activation=keys.THRESHOLD, bias=const(-(ex.L + 1)),
                           incoming=incoming)
            out.append((node, const(2**bit)))
    net.add_neuron(G, "out", layer=at + 2, activation=keys.IDENTITY, bias=const(P.y0), incoming=out)
    net.set_outputs(G, ["out"])


def build(data: Dataset, *, seed: int = 0, fan_in=None, k=None, k_mult=None, p=None, rho: str = "dense",
          b0=None, b=None, L=None) -> nx.DiGraph:
    """The threshold network of ``data`` (module docstring)."""
    f = _int_option(fan_in, "fan-in", 2) or FAN_IN
    p = P_BITS if p in (None, "") else _int_option(p, "p", 0)
    if rho not in RHOS:
        raise UsageError(f"--rho must be one of {', '.join(RHOS)}, got {rho!r}")
    k, k_mult = _int_option(k, "k", 1), _mult_option(k_mult)
    if k is not None and k_mult is not None:
        raise UsageError("--k and --k-mult exclude each other")
    b0, b, L = (_int_option(v, name, 1) for v, name in ((b0, "b0"), (b, "b"), (L, "L")))
    problems = _integer_labels(data)
    if problems:
        raise PreconditionError(problems[0])
    P = plan(data, seed=seed, p=p, rho=rho, k=k, k_mult=k_mult, b0=b0, b=b, L=L)
    options = _record(P, data, seed=seed, f=f, p=p, rho=rho, k_mult=k_mult)
    inputs = input_nodes(data)
    G = net.new_network(inputs, construction={"name": NAME, "options": options, "reference": REFERENCE},
                        dataset=data.digest)
    emit(G, P, inputs, f)
    return G


def _record(P: Plan, data: Dataset, *, seed: int, f: int, p: int, rho: str, k_mult) -> dict:
    """The options and every drawn or derived quantity, for reproducibility (JSON-ready, exact)."""
    ex, code = P.expansion, P.code
    sep = separation.min_sq_separation(data).value
    r_sq = separation.max_sq_norm(data)
    return {
        "seed": seed, "fan_in": f, "p": p, "eta": "1/2", "rho": rho, "k_mult": None if k_mult is None else str(k_mult),
        "k": P.k, "k_u": P.k_u, "k_wc": P.k_wc, "m": len(code.rows), "row_density": str(Fraction(code.density)),
        "min_hamming": code.w,
        "draws": {"hyperplanes": P.planes.draws, "compression": code.draws, "expansion": ex.draws},
        "b0": ex.b0, "b": ex.b, "L": ex.L, "lifted_dim": 2**ex.b0 + ex.L * 2**ex.b, "B": P.B, "y0": P.y0,
        "C": max(P.y) - P.y0 + 1, "denominator": str(P.lift.D), "centre": [str(c) for c in P.lift.centre],
        "height": str(P.lift.h), "compress_rows": [len(S) for S in code.rows],
        "expand_rows": [len(S) for S in ex.rows],
        "delta_sq": None if sep is None else format_rational(sep), "r_sq": format_rational(r_sq),
        "vershynin2020": vershynin_note(sep, r_sq),
    }


def vershynin_note(delta_sq, r_sq) -> str:
    """The leading term e^(1/delta^2) of Vershynin 2020's size, delta measured after scaling to max norm 1."""
    if delta_sq is None or r_sq == 0:
        return "not offered; undefined for one point"
    ratio = float(mpq(r_sq) / mpq(delta_sq))
    return (f"not offered: its first layers need about e^(1/delta^2) = 10^{ratio * math.log10(math.e):.4g} "
            f"neurons on this data (delta/r = {ratio ** -0.5:.3g}), before constants")


# -- size claims -------------------------------------------------------------------------------------------

_S = {name: sympy.Symbol(name, integer=True, nonnegative=True) for name in (
    "N", "d", "k", "m", "b0", "b", "L", "B", "lambda_c", "lambda_e", "layer1_nonzero", "compress_neurons",
    "compress_nonzero", "compress_dense", "compress_width", "expand_neurons", "expand_nonzero", "expand_dense",
    "expand_width", "label_bits_set", "y0_nonzero", "r_over_delta")}


def size_formulas() -> dict[str, sympy.Expr]:
    """Exact depth, width, neurons, dense and nonzero counts (threshold.md section 2, "Size formulas").

    The parity trees' counts are variables computed from the drawn row sizes
    (``gadgets.threshold.tree_shape``): a block of t items has t + 1 neurons
    and (t + 1)^2 nonzero weights and biases.
    """
    s = _S
    R0, R = 2 ** s["b0"], 2 ** s["b"]
    D, E, M = R0 + s["L"] * R, s["b0"] + s["L"] * s["b"], R0 * s["B"]
    return {
        "depth": 4 + 2 * s["lambda_c"] + 2 * s["lambda_e"],
        "width": sympy.Max(s["k"], s["compress_width"], s["expand_width"], D, M),
        "neurons": s["k"] + s["compress_neurons"] + s["expand_neurons"] + D + M + 1,
        "params_dense": (s["d"] + 1) * s["k"] + s["compress_dense"] + s["expand_dense"] + (E + 1) * D
                        + (D + 1) * M + M + 1,
        "params_nonzero": s["layer1_nonzero"] + s["compress_nonzero"] + s["expand_nonzero"]
                          + (s["b0"] + 1) * R0 - 1 + s["L"] * ((s["b"] + 1) * R - 1) + 3 * M
                          + s["label_bits_set"] + s["y0_nonzero"],
    }


def size(G: nx.DiGraph, data: Dataset) -> SizeClaim:
    """The formulas of ``size_formulas`` with this build's variables."""
    o = G.graph[keys.CONSTRUCTION]["options"]
    f, k, m = o["fan_in"], o["k"], o["m"]
    comp, expd = tree_shape(o["compress_rows"], f), tree_shape(o["expand_rows"], f)
    layer1 = [v for v, layer in G.nodes(data=keys.LAYER) if layer == 1]
    y0 = o["y0"]
    variables = {
        "N": data.n, "d": data.d, "k": k, "m": m, "b0": o["b0"], "b": o["b"], "L": o["L"], "B": o["B"],
        "lambda_c": comp.levels, "lambda_e": expd.levels,
        "layer1_nonzero": sum(G.in_degree(v) + (G.nodes[v][keys.BIAS] != 0) for v in layer1),
        "compress_neurons": comp.neurons, "compress_nonzero": comp.nonzero, "compress_dense": comp.dense(k),
        "compress_width": max(comp.widths), "expand_neurons": expd.neurons, "expand_nonzero": expd.nonzero,
        "expand_dense": expd.dense(m), "expand_width": max(expd.widths),
        "label_bits_set": sum(int(v - y0).bit_count() for v in data.labels), "y0_nonzero": int(y0 != 0),
        "r_over_delta": r_over_delta(o.get("delta_sq"), o.get("r_sq")),
    }
    return SizeClaim(size_formulas(), variables)


def r_over_delta(delta_sq: str | None, r_sq: str | None) -> int:
    """ceil(r / delta), exact (1 for one point or r = 0): the paper's 1/delta after scaling to max norm 1."""
    if delta_sq is None or r_sq is None:
        return 1
    q = mpq(r_sq) / mpq(delta_sq)
    r = int(gmpy2.isqrt(q.numerator // q.denominator))
    while mpq(r * r) < q:
        r += 1
    return max(r, 1)


_N, _d, _RD = _S["N"], _S["d"], _S["r_over_delta"]
BOUND = (_d + sympy.log(_N, 2)) * sympy.log(_N, 2) * _RD + _N * sympy.log(_N, 2) ** 2


CONSTRUCTION = Construction(
    name=NAME,
    paper=PAPER,
    reference=REFERENCE,
    assumptions="distinct points, integer labels (shifted to 0..C-1); no sphere or general-position assumption: "
                "every random stage is verified exactly and redrawn. Vershynin 2020's e^(1/delta^2) construction "
                "is not offered (each build records the size its leading term would need on the data)",
    options={"seed": "seed of every random stage (numpy default_rng: hyperplanes, code rows, expansion rows)",
             "fan_in": "(--fan-in) parity fan-in f >= 2 (default 8): depth 4 + 2 ceil(log_f(longest code row, about "
                       "k/2)) + 2 ceil(log_f(longest expansion row, about m/2)); the compression trees have about "
                       "(f + 1)/(f - 1) m k/2 neurons and (f + 2 + 1/f) f/(f - 1) m k/2 weights"},
    check=check,
    build=build,
    size=size,
    formulas_text={
        "depth": "4 + 2 lambda_c + 2 lambda_e (lambda = levels of the fan-in f parity trees)",
        "neurons": "k + compress + expand + (2^b0 + L 2^b) + 2^b0 B + 1 (parity block of t items: t + 1 neurons)",
        "params_nonzero": "layer 1 + compress + expand (block of t: (t + 1)^2) + (b0 + 1) 2^b0 - 1 "
                          "+ L ((b + 1) 2^b - 1) + 3 2^b0 B + sum_i popcount(y_i - y0) + [y0 != 0]",
        "vershynin2020": "not offered: e^(1/delta^2) neurons in its first layers (10^19 at delta = 0.15); "
                         "see options.vershynin2020 of a build for the data's value"},
    theorem=Theorem(
        statement="n delta-separated points in R^d (max norm 1) are memorized by a deep threshold network with "
                  "O(log^2 n/delta + sqrt(n) log^2 n) neurons and O((d + log n) log n/delta + n log^2 n) weights; "
                  "Gaussian weights in layer 1 only, integer weights after",
        rate="O~(1/delta + sqrt(n)) neurons, O~(d/delta + n) weights",
        bound=BOUND,
        bound_measure="params_nonzero: the paper's weight rate with every constant set to 1 (r_over_delta = "
                      "ceil(r/delta)); the paper's constants are unknown, so this is context, not a proven bound",
    ),
)
