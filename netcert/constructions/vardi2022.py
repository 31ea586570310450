"""vardi2022: O~(sqrt N) parameters, and O~(N/L) at depth L (Vardi, Yehudai & Shamir 2022).

Vardi, Yehudai & Shamir, "On the Optimal Memorization Power of ReLU Neural
Networks", ICLR 2022, Theorem 3.1 (O~(sqrt N) parameters) and the bounded-depth
theorem (depth L, O~(N/L) parameters). The paper's body was not available; this
is the exact reconstruction of docs/constructions/vardi2022.md (its sections are cited
below), which
follows the paper's three phases:

1. Stage I (section 2), ``stage_one``: one ReLU t = s a.x + beta with
   images >= 2 and sorted gaps >= 2, so the keys k_i = floor(t_i) are >= 2 and
   pairwise at least 2 apart (``gadgets.projection.spread_line``);
2. blocks (section 3), ``pack``: the sorted points are cut into M blocks of n;
   block j becomes one integer W_j of T = nP bits, P = rho + c bits per point
   (key or key difference, then label - y0);
3. Stage II (section 4), ``stage_two``: a staircase of step units
   (``gadgets.steps``) outputs W_J(t) for the block J(t) of t;
4. Stage III (section 5), ``stage_three``: one bit per layer, MSB first
   (``gadgets.bits.bit``); when a key is complete the matcher
   (``gadgets.bits.miss``/``gate``) adds the label field only when
   D = t - key lies in [0, 1), i.e. for the point itself.

Options: ``mode`` plain (absolute keys) or delta (key differences inside a
block, about half the bits); ``stage2`` wide (one layer of 2(M - 1) ReLUs) or
narrow (one step per layer, width <= 8, the paper's constant width);
``gadgets`` paper (the reconstruction of the paper's gadgets) or compact (netcert's improvements: the
two matcher outputs are carried as one ReLU of their sum, which is >= 0, so
label bits cost one neuron less per layer; and in delta mode a block's first
key may be stored whole, rho1 = bitlen(max first key) bits instead of a
difference from alpha_j, so that Stage II carries t instead of e and each
block costs 2 nonzero parameters less, for about 14 per extra first-key bit
once; the layout is chosen with the block size); ``depth`` L caps the depth: the
block size n is then the best one with depth <= L, and section 8's trivial
depth-3 network (here the dyadic zig-zag on t, ``trivial``) is built when it
is smaller or when no n fits. The block size minimizes the exact dense count (``minimize=nonzero``:
the nonzero count), from a dry run of the network's shape (section 7).

Assumed: distinct points (loading merges or refuses duplicates) and integer
labels; the labels are shifted by y0 = min y, C = max y - y0 + 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import networkx as nx
import sympy

from netcert import separation
from netcert.constructions.base import (
    Construction,
    SizeClaim,
    Theorem,
    choice_option,
    input_nodes,
    integer_labels,
    positive_option,
)
from netcert.constructions.exactmath import ceil_log2, ceil_root, ceil_sqrt_ratio
from netcert.dataset import Dataset
from netcert.errors import InternalError, PreconditionError, UsageError
from netcert.exact import mpq
from netcert.gadgets import bits
from netcert.gadgets.projection import Line, spread_line
from netcert.gadgets.steps import Series, staircase
from netcert.gadgets.wiring import Affine, carry, output, prune, relu
from netcert.gadgets.zigzag import zigzag
from netcert.ir import keys
from netcert.ir import network as net

NAME = "vardi2022"
PAPER = (
    "Vardi, Yehudai, Shamir. On the Optimal Memorization Power of ReLU Neural Networks. "
    "ICLR 2022, Theorem 3.1 and the bounded-depth theorem"
)
REFERENCE = (
    "arXiv:2110.03187, Thm 3.1; docs/constructions/vardi2022.md (exact reconstruction of the three-phase architecture)"
)
MODES = ("plain", "delta")
STAGE2 = ("wide", "narrow")
GADGETS = ("compact", "paper")
MINIMIZE = ("dense", "nonzero")


# -- labels -------------------------------------------------------------------------------


def check(data: Dataset, options: Mapping) -> list[str]:
    """Integer labels are the only assumption beyond distinct points."""
    return integer_labels(data, NAME)


# -- the shape of a build ----------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """Every choice that fixes the network's layer widths (docs/constructions/vardi2022.md section 7)."""

    d: int
    N: int
    n: int  # points per block
    rho: int  # key bits per chunk
    c: int  # label bits per chunk
    mode: str
    group: int | None  # steps per Stage II layer (None: wide)
    gadgets: str
    rho1: int = 0  # key bits of a block's first chunk (0: rho)
    first_abs: bool = False  # delta: the first key is stored whole, so Stage II carries t, not e

    @property
    def first_rho(self) -> int:
        return self.rho1 or self.rho

    @property
    def carries_e(self) -> bool:
        """Delta mode with e formed by the staircase (docs/constructions/vardi2022.md section 4)."""
        return self.mode == "delta" and not self.first_abs

    @property
    def M(self) -> int:
        return -(-self.N // self.n)

    @property
    def P(self) -> int:
        return self.rho + self.c

    @property
    def T(self) -> int:
        return self.n * self.P + self.first_rho - self.rho

    @property
    def stair_layers(self) -> int:
        if self.M == 1:
            return 0
        return 1 if self.group is None else -(-(self.M - 1) // self.group)

    @property
    def depth(self) -> int:
        return self.T + self.stair_layers + 4


def _stage_two_widths(s: Shape) -> list[int]:
    """Widths of the staircase layers and the Stage II output layer (after pruning)."""
    if s.M == 1:
        return [2]
    steps = s.M - 1
    g = steps if s.group is None else s.group
    R = s.stair_layers
    series = 2 if s.carries_e else 1
    widths = []
    for r in range(R):
        w = 1 + 2 * min(g, steps - r * g) + (series if r > 0 else 0)
        if r == R - 1 and R > 1 and s.carries_e:
            w -= 1  # e is formed from the carried partial sum, so the last t is not read
        widths.append(w)
    return widths + [2]


@lru_cache(maxsize=4096)
def _stage_three(
    n: int, rho: int, c: int, mode: str, gadgets: str, rho1: int = 0, first_abs: bool = False
) -> tuple[tuple[int, ...], int]:
    """Widths of Stage III (E_1..E_T, F, output) and its nonzero count, by a dry run.

    The counts include the edges out of the width-2 Stage II output. Stage III
    weights are structural (powers of two, C - 1, H), so a dry run with
    stand-in values has exactly the shape and nonzero count of a real build.
    """
    G = net.new_network(["t", "v"])
    out = stage_three(
        G,
        1,
        n=n,
        rho=rho,
        c=c,
        C=2,
        H=1,
        mode=mode,
        gadgets=gadgets,
        tt=Affine.of("t"),
        v=Affine.of("v"),
        y0=0,
        rho1=rho1,
        first_abs=first_abs,
    )
    del out
    prune(G)
    depth = max(layer for _, layer in G.nodes(data=keys.LAYER))
    widths = [0] * (depth + 1)
    for _, layer in G.nodes(data=keys.LAYER):
        widths[layer] += 1
    nonzero = G.number_of_edges() + sum(1 for v in G.nodes if G.nodes[v].get(keys.BIAS, 0) != 0)
    return tuple(widths[1:]), nonzero


def stage_three_counts(
    n: int, rho: int, c: int, mode: str, gadgets: str, rho1: int = 0, first_abs: bool = False
) -> tuple[int, int, int]:
    """(dense, nonzero, layers) of Stage III for n points per block, exact for every n.

    Dry runs for n <= 4; beyond, every chunk from the third to the last but one
    has the same layers, so each extra one adds the same counts (tested
    against full dry runs).
    """
    if n <= 4:
        widths, nonzero = _stage_three(n, rho, c, mode, gadgets, rho1, first_abs)
        return _dense([2, *widths]), nonzero, len(widths)
    widths, nonzero = _stage_three(4, rho, c, mode, gadgets, rho1, first_abs)
    _, nonzero3 = _stage_three(3, rho, c, mode, gadgets, rho1, first_abs)
    P = rho + c
    start = 2 * P + (rho1 or rho) - rho  # the third chunk's first layer
    mid = widths[start : start + P]
    mid_dense = _dense([widths[start + P - 1], *mid])
    extra = n - 4
    return (_dense([2, *widths]) + extra * mid_dense, nonzero + extra * (nonzero - nonzero3), len(widths) + extra * P)


def _dense(widths: Sequence[int]) -> int:
    return sum((a + 1) * b for a, b in zip(widths, widths[1:]))


def counts(s: Shape, y0: int = 1, zeros: int = 0) -> tuple[int, int]:
    """(params_dense, params_nonzero) of the network of shape ``s``.

    The nonzero count is exact when ``zeros`` is the number of nonzero
    parameters that vanish on the data (a Stage I weight or the shift beta
    equal to 0, 2 per jump W_j = W_(j-1), 1 if H = alpha_1 in delta mode);
    ``y0`` is the output's constant.
    """
    dense3, nonzero3, _ = stage_three_counts(s.n, s.rho, s.c, s.mode, s.gadgets, s.rho1, s.first_abs)
    dense = _dense([s.d, 1, *_stage_two_widths(s)]) + dense3
    steps, R = s.M - 1, s.stair_layers
    nonzero = s.d + 1  # Stage I
    if s.M == 1:
        nonzero += 3 if s.carries_e else 2  # v's bias; t (edge) or e (edge, bias)
    elif not s.carries_e:
        nonzero += 4 * steps + (2 * steps + R) + 1 + R  # P, Q; v; output t; carried t
    else:
        nonzero += 4 * steps + (2 * steps + R) + (2 * steps + R + 1) + (R if R == 1 else R - 1)
    return dense, nonzero + nonzero3 + (y0 != 0) - zeros


# -- block size ----------------------------------------------------------------------------


def _rho_plain(key_list: Sequence[int]) -> int:
    return max(key_list).bit_length()


class _DeltaRho:
    """rho(n) for delta keys: bits of the largest key gap inside a block (docs/constructions/vardi2022.md section 3)."""

    def __init__(self, sorted_keys: Sequence[int]):
        gaps = [(b - a, i) for i, (a, b) in enumerate(zip(sorted_keys, sorted_keys[1:]))]
        self.gaps = sorted(gaps, reverse=True)

    def __call__(self, n: int) -> int:
        for g, i in self.gaps:
            if (i + 1) % n:  # gap i joins sorted points i and i + 1: inside a block unless i + 1 starts one
                return max(1, g).bit_length()
        return 1


def _systematic_zeros(s: Shape, sorted_keys: Sequence[int], fields: Sequence[int]) -> int:
    """Nonzero parameters that vanish for every data set of this kind: in delta mode (e from the
    staircase) with n = 1 every W_j is 2^c + field_j, so equal neighbouring labels give equal W_j
    (2 zeros each), and H = 1 = alpha_1 (min t is in [2, 3)). For n >= 2 equal neighbouring
    blocks are not systematic."""
    if not s.carries_e or s.n != 1:
        return 0
    return 2 * sum(1 for a, b in zip(fields, fields[1:]) if a == b) + int(sorted_keys[0] - 1 == 1)


def choose_shape(
    d: int,
    N: int,
    c: int,
    sorted_keys: Sequence[int],
    fields: Sequence[int],
    *,
    mode: str,
    group: int | None,
    gadgets: str,
    minimize: str,
    depth_cap: int | None,
    block: int | None,
    y0: int = 1,
) -> Shape | None:
    """The block size of docs/constructions/vardi2022.md section 7 (also under a depth cap); None if no n fits the cap."""
    rho_of = _DeltaRho(sorted_keys) if mode == "delta" else (lambda n, r=_rho_plain(sorted_keys): r)
    candidates: Sequence[int]
    if block is not None:
        candidates = [min(block, N)]
    else:
        P1 = rho_of(1) + c if mode == "plain" else 1 + c
        candidates = range(1, min(N, int(6 * (N / P1) ** 0.5) + 6) + 1)
    best = None
    for n in candidates:
        shapes = [Shape(d, N, n, rho_of(n), c, mode, group, gadgets)]
        if mode == "delta" and gadgets == "compact":
            rho1 = max(sorted_keys[::n]).bit_length()
            shapes.append(Shape(d, N, n, rho_of(n), c, mode, group, gadgets, rho1, True))
        for s in shapes:
            if depth_cap is not None and s.depth > depth_cap:
                continue
            dense, nonzero = counts(s, y0, _systematic_zeros(s, sorted_keys, fields))
            key = (dense, nonzero, s.first_abs) if minimize == "dense" else (nonzero, dense, s.first_abs)
            if best is None or key < best[0]:
                best = (key, s)
    return None if best is None else best[1]


# -- stages --------------------------------------------------------------------------------


def stage_one(G: nx.DiGraph, data: Dataset, line: Line) -> Affine:
    """Layer 1 (docs/constructions/vardi2022.md section 2): t = relu(s a.x + beta)."""
    inputs = input_nodes(data)
    return relu(G, "t", 1, Affine({x: line.s * a for x, a in zip(inputs, line.a) if a}, mpq(line.beta)))


@dataclass(frozen=True)
class Packed:
    """The blocks of docs/constructions/vardi2022.md section 3: thresholds alpha_j, integers W_j, and H (delta)."""

    alphas: list[int]  # alpha_1..alpha_M
    W: list[int]
    H: int


def pack(s: Shape, sorted_keys: Sequence[int], fields: Sequence[int]) -> Packed:
    """W_j = sum_m z_(j,m) 2^(P (n - m)), z = key (or key difference) 2^c + label field; dummies 0."""
    alphas, W, H = [], [], 0
    for j in range(s.M):
        members = range(j * s.n, min((j + 1) * s.n, s.N))
        alpha = sorted_keys[members[0]] - 1
        prev, value = alpha, 0
        for m in range(s.n):
            z, bits = 0, (s.first_rho if m == 0 else s.rho)
            if m < len(members):
                k = sorted_keys[members[m]]
                key = k if s.mode == "plain" or (m == 0 and s.first_abs) else k - prev
                if not 0 < key < 2**bits:  # choose_shape sized the fields for every key: a bug if not
                    raise InternalError(f"vardi2022: key {key} overflows its {bits}-bit field in block packing")
                z = (key << s.c) + fields[members[m]]
                prev = k
            value = (value << (bits + s.c)) + z
        alphas.append(alpha)
        W.append(value)
        H = max(H, int(sorted_keys[members[-1]] - alpha))
    return Packed(alphas, W, H)


def stage_two(G: nx.DiGraph, s: Shape, packed: Packed, t: Affine) -> tuple[int, Affine, Affine]:
    """Layers 2.. (docs/constructions/vardi2022.md section 4): the staircase, then (t or e, v); returns (next layer, tt, v).

    v = W_J(t); delta mode carries e = t - alpha_J + H >= 1 instead of t.
    """
    A, W, H = packed.alphas, packed.W, packed.H
    series = [Series("v", mpq(W[0]), [mpq(W[j] - W[j - 1]) for j in range(1, s.M)])]
    if s.carries_e:
        series.append(Series("e", mpq(H - A[0]), [mpq(A[j - 1] - A[j]) for j in range(1, s.M)], t_coef=mpq(1)))
    layer = 2
    if s.M > 1:
        st = staircase(G, "S2", 2, t, [mpq(a) for a in A[1:]], series, s.group)
        layer, t, values = 2 + st.layers, st.t, st.values
    else:
        values = {x.name: x.t_coef * t + x.start for x in series}
    v = carry(G, "S2.v", layer, values["v"])
    tt = carry(G, "S2.e", layer, values["e"]) if s.carries_e else carry(G, "S2.t", layer, t)
    return layer + 1, tt, v


def _bit_layout(n: int, rho: int, c: int, rho1: int) -> list[tuple[int, int, int, int, int]]:
    """(m, q, key bits of chunk m, key weight, label weight) of every bit s = 1..T, MSB first.

    Chunk 1 holds rho1 key bits, the others rho; each then c label bits.
    """
    out = []
    for m in range(1, n + 1):
        r = rho1 if m == 1 else rho
        for q in range(1, r + c + 1):
            out.append((m, q, r, 1 << (r - q) if q <= r else 0, 1 << (r + c - q) if q > r else 0))
    return out


def stage_three(
    G: nx.DiGraph,
    layer: int,
    *,
    n: int,
    rho: int,
    c: int,
    C: int,
    H: int,
    mode: str,
    gadgets: str,
    tt: Affine,
    v: Affine,
    y0: object,
    rho1: int = 0,
    first_abs: bool = False,
) -> str:
    """Layers E_1..E_T, F and the output (docs/constructions/vardi2022.md section 5); returns the output node.

    Bit s (1-based, MSB first) belongs to chunk m at position q. Key bits
    rebuild the key (plain: kp; delta: subtracted from e); at q = r + 1 (r the
    chunk's key bits) the matcher's miss port is formed from D = t - key;
    label bits accumulate in lp; at the next chunk's q = 1 the gate adds the
    label field to acc (through G) only on a match. With ``first_abs`` (delta
    mode, the first key stored whole) ``tt`` is t and e = t + H starts here,
    H bounding every key of a block minus its first image, so e stays >= 0.
    """
    layout = _bit_layout(n, rho, c, rho1 or rho)
    T = len(layout)
    tag = len(str(T + 1))
    b: Affine | None = None  # the previous layer's bit: every use below is at s >= 2, where it is formed
    rest = v
    kp: Affine | None = None
    lp: Affine | None = None
    missed: Affine | None = None
    acc: Affine | None = None
    gated: Affine | None = None
    zero = Affine()
    prev_kappa = prev_lam = 0
    for s, (m, q, r, kappa, lam) in enumerate(layout, start=1):
        at = layer + s - 1
        name = f"E{s:0{tag}d}"
        unit = bits.bit(G, name, at, rest, 1 << (T - s))
        new_kp: Affine | None = None
        if mode == "plain":
            new_tt = carry(G, f"{name}.t", at, tt)
            if 2 <= q <= r:
                new_kp = carry(G, f"{name}.kp", at, (kp or zero) + prev_kappa * _formed(b, "the bit", s))
        elif s == 1:
            new_tt = carry(G, f"{name}.e", at, tt + H if first_abs else tt)
        else:
            new_tt = carry(G, f"{name}.e", at, tt - prev_kappa * _formed(b, "the bit", s))
        new_missed: Affine | None = None
        new_lp: Affine | None = None
        new_gated: Affine | None = None
        new_acc: Affine | None = None
        if q == r + 1:
            bit = _formed(b, "the bit", s)
            D = tt - ((kp or zero) + bit) if mode == "plain" else tt - bit - H
            new_missed = bits.miss(G, name, at, D)
        elif q >= r + 2:
            new_missed = _carry_miss(G, name, at, _formed(missed, "the miss port", s), gadgets)
            new_lp = carry(G, f"{name}.lp", at, (lp or zero) + prev_lam * _formed(b, "the bit", s))
        if q == 1 and m >= 2:
            label = (lp or zero) + _formed(b, "the bit", s)
            new_gated = bits.gate(G, f"{name}.G", at, label, _formed(missed, "the miss port", s), C)
        if m >= 2 and q == 2:
            new_acc = carry(G, f"{name}.acc", at, (acc or zero) + _formed(gated, "the gated label", s))
        elif (m >= 3 and q == 1) or (m >= 2 and q >= 3):
            new_acc = carry(G, f"{name}.acc", at, _formed(acc, "the accumulator", s))
        b, rest = unit.bit, unit.rest
        tt, kp, lp, missed, gated, acc = new_tt, new_kp, new_lp, new_missed, new_gated, new_acc
        prev_kappa, prev_lam = kappa, lam
    at = layer + T
    last = (lp or zero) + _formed(b, "the bit", T + 1)
    final = bits.gate(G, f"F{T + 1:0{tag}d}.G", at, last, _formed(missed, "the miss port", T + 1), C)
    if acc is not None:
        final = final + carry(G, f"F{T + 1:0{tag}d}.acc", at, acc)
    output(G, "out", at + 1, final + y0)
    return "out"


def _formed(value: Affine | None, what: str, s: int) -> Affine:
    """``value``, which the bit layout of section 5 forms before layer ``s`` reads it (an
    InternalError, not a wrong network, if a layout ever reads it earlier)."""
    if value is None:
        raise InternalError(f"{NAME}: layer E{s} reads {what} before any layer forms it")
    return value


def _carry_miss(G: nx.DiGraph, name: str, layer: int, missed: Affine, gadgets: str) -> Affine:
    """Carry the matcher's miss port: its two ReLUs (paper) or one ReLU of their sum (compact)."""
    if gadgets == "compact":
        return carry(G, f"{name}.N", layer, missed)
    (n1, c1), (n2, c2) = sorted(missed.terms.items())
    return carry(G, f"{name}.N1", layer, c1 * Affine.of(n1)) + carry(G, f"{name}.N2", layer, c2 * Affine.of(n2))


# -- the trivial interpolant (docs/constructions/vardi2022.md section 8) ----------------------


def trivial(G: nx.DiGraph, line: Line, t: Affine, y: Sequence[int]) -> None:
    """Layers 2-3: the dyadic zig-zag interpolant (docs/constructions/zhang2017.md section 3) of the sorted (t_i, y_i).

    Kinks at the data (the plain interpolant) at the data; its output weights
    (y_(i+1) - y_i) / (t_(i+1) - t_i) have unrelated denominators, which makes
    exact evaluation slow. The zig-zag has the same layers (one more ReLU) and
    dyadic weights: F(t) = sum_k w_k relu(t - kappa_k), dense 3N + d + 2.
    """
    ts = [line.t[i] for i in line.order]
    kinks, weights = zigzag(ts, [mpq(y[i]) for i in line.order])
    tag = len(str(len(ts) - 1))
    form = Affine()
    for k, (kappa, w) in enumerate(zip(kinks, weights)):
        form = form + w * relu(G, f"h[{k:0{tag}d}]", 2, t - kappa)
    output(G, "out", 3, form)


def trivial_dense(N: int, d: int) -> int:
    return 3 * N + d + 2


# -- build ---------------------------------------------------------------------------------


def build(
    data: Dataset,
    *,
    seed: int = 0,
    mode: str = "delta",
    stage2: str = "wide",
    depth: int | str | None = None,
    gadgets: str = "compact",
    minimize: str = "dense",
    block: int | str | None = None,
    group: int | str | None = None,
    direction: Sequence[int] | None = None,
) -> nx.DiGraph:
    """The memorizing network of ``data`` (module docstring)."""
    mode = choice_option(mode, MODES, "mode")
    stage2 = choice_option(stage2, STAGE2, "stage2")
    gadgets = choice_option(gadgets, GADGETS, "gadgets")
    minimize = choice_option(minimize, MINIMIZE, "minimize")
    cap, block = positive_option(depth, "depth"), positive_option(block, "block")
    group = positive_option(group, "group") if stage2 == "narrow" else None
    if stage2 == "narrow" and group is None:
        group = 1
    problems = integer_labels(data, NAME)
    if problems:
        raise PreconditionError(problems[0])
    y = [int(v) for v in data.labels]
    y0 = min(y)
    C = max(y) - y0 + 1
    options = {
        "seed": seed,
        "mode": mode,
        "stage2": stage2,
        "group": group,
        "gadgets": gadgets,
        "minimize": minimize,
        "depth_cap": cap,
        "block": block,
        "y0": y0,
        "C": C,
    }
    inputs = input_nodes(data)
    G = net.new_network(
        inputs, construction={"name": NAME, "options": options, "reference": REFERENCE}, dataset=data.digest
    )
    if C == 1:  # one label: the constant network (docs/constructions/vardi2022.md section 1)
        options["built"] = "constant"
        output(G, "out", 1, Affine.constant(y0))
        return G
    if cap is not None and cap < 3:
        raise UsageError(
            f"--depth {cap} is too small: the shallowest network here has depth 3 (one label needs depth 1)"
        )
    line = spread_line(data, seed, direction=direction, who=NAME)
    sorted_keys = [line.keys[i] for i in line.order]
    c = (C - 1).bit_length()
    fields = [y[i] - y0 for i in line.order]
    shape = choose_shape(
        data.d,
        data.n,
        c,
        sorted_keys,
        fields,
        mode=mode,
        group=group,
        gadgets=gadgets,
        minimize=minimize,
        depth_cap=cap,
        block=block,
        y0=y0,
    )
    options.update({"direction": list(line.a), "scale": str(line.s), "shift": line.beta, "draws": line.draws})
    t = stage_one(G, data, line)
    if shape is None or (cap is not None and counts(shape)[0] > trivial_dense(data.n, data.d)):
        options["built"] = "trivial"
        trivial(G, line, t, y)
        return G
    packed = pack(shape, sorted_keys, fields)
    options.update(
        {
            "built": NAME,
            "block_size": shape.n,
            "blocks": shape.M,
            "rho": shape.rho,
            "rho1": shape.first_rho,
            "first_key": "whole" if shape.first_abs else ("difference" if mode == "delta" else "whole"),
            "c": c,
            "H": packed.H,
        }
    )
    layer, tt, v = stage_two(G, shape, packed, t)
    stage_three(
        G,
        layer,
        n=shape.n,
        rho=shape.rho,
        c=c,
        C=C,
        H=packed.H,
        mode=mode,
        gadgets=gadgets,
        tt=tt,
        v=v,
        y0=y0,
        rho1=shape.first_rho,
        first_abs=shape.first_abs,
    )
    prune(G)
    return G


def predict(data: Dataset, seed: int = 0) -> tuple[int, dict] | None:
    """Nonzero parameters of the build with ``minimize=nonzero`` (exact shape counts); None when
    the labels are not integers (``check`` refuses then, so ``auto`` never asks)."""
    options = {"mode": "delta", "minimize": "nonzero"}
    if integer_labels(data, NAME):
        return None
    y = [int(v) for v in data.labels]
    y0, C = min(y), max(y) - min(y) + 1
    if C == 1:
        return int(y0 != 0), options
    line = spread_line(data, seed, who=NAME)
    sorted_keys = [line.keys[i] for i in line.order]
    fields = [y[i] - y0 for i in line.order]
    shape = choose_shape(
        data.d,
        data.n,
        (C - 1).bit_length(),
        sorted_keys,
        fields,
        mode="delta",
        group=None,
        gadgets="compact",
        minimize="nonzero",
        depth_cap=None,
        block=None,
        y0=y0,
    )
    if shape is None:  # without a depth cap every block size fits
        raise InternalError(f"{NAME}: no block size fits {data.n} points without a depth cap")
    return counts(shape, y0, _systematic_zeros(shape, sorted_keys, fields))[1], options


# -- size claims ---------------------------------------------------------------------------

_n, _rho, _rho1, _c, _M, _d, _R = sympy.symbols("n rho rho1 c M d R", integer=True, positive=True)


def shape_of(opts: Mapping, d: int, N: int) -> Shape:
    """The shape a build recorded in its options."""
    first_abs = opts["mode"] == "delta" and opts.get("first_key") == "whole"
    return Shape(
        d,
        N,
        opts["block_size"],
        opts["rho"],
        opts["c"],
        opts["mode"],
        opts["group"],
        opts["gadgets"],
        opts["rho1"] if first_abs else 0,
        first_abs,
    )


def stage_three_formulas(mode: str, gadgets: str, c: int) -> tuple[sympy.Expr, sympy.Expr]:
    """Stage III dense and nonzero counts for n >= 2 points per block (without the output's constant).

    Dense (docs/constructions/vardi2022.md section 6 for the paper's gadgets; netcert's compact
    matcher carry saves 16 c - 18 per point when c >= 2): n b + o. Nonzero:
    n (16 rho + 18 c + 5) - rho - 2c - 10 (plain), n (15 rho + 18 c + 8) - rho - 2c - 12
    (delta), one less per point and label bit beyond the first when compact.
    """
    n, rho, cc = _n, _rho, _c
    if mode == "plain":
        if c == 1:
            b, o = 42 * rho + 55, -12 * rho - 60
        elif gadgets == "paper":
            b, o = 42 * rho + 72 * cc - 19, -12 * rho - 32 * cc - 32 + (1 if c == 2 else 0)
        else:
            b, o = 42 * rho + 56 * cc - 1, -12 * rho - 28 * cc - 32
        nz = (
            n * (16 * rho + (18 if gadgets == "paper" else 17) * cc + (5 if gadgets == "paper" else 6))
            - rho
            - 2 * cc
            - 10
        )
    else:
        if c == 1:
            b, o = 30 * rho + 65, -10 * rho - 58
        elif gadgets == "paper":
            b, o = 30 * rho + 72 * cc - 9, -10 * rho - 32 * cc - 31 + (1 if c == 2 else 0)
        else:
            b, o = 30 * rho + 56 * cc + 9, -10 * rho - 28 * cc - 31
        nz = (
            n * (15 * rho + (18 if gadgets == "paper" else 17) * cc + (8 if gadgets == "paper" else 9))
            - rho
            - 2 * cc
            - 12
        )
    return n * b + o, nz


def size(G: nx.DiGraph, data: Dataset) -> SizeClaim:
    """Exact depth, dense and nonzero counts in N, d, M, n, rho, c (docs/constructions/vardi2022.md section 6)."""
    opts = G.graph[keys.CONSTRUCTION]["options"]
    built = opts.get("built")
    d, N = data.d, data.n
    Nsym = sympy.Symbol("N", integer=True, positive=True)
    bound_vars = {"N": N, "d": d, "C": opts["C"], "r_over_delta": _r_over_delta(data)}
    if built == "constant":
        return SizeClaim(
            {"depth": sympy.Integer(1), "params_dense": _d + 1, "params_nonzero": sympy.Integer(int(opts["y0"] != 0))},
            bound_vars,
        )
    stage1 = sympy.Symbol("stage1_nonzero", integer=True)
    s1 = G.in_degree("t") + (G.nodes["t"][keys.BIAS] != 0)
    if built == "trivial":
        zero_kinks = sympy.Symbol("zero_kinks", integer=True)
        hidden = [v for v, layer in G.nodes(data=keys.LAYER) if layer == 2]
        return SizeClaim(
            {
                "depth": sympy.Integer(3),
                "params_dense": 3 * Nsym + _d + 2,
                "params_nonzero": stage1 + 3 * Nsym - zero_kinks,
            },
            {**bound_vars, "stage1_nonzero": s1, "zero_kinks": sum(G.nodes[v][keys.BIAS] == 0 for v in hidden)},
        )
    shape = shape_of(opts, d, N)
    variables = {
        **bound_vars,
        "n": shape.n,
        "M": shape.M,
        "rho": shape.rho,
        "rho1": shape.first_rho,
        "c": shape.c,
        "R": shape.stair_layers,
        "stage1_nonzero": s1,
    }
    dense3, nonzero3 = stage_three_formulas(shape.mode, shape.gadgets, shape.c)
    if shape.first_abs:  # a whole first key: rho1 - rho more key bits, and e's constant H in E_1
        dense3, nonzero3 = dense3 + 20 * (_rho1 - _rho), nonzero3 + 14 * (_rho1 - _rho) + 1
    if shape.n == 1:  # the closed form holds from n = 2; n = 1 is taken from the shape's dry run
        s3 = sympy.Symbol("stage3_dense", integer=True)
        variables["stage3_dense"] = stage_three_counts(
            1, shape.rho, shape.c, shape.mode, shape.gadgets, shape.rho1, shape.first_abs
        )[0]
        dense3 = s3
    if shape.M == 1:
        dense12 = _d + 5
    elif shape.group is None:
        dense12 = _d + 8 * _M - 1
    else:
        s2 = sympy.Symbol("stage2_dense", integer=True)
        variables["stage2_dense"] = _dense([1, *_stage_two_widths(shape)])
        dense12 = _d + 1 + s2
    delta = shape.carries_e
    steps = _M - 1
    if shape.M == 1:
        nonzero12 = stage1 + (3 if delta else 2)
    elif not delta:
        nonzero12 = stage1 + 6 * steps + 2 * _R + 1
    else:
        pruned_t = int(shape.stair_layers > 1)  # e reads the carried partial sum, not the last t
        nonzero12 = stage1 + 8 * steps + 3 * _R + 1 - pruned_t
        zeros = sympy.Symbol("zero_jumps", integer=True)
        e_bias = sympy.Symbol("zero_e_bias", integer=True)
        variables["zero_jumps"], variables["zero_e_bias"] = _delta_zeros(G)
        nonzero12 = nonzero12 - 2 * zeros - e_bias
    y0 = sympy.Symbol("y0_nonzero", integer=True)
    variables["y0_nonzero"] = int(opts["y0"] != 0)
    return SizeClaim(
        formulas={
            "depth": _n * (_rho + _c) + _rho1 - _rho + _R + 4,
            "params_dense": dense12 + dense3,
            "params_nonzero": nonzero12 + nonzero3 + y0,
        },
        variables=variables,
    )


def _delta_zeros(G: nx.DiGraph) -> tuple[int, int]:
    """Delta mode: the jumps W_j - W_(j-1) that are 0 (no edges from that step into v), and
    whether e's constant H - alpha_1 is 0. Read from the graph: both are data facts."""
    steps = [v for v in G.nodes if isinstance(v, str) and v.startswith("S2.step[") and v.endswith(".P")]
    readers = {w for v in steps for w in G.successors(v)}
    v_nodes = [w for w in readers if w.startswith("S2.v")]
    zero = sum(1 for v in steps if not any(w in v_nodes for w in G.successors(v)))
    e_first = [w for w in G.nodes if isinstance(w, str) and (w == "S2.e" or w.startswith("S2.e[1]"))]
    e_bias_zero = int(any(G.nodes[w][keys.BIAS] == 0 and G.has_edge("S2.t[0]", w) for w in e_first)) if e_first else 0
    return zero, e_bias_zero


def _r_over_delta(data: Dataset) -> int:
    """ceil(r / delta) = ceil(sqrt(max ||x||^2 / min ||x_i - x_j||^2)), exact (1 for one point)."""
    sep = separation.min_sq_separation(data).value
    return 1 if sep is None else ceil_sqrt_ratio(separation.max_sq_norm(data), sep)


_C = sympy.Symbol("C", integer=True, positive=True)
_RD = sympy.Symbol("r_over_delta", integer=True, positive=True)
_NN = sympy.Symbol("N", integer=True, positive=True)
# rho_B = log2(63/25 sqrt(d) r_over_delta N^2 + 3) + 1 and d + 2 sqrt(8 (42 rho_B + 72 ceil(log2 C)) N),
# each root and logarithm rounded up by an exact integer function (63/25 sqrt(d) = sqrt(3969/625 d), and
# 2 sqrt(x) = sqrt(4x)), so that the bound evaluates by substitution alone, never through evalf.
_RHO_B = ceil_log2(ceil_root(sympy.Rational(3969, 625) * _d * _RD**2 * _NN**4, 2) + 3) + 1
BOUND = _d + ceil_root(32 * (42 * _RHO_B + 72 * ceil_log2(_C)) * _NN, 2)


CONSTRUCTION = Construction(
    name=NAME,
    paper=PAPER,
    reference=REFERENCE,
    assumptions="distinct points, integer labels (shifted to 0..C-1); d, r, delta enter only the bit sizes",
    options={
        "seed": "seed of the projection search (numpy default_rng; 16 integer directions per batch)",
        "mode": "delta (default: key differences inside a block) or plain (absolute keys)",
        "stage2": "wide (default: one layer of 2(M-1) step ReLUs) or narrow (--group steps per layer)",
        "group": "narrow Stage II: steps per layer (default 1, constant width <= 8)",
        "depth": "cap L on the depth: the best block size with depth <= L, or the depth-3 "
        "interpolant when that is smaller or nothing fits",
        "gadgets": "compact (default: the matcher's two ReLUs carried as one; delta may store a block's first "
        "key whole so that Stage II carries no e) or paper (the paper's gadgets)",
        "minimize": "dense (default) or nonzero: the count the block size minimizes",
        "block": "fix the points per block n instead of minimizing",
    },
    check=check,
    build=build,
    size=size,
    predict=predict,
    formulas_text={
        "depth": "n P + rho1 - rho + R + 4 (P = rho + c; rho1 first-key bits; R = 1 wide, ceil((M - 1)/g) narrow, "
        "0 if M = 1)",
        "params_dense": "d + 8M - 1 + n b + o (wide), b = 42 rho + 72c - 19 (plain), 30 rho + 72c - 9 (delta), "
        "56c instead of 72c with compact gadgets; o as docs/constructions/vardi2022.md section 6",
        "params_nonzero": "Stage I + 6(M - 1) + 2R + 1 (plain) or 8(M - 1) + 3R + 2 (delta) "
        "+ n (16 rho + 18c + 5) - rho - 2c - 10 (plain) / n (15 rho + 18c + 8) - rho - 2c - 12 "
        "(delta), 17c + 1 instead of 18c with compact gadgets; a whole first key in delta mode: "
        "Stage II as plain, Stage III + 20 (rho1 - rho) dense, + 14 (rho1 - rho) + 1 nonzero",
    },
    theorem=Theorem(
        statement="N points in R^d, ||x|| <= r, pairwise distance >= delta, labels in 1..C are memorized by a ReLU "
        "network with O~(sqrt N) parameters; for L <= sqrt N, depth L and O~(N/L) parameters",
        rate="O~(sqrt(N)) parameters; O~(N/L) at depth L",
        bound=BOUND,
        bound_measure="params_dense, a priori: docs/constructions/vardi2022.md's constants (section 6, b = 42 rho + 72c) at the block "
        "size sqrt(8N/b), with rho from the projection guarantee of section 2 "
        "(r_over_delta = ceil(r / delta)); an estimate of the rate's constant, not a proven bound",
    ),
)
