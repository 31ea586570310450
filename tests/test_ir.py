"""The network IR: validity (specs/README.md 3.2), measures (3.4) and net.json (3.1, 3.3).

Expected bytes and digests are built here independently from the spec text.
"""

import gzip
import hashlib
import json
import time
from fractions import Fraction

import networkx as nx
import pytest
from gmpy2 import mpq

from netcert.errors import FormatError, InputError
from netcert.formats import netjson
from netcert.ir import keys, measures, validate
from netcert.ir import network as net


# ---------------------------------------------------------------- hand-built networks


def layered_net():
    """2 inputs, 3 ReLUs, 1 identity output; every number chosen to exercise the bit measures.

    weights: x0->h0 1/2, x1->h0 -3, x0->h1 7, x1->h2 1025/3, h0->o 1, h1->o -1/4, h2->o 2
    biases:  h0 0, h1 5/3, h2 -1, o 0
    """
    G = net.new_network(
        ["x0", "x1"], construction={"name": "hand", "options": {"k": 1}, "reference": "test"}, dataset="ab" * 32
    )
    net.add_neuron(G, "h0", layer=1, activation="relu", bias=0, incoming={"x0": mpq(1, 2), "x1": -3})
    net.add_neuron(G, "h1", layer=1, activation="relu", bias=Fraction(5, 3), incoming={"x0": 7, "x1": 0})
    net.add_neuron(G, "h2", layer=1, activation="relu", bias=-1, incoming=[("x1", mpq(1025, 3))])
    net.add_neuron(G, "o", layer=2, activation="identity", bias=0, incoming={"h0": 1, "h1": mpq(-1, 4), "h2": 2})
    net.set_outputs(G, ["o"])
    return G


LAYERED_WEIGHTS = [
    Fraction(1, 2),
    Fraction(-3),
    Fraction(7),
    Fraction(1025, 3),
    Fraction(1),
    Fraction(-1, 4),
    Fraction(2),
]
LAYERED_BIASES = [Fraction(0), Fraction(5, 3), Fraction(-1), Fraction(0)]


def spec_bits(q: Fraction) -> int:
    return max(abs(q.numerator).bit_length(), q.denominator.bit_length())


def spec_storage(q: Fraction) -> int:
    return abs(q.numerator).bit_length() + q.denominator.bit_length()


def problems_text(G):
    return [(p.severity, str(p)) for p in validate.validate(G)]


def error_texts(G):
    return [s for sev, s in problems_text(G) if sev == validate.ERROR]


def has(texts, *fragments):
    return any(all(f in t for f in fragments) for t in texts)


# ---------------------------------------------------------------- validate


def test_valid_network_has_no_problems():
    assert validate.validate(layered_net()) == []


def test_every_problem_reported_at_once():
    G = layered_net()
    G.nodes["h1"][keys.ACTIVATION] = "sigmoid"  # unknown activation
    G.add_edge("x0", "o", **{keys.WEIGHT: 0.5})  # float weight
    G.add_edge("h2", "h0", **{keys.WEIGHT: mpq(0)})  # zero weight (and not upward)
    G.add_edge("o", "h2", **{keys.WEIGHT: mpq(1)})  # backward edge, closing a cycle h2 -> o -> h2
    G.nodes["x1"][keys.BIAS] = mpq(0)  # input with a bias
    G.graph[keys.OUTPUTS] = ["o", "x0"]  # an output that is an input
    G.graph[keys.INPUTS] = ["x0", "x1", "x0"]  # a repeated input
    net.add_neuron(G, "dead", layer=1, activation="relu", bias=0, incoming={"x0": 1})
    problems = validate.validate(G)
    errors = [str(p) for p in validate.errors(problems)]
    warnings = [str(p) for p in problems if p.severity == validate.WARNING]
    assert has(errors, "h1", "sigmoid")
    assert has(errors, "'x0' -> 'o'", "exact")
    assert has(errors, "'h2' -> 'h0'", "zero")
    assert has(errors, "'o' -> 'h2'", "layer 2 to layer 1")
    assert has(errors, "cycle")
    assert has(errors, "x1", "bias")
    assert has(errors, "outputs", "x0", "input")
    assert has(errors, "inputs", "twice")
    assert len(errors) >= 8
    assert has(warnings, "dead")
    assert not has(errors, "dead")
    # Errors come first, then warnings.
    severities = [p.severity for p in problems]
    assert severities == sorted(severities, key=lambda s: s != validate.ERROR)


