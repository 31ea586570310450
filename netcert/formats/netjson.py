"""net.json: the canonical node-link file of a network (``specs/README.md`` 3).

``to_bytes(G)`` is canonical: nodes by (layer, id), edges by their endpoints'
(layer, id), sorted keys, no white space, one trailing newline; so the same
network always gives the same bytes, and ``digest`` is their sha256. Numbers
are written as decimal strings and read back exactly (gmpy2), with the size
limit of ``exact.parse_rational``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import networkx as nx

from netcert import limits
from netcert.errors import FormatError, NumberError
from netcert.exact import format_rational, parse_rational
from netcert.formats import files, schemas
from netcert.ir import keys
from netcert.ir.network import node_key


def to_document(G: nx.DiGraph) -> dict:
    """The node-link dict of ``G`` with exact numbers as strings, in canonical order."""
    layer = {v: a.get(keys.LAYER, 0) for v, a in G.nodes(data=True)}
    order = sorted(G.nodes, key=lambda v: (layer[v], node_key(v)))
    pos = {v: k for k, v in enumerate(order)}
    nodes = [_node_dict(v, G.nodes[v]) for v in order]
    edges = [
        {"source": u, "target": v, keys.WEIGHT: format_rational(G.edges[u, v][keys.WEIGHT])}
        for u, v in sorted(G.edges, key=lambda e: (pos[e[0]], pos[e[1]]))
    ]
    return {"directed": True, "multigraph": False, "graph": dict(G.graph), "nodes": nodes, "edges": edges}


def _node_dict(v, attrs: dict) -> dict:
    out = {"id": v, **attrs}
    for key in (keys.BIAS, keys.SLOPE):  # the node attributes that hold exact numbers
        if key in out:
            out[key] = format_rational(out[key])
    return out


def canonical_bytes(document: dict) -> bytes:
    return (json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True) + "\n").encode("ascii")


def to_bytes(G: nx.DiGraph) -> bytes:
    """Canonical bytes of ``G`` (validated against the network schema)."""
    document = to_document(G)
    schemas.check(document, schemas.NETWORK, "network")
    return canonical_bytes(document)


def digest(G: nx.DiGraph) -> str:
    return hashlib.sha256(to_bytes(G)).hexdigest()


def write(G: nx.DiGraph, path: str | Path) -> bytes:
    """Write ``G`` canonically (gzip for a ``.gz`` name), atomically; return the file's bytes."""
    data = to_bytes(G)
    if files.is_gzip_name(path):
        data = files.gzip_bytes(data)
    files.write_atomic(path, data)
    return data


def read(path: str | Path) -> nx.DiGraph:
    """Read a net.json (or .json.gz), schema-checked, numbers parsed exactly.

    Only the format is checked here; ``ir.validate`` judges the network itself.
    """
    return read_digested(path)[0]


def read_digested(path: str | Path) -> tuple[nx.DiGraph, str]:
    """``read(path)`` and ``digest`` of the graph read, without building and serializing a second
    document when the file's document is already canonical (specs/README.md 3.3), as every file
    netcert writes is.

    The parsed document is serialized and dropped piece by piece as the graph takes it over, so
    the two never stand side by side in full (the document is the larger: about 350 bytes per
    edge). When the document turns out not to be canonical, ``digest(G)`` is computed instead.
    """
    document = files.read_json(path, "network")
    schemas.check(document, schemas.NETWORK, str(path))
    hasher = _CanonicalHash(document)
    G, canonical = _build(document, str(path), hasher)
    canonical = canonical and document["directed"] is True and document["multigraph"] is False
    return G, hasher.hexdigest() if canonical else digest(G)


def from_document(document: dict, source: str) -> nx.DiGraph:
    """Build the DiGraph of a schema-valid node-link dict, parsing every number."""
    return _build(document, source, None)[0]


_PIECE_ITEMS = 1 << 16  # nodes or edges serialized (and dropped) at a time


class _CanonicalHash:
    """The sha256 of ``canonical_bytes(document)``, fed piece by piece as the lists are consumed.

    ``json.dumps`` of a list is "[" + the items' texts joined by "," + "]", so the text of the
    whole document is its keys in sorted order ("directed", "edges", "graph", "multigraph",
    "nodes": the schema allows exactly these) with the two lists written in pieces. The nodes
    come before the edges in the graph but after them in the text: their texts wait as bytes.
    """

    def __init__(self, document: dict):
        self.document, self.node_text, self.sha = document, [], hashlib.sha256()
        self.sha.update(b'{"directed":true,"edges":[')
        self.edges_started = False

    def nodes(self, items: list) -> None:
        if items:
            self.node_text.append(_dumps(items)[1:-1])

    def edges(self, items: list) -> None:
        if items:
            self.sha.update((b"," if self.edges_started else b"") + _dumps(items)[1:-1])
            self.edges_started = True

    def hexdigest(self) -> str:
        d = self.document
        self.sha.update(
            b'],"graph":' + _dumps(d["graph"]) + b',"multigraph":false,"nodes":[' + b",".join(self.node_text) + b"]}\n"
        )
        return self.sha.hexdigest()


