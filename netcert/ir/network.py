"""Building networks: a plain ``networkx.DiGraph`` plus three small helpers.

A network holds exact numbers (``mpq``) in memory; the file format turns them
into strings. Nothing here evaluates or measures; see ``evaluate`` and
``ir.measures``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Hashable

import networkx as nx

from netcert.exact import format_rational, parse_rational, to_rat
from netcert.ir import keys

NodeId = Hashable


def new_network(
    inputs: Sequence[NodeId], *, construction: Mapping | None = None, dataset: str | None = None
) -> nx.DiGraph:
    """A network with its input nodes (layer 0) and no neurons yet."""
    G = nx.DiGraph()
    G.graph.update(
        {keys.FORMAT: keys.FORMAT_NAME, keys.VERSION: keys.FORMAT_VERSION, keys.INPUTS: list(inputs), keys.OUTPUTS: []}
    )
    if construction is not None:
        G.graph[keys.CONSTRUCTION] = dict(construction)
    if dataset is not None:
        G.graph[keys.DATASET] = dataset
    for node in inputs:
        G.add_node(node, **{keys.LAYER: 0, keys.ACTIVATION: keys.INPUT})
    return G


def add_neuron(
    G: nx.DiGraph,
    node: NodeId,
    *,
    layer: int,
    activation: str,
    bias: object,
    incoming: Mapping[NodeId, object] | Iterable[tuple[NodeId, object]] = (),
    slope: object | None = None,
) -> None:
    """Add (in place) a neuron act(bias + sum w * value(u)); zero weights add no edge.

    ``slope`` is a leaky_relu's (value slope * z for z < 0) and must be None for every other
    activation, as the file format has the key on leaky_relu nodes only.
    """
    attrs = {keys.LAYER: layer, keys.ACTIVATION: activation, keys.BIAS: to_rat(bias)}
    if slope is not None:
        attrs[keys.SLOPE] = to_rat(slope)
    G.add_node(node, **attrs)
    items = incoming.items() if isinstance(incoming, Mapping) else incoming
    for source, weight in items:
        w = to_rat(weight)
        if w != 0:
            G.add_edge(source, node, **{keys.WEIGHT: w})


def set_outputs(G: nx.DiGraph, outputs: Sequence[NodeId]) -> None:
    """Declare (in place) the ordered output nodes."""
    G.graph[keys.OUTPUTS] = list(outputs)


def set_classes(G: nx.DiGraph, classes: Sequence[object], dropped: str | None = None) -> None:
    """Declare (in place) the class label of each output, as canonical exact strings, and the
    final monotone map (``keys.SOFTMAX`` or ``keys.SIGMOID``) removed from the scores, if any.

    One output takes two labels [neg, pos]: f > 0 predicts pos, f < 0 neg (specs/README.md 3.5).
    """
    G.graph[keys.CLASSES] = [format_rational(parse_rational(c) if isinstance(c, str) else to_rat(c)) for c in classes]
    if dropped is not None:
        G.graph[keys.DROPPED] = dropped
    else:
        G.graph.pop(keys.DROPPED, None)


def classes(G: nx.DiGraph) -> list[str] | None:
    """The class labels of the outputs (exact strings), or None for a network without them."""
    labels = G.graph.get(keys.CLASSES)
    return None if labels is None else list(labels)


def inputs(G: nx.DiGraph) -> list[NodeId]:
    return list(G.graph.get(keys.INPUTS, []))


def outputs(G: nx.DiGraph) -> list[NodeId]:
    return list(G.graph.get(keys.OUTPUTS, []))


def node_key(node: NodeId) -> tuple:
    """Canonical order of node ids: integers before strings (specs/README.md 3.3)."""
    return (0, node, "") if isinstance(node, int) else (1, 0, str(node))


def ordered_nodes(G: nx.DiGraph) -> list[NodeId]:
    """Nodes by layer, then id: the canonical order, and a topological one."""
    return sorted(G.nodes, key=lambda v: (G.nodes[v].get(keys.LAYER, 0), node_key(v)))