@pytest.mark.parametrize("key", [keys.INPUTS, keys.OUTPUTS])
@pytest.mark.parametrize("value", ["missing", [], "x0", None])
def test_missing_or_malformed_ports(key, value):
    G = layered_net()
    if value == "missing":
        del G.graph[key]
    else:
        G.graph[key] = value
    assert has(error_texts(G), f"graph.{key}")


def test_ports_name_missing_nodes():
    G = layered_net()
    G.graph[keys.OUTPUTS] = ["o", "nowhere"]
    assert has(error_texts(G), "outputs", "nowhere", "not a node")
    G = layered_net()
    G.graph[keys.INPUTS] = ["x0", "x1", "ghost"]
    assert has(error_texts(G), "inputs", "ghost", "not a node")


def test_duplicate_outputs():
    G = layered_net()
    G.graph[keys.OUTPUTS] = ["o", "o"]
    assert has(error_texts(G), "outputs", "twice")


def test_input_node_rules():
    G = layered_net()
    G.graph[keys.INPUTS] = ["x0"]  # x1 is an input node not listed
    assert has(error_texts(G), "x1", "inputs")

    G = layered_net()
    G.nodes["x1"][keys.LAYER] = 1  # an input outside layer 0
    assert has(error_texts(G), "x1", "layer 0")

    G = layered_net()
    G.add_edge("x0", "x1", **{keys.WEIGHT: mpq(1)})  # an edge into an input
    assert has(error_texts(G), "x1", "incoming")

    G = layered_net()
    G.graph[keys.INPUTS] = ["x0", "x1", "h0"]  # a listed input that is a neuron
    assert has(error_texts(G), "h0", "inputs")


def test_neuron_rules():
    G = layered_net()
    del G.nodes["h0"][keys.BIAS]
    assert has(error_texts(G), "h0", "bias")

    G = layered_net()
    G.nodes["h0"][keys.BIAS] = 0.25
    assert has(error_texts(G), "h0", "bias")

    G = layered_net()
    G.nodes["h0"][keys.BIAS] = "1/2"  # strings belong to the file, not the IR
    assert has(error_texts(G), "h0", "bias")

    G = layered_net()
    G.nodes["h0"][keys.LAYER] = 0
    assert has(error_texts(G), "h0", "layer >= 1")

    for bad in (-1, 1.0, True, "1", None):
        G = layered_net()
        G.nodes["h2"][keys.LAYER] = bad
        assert has(error_texts(G), "h2", "layer"), bad

    G = layered_net()
    del G.nodes["h2"][keys.ACTIVATION]
    assert has(error_texts(G), "h2", "activation")


def test_edge_rules():
    G = layered_net()
    G["x0"]["h0"][keys.WEIGHT] = 0.5
    assert has(error_texts(G), "'x0' -> 'h0'", "exact")

    G = layered_net()
    G["x0"]["h0"][keys.WEIGHT] = Fraction(0)
    assert has(error_texts(G), "'x0' -> 'h0'", "zero")

    G = layered_net()
    del G["x0"]["h0"][keys.WEIGHT]
    assert has(error_texts(G), "'x0' -> 'h0'", "weight")

    G = layered_net()
    G.add_edge("h0", "h1", **{keys.WEIGHT: mpq(1)})  # same layer
    assert has(error_texts(G), "'h0' -> 'h1'", "layer 1 to layer 1")


def test_cycle_reported_as_such():
    G = layered_net()
    G.add_edge("o", "h1", **{keys.WEIGHT: mpq(2)})
    texts = error_texts(G)
    assert has(texts, "cycle")
    assert has(texts, "'o' -> 'h1'", "layer 2 to layer 1")


def test_exact_numbers_of_every_type_accepted():
    G = layered_net()
    G["x0"]["h0"][keys.WEIGHT] = Fraction(1, 3)
    G["x1"]["h0"][keys.WEIGHT] = 5
    G.nodes["h0"][keys.BIAS] = Fraction(-7, 2)
    assert validate.validate(G) == []


