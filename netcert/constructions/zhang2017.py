"""zhang2017: one hidden layer, one ReLU per point (Zhang et al. 2017, Thm 1).

Zhang, Bengio, Hardt, Recht & Vinyals, "Understanding deep learning requires
rethinking generalization", ICLR 2017, Theorem 1: for n distinct points in R^d
and any real labels, a one-hidden-layer ReLU network with 2n + d weights
(direction shared) interpolates them.

Built in the dyadic "zig-zag" form of docs/constructions/zhang2017.md section 3:

1. project to a line: z_i = u . x_int[i] pairwise distinct (``gadgets.projection``);
2. sort the points by z, so z_1 < ... < z_n, with labels y_1..y_n;
3. pick the slope K = the least power of two >= max_k |m_k| over the secant
   slopes m_k = (y_{k+1} - y_k) / (z_{k+1} - z_k) (K = 1 if n = 1 or all m_k = 0);
4. the interpolant alternates slopes +-K: sigma_0 = +K if y_1 >= 0 else -K,
   sigma_k = -sigma_(k-1); neuron 0 has its kink at kappa_0 = z_1 - y_1 / sigma_0
   and output weight sigma_0, neuron k >= 1 its kink at
   kappa_k = (y_(k+1) - y_k - sigma_k z_(k+1) + sigma_(k-1) z_k) / (sigma_(k-1) - sigma_k),
   which lies in [z_k, z_(k+1)] because |m_k| <= K, and output weight
   sigma_k - sigma_(k-1) = +-2K.

F(x) = sum_k w_k relu(u . x_int - kappa_k) then equals y_i at every z_i. Every
weight is dyadic when the labels are (their denominators are 2K den(y)).
Folding the column scales into the first layer (weight u_j * scale_j on input
j) makes the network take the original rational inputs.

Size: depth 2, n hidden ReLUs, params_dense = n(d + 2) + 1, params_nonzero =
n (nnz(u) + 1) + (number of nonzero kinks); the only assumption is that the
points are distinct, which every loaded dataset is.

Size limits (``constructions.exactmath``): K comes from bit lengths alone, and a
network sure to hold a number over max_bits() bits, or more than 1000 max_bits()
bits in all (n copies of the first-layer weights, whose size is the bit size
of the column scales), is refused before any kink is computed.
"""

from __future__ import annotations

from collections.abc import Mapping

import networkx as nx
import sympy

from netcert.constructions.base import Construction, SizeClaim, Theorem, input_nodes, on_inputs
from netcert.constructions.exactmath import Budget, bits_of, refuse_bits, refuse_scaled_inputs, refuse_total
from netcert.dataset import Dataset
from netcert.exact import Rat, format_rational, storage_bits
from netcert.gadgets.projection import find_projection
from netcert.gadgets.zigzag import slope_bound, zigzag
from netcert.ir import keys
from netcert.ir import network as net

NAME = "zhang2017"
PAPER = "Zhang, Bengio, Hardt, Recht, Vinyals. Understanding deep learning requires rethinking generalization. ICLR 2017, Theorem 1"
REFERENCE = "arXiv:1611.03530, Thm 1; docs/constructions/zhang2017.md section 3 (dyadic zig-zag)"


def check(data: Dataset, options: Mapping) -> list[str]:
    """Distinct points are the only assumption; loading already guarantees them."""
    return []


def build(data: Dataset, *, seed: int = 0) -> nx.DiGraph:
    """The zig-zag network of ``data`` (module docstring); exact, dyadic for dyadic labels."""
    refuse_scaled_inputs(NAME, data.scale, data.n)  # before the projection copies every coordinate
    proj = find_projection(data, seed, NAME)
    order = sorted(range(data.n), key=lambda i: proj.z[i])
    z = [proj.z[i] for i in order]
    y = [data.labels[i] for i in order]
    inputs = input_nodes(data)
    first = on_inputs(inputs, proj.u, data)
    K = slope_bound(z, y)
    check_sizes(z, first, K)
    kinks, weights = zigzag(z, y, K)
    Budget(NAME).add("a kink", kinks)
    options = {"seed": seed, "direction": [format_rational(a) for a in proj.u], "direction_method": proj.method}
    G = net.new_network(
        inputs, construction={"name": NAME, "options": options, "reference": REFERENCE}, dataset=data.digest
    )
    width = len(str(data.n - 1))
    hidden = [f"h[{k:0{width}d}]" for k in range(data.n)]
    for node, kappa in zip(hidden, kinks):
        net.add_neuron(G, node, layer=1, activation=keys.RELU, bias=-kappa, incoming=first.items())
    net.add_neuron(G, "out", layer=2, activation=keys.IDENTITY, bias=0, incoming=zip(hidden, weights))
    net.set_outputs(G, ["out"])
    return G