def _dumps(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def _build(document: dict, source: str, hasher: _CanonicalHash | None) -> tuple[nx.DiGraph, bool]:
    """(the graph of ``document``, whether ``document`` is exactly ``to_document`` of it).

    The first problem in file order (a layer over the limit, a bad number, a node or edge
    twice, an edge to no node) raises ``FormatError``. Each distinct number string is parsed
    once: honest networks repeat a few weights millions of times, and every edge then shares
    one ``mpq``. With a ``hasher``, the node and edge lists of ``document`` are fed to it and
    emptied as they are read (``graph`` and the list objects stay), which keeps the peak memory
    near the larger of the two representations instead of their sum.
    """
    G = nx.DiGraph()
    G.graph.update(document["graph"])
    numbers = _Numbers(source)
    index = _add_nodes(G, document["nodes"], numbers, source, hasher)
    state = [index is not None, -1, -1]  # [edges in canonical order so far, previous source, target position]
    G.add_edges_from(_checked_edges(G, document["edges"], numbers, index, state, source, hasher))
    return G, index is not None and state[0] and numbers.decimal


class _Numbers:
    """Exact numbers of one document, memoized by their text (``parse_rational`` on a miss)."""

    def __init__(self, source: str):
        self.source, self.seen, self.decimal = source, {}, True

    def __call__(self, text, where) -> object:
        """The ``mpq`` of ``text``, or ``FormatError`` naming ``where()``; notes a hex number."""
        q = self.seen.get(text) if type(text) is str else None
        if q is None:
            q = _number(text, self.source, where())
            self.seen[text] = q
            self.decimal = self.decimal and "x" not in text  # a parsed decimal string is canonical
        return q


def _add_nodes(
    G: nx.DiGraph, nodes: list, numbers: _Numbers, source: str, hasher: _CanonicalHash | None
) -> dict | None:
    """Add every node (in file order); return id -> position when the nodes are in canonical
    order (by layer, then integer ids before strings), else None."""
    top = limits.LAYER.value()
    index: dict | None = {}
    previous = None
    for k, node in enumerate(nodes):
        v = node["id"]
        attrs = {a: x for a, x in node.items() if a != "id"}
        layer = attrs.get(keys.LAYER)
        if isinstance(layer, int) and layer > top:  # every layer loop is bounded by it
            raise FormatError(f"{source}: node {v!r}: " + limits.LAYER.exceeded("layer", layer))
        if keys.BIAS in attrs:
            attrs[keys.BIAS] = numbers(attrs[keys.BIAS], lambda: f"node {v!r} bias")
        if keys.SLOPE in attrs:  # a leaky_relu's: held as an mpq like the bias
            attrs[keys.SLOPE] = numbers(attrs[keys.SLOPE], lambda: f"node {v!r} slope")
        if v in G:
            raise FormatError(f"{source}: node {v!r} appears twice")
        G.add_node(v, **attrs)
        if index is not None:
            here = (attrs.get(keys.LAYER, 0), node_key(v))  # to_document's order
            if previous is not None and not previous < here:
                index = None
            else:
                index[v], previous = k, here
        if hasher is not None and (k + 1) % _PIECE_ITEMS == 0:
            _consume(nodes, k + 1, hasher.nodes)
    if hasher is not None:
        _consume(nodes, len(nodes), hasher.nodes)
    return index


def _consume(items: list, stop: int, feed) -> None:
    """Feed the last unconsumed piece before ``stop`` to ``feed``, then drop it from ``items``."""
    start = stop - ((stop - 1) % _PIECE_ITEMS + 1) if stop else 0
    piece = items[start:stop]
    if piece and piece[0] is not None:
        feed(piece)
        items[start:stop] = [None] * len(piece)


def _checked_edges(
    G: nx.DiGraph,
    edges: list,
    numbers: _Numbers,
    index: dict | None,
    state: list,
    source: str,
    hasher: _CanonicalHash | None,
):
    """(u, v, attributes) of every edge in file order, each checked before it is given: the edges
    before it are in ``G`` by then (``add_edges_from`` takes one at a time), so a repeat is seen."""
    seen = numbers.seen
    for k, edge in enumerate(edges):
        u, v = edge["source"], edge["target"]
        for end in (u, v):
            if end not in G:
                raise FormatError(f"{source}: edge {u!r} -> {v!r} names {end!r}, which is not a node")
        if G.has_edge(u, v):
            raise FormatError(f"{source}: edge {u!r} -> {v!r} appears twice")
        text = edge[keys.WEIGHT]
        weight = seen.get(text) if type(text) is str else None  # inline: the one lookup per edge
        if weight is None:
            weight = numbers(text, lambda: f"edge {u!r} -> {v!r} weight")
        if len(edge) == 3:
            attrs = {keys.WEIGHT: weight}
        else:  # to_document writes no other edge attribute: such a file is not canonical
            attrs = {
                keys.WEIGHT: weight,
                **{a: x for a, x in edge.items() if a not in ("source", "target", keys.WEIGHT)},
            }
            state[0] = False
        if state[0]:
            here = (index[u], index[v])
            state[0] = here > (state[1], state[2])
            state[1:] = here
        yield u, v, attrs
        if hasher is not None and (k + 1) % _PIECE_ITEMS == 0:
            _consume(edges, k + 1, hasher.edges)
    if hasher is not None:
        _consume(edges, len(edges), hasher.edges)


def _number(text: str, source: str, where: str):
    try:
        return parse_rational(text)
    except NumberError as e:
        raise FormatError(f"{source}: {where}: {e}") from None