def test_dead_nodes_are_warnings_only():
    G = layered_net()
    net.add_neuron(G, "d1", layer=1, activation="relu", bias=1, incoming={"x0": 1})
    net.add_neuron(G, "d2", layer=2, activation="threshold", bias=0, incoming={"d1": 1, "h0": 1})
    problems = validate.validate(G)
    assert validate.errors(problems) == []
    dead = sorted(str(p) for p in problems)
    assert len(dead) == 2
    assert all(p.severity == validate.WARNING for p in problems)
    assert has(dead, "d1", "dead") and has(dead, "d2", "dead")
    # A neuron with no input at all that feeds the output is alive.
    G = layered_net()
    net.add_neuron(G, "c", layer=1, activation="relu", bias=4)
    G.add_edge("c", "o", **{keys.WEIGHT: mpq(1)})
    assert validate.validate(G) == []


def test_integer_and_string_ids_can_mix():
    G = net.new_network([0, "x"])
    net.add_neuron(G, 1, layer=1, activation="threshold", bias=0, incoming={0: 1, "x": -1})
    net.add_neuron(G, "1", layer=2, activation="identity", bias=0, incoming={1: 1})
    net.set_outputs(G, ["1"])
    assert validate.validate(G) == []


# ---------------------------------------------------------------- measures


def test_measures_layered():
    G = layered_net()
    m = measures.measure(G)
    numbers = LAYERED_WEIGHTS + LAYERED_BIASES
    nonzero = [q for q in numbers if q != 0]
    assert m.depth == 2
    assert m.width == 3
    assert m.neurons == 4
    assert m.params_dense == (2 + 1) * 3 + (3 + 1) * 1 == 13
    assert m.params_nonzero == 7 + 2 == len(nonzero)
    assert m.max_weight_bits == max(spec_bits(q) for q in nonzero) == 11
    assert m.total_weight_bits == sum(spec_storage(q) for q in nonzero) == 3 + 3 + 4 + 13 + 2 + 4 + 3 + 5 + 2
    assert m.layered is True
    assert m.activations == ("identity", "relu")
    assert m.inputs == 2 and m.outputs == 1
    d = m.as_dict()
    assert d["activations"] == ["identity", "relu"]
    assert set(d) == {
        "depth",
        "width",
        "neurons",
        "params_dense",
        "params_nonzero",
        "max_weight_bits",
        "total_weight_bits",
        "layered",
        "activations",
        "inputs",
        "outputs",
    }
    assert measures.layer_sizes(G) == {0: 2, 1: 3, 2: 1}


def test_measures_no_hidden_layer():
    G = net.new_network(["a", "b", "c"])
    net.add_neuron(G, "o1", layer=1, activation="threshold", bias=mpq(-1, 2), incoming={"a": 1, "c": -1})
    net.add_neuron(G, "o2", layer=1, activation="identity", bias=0, incoming={"b": 3})
    net.set_outputs(G, ["o1", "o2"])
    m = measures.measure(G)
    assert m.depth == 1
    assert m.width == 0
    assert m.neurons == 2
    assert m.params_dense == (3 + 1) * 2
    assert m.params_nonzero == 3 + 1
    # -1/2: max(1, 2) = 2 bits; storage 1 + 2 = 3. 1: 1 bit, storage 2; 3: 2 bits, storage 3.
    assert m.max_weight_bits == 2
    assert m.total_weight_bits == 3 + 2 + 2 + 3
    assert m.layered
    assert m.activations == ("identity", "threshold")
    assert m.inputs == 3 and m.outputs == 2


def test_measures_not_layered():
    G = layered_net()
    G.add_edge("x0", "o", **{keys.WEIGHT: mpq(-8)})  # skips layer 1
    m = measures.measure(G)
    assert m.layered is False
    assert m.params_dense is None
    assert m.depth == 2 and m.width == 3
    assert m.params_nonzero == 10
    assert m.total_weight_bits == measures.measure(layered_net()).total_weight_bits + spec_storage(Fraction(-8))


