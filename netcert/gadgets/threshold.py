"""Threshold gadgets over 0/1 neurons: parity trees and one-hot decoders (docs/constructions/rajput2021.md sections 4-5).

Every neuron here is a step unit, value 1 if bias + sum w * input >= 0 else 0,
with small integer weights, and reads only neurons whose values are 0 or 1.

- Parity of a block of t <= f bits a_1..a_t, two layers (Stage 2):

      count        u_j = step(a_1 + ... + a_t - j),  j = 1..t     so u_j = [c >= j], c = sum a_i
      alternating  p   = step(u_1 - u_2 + u_3 - ... +- u_t - 1)    so p = c mod 2

  A fan-in f tree of such blocks computes the parity of s bits in
  lambda(s) = min{lambda >= 1 : f^lambda >= s} levels; ``parity_tree`` lays
  out many rows side by side, padded to the same number of levels (an item
  left alone passes through the gadget with t = 1, the identity).
- One-hot decoding of a chunk of bits c_1..c_b (Stage 3): for each value v,
  step(sum_t (2 v_t - 1) c_t - popcount(v)); the pre-activation is minus the
  Hamming distance between the chunk and v, so exactly the neuron of the
  chunk's value fires.

Weights and biases are shared ``mpq`` objects (``const``), so a network of
millions of edges holds one number object per distinct value.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import networkx as nx

from netcert.exact import Rat, mpq
from netcert.gadgets.wiring import Affine
from netcert.ir import keys
from netcert.ir import network as net

_CONST: dict[int, Rat] = {}


def const(v: int) -> Rat:
    """The shared ``mpq`` of a small integer."""
    q = _CONST.get(v)
    if q is None:
        q = _CONST[v] = mpq(v)
    return q


def step(G: nx.DiGraph, node: Hashable, layer: int, form: Affine) -> Affine:
    """Emit the threshold neuron ``node = step(form)`` at ``layer``; its output port."""
    net.add_neuron(G, node, layer=layer, activation=keys.THRESHOLD, bias=form.const, incoming=form.terms)
    return Affine.of(node)


def levels(s: int, f: int) -> int:
    """lambda(s) = min{lambda >= 1 : f^lambda >= s}, in integers."""
    lam, reach = 1, f
    while reach < s:
        lam, reach = lam + 1, reach * f
    return lam


@dataclass(frozen=True)
class TreeShape:
    """The layers of a parity tree over rows of the given sizes (count and alternating layers in turn)."""

    levels: int
    widths: tuple[int, ...]  # 2 * levels layer widths: count, alternating, count, ...
    nonzero: int  # nonzero weights and biases

    @property
    def neurons(self) -> int:
        return sum(self.widths)

    def dense(self, inputs: int) -> int:
        """Dense weights and biases of the tree's layers when its first layer reads ``inputs`` nodes."""
        ws = (inputs, *self.widths)
        return sum((a + 1) * b for a, b in zip(ws, ws[1:]))


def _row_sizes(s: int, f: int, lam: int) -> list[int]:
    """s_0 = s, s_l = ceil(s_(l-1) / f) for l = 1..lam."""
    out = [s]
    for _ in range(lam):
        out.append(-(-out[-1] // f))
    return out


def tree_shape(sizes: Sequence[int], f: int) -> TreeShape:
    """Widths and nonzero count of ``parity_tree`` over rows of ``sizes`` (no neuron emitted).

    A block of t items costs t count neurons (t + 1 nonzero each: t weights and
    the bias -j) and one alternating neuron (t + 1 nonzero), (t + 1)^2 in all.
    """
    lam = max((levels(s, f) for s in sizes), default=1)
    widths, nonzero = [], 0
    per_row = [_row_sizes(s, f, lam) for s in sizes]
    for level in range(1, lam + 1):
        widths += [sum(r[level - 1] for r in per_row), sum(r[level] for r in per_row)]
        for r in per_row:
            full, rest = divmod(r[level - 1], f)
            nonzero += full * (f + 1) ** 2 + (rest + 1) ** 2 * (rest > 0)
    return TreeShape(lam, tuple(widths), nonzero)


def _tag(count: int) -> int:
    return len(str(max(count, 1) - 1))


def parity_tree(G: nx.DiGraph, name: str, layer: int, rows: Sequence[Sequence[Hashable]], f: int) -> list[str]:
    """Emit (in place) the fan-in ``f`` parity trees of ``rows`` from ``layer`` on; the m output nodes.

    ``rows[r]`` lists the 0/1 nodes whose parity is output r. Level l occupies
    layers layer + 2(l - 1) (count, named ``{name}{l}.u[i]``) and
    layer + 2l - 1 (alternating, ``{name}{l}.p[i]``), row after row and block
    after block (docs/constructions/rajput2021.md section 4). After
    the last level, alternating node r is the parity of row r.
    """
    shape = tree_shape([len(r) for r in rows], f)
    items: Sequence[Sequence[Hashable]] = rows
    parities: list[list[str]] = []  # the alternating nodes of the last level emitted (levels >= 1)
    one, minus_one = const(1), const(-1)
    for level in range(1, shape.levels + 1):
        wu, wp = (_tag(w) for w in shape.widths[2 * level - 2 : 2 * level])
        cu = cp = 0
        at = layer + 2 * level - 2
        parities = []
        for row in items:
            outs: list[str] = []
            for start in range(0, len(row), f):
                block = row[start : start + f]
                incoming = [(a, one) for a in block]
                counts: list[tuple[Hashable, Rat]] = []
                for j in range(1, len(block) + 1):
                    u = f"{name}{level}.u[{cu:0{wu}d}]"
                    net.add_neuron(G, u, layer=at, activation=keys.THRESHOLD, bias=const(-j), incoming=incoming)
                    counts.append((u, one if j % 2 else minus_one))
                    cu += 1
                p = f"{name}{level}.p[{cp:0{wp}d}]"
                net.add_neuron(G, p, layer=at + 1, activation=keys.THRESHOLD, bias=minus_one, incoming=counts)
                cp += 1
                outs.append(p)
            parities.append(outs)
        items = parities
    return [row[0] for row in parities]


def one_hot(G: nx.DiGraph, name: str, layer: int, chunks: Sequence[Sequence[Hashable]]) -> list[str]:
    """Emit (in place) one neuron per (chunk, value) at ``layer``; the nodes, chunk by chunk, value by value.

    ``chunks[c]`` lists a chunk's 0/1 nodes, least significant bit first;
    node ``{name}[i]`` fires iff its chunk holds its value.
    """
    total = sum(2 ** len(c) for c in chunks)
    w = _tag(total)
    out: list[str] = []
    for chunk in chunks:
        for v in range(2 ** len(chunk)):
            node = f"{name}[{len(out):0{w}d}]"
            incoming = [(c, const(1) if v >> t & 1 else const(-1)) for t, c in enumerate(chunk)]
            net.add_neuron(
                G, node, layer=layer, activation=keys.THRESHOLD, bias=const(-v.bit_count()), incoming=incoming
            )
            out.append(node)
    return out
