"""Choosing the engine: which of the evaluator's paths a network takes, and why.

``evaluation_plan`` (``netcert inspect --plan``) and ``choose`` (what ``run``
uses) compile the integer rows once, split the network into layers, and
compare cost estimates in nanoseconds per point
(docs/performance.md, "The cost model"): the per-point path's (``point_ns``), the batch engine's layer by
layer (``batch.plan``) and the two-layer collapse's (``collapse.plan``). Every
bound an engine relies on is proved from the exact integer rows and the exact
maxima of the inputs; the estimates only choose among exact engines.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import networkx as nx

from netcert.dataset import Dataset
from netcert.engine import batch, collapse, native
from netcert.engine.program import Program, RatNode, Table, assemble, integer_rows
from netcert.engine.pointwise import in_c
from netcert.errors import InputError
from netcert.ir import keys
from netcert.ir.network import ordered_nodes

ENGINES = ("auto", "batch", "collapse", "point")


def layers_of(G: nx.DiGraph, rational: dict) -> tuple[list[list], str | None]:
    """The nodes the outputs need, by layer (layer 0: every input, in order; the last layer: the
    outputs, in ``graph.outputs`` order), and why the batch engine cannot take them (None when it
    can: every edge among them goes from layer l to l + 1, and the outputs are the last layer)."""
    outs = list(G.graph[keys.OUTPUTS])
    needed = set(outs).union(*(nx.ancestors(G, v) for v in outs))
    by_layer: dict[int, list] = {}
    for v in ordered_nodes(G):
        if v in needed and G.nodes[v][keys.ACTIVATION] != keys.INPUT:
            by_layer.setdefault(G.nodes[v][keys.LAYER], []).append(v)
    top = max(by_layer, default=0)
    layers = [list(G.graph[keys.INPUTS])] + [by_layer.get(k, []) for k in range(1, top + 1)]
    if rational:
        return (
            layers,
            f"{len(rational)} nodes are rationals (exploding integer scales or leaky_relu: rational fallback)",
        )
    if not all(layers[1:]) or set(layers[-1]) != set(outs):
        return layers, "the outputs are not the whole last of consecutive layers"
    layers[-1] = outs  # the batch engine's last rows are then the outputs, in graph.outputs order
    for k, nodes in enumerate(layers[1:], start=1):
        if any(G.nodes[u][keys.LAYER] != k - 1 for v in nodes for u in G.predecessors(v)):
            return layers, f"not layered: layer {k} reads a layer other than {k - 1}"
    return layers, None


def batch_rows(G: nx.DiGraph, layers: list[list], rows: dict) -> list[list[batch.Row]]:
    """The integer rows of every layer, sources as positions in the layer before."""
    out = []
    for prev, nodes in zip(layers, layers[1:]):
        index = {u: j for j, u in enumerate(prev)}
        layer = []
        for v in nodes:
            A, B, _ = rows[v]
            items = sorted((index[u], int(a)) for u, a in A.items())
            layer.append(
                batch.Row(tuple(j for j, _ in items), tuple(a for _, a in items), int(B), G.nodes[v][keys.ACTIVATION])
            )
        out.append(layer)
    return out


def point_ns(program: Program) -> float:
    """The per-point path's cost estimate: one operation per form term and per step, two binary
    searches per breakpoint table, one operation per term of a rational node; an operation costs
    ``native.NS_PER_OP`` in the C kernel, ``batch.NS_PER_POINT_OP`` in Python."""
    ops = sum(len(f.terms) for f in program.forms) + len(program.steps)
    for step in program.steps:
        if type(step) is Table:
            ops += 2 * (len(step.pos_tau) + len(step.neg_tau) + 1).bit_length()
        elif type(step) is RatNode:
            ops += sum(len(t) for _, t in step.classes)
    return ops * (native.NS_PER_OP if in_c(program) else batch.NS_PER_POINT_OP)


def _per_point_plan(G: nx.DiGraph, layers: list[list], rational: dict, why: str) -> batch.Plan:
    """Every layer on the per-point path (sweep, or rational fallback for exploding nodes)."""
    out = []
    for k, nodes in enumerate(layers[1:], start=1):
        rat = sum(1 for v in nodes if v in rational)
        acts = ",".join(sorted({G.nodes[v][keys.ACTIVATION] for v in nodes}))
        out.append(
            batch.LayerPlan(
                k,
                len(nodes),
                sum(G.in_degree(v) for v in nodes),
                max((G.in_degree(v) for v in nodes), default=0),
                acts,
                0,
                "rational fallback" if rat else "sweep",
                why=f"{rat} nodes with exploding scales" if rat else why,
            )
        )
    return batch.Plan(tuple(out), False, 0, why)


def input_bounds(data: Dataset) -> list[int]:
    """The exact maximum |numerator| of every input column."""
    return [max((abs(row[j]) for row in data.num), default=0) for j in range(data.d)]


@dataclass(frozen=True)
class Choice:
    """What ``choose`` decided: the plan, the compiled batch layers or collapse (None on the
    per-point path), the per-point program (None when only the batch engine was asked for and
    it applies), and the scale of every node's integer value."""

    plan: batch.Plan
    compiled: tuple[batch.Layer, ...] | collapse.Pair | None
    program: Program | None
    scale: dict


def choose(G: nx.DiGraph, scales: tuple, bounds: list[int], n: int, engine: str, complete: bool = True) -> Choice:
    """The batch path when ``engine`` allows it and (auto) it is estimated cheaper than the
    per-point path; ``complete``: plan every layer even past one without an exact batch kernel
    (for ``inspect --plan``)."""
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r} (one of {', '.join(ENGINES)})")
    order = ordered_nodes(G)
    rows, rational, scale = integer_rows(G, order, scales)
    layers, blocked = layers_of(G, rational)
    program = None if engine == "batch" and not blocked else assemble(G, order, rows, rational, scale)
    if engine == "point" or blocked:
        why = blocked or "the per-point path was asked for"
        return Choice(_per_point_plan(G, layers, rational, why), None, program, scale)
    brows = batch_rows(G, layers, rows)
    alone = None if program is None else point_ns(program)
    chosen = batch.plan(brows, bounds, n, alone, complete=complete)
    found = None if engine == "batch" else collapse.plan(brows, bounds)
    if found is not None and (engine == "collapse" or found[0].ns < min(alone, chosen.ns or alone)):
        rival = f"{chosen.ns / 1000:.1f} us batched by layer, " if chosen.ns else ""
        pair = dataclasses.replace(found[0], why=f"{found[0].why}, against {rival}{alone / 1000:.1f} us alone")
        return Choice(pair, collapse.build(pair, found[1], brows), program, scale)
    if not chosen.batched:
        return Choice(chosen, None, program or assemble(G, order, rows, rational, scale), scale)
    return Choice(chosen, batch.build(chosen, brows, [len(nodes) for nodes in layers[:-1]]), program, scale)


def evaluation_plan(G: nx.DiGraph, data: Dataset | None = None, *, engine: str = "auto") -> batch.Plan:
    """How ``run`` evaluates ``G`` on ``data``, layer by layer, and why. Without data the inputs are
    taken as integers (scale 1) of at most 53 bits, and 10,000 points."""
    if data is None:
        d = len(G.graph[keys.INPUTS])
        return choose(G, (1,) * d, [batch.FLOAT_EXACT - 1] * d, 10**4, engine).plan
    return choose(G, data.scale, input_bounds(data), data.n, engine).plan
