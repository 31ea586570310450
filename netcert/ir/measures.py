"""Measures of a network, exactly as ``specs/README.md`` section 3.4 defines them.

Pure functions of ``G``; ``measure(G)`` gathers them in one record, which is
what certificates report and the kernel recomputes independently.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass

import networkx as nx

from netcert.exact import bits, storage_bits, to_rat
from netcert.ir import keys


@dataclass(frozen=True)
class Measures:
    depth: int
    width: int
    neurons: int
    params_dense: int | None
    params_nonzero: int
    max_weight_bits: int
    total_weight_bits: int
    layered: bool
    activations: tuple[str, ...]
    inputs: int
    outputs: int

    def as_dict(self) -> dict:
        out = asdict(self)
        out["activations"] = list(self.activations)
        return out


def layer_sizes(G: nx.DiGraph) -> dict[int, int]:
    """Number of nodes in each layer."""
    return dict(Counter(layer for _, layer in G.nodes(data=keys.LAYER)))


def depth(G: nx.DiGraph) -> int:
    """The largest node layer (= layers of weights)."""
    return max(layer for _, layer in G.nodes(data=keys.LAYER))


def width(G: nx.DiGraph) -> int:
    """The largest hidden layer (layers 1..depth-1); 0 without hidden layers."""
    sizes, top = layer_sizes(G), depth(G)
    return max((c for layer, c in sizes.items() if 0 < layer < top), default=0)


def neurons(G: nx.DiGraph) -> int:
    return sum(1 for _, act in G.nodes(data=keys.ACTIVATION) if act != keys.INPUT)


def is_layered(G: nx.DiGraph) -> bool:
    """Every edge goes from layer l to layer l + 1."""
    layer = G.nodes
    return all(layer[v][keys.LAYER] == layer[u][keys.LAYER] + 1 for u, v in G.edges)


def params_dense(G: nx.DiGraph) -> int | None:
    """sum_l (n_(l-1) + 1) n_l over the fully connected layers; None if not layered."""
    if not is_layered(G):
        return None
    sizes = layer_sizes(G)  # over the layers present: an empty layer adds nothing, and layers may be sparse
    return sum((sizes.get(l - 1, 0) + 1) * n for l, n in sizes.items() if l >= 1)


def _numbers(G: nx.DiGraph):
    """Every weight and bias of G as mpq."""
    for _, b in G.nodes(data=keys.BIAS):
        if b is not None:
            yield to_rat(b)
    for _, _, w in G.edges(data=keys.WEIGHT):
        yield to_rat(w)


def measure(G: nx.DiGraph) -> Measures:
    """All measures of a valid network, in one pass over its nodes and one over its edges.

    The bit measures are taken once per distinct number with its multiplicity: honest
    networks repeat a few weights millions of times (and a read network shares one ``mpq``
    per distinct string), so hashing a value is cheaper than measuring it again.
    """
    layer, acts, biases = {}, set(), Counter()
    for v, attrs in G.nodes(data=True):
        layer[v] = attrs[keys.LAYER]
        if attrs[keys.ACTIVATION] != keys.INPUT:
            acts.add(attrs[keys.ACTIVATION])
        b = attrs.get(keys.BIAS)
        if b is not None:
            biases[b] += 1
    values = Counter(w for _, _, w in G.edges(data=keys.WEIGHT))
    values.update(biases)  # Counter.update adds the counts
    layered = all(layer[v] == layer[u] + 1 for u, v in G.edges)
    nonzero = max_bits = total_bits = 0
    for value, count in values.items():
        q = to_rat(value)
        if q != 0:
            nonzero += count
            total_bits += count * storage_bits(q)
            max_bits = max(max_bits, bits(q))
    sizes = Counter(layer.values())
    top = max(sizes)
    dense = sum((sizes.get(l - 1, 0) + 1) * n for l, n in sizes.items() if l >= 1) if layered else None
    return Measures(
        depth=top,
        width=max((c for l, c in sizes.items() if 0 < l < top), default=0),
        neurons=sum(1 for _, act in G.nodes(data=keys.ACTIVATION) if act != keys.INPUT),
        params_dense=dense,
        params_nonzero=nonzero,
        max_weight_bits=max_bits,
        total_weight_bits=total_bits,
        layered=layered,
        activations=tuple(sorted(acts)),
        inputs=len(G.graph[keys.INPUTS]),
        outputs=len(G.graph[keys.OUTPUTS]),
    )


def layer_table(G: nx.DiGraph) -> list[tuple[int, int, tuple[str, ...], int, int, int]]:
    """Per layer, in order: (layer, nodes, sorted activations, incoming weights, nonzero biases,
    max bits over its weights and biases): ``netcert inspect``'s table in one pass over the
    graph (selecting each layer's nodes by a scan would cost depth x nodes)."""
    rows: dict[int, list] = {}
    layer = {}
    for v, attrs in G.nodes(data=True):
        layer[v] = attrs[keys.LAYER]
        row = rows.setdefault(layer[v], [0, set(), 0, 0, 0])
        row[0] += 1
        row[1].add(attrs[keys.ACTIVATION])
        if keys.BIAS in attrs:
            b = attrs[keys.BIAS]
            row[3] += 1 if b else 0
            row[4] = max(row[4], bits(to_rat(b)))
    for _, v, w in G.edges(data=keys.WEIGHT):
        row = rows[layer[v]]
        row[2] += 1
        row[4] = max(row[4], bits(to_rat(w)))
    return [(l, r[0], tuple(sorted(r[1])), r[2], r[3], r[4]) for l, r in sorted(rows.items())]
