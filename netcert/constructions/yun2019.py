"""yun2019: two hidden layers, O(sqrt n) neurons (Yun, Sra & Jadbabaie 2019).

Yun, Sra & Jadbabaie, "Small ReLU networks are powerful memorizers: a tight
analysis of memorization capacity", NeurIPS 2019, Theorem 3.1 (3-layer ReLU
networks with Theta(sqrt N) hidden nodes memorize any N distinct points).
The paper's proof was not available; this is the exact dyadic construction of
docs/constructions/yun2019.md sections 2-5, which follows its scheme (project, cut into blocks,
interpolate every block in parallel):

1. project to a line (``gadgets.projection``), sort, shift the labels by
   C = max(0, -min y) so that y' >= 0;
2. cut the sorted points into P blocks of at most Q points (balanced sizes);
3. layer 1, the kink layer of ``gadgets.blocks`` (2P - 1 ReLUs): every layer-2
   pre-activation can then be any affine function on each block;
4. layer 2, Q "slots": slot k on block m is the k-th unit of that block's
   zig-zag (``gadgets.zigzag``, sigma_0 = +K_m since y' >= 0), i.e.
   K_m (z - kappa_0) for k = 0, 2 K_m (z - kappa_k) for k < |block m|, and 0
   beyond; the slope change of slot k has the sign (-1)^k in every block;
5. output F = -C + sum_k (-1)^k relu(slot_k), which equals y on every block.

Capacity: P Q >= N with widths d1 = 2P - 1, d2 = Q, about d1 d2 / 2; the
default P, the least integer with 2 P^2 >= N, minimizes d1 + d2 (282 neurons
at N = 10^4). All weights are dyadic for dyadic labels; only distinct points
are assumed.

Size limits (``constructions.exactmath``): the per-block zig-zag targets, held
at once, and the network's numbers are counted as they are made; a build is
refused once either exceeds 1000 max_bits() bits, or at a number over max_bits().
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import networkx as nx
import sympy

from netcert.constructions.base import Construction, SizeClaim, Theorem, input_nodes, on_inputs
from netcert.constructions.exactmath import Budget, refuse_scaled_inputs
from netcert.dataset import Dataset
from netcert.errors import UsageError
from netcert.exact import Rat, format_rational, mpq
from netcert.gadgets.blocks import affine_per_block, kink_layer
from netcert.gadgets.projection import find_projection
from netcert.gadgets.zigzag import zigzag
from netcert.ir import keys
from netcert.ir import network as net

NAME = "yun2019"
PAPER = (
    "Yun, Sra, Jadbabaie. Small ReLU networks are powerful memorizers: a tight analysis of "
    "memorization capacity. NeurIPS 2019, Theorem 3.1"
)
REFERENCE = "arXiv:1810.07770, Thm 3.1; docs/constructions/yun2019.md (exact dyadic reconstruction)"


def default_blocks(n: int) -> int:
    """The least P >= 1 with 2 P^2 >= n (minimizes d1 + d2)."""
    P = max(1, sympy.integer_nthroot(max(n // 2, 1), 2)[0])
    while 2 * P * P < n:
        P += 1
    while P > 1 and 2 * (P - 1) ** 2 >= n:
        P -= 1
    return P


def shape(n: int, widths: tuple[int, int] | None) -> tuple[int, int]:
    """(P blocks, Q slots) for n points, from the default or the requested widths (d1, d2)."""
    if widths is None:
        P = default_blocks(n)
    else:
        d1, d2 = widths
        if d1 < 1 or d2 < 1 or ((d1 + 1) // 2) * d2 < n:
            raise UsageError(
                f"widths {d1},{d2} cannot hold {n} points: this construction needs "
                f"floor((d1 + 1) / 2) * d2 >= N, here {((d1 + 1) // 2) * d2} < {n}"
            )
        P = min((d1 + 1) // 2, n)
        while P > 1 and -(-n // (P - 1)) <= d2:  # fewest blocks that fit d2 slots: fewer parameters
            P -= 1
    Q = -(-n // P)
    return -(-n // Q), Q


def parse_widths(text: str | None) -> tuple[int, int] | None:
    if text in (None, ""):
        return None
    try:
        d1, d2 = (int(v) for v in str(text).split(","))
    except ValueError:
        raise UsageError(f"--widths takes two integers d1,d2, got {text!r}") from None
    return d1, d2


def check(data: Dataset, options: Mapping) -> list[str]:
    """Distinct points are the only assumption; loading already guarantees them."""
    return []


def _blocks(n: int, P: int) -> list[range]:
    """Balanced consecutive blocks: the first n mod P hold one point more."""
    size, extra = divmod(n, P)
    out, start = [], 0
    for m in range(P):
        end = start + size + (m < extra)
        out.append(range(start, end))
        start = end
    return out


def _slot_targets(z: Sequence[int], y: Sequence[Rat], blocks: Sequence[range], Q: int) -> list[list[tuple[Rat, Rat]]]:
    """targets[k][m] = (sigma, tau) of slot k on block m (sigma z + tau)."""
    targets = [[(mpq(0), mpq(0))] * len(blocks) for _ in range(Q)]
    budget = Budget(NAME)  # a memory bound: the targets are held at once, before any slot is solved
    for m, b in enumerate(blocks):
        kinks, weights = zigzag([z[i] for i in b], [y[i] for i in b])
        budget.add(f"the zig-zag kinks of block {m}", kinks)
        K = weights[0]  # sigma_0 = +K_m, since the shifted labels are >= 0
        for k, kappa in enumerate(kinks):
            scale = K if k == 0 else 2 * K
            targets[k][m] = (scale, -scale * kappa)
    return targets


def build(data: Dataset, *, seed: int = 0, widths: str | tuple | None = None) -> nx.DiGraph:
    """The two-hidden-layer network of ``data`` (module docstring)."""
    requested = parse_widths(widths) if not isinstance(widths, tuple) else widths
    P, Q = shape(data.n, requested)
    proj = find_projection(data, seed, NAME)
    order = sorted(range(data.n), key=lambda i: proj.z[i])
    z = [proj.z[i] for i in order]
    C = max(mpq(0), -min(data.labels))
    y = [data.labels[i] + C for i in order]
    refuse_scaled_inputs(NAME, data.scale, 2 * P - 1)
    blocks = _blocks(data.n, P)
    layer = kink_layer([[z[i] for i in b] for b in blocks])
    options = {
        "seed": seed,
        "widths": None if requested is None else list(requested),
        "blocks": P,
        "slots": Q,
        "label_shift": str(C),
        "direction": [format_rational(a) for a in proj.u],
        "direction_method": proj.method,
    }
    inputs = input_nodes(data)
    G = net.new_network(
        inputs, construction={"name": NAME, "options": options, "reference": REFERENCE}, dataset=data.digest
    )
    first = on_inputs(inputs, proj.u, data)
    l1 = [f"l1[{k:0{len(str(layer.width - 1))}d}]" for k in range(layer.width)]
    for node, kink in zip(l1, layer.kinks):
        net.add_neuron(G, node, layer=1, activation=keys.RELU, bias=-kink, incoming=first.items())
    l2 = [f"l2[{k:0{len(str(Q - 1))}d}]" for k in range(Q)]
    budget = Budget(NAME)
    budget.add("the kink layer", [*first.values()] * layer.width + list(layer.kinks))
    for node, targets in zip(l2, _slot_targets(z, y, blocks, Q)):
        weights, bias = affine_per_block(layer, targets)
        budget.add(f"slot {node}", [*weights, bias])
        net.add_neuron(G, node, layer=2, activation=keys.RELU, bias=bias, incoming=zip(l1, weights))
    net.add_neuron(
        G, "out", layer=3, activation=keys.IDENTITY, bias=-C, incoming=((node, (-1) ** k) for k, node in enumerate(l2))
    )
    net.set_outputs(G, ["out"])
    return G


def predict(data: Dataset, seed: int = 0) -> tuple[int, dict]:
    """Nonzero parameters at the default widths: layer 1 (2P - 1)(nnz(u) + 1), layer 2 at most
    Q (2P - 1 + 1) (each slot reads every kink of its blocks), output Q + 1; an upper bound."""
    P, Q = shape(data.n, None)
    nnz_u = sum(1 for a in find_projection(data, seed, NAME).u if a)
    return (2 * P - 1) * (nnz_u + 1) + Q * 2 * P + Q + 1, {}


def size(G: nx.DiGraph, data: Dataset) -> SizeClaim:
    """depth 3, widths (2P - 1, Q), dense d1(d + 1) + d2(d1 + 1) + d2 + 1."""
    opts = G.graph[keys.CONSTRUCTION]["options"]
    N, d, P, Q, nnz_u, z1, nz2, c = sympy.symbols(
        "N d P Q nnz_u zero_kinks_l1 nonzero_l2 shifted", integer=True, nonnegative=True
    )
    l1 = [v for v, layer in G.nodes(data=keys.LAYER) if layer == 1]
    l2 = [v for v, layer in G.nodes(data=keys.LAYER) if layer == 2]
    nonzero_l2 = sum(G.in_degree(v) + (G.nodes[v][keys.BIAS] != 0) for v in l2)
    d1 = 2 * P - 1
    return SizeClaim(
        formulas={
            "depth": sympy.Integer(3),
            "neurons": d1 + Q + 1,
            "width": sympy.Max(d1, Q),
            "params_dense": d1 * (d + 1) + Q * (d1 + 1) + Q + 1,
            "params_nonzero": d1 * (nnz_u + 1) - z1 + nz2 + Q + c,
        },
        variables={
            "N": data.n,
            "d": data.d,
            "P": opts["blocks"],
            "Q": opts["slots"],
            "nnz_u": G.in_degree(l1[0]),
            "zero_kinks_l1": sum(1 for v in l1 if G.nodes[v][keys.BIAS] == 0),
            "nonzero_l2": nonzero_l2,
            "shifted": int(G.nodes["out"][keys.BIAS] != 0),
        },
    )


CONSTRUCTION = Construction(
    name=NAME,
    paper=PAPER,
    reference=REFERENCE,
    assumptions="distinct points (any rational labels)",
    options={
        "seed": "seed of the random projection direction (used only if no axis separates the points)",
        "widths": "hidden widths d1,d2 (default: the smallest, P = least integer with 2P^2 >= N); "
        "needs floor((d1 + 1) / 2) * d2 >= N",
    },
    check=check,
    build=build,
    size=size,
    predict=predict,
    formulas_text={
        "depth": "3",
        "widths": "(2P - 1, Q), P = least integer with 2P^2 >= N, Q = ceil(N / P)",
        "neurons": "2P - 1 + Q + 1",
        "params_dense": "(2P - 1)(d + 1) + Q(2P) + Q + 1",
        "params_nonzero": "(2P - 1)(nnz(u) + 1) - (zero kinks) + (nonzero layer-2 entries) + Q + [C != 0]",
    },
    theorem=Theorem(
        statement="a 3-layer ReLU network (two hidden layers) with Theta(sqrt N) hidden nodes memorizes any N "
        "distinct points; here d1 + d2 = 2P - 1 + Q hidden ReLUs with capacity P Q >= N",
        rate="Theta(sqrt(N)) neurons",
        bound=2 * sympy.Symbol("P", integer=True) - 1 + sympy.Symbol("Q", integer=True),
        bound_measure="hidden ReLUs d1 + d2 of this construction's shape",
    ),
)