def test_measures_deep_with_empty_hidden_layer():
    """Layers 0, 2, 3 only: width counts layers 1..depth-1, an empty layer counts 0."""
    G = net.new_network(["x"])
    net.add_neuron(G, "a", layer=2, activation="relu", bias=0, incoming={"x": 1})
    net.add_neuron(G, "b", layer=2, activation="relu", bias=0, incoming={"x": -1})
    net.add_neuron(G, "o", layer=3, activation="identity", bias=0, incoming={"a": 1, "b": 1})
    net.set_outputs(G, ["o"])
    m = measures.measure(G)
    assert m.depth == 3
    assert m.width == 2
    assert m.layered is False and m.params_dense is None


def test_measures_zero_biases_count_zero_bits():
    G = net.new_network(["x"])
    net.add_neuron(G, "o", layer=1, activation="identity", bias=0, incoming={"x": 1})
    net.set_outputs(G, ["o"])
    m = measures.measure(G)
    assert m.params_nonzero == 1
    assert m.max_weight_bits == 1
    assert m.total_weight_bits == 2


def test_measures_huge_numbers():
    w = Fraction(3**1000, 2**2000 + 1)
    G = net.new_network(["x"])
    net.add_neuron(G, "o", layer=1, activation="identity", bias=-(2**5000), incoming={"x": w})
    net.set_outputs(G, ["o"])
    m = measures.measure(G)
    assert m.max_weight_bits == 5001
    assert m.total_weight_bits == spec_storage(w) + 5001 + 1


# ---------------------------------------------------------------- net.json


def key(v):
    return (0, v) if isinstance(v, int) else (1, v)


def spec_bytes(G) -> bytes:
    """The canonical bytes of specs/README.md 3.3, written independently of netcert.formats."""

    def s(q):
        q = Fraction(int(q.numerator), int(q.denominator))
        return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"

    layer = {v: G.nodes[v][keys.LAYER] for v in G}
    nodes = []
    for v in sorted(G, key=lambda v: (layer[v], key(v))):
        attrs = dict(G.nodes[v])
        if keys.BIAS in attrs:
            attrs[keys.BIAS] = s(attrs[keys.BIAS])
        nodes.append({"id": v, **attrs})
    edges = [
        {"source": u, "target": v, "weight": s(G[u][v][keys.WEIGHT])}
        for u, v in sorted(G.edges, key=lambda e: ((layer[e[0]], key(e[0])), (layer[e[1]], key(e[1]))))
    ]
    doc = {"directed": True, "multigraph": False, "graph": dict(G.graph), "nodes": nodes, "edges": edges}
    return (json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True) + "\n").encode("ascii")


def mixed_ids_net():
    """Integer and string ids in one layer, edges added in a scrambled order."""
    G = net.new_network(["x1", 0, "x0"])
    net.add_neuron(G, "b", layer=1, activation="relu", bias=mpq(-7, 3), incoming={"x0": 2, 0: mpq(1, 8)})
    net.add_neuron(G, 10, layer=1, activation="relu", bias=1, incoming={"x1": -1})
    net.add_neuron(G, "B", layer=1, activation="threshold", bias=0, incoming={0: 3, "x1": 5})
    net.add_neuron(G, 2, layer=1, activation="relu", bias=0, incoming={"x0": 1})
    net.add_neuron(
        G, "out", layer=2, activation="identity", bias=mpq(1, 2**70), incoming={"b": 1, 10: -2, "B": mpq(3, 4), 2: 9}
    )
    net.set_outputs(G, ["out"])
    return G


def graphs_equal(G, H) -> bool:
    return (
        G.graph == H.graph
        and dict(G.nodes(data=True)) == dict(H.nodes(data=True))
        and {(u, v): d for u, v, d in G.edges(data=True)} == {(u, v): d for u, v, d in H.edges(data=True)}
    )


@pytest.mark.parametrize("make", [layered_net, mixed_ids_net])
def test_canonical_bytes_match_spec(make):
    G = make()
    assert netjson.to_bytes(G) == spec_bytes(G)
    assert netjson.digest(G) == hashlib.sha256(spec_bytes(G)).hexdigest()