def check_sizes(z: list[int], first: Mapping[str, Rat], K: Rat) -> None:
    """Refuse (PreconditionError, naming the limit) a network whose numbers are sure to exceed the
    size limits of ``exactmath``, before any kink is computed.

    Certain lower bounds: every hidden ReLU holds the first-layer weights u_j scale_j (exact here),
    the output weights are +-K and +-2K, and kink kappa_k lies between z_k and z_(k+1), so when
    both have one sign its numerator has at least bitlen(min(|z_k|, |z_(k+1)|)) bits.
    """
    budget = Budget(NAME)
    budget.add("a first-layer weight u_j scale_j", first.values())
    per_neuron = budget.total
    refuse_bits(NAME, "the output weight 2K", bits_of(2 * K))
    out = min(storage_bits(K), storage_bits(2 * K))  # each output weight is +-K or +-2K
    kinks = sum(int(min(abs(a), abs(b)).bit_length()) for a, b in zip(z, z[1:]) if (a > 0) == (b > 0))
    refuse_total(
        NAME,
        f"{len(z)} hidden ReLUs with {len(first)} first-layer weights of {per_neuron:,} bits "
        "each, their kinks and output weights",
        len(z) * (per_neuron + out) + kinks,
    )


def predict(data: Dataset, seed: int = 0) -> tuple[int, dict]:
    """Nonzero parameters: N (nnz(u) + 2), an upper bound (kinks at 0 drop a bias)."""
    return data.n * (sum(1 for a in find_projection(data, seed, NAME).u if a) + 2), {}


def size(G: nx.DiGraph, data: Dataset) -> SizeClaim:
    N, d, nnz_u, zero_kinks = sympy.symbols("N d nnz_u zero_kinks", integer=True, nonnegative=True)
    """Exact sizes: depth 2, N + 1 neurons, N(d + 2) + 1 dense, N(nnz(u) + 2) - zero kinks nonzero."""
    hidden = [v for v, layer in G.nodes(data=keys.LAYER) if layer == 1]
    zero = sum(1 for v in hidden if G.nodes[v][keys.BIAS] == 0)
    return SizeClaim(
        formulas={
            "depth": sympy.Integer(2),
            "neurons": N + 1,
            "width": N,
            "params_dense": N * (d + 2) + 1,
            "params_nonzero": N * (nnz_u + 2) - zero_kinks,
        },
        variables={"N": data.n, "d": data.d, "nnz_u": G.in_degree(hidden[0]), "zero_kinks": zero},
    )


CONSTRUCTION = Construction(
    name=NAME,
    paper=PAPER,
    reference=REFERENCE,
    assumptions="distinct points (any rational labels)",
    options={"seed": "seed of the random projection direction, used only if no coordinate axis separates the points"},
    check=check,
    build=build,
    size=size,
    predict=predict,
    formulas_text={
        "depth": "2",
        "width": "N",
        "neurons": "N + 1",
        "params_dense": "N (d + 2) + 1",
        "params_nonzero": "N (nnz(u) + 2) - (kinks at 0)",
    },
    theorem=Theorem(
        statement="n distinct points in R^d with any real labels are interpolated by a depth-2 ReLU network "
        "with n hidden units and 2n + d weights (the direction u shared by all units)",
        rate="O(N)",
        bound=2 * sympy.Symbol("N", integer=True) + sympy.Symbol("d", integer=True),
        bound_measure="weights with the projection direction shared (Zhang's count; not a measure of specs/README.md section 3.4)",
    ),
)
