"""Affine forms over named neurons: the ports through which gadgets are spliced.

A gadget is a function that emits neurons into a network at a given layer and
returns its named output ports. A port is an ``Affine`` form over neurons of
the layer it was emitted in (or a constant), so the next gadget's neurons can
read it: a neuron ``relu(form)`` at layer l + 1 gets one edge per term of the
form and the form's constant as its bias. A port such as "bit = A - B" or
"step = P - Q" therefore costs no neuron of its own; it is folded into the
weights of whoever reads it, exactly as in the papers' layer-by-layer proofs.

Everything is exact (``mpq``); a form never holds a zero coefficient.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field

import networkx as nx

from netcert.exact import Rat, mpq, to_rat
from netcert.ir import keys
from netcert.ir import network as net


@dataclass(frozen=True)
class Affine:
    """const + sum coef * value(node), exact; zero coefficients are dropped."""

    terms: Mapping[Hashable, Rat] = field(default_factory=dict)
    const: Rat = mpq(0)

    @staticmethod
    def of(node: Hashable) -> Affine:
        return Affine({node: mpq(1)})

    @staticmethod
    def constant(c: object) -> Affine:
        return Affine({}, to_rat(c))

    def __add__(self, other: Affine | object) -> Affine:
        if not isinstance(other, Affine):
            return Affine(self.terms, self.const + to_rat(other))
        terms = dict(self.terms)
        for node, c in other.terms.items():
            s = terms.get(node, 0) + c
            if s:
                terms[node] = s
            else:
                terms.pop(node, None)
        return Affine(terms, self.const + other.const)

    __radd__ = __add__

    def __mul__(self, k: object) -> Affine:
        k = to_rat(k)
        if k == 0:
            return Affine()
        return Affine({node: c * k for node, c in self.terms.items()}, self.const * k)

    __rmul__ = __mul__

    def __neg__(self) -> Affine:
        return self * -1

    def __sub__(self, other: Affine | object) -> Affine:
        return self + (-other if isinstance(other, Affine) else -to_rat(other))

    def __rsub__(self, other: object) -> Affine:
        return -self + other


def combination(const: object, pairs: Iterable[tuple[object, Affine]]) -> Affine:
    """const + sum of c * form over (c, form) pairs, in one pass over one dict (adding the forms
    pairwise would copy the terms each time: quadratic in the number of forms)."""
    terms: dict = {}
    out = mpq(const)
    for c, f in pairs:
        c = mpq(c)
        out += c * f.const
        for node, w in f.terms.items():
            terms[node] = terms.get(node, 0) + c * w
    return Affine({node: w for node, w in terms.items() if w}, out)


def total(forms: Iterable[Affine]) -> Affine:
    """The sum of several forms, in one pass (``combination`` with every coefficient 1)."""
    return combination(0, ((1, f) for f in forms))


def relu(G: nx.DiGraph, node: Hashable, layer: int, form: Affine) -> Affine:
    """Emit the neuron ``node = relu(form)`` at ``layer``; its output port."""
    net.add_neuron(G, node, layer=layer, activation=keys.RELU, bias=form.const, incoming=form.terms)
    return Affine.of(node)


def output(G: nx.DiGraph, node: Hashable, layer: int, form: Affine) -> None:
    """Emit the identity output neuron ``node = form`` at ``layer`` and declare it the output."""
    net.add_neuron(G, node, layer=layer, activation=keys.IDENTITY, bias=form.const, incoming=form.terms)
    net.set_outputs(G, [node])


def prune(G: nx.DiGraph) -> int:
    """Delete (in place) every hidden neuron that no later neuron reads; the number deleted.

    Works from the last layer backwards, so a neuron whose only readers were
    deleted goes too. Inputs and outputs stay. The function on the data is
    unchanged, only the counts.
    """
    keep = set(net.outputs(G)) | set(net.inputs(G))
    by_layer: dict[int, list] = {}
    for v, layer in G.nodes(data=keys.LAYER):
        by_layer.setdefault(layer, []).append(v)
    deleted = 0
    for layer in sorted(by_layer, reverse=True):
        dead = [v for v in by_layer[layer] if v not in keep and G.out_degree(v) == 0]
        G.remove_nodes_from(dead)
        deleted += len(dead)
    return deleted


def carry(G: nx.DiGraph, node: Hashable, layer: int, form: Affine) -> Affine:
    """Pass a value to the next layer: ``relu(form)``, the identity wherever form >= 0.

    The caller guarantees form >= 0 on the data; that is the whole contract.
    """
    return relu(G, node, layer, form)
