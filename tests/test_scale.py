"""Reading and validating a network costs work linear in its size: counted operations, not timings.

Each test counts what would grow faster than the file (number parses, serializations, searches)
or checks that a shortcut taken for canonical files gives exactly what the general path gives.
"""

from __future__ import annotations

import hashlib
import json
import random

import networkx as nx
import pytest

from netcert.errors import FormatError

from netcert.exact import mpq
from netcert.formats import netjson
from netcert.ir import keys, measures, network as net, validate
from netcert.kernel import net as knet
from netcert.kernel import read as kread

WEIGHTS = (1, -1, 2, mpq(1, 2), mpq(-3, 4))


def layered(width: int, depth: int, seed: int = 0, outputs: int = 1) -> nx.DiGraph:
    """A layered ReLU network over 3 inputs, every neuron reading 3 random neurons below, weights from WEIGHTS."""
    rng = random.Random(seed)
    G = net.new_network([0, 1, 2])
    below, nxt = [0, 1, 2], 3
    for layer in range(1, depth + 1):
        here = list(range(nxt, nxt + width))
        nxt += width
        for v in here:
            net.add_neuron(
                G,
                v,
                layer=layer,
                activation="relu",
                bias=rng.choice((0, 1, mpq(1, 3))),
                incoming={u: rng.choice(WEIGHTS) for u in rng.sample(below, 3)},
            )
        below = here
    outs = list(range(nxt, nxt + outputs))
    for v in outs:
        net.add_neuron(G, v, layer=depth + 1, activation="identity", bias=0, incoming={u: 1 for u in below})
    net.set_outputs(G, outs)
    return G


