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
    edges = [{"source": u, "target": v, keys.WEIGHT: format_rational(G.edges[u, v][keys.WEIGHT])}
             for u, v in sorted(G.edges, key=lambda e: (pos[e[0]], pos[e[1]]))]
    return {"directed": True, "multigraph": False, "graph": dict(G.graph), "nodes": nodes, "edges": edges}


def _node_dict(v, attrs: dict) -> dict:
    out = {"id": v, **attrs}
    if keys.BIAS in out:
        out[keys.BIAS] = format_rational(out[keys.BIAS])
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
    document = files.read_json(path, "network")
    schemas.check(document, schemas.NETWORK, str(path))
    return from_document(document, str(path))


def from_document(document: dict, source: str) -> nx.DiGraph:
    """Build the DiGraph of a schema-valid node-link dict, parsing every number."""
    G = nx.DiGraph()
    G.graph.update(document["graph"])
    top = limits.LAYER.value()
    for node in document["nodes"]:
        attrs = {k: v for k, v in node.items() if k != "id"}
        if isinstance(attrs.get(keys.LAYER), int) and attrs[keys.LAYER] > top:  # every layer loop is bounded by it
            raise FormatError(f"{source}: node {node['id']!r}: "
                              + limits.LAYER.exceeded("layer", attrs[keys.LAYER]))
        if keys.BIAS in attrs:
            attrs[keys.BIAS] = _number(attrs[keys.BIAS], source, f"node {node['id']!r} bias")
        if node["id"] in G:
            raise FormatError(f"{source}: node {node['id']!r} appears twice")
        G.add_node(node["id"], **attrs)
    for edge in document["edges"]:
        u, v = edge["source"], edge["target"]
        for end in (u, v):
            if end not in G:
                raise FormatError(f"{source}: edge {u!r} -> {v!r} names {end!r}, which is not a node")
        if G.has_edge(u, v):
            raise FormatError(f"{source}: edge {u!r} -> {v!r} appears twice")
        weight = _number(edge[keys.WEIGHT], source, f"edge {u!r} -> {v!r} weight")
        G.add_edge(u, v, **{keys.WEIGHT: weight, **{k: x for k, x in edge.items() if k not in ("source", "target", keys.WEIGHT)}})
    return G


def _number(text: str, source: str, where: str):
    try:
        return parse_rational(text)
    except NumberError as e:
        raise FormatError(f"{source}: {where}: {e}") from None
