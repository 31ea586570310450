"""Building networks: a plain ``networkx.DiGraph`` plus three small helpers.

A network holds exact numbers (``mpq``) in memory; the file format turns them
into strings. Nothing here evaluates or measures; see ``evaluate`` and
``ir.measures``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Hashable

import networkx as nx

from netcert.exact import to_rat
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
) -> None:
    """Add (in place) a neuron act(bias + sum w * value(u)); zero weights add no edge."""
    G.add_node(node, **{keys.LAYER: layer, keys.ACTIVATION: activation, keys.BIAS: to_rat(bias)})
    items = incoming.items() if isinstance(incoming, Mapping) else incoming
    for source, weight in items:
        w = to_rat(weight)
        if w != 0:
            G.add_edge(source, node, **{keys.WEIGHT: w})


def set_outputs(G: nx.DiGraph, outputs: Sequence[NodeId]) -> None:
    """Declare (in place) the ordered output nodes."""
    G.graph[keys.OUTPUTS] = list(outputs)


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
