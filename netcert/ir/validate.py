"""Well-formedness of a network (``specs/README.md`` section 3.2).

``validate(G)`` returns every problem at once, each naming its node or edge,
so a user fixes a file in one pass. Errors make a network unusable; warnings
(dead nodes) do not change what it computes.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from netcert.errors import NumberError
from netcert.exact import Rat, format_rational, is_exact, parse_rational
from netcert.ir import keys
from netcert.ir.network import NodeId

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a network: where, what, and how bad."""

    where: str
    message: str
    severity: str = ERROR

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def validate(G: nx.DiGraph) -> list[Problem]:
    """Every problem of ``G``: errors first, then warnings, each in a stable order."""
    problems = (
        _check_ports(G) + _check_labels(G) + _check_nodes(G) + _check_edges(G) + _check_cycles(G) + _check_dead(G)
    )
    return sorted(problems, key=lambda p: p.severity != ERROR)


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == ERROR]


def _name(node: NodeId) -> str:
    return f"node {node!r}"


def _is_id(node: object) -> bool:
    return isinstance(node, (str, int)) and not isinstance(node, bool)


def _check_ports(G: nx.DiGraph) -> list[Problem]:
    out: list[Problem] = []
    for key in (keys.INPUTS, keys.OUTPUTS):
        ids = G.graph.get(key)
        if not isinstance(ids, list) or not ids:
            out.append(Problem(f"graph.{key}", "must be a nonempty list of node ids"))
            continue
        if len(set(map(repr, ids))) != len(ids):
            out.append(Problem(f"graph.{key}", "lists a node twice"))
        out += [Problem(f"graph.{key}", f"names {v!r}, which is not a node") for v in ids if v not in G]
    listed_in = set(G.graph.get(keys.INPUTS) or [])
    out += [
        Problem(f"graph.{keys.OUTPUTS}", f"{v!r} is an input node")
        for v in G.graph.get(keys.OUTPUTS) or []
        if v in listed_in
    ]
    return out


def _check_labels(G: nx.DiGraph) -> list[Problem]:
    """``graph.classes`` and ``graph.dropped`` (specs/README.md 3.2, rules 7 and 8): one distinct
    canonical label per output, two ([neg, pos]) for a single output; a dropped map only on a
    classifier, since without classes nothing says the outputs are scores."""
    out: list[Problem] = []
    graph = G.graph
    if keys.CLASSES in graph:
        out += _check_classes(graph[keys.CLASSES], graph.get(keys.OUTPUTS))
    if keys.DROPPED in graph:
        dropped = graph[keys.DROPPED]
        if dropped not in keys.DROPPABLE:
            out.append(
                Problem(f"graph.{keys.DROPPED}", f"must be one of {', '.join(keys.DROPPABLE)}, got {dropped!r:.40}")
            )
        if keys.CLASSES not in graph:
            out.append(Problem(f"graph.{keys.DROPPED}", f"is only for a classifier: graph.{keys.CLASSES} is missing"))
    return out


def _check_classes(classes: object, outputs: object) -> list[Problem]:
    where = f"graph.{keys.CLASSES}"
    if not isinstance(classes, list):
        return [Problem(where, "must be a list of exact label strings")]
    out = [Problem(where, f"{c!r:.40} is not a canonical decimal exact number") for c in classes if not _canonical(c)]
    if len(set(map(repr, classes))) != len(classes):
        out.append(Problem(where, "lists a class twice"))
    if isinstance(outputs, list) and outputs:
        wanted = 2 if len(outputs) == 1 else len(outputs)
        if len(classes) != wanted:
            because = "[neg, pos] for the one output" if len(outputs) == 1 else "one per output"
            out.append(Problem(where, f"has {len(classes)} classes; {wanted} expected ({because})"))
    return out


def _canonical(label: object) -> bool:
    """A label string is canonical when it is the decimal form netcert writes (specs/README.md 1):
    labels are matched as strings, so ``"0x1"`` or ``"2/2"`` would never match a label 1."""
    if not isinstance(label, str):
        return False
    try:
        return format_rational(parse_rational(label)) == label
    except NumberError:
        return False


def _check_nodes(G: nx.DiGraph) -> list[Problem]:
    listed = set(G.graph.get(keys.INPUTS) or [])
    out: list[Problem] = []
    for v, attrs in G.nodes(data=True):
        out += _check_node(G, v, attrs, v in listed)
    return out


