"""The network format's keys for trained networks (specs/README.md 3.1, 3.2, 3.4):
``leaky_relu`` with its ``slope``, and the graph's ``classes`` and ``dropped``."""

from __future__ import annotations

import json

import networkx as nx
import pytest
from gmpy2 import mpq

from netcert.errors import FormatError
from netcert.formats import netjson
from netcert.ir import keys, measures, validate
from netcert.ir import network as net


def classifier(slope: object = mpq(1, 100)) -> nx.DiGraph:
    """2 inputs, one leaky_relu, two identity outputs; classes 3 and -1."""
    G = net.new_network(["x0", "x1"])
    net.add_neuron(G, "h", layer=1, activation=keys.LEAKY_RELU, bias=1, incoming={"x0": 2, "x1": -1}, slope=slope)
    net.add_neuron(G, "a", layer=2, activation=keys.IDENTITY, bias=0, incoming={"h": 1})
    net.add_neuron(G, "b", layer=2, activation=keys.IDENTITY, bias=mpq(1, 2), incoming={"h": -1})
    net.set_outputs(G, ["a", "b"])
    net.set_classes(G, [3, -1], dropped=keys.SOFTMAX)
    return G


def errors(G: nx.DiGraph) -> list[str]:
    return [str(p) for p in validate.errors(validate.validate(G))]


def test_classifier_is_valid_and_round_trips(tmp_path):
    G = classifier()
    assert errors(G) == []
    path = tmp_path / "net.json"
    data = netjson.write(G, path)
    document = json.loads(data)
    assert document["graph"]["classes"] == ["3", "-1"]
    assert document["graph"]["dropped"] == "softmax"
    h = next(n for n in document["nodes"] if n["id"] == "h")
    assert h == {"id": "h", "layer": 1, "activation": "leaky_relu", "bias": "1", "slope": "1/100"}
    assert all("slope" not in n for n in document["nodes"] if n["id"] != "h")
    H, digest = netjson.read_digested(path)
    assert H.nodes["h"][keys.SLOPE] == mpq(1, 100) and type(H.nodes["h"][keys.SLOPE]) is type(mpq(1))
    assert net.classes(H) == ["3", "-1"]
    assert netjson.to_bytes(H) == data
    assert digest == netjson.digest(G)


def test_a_network_without_the_new_keys_has_the_same_bytes_as_before():
    G = net.new_network(["x"])
    net.add_neuron(G, "o", layer=1, activation=keys.RELU, bias=0, incoming={"x": 1})
    net.set_outputs(G, ["o"])
    assert netjson.to_bytes(G) == (
        b'{"directed":true,"edges":[{"source":"x","target":"o","weight":"1"}],'
        b'"graph":{"format":"netcert.network","inputs":["x"],"outputs":["o"],"version":1},'
        b'"multigraph":false,"nodes":[{"activation":"input","id":"x","layer":0},'
        b'{"activation":"relu","bias":"0","id":"o","layer":1}]}\n'
    )


def test_slope_counts_in_no_measure():
    with_slope = measures.measure(classifier(mpq(12345, 1 << 40)))
    small = measures.measure(classifier(mpq(1, 2)))
    assert with_slope == small
    assert with_slope.activations == ("identity", "leaky_relu")
    assert with_slope.params_nonzero == 4 + 2  # 4 edges, 2 nonzero biases (1 and 1/2)
    assert with_slope.outputs == 2


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda G: G.nodes["h"].pop(keys.SLOPE), "a leaky_relu needs an exact slope"),
        (lambda G: G.nodes["h"].__setitem__(keys.SLOPE, 0.01), "a leaky_relu needs an exact slope"),
        (lambda G: G.nodes["a"].__setitem__(keys.SLOPE, mpq(1)), "only a leaky_relu has a slope"),
        (lambda G: G.graph.__setitem__(keys.CLASSES, ["3"]), "has 1 classes; 2 expected (one per output)"),
        (lambda G: G.graph.__setitem__(keys.CLASSES, ["3", "3"]), "lists a class twice"),
        (lambda G: G.graph.__setitem__(keys.CLASSES, ["3", "0x1"]), "'0x1' is not a canonical decimal"),
        (lambda G: G.graph.__setitem__(keys.CLASSES, ["3", "2/4"]), "'2/4' is not a canonical decimal"),
        (lambda G: G.graph.__setitem__(keys.CLASSES, ["3", 1]), "1 is not a canonical decimal"),
        (lambda G: G.graph.__setitem__(keys.CLASSES, "3,1"), "must be a list"),
        (lambda G: G.graph.__setitem__(keys.DROPPED, "tanh"), "must be one of softmax, sigmoid"),
        (lambda G: G.graph.pop(keys.CLASSES), "is only for a classifier"),
    ],
)
def test_each_broken_rule_is_reported(change, fragment):
    G = classifier()
    change(G)
    found = errors(G)
    assert any(fragment in e for e in found), found


def test_one_output_takes_two_classes():
    G = net.new_network(["x"])
    net.add_neuron(G, "o", layer=1, activation=keys.IDENTITY, bias=0, incoming={"x": 1})
    net.set_outputs(G, ["o"])
    net.set_classes(G, [0, 1], dropped=keys.SIGMOID)
    assert errors(G) == []
    net.set_classes(G, [0])
    assert errors(G) == ["graph.classes: has 1 classes; 2 expected ([neg, pos] for the one output)"]
    assert keys.DROPPED not in G.graph  # set_classes without a dropped map removes the old one


def edited(document: dict, edit) -> bytes:
    edit(document)
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (lambda d: d["nodes"][2].pop("slope"), "nodes/2"),
        (lambda d: d["nodes"][3].__setitem__("slope", "1"), "nodes/3"),
        (lambda d: d["nodes"][2].__setitem__("slope", 0.01), "nodes/2"),
        (lambda d: d["graph"].__setitem__("classes", ["3", "0x1"]), "graph/classes/1"),
        (lambda d: d["graph"].__setitem__("classes", ["3", "3"]), "graph/classes"),
        (lambda d: d["graph"].__setitem__("dropped", "tanh"), "graph/dropped"),
    ],
)
def test_the_schema_refuses_a_broken_file(tmp_path, edit, fragment):
    document = json.loads(netjson.to_bytes(classifier()))
    path = tmp_path / "net.json"
    path.write_bytes(edited(document, edit))
    with pytest.raises(FormatError, match="does not match network.schema.json at " + fragment):
        netjson.read(path)


def test_a_slope_over_the_size_limit_is_refused_before_parsing(tmp_path, monkeypatch):
    monkeypatch.setenv("NETCERT_MAX_BITS", "64")
    document = json.loads(netjson.to_bytes(classifier()))
    document["nodes"][2]["slope"] = "1/" + "9" * 40
    path = tmp_path / "net.json"
    path.write_bytes(json.dumps(document).encode())
    with pytest.raises(FormatError, match="node 'h' slope: number too large"):
        netjson.read(path)