def test_canonical_order_ints_before_strings():
    doc = json.loads(netjson.to_bytes(mixed_ids_net()))
    assert [n["id"] for n in doc["nodes"]] == [0, "x0", "x1", 2, 10, "B", "b", "out"]
    assert [(e["source"], e["target"]) for e in doc["edges"]] == [
        (0, "B"),
        (0, "b"),
        ("x0", 2),
        ("x0", "b"),
        ("x1", 10),
        ("x1", "B"),
        (2, "out"),
        (10, "out"),
        ("B", "out"),
        ("b", "out"),
    ]
    assert doc["graph"]["inputs"] == ["x1", 0, "x0"]  # the input order is the coordinate order


@pytest.mark.parametrize("make", [layered_net, mixed_ids_net])
def test_netjson_round_trip(tmp_path, make):
    G = make()
    path = tmp_path / "net.json"
    data = netjson.write(G, path)
    assert path.read_bytes() == data == spec_bytes(G)
    H = netjson.read(path)
    assert graphs_equal(G, H)
    assert validate.validate(H) == []
    assert measures.measure(H) == measures.measure(G)
    # Writing what was read gives the same bytes; two writes are byte-identical.
    path2 = tmp_path / "again.json"
    netjson.write(H, path2)
    assert path2.read_bytes() == data
    netjson.write(G, path2)
    assert path2.read_bytes() == data
    assert netjson.digest(H) == hashlib.sha256(data).hexdigest()
    # No temporary files are left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.json", "net.json"]


def test_netjson_gzip(tmp_path):
    G = mixed_ids_net()
    plain, packed = tmp_path / "n.json", tmp_path / "n.json.gz"
    netjson.write(G, plain)
    first = netjson.write(G, packed)
    raw = packed.read_bytes()
    assert raw == first
    assert raw[:2] == b"\x1f\x8b"
    assert raw[4:8] == b"\x00\x00\x00\x00"  # mtime 0
    assert raw[3] & 0x08 == 0  # no file name
    assert gzip.decompress(raw) == plain.read_bytes()
    netjson.write(G, packed)
    assert packed.read_bytes() == raw  # deterministic
    H = netjson.read(packed)
    assert graphs_equal(G, H)
    assert netjson.digest(H) == netjson.digest(netjson.read(plain)) == hashlib.sha256(plain.read_bytes()).hexdigest()


def test_read_accepts_hex_and_any_order(tmp_path):
    doc = {
        "directed": True,
        "multigraph": False,
        "graph": {"format": "netcert.network", "version": 1, "inputs": ["x"], "outputs": ["o"]},
        "edges": [{"weight": "-0x10/0x3", "target": "o", "source": "x"}],
        "nodes": [
            {"id": "o", "layer": 1, "activation": "identity", "bias": "0xff"},
            {"activation": "input", "layer": 0, "id": "x"},
        ],
    }
    path = tmp_path / "hex.json"
    path.write_text(json.dumps(doc, indent=1))
    G = netjson.read(path)
    assert G["x"]["o"][keys.WEIGHT] == mpq(-16, 3)
    assert G.nodes["o"][keys.BIAS] == 255
    canonical = netjson.to_bytes(G)
    assert b'"-16/3"' in canonical and b'"255"' in canonical
    # The digest is of the canonical bytes, not of the file's bytes.
    assert netjson.digest(G) == hashlib.sha256(canonical).hexdigest()
    assert netjson.digest(G) != hashlib.sha256(path.read_bytes()).hexdigest()


def test_networkx_reads_the_file(tmp_path):
    path = tmp_path / "n.json"
    netjson.write(layered_net(), path)
    H = nx.node_link_graph(json.loads(path.read_text()), edges="edges")
    assert isinstance(H, nx.DiGraph)
    assert H["x1"]["h2"]["weight"] == "1025/3"
    assert H.nodes["h1"]["bias"] == "5/3"


# ---------------------------------------------------------------- net.json refusals


def good_document():
    return json.loads(netjson.to_bytes(layered_net()))