def _check_node(G: nx.DiGraph, v: NodeId, attrs: dict, listed: bool) -> list[Problem]:
    where, out = _name(v), []
    if not _is_id(v):
        out.append(Problem(where, "id must be a string or an integer"))
    layer, act = attrs.get(keys.LAYER), attrs.get(keys.ACTIVATION)
    if not isinstance(layer, int) or isinstance(layer, bool) or layer < 0:
        out.append(Problem(where, f"layer must be an integer >= 0, got {layer!r}"))
    if act not in keys.ACTIVATIONS:
        out.append(Problem(where, f"unknown activation {act!r} (known: {', '.join(keys.ACTIVATIONS)})"))
    if (act == keys.INPUT) != listed:
        out.append(Problem(where, "input nodes must be exactly those listed in graph.inputs"))
    if act == keys.INPUT:
        if layer != 0:
            out.append(Problem(where, f"an input node must be in layer 0, not {layer!r}"))
        if keys.BIAS in attrs:
            out.append(Problem(where, "an input node has no bias"))
        if G.in_degree(v):
            out.append(Problem(where, "an input node has no incoming edges"))
    elif act in keys.ACTIVATIONS:
        if isinstance(layer, int) and layer < 1:
            out.append(Problem(where, "a neuron must be in layer >= 1"))
        if not is_exact(attrs.get(keys.BIAS)):
            out.append(Problem(where, f"bias must be an exact number, got {attrs.get(keys.BIAS)!r:.40}"))
    if act == keys.LEAKY_RELU and not is_exact(attrs.get(keys.SLOPE)):
        out.append(Problem(where, f"a leaky_relu needs an exact slope, got {attrs.get(keys.SLOPE)!r:.40}"))
    elif act != keys.LEAKY_RELU and keys.SLOPE in attrs:
        out.append(Problem(where, f"only a leaky_relu has a slope, not {act!r:.40}"))
    return out


def _check_edges(G: nx.DiGraph) -> list[Problem]:
    out: list[Problem] = []
    layer = _layers(G)
    for u, v, attrs in G.edges(data=True):
        w = attrs.get(keys.WEIGHT)
        if type(w) is not Rat and not is_exact(w):  # the type test first: every weight netcert reads is an mpq
            out.append(Problem(f"edge {u!r} -> {v!r}", f"weight must be an exact number, got {w!r:.40}"))
        elif w == 0:
            out.append(Problem(f"edge {u!r} -> {v!r}", "weight is zero (a zero weight is an absent edge)"))
        lu, lv = layer[u], layer[v]
        if isinstance(lu, int) and isinstance(lv, int) and lu >= lv:
            out.append(Problem(f"edge {u!r} -> {v!r}", f"goes from layer {lu} to layer {lv}; edges must go up"))
    return out


def _layers(G: nx.DiGraph) -> dict:
    """Node -> its layer attribute (None when absent), read once: a networkx lookup per edge end costs more."""
    return dict(G.nodes(data=keys.LAYER))


def _check_cycles(G: nx.DiGraph) -> list[Problem]:
    layer = _layers(G)
    if all(type(layer[u]) is int and type(layer[v]) is int and layer[u] < layer[v] for u, v in G.edges):
        return []  # the layers strictly increase along every edge: no cycle can close
    if nx.is_directed_acyclic_graph(G):  # 15x faster than find_cycle, which is kept for the message
        return []
    try:
        cycle = nx.find_cycle(G)
    except nx.NetworkXNoCycle:
        return []
    return [Problem("graph", "has a cycle: " + " -> ".join(repr(u) for u, _ in cycle))]


def _check_dead(G: nx.DiGraph) -> list[Problem]:
    """Warnings for the neurons no output depends on: one reverse search from all outputs together
    (a search per output would walk the shared ancestors once per output)."""
    alive = {v for v in G.graph.get(keys.OUTPUTS) or [] if v in G}
    stack, pred = list(alive), G.pred
    while stack:
        for u in pred[stack.pop()]:
            if u not in alive:
                alive.add(u)
                stack.append(u)
    return [
        Problem(_name(v), "dead: no output depends on it", WARNING)
        for v, act in G.nodes(data=keys.ACTIVATION)
        if v not in alive and act != keys.INPUT
    ]
