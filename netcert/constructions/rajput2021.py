"""rajput2021: deep threshold networks with O~(1/delta + sqrt n) neurons and O~(d/delta + n) weights.

Rajput, Sreenivasan, Papailiopoulos & Karbasi, "An Exponential Improvement on
the Memorization Capacity of Deep Threshold Networks", NeurIPS 2021, Theorem 1.
Only the paper's abstract, introduction and Figure 1 were available; this is
the reconstruction of docs/constructions/rajput2021.md (its sections are cited below),
which follows the paper's pipeline and meets its budget. It is correct by
construction and by exact verification, not necessarily the paper's own wiring.

0. Stage 0 (``gadgets.codes.lift``): a dyadic centre c and a power-of-two
   height h; the point x is seen as u(x) = (x - c, h), so hyperplanes through
   the origin of R^(d+1) are affine hyperplanes of R^d, and no sphere
   assumption is needed;
1. Stage 1: k random hyperplanes z_t = step(A_t.x + b1_t / 2^q), A_t the
   Gaussians rounded to 2^-p (integers after scaling by 2^p), giving every
   point a distinct k-bit code;
2. Stage 2: m parities of random subsets of the k code bits (a random linear
   code) compress the codes to m distinct bits;
3. ``stage_three``: b0 + L b further parities (the expansion), read as a
   group chunk of b0 bits and L blocks of b bits, and decoded one-hot;
4. memorization: one neuron per group and label bit, gated by its group's
   one-hot coordinate (weight L) and reading the *private* coordinate of each
   member whose label bit is set (a block value no other member of the group
   shares);
5. the affine readout F = y0 + sum_(g,l) 2^l h_(g,l).

Every random stage is drawn from one ``numpy.random.default_rng(seed)`` in
that order and verified exactly (distinct codes, distinct compressed codes,
a private coordinate for every point). The data side of every stage (codes,
parities, private coordinates) is ``gadgets.codes``; the neurons are
``gadgets.threshold``. All weights after layer 1 are small integers.

Sizing. ``sizing="verified"`` (the default) lets the exact checks choose
the sizes; ``sizing="spec"`` is the union-bound sizing of docs/constructions/rajput2021.md section 7 and
reproduces the reference sizes of section 11 (k = k_u, the data-dependent union bound of the
pairwise angles, ``gadgets.codes.union_k``; m = ceil(log2(n(n-1)/(2 eta)))
dense rows; each stage redrawn whole on failure, at most 100 times).
Verified sizing:

* ``separate``: hyperplanes are drawn PLANE_BLOCK at a time, and each one
  that splits a class of points with equal codes so far is kept, until every
  point is alone; then every kept hyperplane without which the codes stay
  distinct is dropped (greedy, in draw order). k_u is sized so that a *fixed*
  k fails for no pair with probability 1/2; stopping at the first k that
  works, and keeping only the hyperplanes that split something, needs fewer:
  at n = 10^4, d = 10, about 60 hyperplanes kept of 150 to 200 drawn
  (k_u = 181); at d = 2, about 10^3 kept of 1.6 10^5 drawn (k_u = 97,187),
  since only a few close pairs need many draws.
* ``compress``, at each row density 1/2, 1/4, ..., 1/32: rows drawn one
  at a time and kept when they split a class of equal compressed codes, then
  the rows without which the codes stay distinct are dropped, longest first.
  Each density gives a complete plan (Stage 3 drawn too), whose nonzero
  count is computed exactly from its rows (``params_nonzero``, the size
  formula); the smallest is built (the densest on ties). Dense rows cost
  about 11.6 nonzero parameters per item of a row at f = 8, and a row of
  density rho has about rho k items, so sparse rows win until their extra
  rows (each one also lengthens the ~(b0 + L b) expansion rows) cost more;
  1/8 or 1/16 wins at n = 10^4.
* ``fewest_blocks``: of the L blocks drawn for Stage 3, only the first L'
  are kept, L' the largest block in which some point has its first private
  coordinate.

The options record k_drawn, k_refining (before pruning), k, k_u and k_wc;
m, m_refining, rows_drawn and every density tried with its exact nonzero
count; L and L_drawn. The result is deterministic: same data, options and
seed give the same network bytes. At n = 10^4, d = 10 this halves
spec sizing's 6,080 neurons and 52,838 nonzero parameters (docs/constructions/rajput2021.md section 11).

Options (library): ``seed``; ``fan_in`` f of the parity trees (8; trades
depth 2 log_f k against about f k m / 2 weights, docs/constructions/rajput2021.md section 8);
``sizing`` ("verified" or "spec"); with ``sizing="spec"`` only: ``k``
(fixed) or ``k_mult`` (k = ceil(k_mult k_u)) and ``rho`` = "dense" (rows
of density 1/2) or "sparse" (rows from the exact minimum Hamming distance
of the codes, the paper's route); ``p`` (16) fractional bits of the
Gaussians; ``b0``, ``b``, ``L`` force Stage 3's parameters (L still grows on
a failed draw). The command line offers --seed and --fan-in.

The module is longer than netcert's usual 400 lines because it holds both
sizings of the same stages; they share the plan, the record and the size
formulas.

Assumed: distinct points (loading merges or refuses duplicates) and integer
labels; the labels are shifted by y0 = min y, C = max y - y0 + 1,
B = max(1, ceil(log2 C)) label bits. Not offered: Vershynin 2020's
e^(1/delta^2) construction (docs/constructions/rajput2021.md section 7); each build records the
size its leading term would have on the data.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

import networkx as nx
import numpy as np
import sympy

from netcert import separation
from netcert.constructions.base import (
    Construction,
    SizeClaim,
    Theorem,
    choice_option,
    input_nodes,
    int_option,
    integer_labels,
)
from netcert.constructions.exactmath import ceil_log2, ceil_sqrt_ratio, evaluate_formula
from netcert.dataset import Dataset
from netcert.errors import PreconditionError, UsageError
from netcert.exact import format_rational, mpq
from netcert.gadgets import codes, threshold
from netcert.gadgets.threshold import const, tree_shape
from netcert.ir import keys
from netcert.ir import network as net

NAME = "rajput2021"
PAPER = (
    "Rajput, Sreenivasan, Papailiopoulos, Karbasi. An Exponential Improvement on the Memorization "
    "Capacity of Deep Threshold Networks. NeurIPS 2021, Theorem 1"
)
REFERENCE = (
    "arXiv:2106.07724, Thm 1 and Figure 1; docs/constructions/rajput2021.md (a reconstruction "
    "of the pipeline: the paper's own gadgets were not available)"
)
ETA = 0.5  # failure budget per random stage (docs/constructions/rajput2021.md section 7); the logarithms below read 2n for n/eta
P_BITS = 16
FAN_IN = 8
MAX_DRAWS = 100
RHOS = ("dense", "sparse")
SIZINGS = ("verified", "spec")
PLANE_BLOCK = 64  # hyperplanes per call of the generator in verified sizing
DENSITIES = tuple(Fraction(1, 2**j) for j in range(1, 6))  # the code row densities verified sizing tries


# -- labels and options ---------------------------------------------------------------------


def check(data: Dataset, options: Mapping) -> list[str]:
    """Integer labels are the only assumption beyond distinct points."""
    return integer_labels(data, NAME)


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
    drawn: int  # hyperplanes drawn in all
    refining: int  # verified sizing: hyperplanes that split a class when drawn (before pruning)


def _biases(L: codes.Lift, A: np.ndarray, s: list[int]) -> list[int]:
    return [st - sum(int(a) * c for a, c in zip(row, L.centre)) for st, row in zip(s, A)]


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
            return Hyperplanes(A, _biases(L, A, s), bits, draw, draw * k, k)
    raise PreconditionError(
        f"{NAME}: {k} hyperplanes gave no distinct codes in {MAX_DRAWS} draws; k is too small for this data"
    )


def separate(rng: np.random.Generator, L: codes.Lift, p: int, cap: int) -> Hyperplanes:
    """Verified Stage 1: hyperplanes drawn PLANE_BLOCK at a time (the block's Gaussians, then its offsets, as
    in ``stage_one``); each one that splits a class of points with equal codes so far is kept, until every
    class is one point; then ``codes.prune_columns`` drops, in draw order, each kept hyperplane without
    which the codes stay distinct. At most ``cap`` hyperplanes are drawn."""
    P = codes.centred(L)
    d = len(L.centre)
    part = codes.Partition(len(P.rows))
    A_kept, s_kept, drawn = [], [], 0
    while not part.done or not s_kept:
        if drawn >= cap:
            raise PreconditionError(f"{NAME}: {cap} hyperplanes drawn one by one left points with equal codes")
        A = np.rint(rng.standard_normal((PLANE_BLOCK, d)) * 2.0**p).astype(np.int64)
        s = [int(v) * L.h for v in np.rint(rng.standard_normal(PLANE_BLOCK) * 2.0**p).astype(np.int64)]
        idx = part.active
        block = codes.signs(P, A, s, idx)
        for t in range(PLANE_BLOCK):
            drawn += 1
            if part.refine(block[np.searchsorted(idx, part.active), t]) or not s_kept:
                A_kept.append(A[t])
                s_kept.append(s[t])
            if part.done and s_kept:
                break
    A = np.array(A_kept, dtype=np.int64)
    bits = codes.signs(P, A, s_kept)
    keep = codes.prune_columns(bits, range(len(s_kept)))
    A, s = A[keep], [v for v, kept in zip(s_kept, keep) if kept]
    return Hyperplanes(A, _biases(L, A, s), codes.pack(bits[:, keep]), 1, drawn, len(s_kept))


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
    drawn: int  # rows drawn in all
    refining: int  # verified sizing: rows that split a class when drawn (before pruning)


def stage_two(rng: np.random.Generator, bits: np.ndarray, k: int, n: int, rho: str) -> Code:
    """Stage 2: m parity rows over the k code bits, drawn until the compressed codes are distinct."""
    m, density, w = code_length(n, rho, bits)
    for draw in range(1, MAX_DRAWS + 1):
        rows = codes.draw_rows(rng, k, m, density)
        compressed = codes.parities(bits, rows)
        if codes.distinct(compressed):
            return Code(rows, compressed, density, w, draw, draw * m, m)
    raise PreconditionError(f"{NAME}: {m} parities gave no distinct compressed codes in {MAX_DRAWS} draws")


def compress(rng: np.random.Generator, bits: np.ndarray, k: int, n: int, density: Fraction) -> Code:
    """Verified Stage 2 at one row density: rows S = {i : U_i < density} (U = rng.random(k), one call per
    row) drawn one at a time, each kept when its parity splits a class of points with equal compressed codes
    so far, until the compressed codes are distinct; then the rows without which they stay distinct are
    dropped, longest first (``codes.prune_columns``).

    A row splits a given pair with probability (1 - (1 - 2 rho)^w)/2 >= rho, so
    ``cap`` rows leave a pair together with probability below e^-70 / n^2."""
    cap = math.ceil((2 * math.log(max(n, 2)) + 70) / density)
    part = codes.Partition(n)
    rows: list[np.ndarray] = []
    for drawn in range(1, cap + 1):
        S = np.flatnonzero(rng.random(k) < density)
        if S.size and (part.refine(codes.parities(bits[part.active], [S])[:, 0]) or not rows):
            rows.append(S)
        if part.done and rows:
            break
    else:
        raise PreconditionError(f"{NAME}: {cap} code rows of density {density} left points with equal codes")
    C = codes.parities(bits, rows).astype(bool)
    keep = codes.prune_columns(C, sorted(range(len(rows)), key=lambda r: (-len(rows[r]), r)))
    return Code(
        [S for S, kept in zip(rows, keep) if kept],
        C[:, keep].astype(np.uint8),
        float(density),
        None,
        1,
        drawn,
        len(rows),
    )


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
    L_drawn: int  # the blocks of the last draw (verified sizing keeps the first L of them)


def stage_three(rng: np.random.Generator, comp: np.ndarray, b0: int, b: int, L: int) -> Expansion:
    """Stage 3: b0 + L b parities of the compressed bits, drawn until every point has a private block;
    L grows by 1 after each failed draw."""
    for draw in range(1, MAX_DRAWS + 1):
        rows = codes.draw_rows(rng, comp.shape[1], b0 + L * b, 0.5)
        E = np.stack([comp[:, S].sum(axis=1, dtype=np.int64) & 1 for S in rows], axis=1)
        group, private = codes.private_blocks(E, b0, b, L)
        if (private >= 0).all():
            return Expansion(rows, b0, b, L, group, private, draw, L)
        L += 1
    raise PreconditionError(f"{NAME}: no private coordinates for every point in {MAX_DRAWS} expansion draws")


def fewest_blocks(ex: Expansion) -> Expansion:
    """Verified Stage 3: only the first L' blocks, L' the largest block any point's first private block is in.
    A block's privacy depends only on the group and that block, so every point keeps its private coordinate."""
    used = int(((ex.private - 2**ex.b0) // 2**ex.b).max()) + 1
    return Expansion(ex.rows[: ex.b0 + used * ex.b], ex.b0, ex.b, used, ex.group, ex.private, ex.draws, ex.L)


# -- the plan: every random or data-dependent choice ------------------------------------------------------


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
    sizing: str = "spec"
    candidates: tuple = ()  # verified sizing: (row density, m, rows drawn, params_nonzero) of each one tried


def plan(
    data: Dataset,
    *,
    seed: int,
    p: int,
    rho: str,
    k: int | None,
    k_mult: Fraction | None,
    b0: int | None,
    b: int | None,
    L: int | None,
    sizing: str = "verified",
    f: int = FAN_IN,
) -> Plan:
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
    rng = np.random.default_rng(seed)
    b0, b, L = (v if v is not None else a for v, a in zip((b0, b, L), lift_parameters(data.n, B)))
    if sizing == "verified":
        planes = separate(rng, lifted, p, MAX_DRAWS * max(k_u or 1, PLANE_BLOCK))
        best, tried = None, []
        for density in DENSITIES:
            code = compress(rng, planes.bits, len(planes.b1), data.n, density)
            expansion = fewest_blocks(stage_three(rng, code.bits, b0, b, L))
            P = Plan(lifted, len(planes.b1), k_u, k_wc, planes, code, expansion, y, y0, B, sizing)
            nonzero = params_nonzero(P, data, f)
            tried.append((str(density), len(code.rows), code.drawn, nonzero))
            if best is None or nonzero < best[1]:
                best = (P, nonzero)
        return dataclasses.replace(best[0], candidates=tuple(tried))
    if k is None:
        base = k_u or 1
        k = base if k_mult is None else math.ceil(k_mult * base)
    planes = stage_one(rng, lifted, k, p)
    code = stage_two(rng, planes.bits, k, data.n, rho)
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
    chunks = [expanded[: ex.b0]] + [expanded[ex.b0 + j * ex.b : ex.b0 + (j + 1) * ex.b] for j in range(ex.L)]
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
            net.add_neuron(G, node, layer=at + 1, activation=keys.THRESHOLD, bias=const(-(ex.L + 1)), incoming=incoming)
            out.append((node, const(2**bit)))
    net.add_neuron(G, "out", layer=at + 2, activation=keys.IDENTITY, bias=const(P.y0), incoming=out)
    net.set_outputs(G, ["out"])


def build(
    data: Dataset,
    *,
    seed: int = 0,
    fan_in=None,
    sizing: str = "verified",
    k=None,
    k_mult=None,
    p=None,
    rho=None,
    b0=None,
    b=None,
    L=None,
) -> nx.DiGraph:
    """The threshold network of ``data`` (module docstring)."""
    f = int_option(fan_in, "fan-in", 2) or FAN_IN
    p = P_BITS if p in (None, "") else int_option(p, "p", 0)
    sizing = choice_option(sizing, SIZINGS, "sizing")
    if rho not in (None, "", *RHOS):
        raise UsageError(f"--rho must be one of {', '.join(RHOS)}, got {rho!r}")
    k, k_mult = int_option(k, "k", 1), _mult_option(k_mult)
    if k is not None and k_mult is not None:
        raise UsageError("--k and --k-mult exclude each other")
    if sizing == "verified" and (k is not None or k_mult is not None or rho):
        raise UsageError("--k, --k-mult and --rho size the union-bound stages: they need --sizing spec")
    rho = rho or "dense"
    b0, b, L = (int_option(v, name, 1) for v, name in ((b0, "b0"), (b, "b"), (L, "L")))
    problems = integer_labels(data, NAME)
    if problems:
        raise PreconditionError(problems[0])
    P = plan(data, seed=seed, p=p, rho=rho, k=k, k_mult=k_mult, b0=b0, b=b, L=L, sizing=sizing, f=f)
    options = _record(P, data, seed=seed, f=f, p=p, rho=rho, k_mult=k_mult)
    inputs = input_nodes(data)
    G = net.new_network(
        inputs, construction={"name": NAME, "options": options, "reference": REFERENCE}, dataset=data.digest
    )
    emit(G, P, inputs, f)
    return G


def predict(data: Dataset, seed: int = 0) -> tuple[int, dict]:
    """The nonzero parameters of the default build: the plan's draws and checks, then the exact size formula
    (no network is emitted); None when the labels are not integers (``check`` refuses then)."""
    if integer_labels(data, NAME):
        return None
    P = plan(
        data,
        seed=seed,
        p=P_BITS,
        rho="dense",
        k=None,
        k_mult=None,
        b0=None,
        b=None,
        L=None,
        sizing="verified",
        f=FAN_IN,
    )
    return params_nonzero(P, data, FAN_IN), {}


def _record(P: Plan, data: Dataset, *, seed: int, f: int, p: int, rho: str, k_mult) -> dict:
    """The options and every drawn or derived quantity, for reproducibility (JSON-ready, exact)."""
    ex, code, planes = P.expansion, P.code, P.planes
    sep = separation.min_sq_separation(data).value
    r_sq = separation.max_sq_norm(data)
    verified = P.sizing == "verified"
    out = {
        "seed": seed,
        "fan_in": f,
        "p": p,
        "eta": "1/2",
        "sizing": P.sizing,
        "rho": None if verified else rho,
        "k_mult": None if k_mult is None else str(k_mult),
        "k": P.k,
        "k_drawn": planes.drawn,
        "k_refining": planes.refining,
        "k_u": P.k_u,
        "k_wc": P.k_wc,
        "m": len(code.rows),
        "m_refining": code.refining,
        "rows_drawn": code.drawn,
        "row_density": str(Fraction(code.density)),
        "min_hamming": code.w,
        "draws": {"hyperplanes": planes.draws, "compression": code.draws, "expansion": ex.draws},
        "b0": ex.b0,
        "b": ex.b,
        "L": ex.L,
        "L_drawn": ex.L_drawn,
        "lifted_dim": 2**ex.b0 + ex.L * 2**ex.b,
        "B": P.B,
        "y0": P.y0,
        "C": max(P.y) - P.y0 + 1,
        "denominator": format_rational(P.lift.D),
        "centre": [format_rational(c) for c in P.lift.centre],
        "height": format_rational(P.lift.h),
        "compress_rows": [len(S) for S in code.rows],
        "expand_rows": [len(S) for S in ex.rows],
        "delta_sq": None if sep is None else format_rational(sep),
        "r_sq": format_rational(r_sq),
        "vershynin2020": vershynin_note(sep, r_sq),
    }
    if verified:
        out["compression_candidates"] = [
            {"row_density": dens, "m": m, "rows_drawn": drawn, "params_nonzero": nz}
            for dens, m, drawn, nz in P.candidates
        ]
    return out


def vershynin_note(delta_sq, r_sq) -> str:
    """The leading term e^(1/delta^2) of Vershynin 2020's size, delta measured after scaling to max norm 1."""
    if delta_sq is None or r_sq == 0:
        return "not offered; undefined for one point"
    q = mpq(r_sq) / mpq(delta_sq)
    # A float for the message only, and one that cannot overflow: r^2/delta^2 >= 1 has at most
    # 2^1000 in float range; beyond that the exponent is given by its bit length alone.
    shift = max(0, int(q.numerator.bit_length()) - int(q.denominator.bit_length()) - 1000)
    if shift:
        return (
            f"not offered: its first layers need about e^(1/delta^2) neurons on this data, with "
            f"1/delta^2 above 2^{shift + 999:,} (delta/r below 2^-{(shift + 999) // 2:,}), before constants"
        )
    ratio = float(q)
    return (
        f"not offered: its first layers need about e^(1/delta^2) = 10^{ratio * math.log10(math.e):.4g} "
        f"neurons on this data (delta/r = {ratio**-0.5:.3g}), before constants"
    )


# -- size claims -------------------------------------------------------------------------------------------

_S = {
    name: sympy.Symbol(name, integer=True, nonnegative=True)
    for name in (
        "N",
        "d",
        "k",
        "m",
        "b0",
        "b",
        "L",
        "B",
        "lambda_c",
        "lambda_e",
        "layer1_nonzero",
        "compress_neurons",
        "compress_nonzero",
        "compress_dense",
        "compress_width",
        "expand_neurons",
        "expand_nonzero",
        "expand_dense",
        "expand_width",
        "label_bits_set",
        "y0_nonzero",
        "r_over_delta",
    )
}


def size_formulas() -> dict[str, sympy.Expr]:
    """Exact depth, width, neurons, dense and nonzero counts (docs/constructions/rajput2021.md section 8).

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
        "params_dense": (s["d"] + 1) * s["k"]
        + s["compress_dense"]
        + s["expand_dense"]
        + (E + 1) * D
        + (D + 1) * M
        + M
        + 1,
        "params_nonzero": s["layer1_nonzero"]
        + s["compress_nonzero"]
        + s["expand_nonzero"]
        + (s["b0"] + 1) * R0
        - 1
        + s["L"] * ((s["b"] + 1) * R - 1)
        + 3 * M
        + s["label_bits_set"]
        + s["y0_nonzero"],
    }


def _variables(
    data: Dataset,
    *,
    f: int,
    k: int,
    m: int,
    compress_rows,
    expand_rows,
    b0: int,
    b: int,
    L: int,
    B: int,
    y0: int,
    layer1_nonzero: int,
) -> dict[str, int]:
    """The size formulas' variables, from the row sizes and lift parameters of one build."""
    comp, expd = tree_shape(compress_rows, f), tree_shape(expand_rows, f)
    return {
        "N": data.n,
        "d": data.d,
        "k": k,
        "m": m,
        "b0": b0,
        "b": b,
        "L": L,
        "B": B,
        "lambda_c": comp.levels,
        "lambda_e": expd.levels,
        "layer1_nonzero": layer1_nonzero,
        "compress_neurons": comp.neurons,
        "compress_nonzero": comp.nonzero,
        "compress_dense": comp.dense(k),
        "compress_width": max(comp.widths),
        "expand_neurons": expd.neurons,
        "expand_nonzero": expd.nonzero,
        "expand_dense": expd.dense(m),
        "expand_width": max(expd.widths),
        "label_bits_set": sum(int(v - y0).bit_count() for v in data.labels),
        "y0_nonzero": int(y0 != 0),
    }


def size(G: nx.DiGraph, data: Dataset) -> SizeClaim:
    """The formulas of ``size_formulas`` with this build's variables."""
    o = G.graph[keys.CONSTRUCTION]["options"]
    layer1 = [v for v, layer in G.nodes(data=keys.LAYER) if layer == 1]
    variables = _variables(
        data,
        f=o["fan_in"],
        k=o["k"],
        m=o["m"],
        compress_rows=o["compress_rows"],
        expand_rows=o["expand_rows"],
        b0=o["b0"],
        b=o["b"],
        L=o["L"],
        B=o["B"],
        y0=o["y0"],
        layer1_nonzero=sum(G.in_degree(v) + (G.nodes[v][keys.BIAS] != 0) for v in layer1),
    )
    variables["r_over_delta"] = r_over_delta(o.get("delta_sq"), o.get("r_sq"))
    return SizeClaim(size_formulas(), variables)


def params_nonzero(P: Plan, data: Dataset, f: int) -> int:
    """The nonzero parameters the network of plan P will have (the size formula, before any neuron exists)."""
    ex = P.expansion
    variables = _variables(
        data,
        f=f,
        k=P.k,
        m=len(P.code.rows),
        compress_rows=[len(S) for S in P.code.rows],
        expand_rows=[len(S) for S in ex.rows],
        b0=ex.b0,
        b=ex.b,
        L=ex.L,
        B=P.B,
        y0=P.y0,
        layer1_nonzero=int(np.count_nonzero(P.planes.A)) + sum(v != 0 for v in P.planes.b1),
    )
    return evaluate_formula(size_formulas()["params_nonzero"], variables)


def r_over_delta(delta_sq: str | None, r_sq: str | None) -> int:
    """ceil(r / delta), exact (1 for one point or r = 0): the paper's 1/delta after scaling to max norm 1."""
    return 1 if delta_sq is None or r_sq is None else ceil_sqrt_ratio(r_sq, delta_sq)


_N, _d, _RD = _S["N"], _S["d"], _S["r_over_delta"]
_LOG_N = ceil_log2(_N)  # log2 N rounded up exactly, so the bound evaluates by substitution alone
BOUND = (_d + _LOG_N) * _LOG_N * _RD + _N * _LOG_N**2


CONSTRUCTION = Construction(
    name=NAME,
    paper=PAPER,
    reference=REFERENCE,
    assumptions="distinct points, integer labels (shifted to 0..C-1); no sphere or general-position assumption: "
    "every random stage is verified exactly, and the exact checks choose the sizes (hyperplanes and "
    "code rows drawn until the codes are distinct, then pruned; --sizing spec gives "
    "the union-bound sizes of docs/constructions/rajput2021.md section 7). Vershynin 2020's e^(1/delta^2) construction is not offered "
    "(each build records the size its leading term would need on the data)",
    options={
        "seed": "seed of every random stage (numpy default_rng: hyperplanes, code rows, expansion rows)",
        "fan_in": "parity fan-in f >= 2 (default 8): depth 4 + 2 ceil(log_f(longest code row, about "
        "rho k)) + 2 ceil(log_f(longest expansion row, about m/2)); the compression trees have about "
        "(f + 1)/(f - 1) rho m k neurons and (f + 2 + 1/f) f/(f - 1) rho m k weights (rho: the "
        "row density chosen)",
        "sizing": "verified (default: the exact checks choose k, the code rows and the blocks, then prune) "
        "or spec (docs/constructions/rajput2021.md section 7's union-bound sizes, to reproduce its section 11)",
    },
    check=check,
    build=build,
    size=size,
    predict=predict,
    formulas_text={
        "depth": "4 + 2 lambda_c + 2 lambda_e (lambda = levels of the fan-in f parity trees)",
        "neurons": "k + compress + expand + (2^b0 + L 2^b) + 2^b0 B + 1 (parity block of t items: t + 1 neurons)",
        "params_nonzero": "layer 1 + compress + expand (block of t: (t + 1)^2) + (b0 + 1) 2^b0 - 1 "
        "+ L ((b + 1) 2^b - 1) + 3 2^b0 B + sum_i popcount(y_i - y0) + [y0 != 0]",
        "vershynin2020": "not offered: e^(1/delta^2) neurons in its first layers (10^19 at delta = 0.15); "
        "see options.vershynin2020 of a build for the data's value",
    },
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