def refuses(tmp_path, doc_or_text, *fragments, name="bad.json"):
    path = tmp_path / name
    path.write_text(doc_or_text if isinstance(doc_or_text, str) else json.dumps(doc_or_text))
    with pytest.raises(FormatError) as info:
        netjson.read(path)
    message = str(info.value)
    assert str(path) in message, message
    for fragment in fragments:
        assert fragment in message, message
    assert info.value.exit_code == 3
    return message


def test_float_weight_refused(tmp_path):
    doc = good_document()
    doc["edges"][0]["weight"] = 0.5
    refuses(tmp_path, doc, "edges/0/weight")


def test_missing_activation_refused(tmp_path):
    doc = good_document()
    del doc["nodes"][3]["activation"]
    refuses(tmp_path, doc, "nodes/3", "activation")


@pytest.mark.parametrize(
    "mutate, fragment",
    [
        (lambda d: d["edges"][0].update(weight="6/4"), "lowest terms"),
        (lambda d: d["edges"][0].update(weight="5/1"), "denominator"),
        (lambda d: d["edges"][0].update(weight="-0"), "-0"),
        (lambda d: d["edges"][0].update(weight="0"), "edges/0"),
        (lambda d: d["edges"][0].update(weight="1.5"), "edges/0"),
        (lambda d: d["nodes"][2].update(bias=1), "nodes/2"),
        (lambda d: d["nodes"][2].update(bias="007"), "nodes/2"),
        (lambda d: d["nodes"][2].update(bias="2/4"), "bias"),
        (lambda d: d["nodes"][2].pop("bias"), "nodes/2"),
        (lambda d: d["nodes"][0].update(bias="1"), "nodes/0"),
        (lambda d: d["nodes"][0].update(id=True), "nodes/0"),
        (lambda d: d["nodes"][0].update(activation="sigmoid"), "nodes/0"),
        (lambda d: d["nodes"][0].update(layer=-1), "nodes/0"),
        (lambda d: d["nodes"][0].update(layer="0"), "nodes/0"),
        (lambda d: d["graph"].update(format="other"), "graph"),
        (lambda d: d["graph"].update(version=2), "graph"),
        (lambda d: d["graph"].pop("inputs"), "graph"),
        (lambda d: d["graph"].update(outputs=[]), "graph"),
        (lambda d: d["graph"].update(dataset="not a digest"), "graph"),
        (lambda d: d.update(directed=False), "directed"),
        (lambda d: d.update(multigraph=True), "multigraph"),
        (lambda d: d.update(extra=1), ""),
        (lambda d: d.pop("edges"), ""),
        (lambda d: d["nodes"].append(dict(d["nodes"][0])), "twice"),
        (lambda d: d["edges"].append(dict(d["edges"][0])), "twice"),
        (lambda d: d["edges"][0].update(target="ghost"), "ghost"),
    ],
)
def test_schema_and_number_refusals(tmp_path, mutate, fragment):
    doc = good_document()
    mutate(doc)
    refuses(tmp_path, doc, fragment)


def test_not_json_refused(tmp_path):
    refuses(tmp_path, "{not json", "JSON")
    refuses(tmp_path, "[1, 2, 3]", name="list.json")
    path = tmp_path / "bin.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(FormatError, match="bin.json"):
        netjson.read(path)


def test_huge_number_refused_quickly(tmp_path, monkeypatch):
    monkeypatch.setenv("NETCERT_MAX_BITS", "1000")
    doc = good_document()
    doc["edges"][0]["weight"] = "1" * 400_000
    start = time.perf_counter()
    refuses(tmp_path, doc, "too large")
    assert time.perf_counter() - start < 2.0


def test_corrupt_gzip_refused(tmp_path):
    path = tmp_path / "n.json.gz"
    path.write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(InputError, match="n.json.gz"):
        netjson.read(path)


def test_missing_file_refused(tmp_path):
    with pytest.raises(InputError, match="missing.json"):
        netjson.read(tmp_path / "missing.json")


def test_write_refuses_invalid_numbers(tmp_path):
    G = layered_net()
    G["x0"]["h0"][keys.WEIGHT] = 0.5
    with pytest.raises(InputError):
        netjson.write(G, tmp_path / "n.json")
    assert not (tmp_path / "n.json").exists()
    assert list(tmp_path.iterdir()) == []