def counting(monkeypatch, module, name: str) -> list:
    """Replace module.name by a wrapper that records each call's first argument; return the record."""
    calls, inner = [], getattr(module, name)

    def wrapper(*args, **kwargs):
        calls.append(args[0] if args else None)
        return inner(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return calls


@pytest.mark.parametrize("depth", [3, 30])
def test_reading_parses_each_distinct_number_once(tmp_path, monkeypatch, depth):
    G = layered(20, depth)
    path = tmp_path / "net.json"
    netjson.write(G, path)
    parsed = counting(monkeypatch, netjson, "parse_rational")
    H, digest = netjson.read_digested(path)
    distinct = {netjson.format_rational(w) for _, _, w in G.edges(data=keys.WEIGHT)} | {
        netjson.format_rational(b) for _, b in G.nodes(data=keys.BIAS) if b is not None
    }
    assert sorted(parsed) == sorted(distinct)  # at most 8 strings, whatever the number of edges
    assert G.number_of_edges() > 10 * len(parsed)
    assert digest == netjson.digest(G) == hashlib.sha256(path.read_bytes()).hexdigest()
    assert list(H.edges(data=True)) == list(netjson.read(path).edges(data=True))


def test_canonical_file_is_hashed_without_a_second_document(tmp_path, monkeypatch):
    G = layered(10, 4)
    path = tmp_path / "net.json"
    netjson.write(G, path)
    made = counting(monkeypatch, netjson, "to_document")
    _, digest = netjson.read_digested(path)
    assert made == []
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()


def shuffled_hex(G: nx.DiGraph, seed: int = 1) -> dict:
    """The document of G with its lists shuffled, numbers in hex and an extra space-free reorder."""
    doc = json.loads(netjson.to_bytes(G))
    rng = random.Random(seed)
    rng.shuffle(doc["nodes"])
    rng.shuffle(doc["edges"])

    def hexa(text: str) -> str:
        sign, body = ("-", text[1:]) if text.startswith("-") else ("", text)
        return sign + "/".join(hex(int(p)) for p in body.split("/"))

    for e in doc["edges"]:
        e["weight"] = hexa(e["weight"])
    for nd in doc["nodes"]:
        if "bias" in nd:
            nd["bias"] = hexa(nd["bias"])
    return doc


@pytest.mark.parametrize("variant", ["shuffled+hex", "spaces", "nodes out of order", "gzip"])
def test_a_non_canonical_file_gets_the_same_digest(tmp_path, variant):
    G = layered(6, 3, seed=4)
    want = netjson.digest(G)
    doc = json.loads(netjson.to_bytes(G))
    path = tmp_path / "net.json"
    if variant == "shuffled+hex":
        doc = shuffled_hex(G)
    elif variant == "nodes out of order":
        doc["nodes"].reverse()
    if variant == "gzip":
        path = tmp_path / "net.json.gz"
        netjson.write(G, path)
    else:
        path.write_text(json.dumps(doc, indent=1 if variant == "spaces" else None))
    H, digest = netjson.read_digested(path)
    assert digest == want == netjson.digest(H)
    sha, kdoc = kread.read_network(path)
    nodes, *_ = knet.validate(kdoc)
    assert knet.canonical_digest(kdoc, nodes) == want


def test_an_edge_with_another_key_is_refused(tmp_path):
    """The canonical bytes cannot keep it, and the kernel would hash it: the two digests would part."""
    doc = json.loads(netjson.to_bytes(layered(6, 3, seed=4)))
    doc["edges"][0]["note"] = "not part of a network"
    path = tmp_path / "net.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(FormatError, match="edges/0.*'note' was unexpected"):
        netjson.read_digested(path)


def test_kernel_parses_each_distinct_number_once_and_hashes_in_pieces(tmp_path, monkeypatch):
    G = layered(20, 10)
    path = tmp_path / "net.json"
    netjson.write(G, path)
    parsed = counting(monkeypatch, knet, "number")
    _, doc = kread.read_network(path)
    nodes, edges, ins, outs, problems = knet.validate(doc)
    first = len(parsed)
    digest = knet.canonical_digest(doc, nodes)
    assert problems == [] and digest == hashlib.sha256(path.read_bytes()).hexdigest()
    assert first == len(set(parsed[:first])) <= len(WEIGHTS) + 3  # validate: one parse per distinct string
    assert len(parsed) - first <= len(WEIGHTS) + 3  # the digest: one more per distinct string, not per number
    for piece in (1, 7, 10**6):  # the text fed in pieces is the text of json.dumps, however it is cut
        assert knet.canonical_hash(doc, hashlib.sha256(), piece) == digest


def test_kernel_digest_of_a_shuffled_hex_document_is_the_canonical_one():
    G = layered(5, 3, seed=2)
    doc = shuffled_hex(G, seed=3)
    nodes, *_ = knet.validate(doc)
    assert knet.canonical_digest(doc, nodes) == netjson.digest(G)


def test_dead_nodes_in_one_reverse_search(monkeypatch):
    G = layered(8, 5, seed=5, outputs=40)  # 40 outputs over one shared body: a search per output walks it 40 times
    G.graph[keys.OUTPUTS] = G.graph[keys.OUTPUTS][:-3]  # three output nodes are now dead, with what only they read
    want = {v for v in G if G.nodes[v][keys.ACTIVATION] != keys.INPUT} - set(G.graph[keys.OUTPUTS]).union(
        *(nx.ancestors(G, v) for v in G.graph[keys.OUTPUTS])
    )
    monkeypatch.setattr(nx, "ancestors", lambda *a: pytest.fail("a search per output"))
    dead = [p for p in validate.validate(G) if p.severity == validate.WARNING]
    assert {p.where for p in dead} == {f"node {v!r}" for v in want} and len(want) >= 3


def test_a_cycle_is_still_found_when_layers_do_not_order_it():
    G = layered(3, 2)
    u, v = 3, 6  # layer 1 -> layer 2 exists; add layer 2 -> layer 1
    G.add_edge(v, u, **{keys.WEIGHT: mpq(1)})
    messages = [str(p) for p in validate.errors(validate.validate(G))]
    assert any("edges must go up" in m for m in messages) and any("has a cycle" in m for m in messages)


def test_measures_in_one_pass_equal_their_definitions():
    for G in (layered(7, 4, seed=8), layered(1, 1), layered(4, 2, outputs=2)):
        m = measures.measure(G)
        assert (m.depth, m.width, m.neurons, m.params_dense, m.layered) == (
            measures.depth(G),
            measures.width(G),
            measures.neurons(G),
            measures.params_dense(G),
            measures.is_layered(G),
        )
        nonzero = [q for q in measures._numbers(G) if q != 0]
        assert m.params_nonzero == len(nonzero)
        assert m.total_weight_bits == sum(q.numerator.bit_length() + q.denominator.bit_length() for q in nonzero)
        rows = measures.layer_table(G)
        for layer, count, acts, weights, biases, top in rows:
            nodes = [v for v, l in G.nodes(data=keys.LAYER) if l == layer]
            ws = [w for v in nodes for _, _, w in G.in_edges(v, data=keys.WEIGHT)]
            bs = [G.nodes[v][keys.BIAS] for v in nodes if keys.BIAS in G.nodes[v]]
            assert (count, acts, weights, biases) == (
                len(nodes),
                tuple(sorted({G.nodes[v][keys.ACTIVATION] for v in nodes})),
                len(ws),
                sum(1 for b in bs if b),
            )
            assert top == max((measures.bits(mpq(q)) for q in (*ws, *bs)), default=0)
        assert [r[0] for r in rows] == sorted(measures.layer_sizes(G))
