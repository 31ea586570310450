"""Unit tests of the trusted kernel on tiny files written by hand (following specs/README.md), with the
expected digests computed here independently with hashlib."""

import copy
import gzip
import hashlib
import json
import subprocess
import sys
from fractions import Fraction
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest

from netcert.kernel import Failure, Verdict, check, check_certificate

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- hand-written files


def node(id, layer, activation, bias=None):
    nd = {"id": id, "layer": layer, "activation": activation}
    if bias is not None:
        nd["bias"] = bias
    return nd


def edge(source, target, weight):
    return {"source": source, "target": target, "weight": weight}


def network(nodes, edges, inputs, outputs):
    graph = {"format": "netcert.network", "version": 1, "inputs": inputs, "outputs": outputs}
    return {"directed": True, "multigraph": False, "graph": graph, "nodes": nodes, "edges": edges}


def small_network():
    """out = 1 + 3 relu(x0 - x1) - relu(2 x1 - 1/2)."""
    return network(
        [
            node("out", 2, "identity", "1"),
            node("x0", 0, "input"),
            node("x1", 0, "input"),
            node("h1", 1, "relu", "-1/2"),
            node("h0", 1, "relu", "0"),
        ],
        [
            edge("h1", "out", "-1"),
            edge("x0", "h0", "1"),
            edge("x1", "h0", "-1"),
            edge("x1", "h1", "2"),
            edge("h0", "out", "3"),
        ],
        ["x0", "x1"],
        ["out"],
    )


def small_function(x0, x1):
    return 1 + 3 * max(x0 - x1, 0) - max(2 * x1 - Fraction(1, 2), 0)


POINTS = [(0, 0), (1, 0), (0, 1), (Fraction(1, 2), Fraction(1, 2)), (2, 1)]


def canon(q):
    q = Fraction(q)
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


def network_digest(obj):
    """Section 3.3, written from the spec text (numbers are already canonical decimals here)."""
    layer = {nd["id"]: nd["layer"] for nd in obj["nodes"]}
    key = lambda v: (0, v) if isinstance(v, int) else (1, v)  # noqa: E731
    canonical = dict(
        obj,
        nodes=sorted(obj["nodes"], key=lambda nd: (nd["layer"], key(nd["id"]))),
        edges=sorted(
            obj["edges"], key=lambda e: (layer[e["source"]], key(e["source"]), layer[e["target"]], key(e["target"]))
        ),
    )
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=True) + "\n"
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def dataset_digest(rows):
    """Section 2.5: rows are (x..., y) exact values as they are in the file."""
    text = f"netcert.dataset 1\n{len(rows)} {len(rows[0]) - 1}\n"
    text += "".join(" ".join(canon(v) for v in row) + "\n" for row in rows)
    return hashlib.sha256(text.encode()).hexdigest()


def sha256_file(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_json(path, obj):
    path.write_text(json.dumps(obj, indent=1))  # deliberately not canonical bytes
    return path


def write_csv(path, rows, header="a,b,y"):
    lines = ([header] if header else []) + [",".join(canon(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def small_claims(net_path, data_path, rows):
    """Every claim about the small network and dataset, worked out by hand."""
    ys = [Fraction(r[-1]) for r in rows]
    return {
        "format": "netcert.certificate",
        "version": 1,
        "network": {
            "path": net_path.name,
            "sha256": sha256_file(net_path),
            "digest": network_digest(json.loads(net_path.read_text())),
        },
        "dataset": {
            "path": data_path.name,
            "sha256": sha256_file(data_path),
            "digest": dataset_digest(rows),
            "n": 5,
            "d": 2,
            "rows": 5,
            "duplicates_merged": 0,
            "labels": {"kind": "real", "distinct": len(set(ys)), "min": canon(min(ys)), "max": canon(max(ys))},
            "min_sq_separation": "1/2",
            "min_sq_separation_pair": [0, 3],
            "max_sq_norm": "5",
        },
        "structure": {
            "depth": 2,
            "width": 2,
            "neurons": 3,
            "params_dense": 9,
            "params_nonzero": 7,
            "max_weight_bits": 2,
            "total_weight_bits": 17,
            "layered": True,
            "activations": ["identity", "relu"],
            "inputs": 2,
            "outputs": 1,
        },
        "interpolation": {
            "exact": True,
            "points_checked": 5,
            "mismatch_count": 0,
            "mismatches": [],
            "outputs_digest": hashlib.sha256(
                "".join(canon(small_function(*p)) + "\n" for p in POINTS).encode()
            ).hexdigest(),
        },
    }


@pytest.fixture
def small(tmp_path):
    rows = [(*p, small_function(*p)) for p in POINTS]
    net_path = write_json(tmp_path / "net.json", small_network())
    data_path = write_csv(tmp_path / "data.csv", rows)
    return net_path, data_path, small_claims(net_path, data_path, rows)


def wheres(verdict):
    return [f.where for f in verdict.failures]


# ---------------------------------------------------------------- accepting correct claims


@pytest.mark.parametrize("full", [False, True])
def test_kernel_accepts_correct_claims(small, full):
    v = check(*small, full=full)
    assert isinstance(v, Verdict) and v.ok, v.failures
    assert v.outputs_agree and v.structure_agrees and v.hashes_agree and v.dataset_agrees
    assert v.points_checked == 5 and v.mode == ("full" if full else "sample")
    assert v.recomputed["outputs"] == {}
    assert v.recomputed["structure"] == small[2]["structure"]
    json.dumps(v.recomputed)  # JSON-ready


def test_kernel_recomputed_values_match_the_hand_computed_claims(small):
    rec = check(*small, full=True).recomputed
    for section in ("network", "dataset"):
        mine = {k: v for k, v in small[2][section].items() if k != "path"}
        assert {k: rec[section][k] for k in mine} == mine
    assert rec["interpolation"]["outputs_digest"] == small[2]["interpolation"]["outputs_digest"]


def test_kernel_accepts_a_claims_dict_without_optional_sections(small):
    net_path, data_path, claims = small
    assert check(net_path, data_path, {}).ok
    assert check(net_path, data_path, {"structure": {"depth": 2}}).ok


# ---------------------------------------------------------------- reporting wrong claims


@pytest.mark.parametrize(
    "section, key, wrong",
    [
        ("structure", "depth", 3),
        ("structure", "params_nonzero", 8),
        ("structure", "width", 3),
        ("structure", "params_dense", None),
        ("structure", "layered", 1),
        ("structure", "activations", ["relu"]),
        ("structure", "max_weight_bits", 3),
        ("structure", "total_weight_bits", 16),
        ("network", "digest", "0" * 64),
        ("network", "sha256", "0" * 64),
        ("dataset", "digest", "0" * 64),
        ("dataset", "sha256", "0" * 64),
        ("dataset", "n", 4),
        ("dataset", "max_sq_norm", "4"),
        ("dataset", "min_sq_separation", "1"),
        ("dataset", "min_sq_separation_pair", [3, 4]),
        ("interpolation", "outputs_digest", "0" * 64),
    ],
)
def test_kernel_reports_a_wrong_claim(small, section, key, wrong):
    net_path, data_path, claims = small
    claims = copy.deepcopy(claims)
    claims[section][key] = wrong
    v = check(net_path, data_path, claims, full=True)
    assert not v.ok
    assert wheres(v) == [f"{section}.{key}"]
    assert v.failures[0].expected == json.dumps(wrong)
    if key in ("digest", "sha256"):
        assert not v.hashes_agree
    if section == "structure":
        assert not v.structure_agrees and v.hashes_agree


def test_kernel_reports_a_wrong_label_as_an_output_failure(tmp_path):
    rows = [(*p, small_function(*p)) for p in POINTS]
    rows[2] = (0, 1, Fraction(7))
    net_path = write_json(tmp_path / "net.json", small_network())
    data_path = write_csv(tmp_path / "data.csv", rows)
    v = check(net_path, data_path, {})
    assert wheres(v) == ["output[2]"]
    assert v.failures[0] == Failure("output[2]", '"7"', '"-1/2"')
    assert v.recomputed["outputs"] == {"2": "-1/2"} and not v.outputs_agree


def test_kernel_accepts_listed_mismatches_and_checks_their_values(tmp_path):
    rows = [(*p, small_function(*p)) for p in POINTS]
    rows[2] = (0, 1, Fraction(7))
    net_path = write_json(tmp_path / "net.json", small_network())
    data_path = write_csv(tmp_path / "data.csv", rows)
    good = {
        "interpolation": {
            "exact": False,
            "mismatch_count": 1,
            "mismatches": [{"index": 2, "expected": "7", "obtained": "-1/2"}],
        }
    }
    assert check(net_path, data_path, good, full=True).ok
    bad = copy.deepcopy(good)
    bad["interpolation"]["mismatches"][0]["obtained"] = "-1"
    assert "output[2]" in wheres(check(net_path, data_path, bad))
    wrong_count = copy.deepcopy(good)
    wrong_count["interpolation"]["mismatch_count"] = 0
    assert wheres(check(net_path, data_path, wrong_count, full=True)) == ["interpolation.mismatch_count"]


def test_kernel_checks_the_seeded_sample_plus_listed_mismatches(tmp_path):
    import random

    n = 50
    rows = [(k, 0, small_function(k, 0)) for k in range(n)]
    rows[7] = (7, 0, Fraction(0))  # a wrong label, listed as a mismatch
    net_path = write_json(tmp_path / "net.json", small_network())
    data_path = write_csv(tmp_path / "data.csv", rows)
    claims = {
        "interpolation": {
            "mismatch_count": 1,
            "mismatches": [{"index": 7, "expected": "0", "obtained": canon(small_function(7, 0))}],
        }
    }
    seen = []
    v = check(net_path, data_path, claims, sample=10, seed=3, progress=seen.append)
    expected = set(random.Random(3).sample(range(n), 10)) | {7}
    assert v.ok and v.points_checked == len(expected) and v.seed == 3
    assert seen[-1] == len(expected)
    assert v.recomputed["outputs"] == {"7": canon(small_function(7, 0))}


# ---------------------------------------------------------------- network validity


@pytest.mark.parametrize("weight", ["6/4", "5/1", "-0", "007", "0/3", "1/-2", "+1", "0x0A", "0x1/0x1", " 1", "1.5", ""])
def test_kernel_refuses_a_non_canonical_or_malformed_number(tmp_path, weight):
    obj = small_network()
    obj["edges"][1]["weight"] = weight
    v = check(write_json(tmp_path / "net.json", obj), write_csv(tmp_path / "d.csv", [(0, 0, 1)]), {})
    assert "network.validity" in wheres(v)
    assert any('"x0" -> "h0"' in f.found for f in v.failures)
    assert v.points_checked == 0 and not v.structure_agrees


def test_kernel_refuses_a_non_canonical_bias_naming_the_node(tmp_path):
    obj = small_network()
    obj["nodes"][3]["bias"] = "-2/4"
    v = check(write_json(tmp_path / "net.json", obj), write_csv(tmp_path / "d.csv", [(0, 0, 1)]), {})
    assert [f for f in v.failures if f.where == "network.validity" and 'node "h1"' in f.found]


def test_kernel_refuses_a_float_weight_in_json(tmp_path):
    obj = small_network()
    obj["edges"][0]["weight"] = -1.0
    obj["edges"][3]["weight"] = 0.5
    v = check(write_json(tmp_path / "net.json", obj), write_csv(tmp_path / "d.csv", [(0, 0, 1)]), {})
    found = [f.found for f in v.failures if f.where == "network.validity"]
    assert len(found) == 2 and any("0.5" in f for f in found)


def test_kernel_reads_the_hex_form_and_it_has_the_decimal_digest(tmp_path, small):
    obj = small_network()
    obj["edges"][4]["weight"] = "0x3"
    obj["nodes"][3]["bias"] = "-0x1/0x2"
    v = check(write_json(tmp_path / "hex.json", obj), small[1], {"network": {"digest": small[2]["network"]["digest"]}})
    assert v.ok, v.failures


def test_kernel_reads_numbers_beyond_python_int_string_limit(tmp_path):
    big = "1" + "0" * 5000  # 10^5000: more than the 4300 digits int(str) accepts
    obj = network(
        [node(0, 0, "input"), node(1, 1, "relu", "-" + big), node(2, 2, "identity", "0")],
        [edge(0, 1, big), edge(1, 2, "1/" + big)],
        [0],
        [2],
    )
    v = check(write_json(tmp_path / "net.json", obj), write_csv(tmp_path / "d.csv", [(1, 0), (2, 1)], header=None), {})
    assert v.ok, v.failures
    assert v.recomputed["structure"]["max_weight_bits"] == 16610  # bitlen(10^5000)


@pytest.mark.skipif(np.dtype(np.longdouble).itemsize <= 8, reason="longdouble is float64 here")
def test_kernel_reads_longdouble_exactly(tmp_path):
    tiny = np.longdouble(2) ** -60
    X = np.array([[np.longdouble(1)], [np.longdouble(1) + tiny]], dtype=np.longdouble)
    ds = check(tmp_path / "none.json", write_npz(tmp_path / "a.npz", X, np.array([0, 1])), {}).recomputed["dataset"]
    assert ds["n"] == 2 and ds["min_sq_separation"] == f"1/{2**120}"


def test_kernel_refuses_a_number_over_the_size_limit(tmp_path):
    obj = small_network()
    obj["edges"][0]["weight"] = "1" * 400_000  # about 1.33 million bits
    v = check(write_json(tmp_path / "net.json", obj), write_csv(tmp_path / "d.csv", [(0, 0, 1)]), {})
    assert any("bits" in f.expected for f in v.failures if f.where == "network.validity")


@pytest.mark.parametrize(
    "extra, message",
    [
        (edge("out", "h0", "1"), "a cycle"),  # a backward edge closing a cycle
        (edge("h0", "h1", "1"), "layers 1 -> 1"),  # same layer
        (edge("h0", "x1", "1"), "layers 1 -> 0"),  # into an input
        (edge("h0", "nowhere", "1"), "nowhere"),  # missing endpoint
        (edge("x0", "h0", "2"), '"x0" -> "h0"'),  # repeated edge
        (edge("x0", "out", "0"), '"x0" -> "out"'),  # zero weight
    ],
)
def test_kernel_reports_bad_edges(tmp_path, extra, message):
    obj = small_network()
    obj["edges"].append(extra)
    v = check(write_json(tmp_path / "net.json", obj), write_csv(tmp_path / "d.csv", [(0, 0, 1)]), {})
    assert any(message in f.found for f in v.failures if f.where == "network.validity"), v.failures


@pytest.mark.parametrize(
    "change",
    [
        lambda o: o["nodes"][0].update(layer=-1),
        lambda o: o["nodes"][0].update(layer=True),
        lambda o: o["nodes"][0].update(activation="sigmoid"),
        lambda o: o["nodes"][1].update(bias="0"),
        lambda o: o["nodes"][1].update(layer=1),
        lambda o: o["nodes"][3].pop("bias"),
        lambda o: o["nodes"][3].update(activation="input"),
        lambda o: o["graph"].update(inputs=["x0", "x0"]),
        lambda o: o["graph"].update(outputs=["x0"]),
        lambda o: o["graph"].update(outputs=[]),
        lambda o: o["graph"].update(outputs=["missing"]),
        lambda o: o["graph"].update(format="other"),
        lambda o: o.update(directed=False),
        lambda o: o["nodes"].append(node(True, 1, "relu", "0")),
        lambda o: o["nodes"].append(node("h0", 1, "relu", "0")),
    ],
)
def test_kernel_reports_bad_nodes_and_graph_attributes(tmp_path, change):
    obj = small_network()
    change(obj)
    v = check(write_json(tmp_path / "net.json", obj), write_csv(tmp_path / "d.csv", [(0, 0, 1)]), {})
    assert "network.validity" in wheres(v) and v.points_checked == 0


def test_kernel_allows_dead_nodes(tmp_path, small):
    obj = small_network()
    obj["nodes"].append(node("dead", 1, "relu", "1"))
    obj["edges"].append(edge("x0", "dead", "5"))
    v = check(write_json(tmp_path / "net.json", obj), small[1], {})
    assert v.ok and v.recomputed["structure"]["params_nonzero"] == 9


def test_kernel_refuses_more_than_one_output(tmp_path, small):
    obj = small_network()
    obj["graph"]["outputs"] = ["out", "h0"]
    v = check(write_json(tmp_path / "net.json", obj), small[1], {})
    assert wheres(v) == ["network.outputs"] and v.recomputed["structure"]["outputs"] == 2


def test_kernel_reports_a_dimension_mismatch(tmp_path, small):
    v = check(small[0], write_csv(tmp_path / "d.csv", [(0, 0, 0, 1)], header=None), {})
    assert wheres(v) == ["network.inputs"]


def test_kernel_turns_unreadable_files_into_failures(tmp_path, small):
    (tmp_path / "broken.json").write_text("{not json")
    v = check(tmp_path / "broken.json", tmp_path / "missing.csv", small[2])
    assert "network file" in wheres(v) and "dataset file" in wheres(v)
    assert not (v.ok or v.hashes_agree or v.outputs_agree or v.structure_agrees or v.dataset_agrees)


def test_kernel_measures_a_non_layered_network(tmp_path):
    obj = small_network()
    obj["nodes"][0]["layer"] = 3
    obj["edges"].append(edge("x0", "out", "1/1024"))
    rows = [(*p, small_function(*p) + p[0] / 1024) for p in POINTS]
    v = check(write_json(tmp_path / "net.json", obj), write_csv(tmp_path / "d.csv", rows), {})
    s = v.recomputed["structure"]
    assert v.ok, v.failures
    assert (s["depth"], s["width"], s["params_dense"], s["layered"]) == (3, 2, None, False)
    assert (s["max_weight_bits"], s["total_weight_bits"], s["params_nonzero"]) == (11, 17 + 1 + 11, 8)


# ---------------------------------------------------------------- semantics


def threshold_network():
    return network(
        [node(0, 0, "input"), node(1, 1, "threshold", "0"), node("y", 2, "identity", "0")],
        [edge(0, 1, "1"), edge(1, "y", "1")],
        [0],
        ["y"],
    )


def test_kernel_threshold_is_one_at_zero(tmp_path):
    net_path = write_json(tmp_path / "net.json", threshold_network())
    rows = [(0, 1), (-1, 0), (Fraction(1, 2), 1), (Fraction(-1, 10**30), 0)]
    assert check(net_path, write_csv(tmp_path / "d.csv", rows, header=None), {}).ok
    v = check(net_path, write_csv(tmp_path / "e.csv", [(0, 0)], header=None), {})
    assert v.failures == (Failure("output[0]", '"0"', '"1"'),)


def test_kernel_sorts_integer_ids_before_string_ids(tmp_path):
    obj = threshold_network()
    net_path = write_json(tmp_path / "net.json", obj)
    v = check(net_path, write_csv(tmp_path / "d.csv", [(0, 1)], header=None), {})
    assert v.recomputed["network"]["digest"] == network_digest(obj)


def test_kernel_gz_network_has_the_digest_of_its_json_twin(tmp_path, small):
    net_path, data_path, claims = small
    gz = tmp_path / "net.json.gz"
    gz.write_bytes(gzip.compress(net_path.read_bytes(), mtime=0))
    claims = copy.deepcopy(claims)
    claims["network"]["sha256"] = sha256_file(gz)
    v = check(gz, data_path, claims)
    assert v.ok, v.failures
    assert v.recomputed["network"]["digest"] == small[2]["network"]["digest"] != sha256_file(gz)


# ---------------------------------------------------------------- datasets


def test_kernel_reads_csv_decimals_exactly(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("x, label\n\n 0.1 , 3\n1e-1,3\n-2.50E+1, -4\n3/6,+0\n   \n")
    v = check(tmp_path / "none.json", path, {})
    ds = v.recomputed["dataset"]
    assert ds["digest"] == dataset_digest([(Fraction(1, 10), 3), (Fraction(1, 10), 3), (-25, -4), (Fraction(1, 2), 0)])
    assert (ds["rows"], ds["n"], ds["duplicates_merged"]) == (4, 3, 1)
    assert ds["labels"] == {"kind": "integer", "distinct": 3, "min": "-4", "max": "3"}
    assert ds["max_sq_norm"] == "625" and ds["min_sq_separation"] == "4/25" and ds["min_sq_separation_pair"] == [0, 2]


@pytest.mark.parametrize(
    "text, message",
    [
        ("1,2\n3,abc\n", "line 2, column 2"),
        ("1,2\n3,4,5\n", "line 2"),
        ("1,1/0\n", "line 1, column 2"),
        ("1\n2\n", "on line 1"),
        ("a,b\n", "none"),
        ("1,2\n1,3\n", "rows 0, 1"),
        ("1e10001,2\n", "10^4"),
        ("1,.5\n", "column 2"),
        ("1,nan\n", "column 2"),
        ("a,b\nc,d\n", "line 2"),
    ],
)
def test_kernel_refuses_bad_csv(tmp_path, text, message):
    path = tmp_path / "d.csv"
    path.write_text(text)
    v = check(tmp_path / "none.json", path, {})
    failures = [f for f in v.failures if f.where.startswith("dataset")]
    assert failures and message in failures[0].expected + failures[0].found, v.failures
    assert not v.dataset_agrees


def test_kernel_real_label_kind_in_csv(tmp_path):
    path = write_csv(tmp_path / "d.csv", [(0, Fraction(1, 2)), (1, 1)], header=None)
    assert check(tmp_path / "none.json", path, {}).recomputed["dataset"]["labels"]["kind"] == "real"


def write_npz(path, X, y):
    np.savez(path, X=X, y=y)
    return path


def test_kernel_npz_float32_and_float64_share_a_digest(tmp_path):
    X = [[0.5, -0.25], [3.0, 0.1]]
    y = [1, 2]
    p32 = write_npz(tmp_path / "a.npz", np.array(X, dtype=np.float32), np.array(y, dtype=np.int8))
    p64 = write_npz(tmp_path / "b.npz", np.array(X, dtype=np.float32).astype(np.float64), np.array(y, dtype=np.int64))
    d32, d64 = (check(tmp_path / "none.json", p, {}).recomputed["dataset"] for p in (p32, p64))
    tenth32 = Fraction(*np.float32(0.1).item().as_integer_ratio())
    assert tenth32 == Fraction(13421773, 134217728)
    expected = dataset_digest([(Fraction(1, 2), Fraction(-1, 4), 1), (3, tenth32, 2)])
    assert d32["digest"] == d64["digest"] == expected
    assert d32["sha256"] != d64["sha256"]
    assert d32["labels"]["kind"] == "integer"


def test_kernel_npz_float_labels_are_real_and_float16_is_exact(tmp_path):
    p = write_npz(tmp_path / "a.npz", np.array([[1.5], [2.0]], dtype=np.float16), np.array([1.0, 0.5]))
    ds = check(tmp_path / "none.json", p, {}).recomputed["dataset"]
    assert ds["labels"] == {"kind": "real", "distinct": 2, "min": "1/2", "max": "1"}
    assert ds["max_sq_norm"] == "4" and ds["min_sq_separation"] == "1/4"


@pytest.mark.parametrize(
    "X, y, message",
    [
        (np.array([[1.0], [np.nan]]), np.array([1, 2]), "X[1, 0]"),
        (np.array([[1.0], [2.0]]), np.array([1.0, np.inf]), "y[1]"),
        (np.array([[True], [False]]), np.array([1, 2]), "dtype bool"),
        (np.array([[1 + 1j], [2]]), np.array([1, 2]), "complex"),
        (np.array([1.0, 2.0]), np.array([1, 2]), "rank"),
        (np.array([[1.0], [2.0]]), np.array([1, 2, 3]), "shape"),
        (np.zeros((0, 2)), np.zeros(0), "shape"),
        (np.array([[1], [1]]), np.array([1, 2]), "rows 0, 1"),
    ],
)
def test_kernel_refuses_bad_npz(tmp_path, X, y, message):
    v = check(tmp_path / "none.json", write_npz(tmp_path / "d.npz", X, y), {})
    failures = [f for f in v.failures if f.where == "dataset"]
    assert failures and message in failures[0].expected + failures[0].found, v.failures


def test_kernel_refuses_npz_without_y_and_object_arrays(tmp_path):
    np.savez(tmp_path / "a.npz", X=np.ones((2, 1)))
    np.savez(tmp_path / "b.npz", X=np.array([[1], ["a"]], dtype=object), y=np.array([1, 2]))
    for name in ("a.npz", "b.npz"):
        assert {"dataset file", "dataset"} & set(wheres(check(tmp_path / "none.json", tmp_path / name, {})))


def test_kernel_duplicate_points_with_equal_labels_are_merged(tmp_path, small):
    rows = [(*p, small_function(*p)) for p in POINTS] + [(1, 0, 4)]
    v = check(small[0], write_csv(tmp_path / "d.csv", rows), {})
    ds = v.recomputed["dataset"]
    assert v.ok and (ds["n"], ds["rows"], ds["duplicates_merged"]) == (5, 6, 1)
    assert ds["digest"] == dataset_digest(rows)


def test_kernel_duplicate_points_with_different_labels_fail(tmp_path, small):
    rows = [(*p, small_function(*p)) for p in POINTS] + [(1, 0, 5)]
    v = check(small[0], write_csv(tmp_path / "d.csv", rows), {})
    assert "dataset" in wheres(v) and v.points_checked == 0 and not v.dataset_agrees


@pytest.mark.parametrize("d", [1, 2, 4])
def test_kernel_min_separation_is_the_least_pair_by_brute_force(tmp_path, d):
    import random

    r = random.Random(d)
    points = [tuple(Fraction(r.randint(-4, 4), r.choice([1, 2, 3])) for _ in range(d)) for _ in range(60)]
    rows = [(*p, sum(p)) for p in points]
    ds = check(tmp_path / "none.json", write_csv(tmp_path / "d.csv", rows, header=None), {})
    ds = ds.recomputed["dataset"]
    distinct = list(dict.fromkeys(points))
    assert ds["n"] == len(distinct) and ds["rows"] == 60
    best = min(
        (sum((a - b) ** 2 for a, b in zip(distinct[i], distinct[j])), i, j)
        for i, j in combinations(range(len(distinct)), 2)
    )
    assert ds["min_sq_separation"] == canon(best[0]) and ds["min_sq_separation_pair"] == [best[1], best[2]]


def test_kernel_single_point_has_no_separation(tmp_path):
    ds = check(tmp_path / "none.json", write_csv(tmp_path / "d.csv", [(3, 4, 1)]), {}).recomputed["dataset"]
    assert ds["min_sq_separation"] is None and ds["min_sq_separation_pair"] is None and ds["max_sq_norm"] == "25"


def test_kernel_large_dataset_rechecks_only_the_witness_pair(tmp_path):
    rows = [(k, 0, 0) for k in range(2001)]
    path = write_csv(tmp_path / "d.csv", rows, header=None)
    good = {"dataset": {"min_sq_separation": "1", "min_sq_separation_pair": [5, 6]}}
    v = check(tmp_path / "none.json", path, good)
    assert not [f for f in v.failures if f.where.startswith("dataset")]
    assert any("only the claimed pair" in note for note in v.notes)
    bad = {"dataset": {"min_sq_separation": "1", "min_sq_separation_pair": [5, 7]}}
    assert "dataset.min_sq_separation" in wheres(check(tmp_path / "none.json", path, bad))


# ---------------------------------------------------------------- certificates and the command line


def write_certificate(directory, small):
    net_path, data_path, claims = small
    claims = dict(claims, checker={"name": "netcert.kernel", "mode": "sample", "seed": 11})
    return write_json(directory / "small.cert.json", claims)


def test_check_certificate_resolves_paths_and_uses_the_seed(tmp_path, small, monkeypatch):
    cert = write_certificate(tmp_path, small)
    monkeypatch.chdir(ROOT)
    v = check_certificate(cert)
    assert v.ok and v.seed == 11 and v.points_checked == 5


def test_check_certificate_reports_an_unreadable_certificate(tmp_path):
    (tmp_path / "bad.cert.json").write_text("[1, 2")
    v = check_certificate(tmp_path / "bad.cert.json")
    assert wheres(v) == ["certificate file"] and not v.ok


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "netcert.kernel", *map(str, args)], cwd=ROOT, capture_output=True, text=True
    )


@pytest.mark.slow
def test_cli_exit_codes(tmp_path, small):
    cert = write_certificate(tmp_path, small)
    ok = run_cli(cert, "--full")
    assert ok.returncode == 0 and ok.stdout.startswith(f"OK {cert} (full, 5 points)"), ok
    claims = json.loads(cert.read_text())
    claims["structure"]["depth"] = 7
    bad = write_json(tmp_path / "bad.cert.json", claims)
    failed = run_cli(cert, bad)
    assert failed.returncode == 1 and f"FAIL {bad}\n  structure.depth: expected 7, found 2" in failed.stdout
    (tmp_path / "broken.cert.json").write_text("{")
    assert run_cli(bad, tmp_path / "broken.cert.json").returncode == 3


# ---------------------------------------------------------------- what the kernel says it checked


def dropping(k):
    """A pmap that loses the result at position k (or, k = None, adds one result too many)."""

    def pmap(fn, xs):
        out = [fn(x) for x in xs]
        return out[:k] + out[k + 1 :] if k is not None else out + out[:1]

    return pmap


@pytest.mark.parametrize("k", [0, 2, 4, None])
def test_kernel_counts_what_it_compared_and_fails_on_a_shortfall_or_surplus(small, k):
    v = check(*small, pmap=dropping(k))
    assert not v.ok and not v.outputs_agree
    assert Failure("outputs", "5 results, one per point", f"{4 if k is not None else 6} results") in v.failures
    assert v.points_checked == (5 if k is None else 4)


def test_verify_with_an_executor_that_drops_a_kernel_result_is_refuted(small, tmp_path):
    from netcert import certify

    from netcert.engine import parallel

    class Dropping(parallel.Local):
        def map(self, fn, items, *, minimum=2):
            out = list(super().map(fn, items, minimum=minimum))
            return out[:-1] if "kernel" in getattr(getattr(fn, "func", fn), "__module__", "") else out

    net_path, data_path, _ = small
    cert = certify.verify(net_path, data_path, tmp_path / "x.cert.json", executor=Dropping(1))
    assert cert["interpolation"]["exact"] is True  # the evaluator got every result; the kernel did not
    assert cert["verdict"] == "refuted" and cert["checker"]["points_checked"] == 4
    assert {"where": "outputs", "expected": "5 results, one per point", "found": "4 results"} in cert["checker"][
        "failures"
    ]


def test_kernel_points_digest_is_the_sha256_of_the_compared_indices(tmp_path):
    import random

    rows = [(k, 0, small_function(k, 0)) for k in range(30)]
    net_path = write_json(tmp_path / "net.json", small_network())
    data_path = write_csv(tmp_path / "data.csv", rows)
    v = check(net_path, data_path, {}, sample=7, seed=5)
    expected = sorted(random.Random(5).sample(range(30), 7))
    assert (v.mode, v.seed, v.sample, v.points_checked) == ("sample", 5, 7, 7)
    assert v.points_digest == hashlib.sha256("".join(f"{i}\n" for i in expected).encode()).hexdigest()
    full = check(net_path, data_path, {}, full=True)
    assert full.sample is None and full.points_checked == 30
    assert full.points_digest == hashlib.sha256("".join(f"{i}\n" for i in range(30)).encode()).hexdigest()


def checker_claims(v):
    """The checker section a run writes, as netcert writes it."""
    from netcert import certificate

    return certificate.checker_section(v)


@pytest.mark.parametrize(
    "key, wrong",
    [
        ("seed", 1),
        ("sample", 6),
        ("mode", "full"),
        ("points_checked", 30),
        ("points_digest", "0" * 64),
        ("notes", ["all pairs were rechecked"]),
        ("outputs_agree", False),
        ("failures", [{"where": "x", "expected": "y", "found": "z"}]),
    ],
)
def test_check_certificate_reruns_the_claimed_run_and_compares_its_checker_section(tmp_path, key, wrong):
    rows = [(k, 0, small_function(k, 0)) for k in range(30)]
    net_path = write_json(tmp_path / "net.json", small_network())
    data_path = write_csv(tmp_path / "data.csv", rows)
    claims = {"network": {"path": "net.json"}, "dataset": {"path": "data.csv"}}
    honest = dict(claims, checker=checker_claims(check(net_path, data_path, claims, sample=7, seed=5)))
    write_json(tmp_path / "c.cert.json", honest)
    v = check_certificate(tmp_path / "c.cert.json")
    assert v.ok and (v.seed, v.sample, v.points_checked) == (5, 7, 7), v.failures
    forged = copy.deepcopy(honest)
    forged["checker"][key] = wrong
    if key == "mode":
        forged["checker"]["sample"] = None  # a coherent claim of a full run, which is then rerun in full
    write_json(tmp_path / "c.cert.json", forged)
    v = check_certificate(tmp_path / "c.cert.json")
    assert not v.ok and any(w.startswith("checker.") for w in wheres(v)), v.failures
    # the rerun takes the claimed seed and sample: the points it then draws are not the ones recorded
    assert ("checker.points_digest" if key in ("seed", "sample", "mode") else f"checker.{key}") in wheres(v)


@pytest.mark.parametrize(
    "checker",
    [
        {"seed": 2**63},
        {"seed": -1},
        {"seed": 1.0},
        {"sample": 0},
        {"mode": "full", "sample": 5},
        {"mode": "sample", "sample": None},
        {"mode": "most"},
    ],
)
def test_check_certificate_refuses_out_of_range_parameters(tmp_path, small, checker):
    claims = json.loads(write_certificate(tmp_path, small).read_text())
    claims["checker"].update(checker)
    v = check_certificate(write_json(tmp_path / "small.cert.json", claims))
    assert wheres(v) == ["certificate file"], v.failures


def test_check_certificate_full_adds_a_full_run(tmp_path):
    rows = [(k, 0, small_function(k, 0)) for k in range(30)]
    rows[20] = (20, 0, Fraction(-5))  # a wrong label the sample below does not draw
    write_json(tmp_path / "net.json", small_network())
    write_csv(tmp_path / "data.csv", rows)
    import random

    seed = next(s for s in range(100) if 20 not in random.Random(s).sample(range(30), 5))
    claims = {
        "network": {"path": "net.json"},
        "dataset": {"path": "data.csv"},
        "checker": {"mode": "sample", "seed": seed, "sample": 5},
    }
    cert = write_json(tmp_path / "c.cert.json", claims)
    assert check_certificate(cert).ok
    v = check_certificate(cert, full=True)
    assert not v.ok and "output[20]" in wheres(v) and v.mode == "full" and v.points_checked == 30


def test_check_certificate_refuses_paths_outside_its_directory(tmp_path, small):
    net_path, data_path, claims = small
    inner = tmp_path / "inner"
    inner.mkdir()
    claims = dict(
        claims,
        network={**claims["network"], "path": "../net.json"},
        dataset={**claims["dataset"], "path": "../data.csv"},
    )
    cert = write_json(inner / "c.cert.json", claims)
    v = check_certificate(cert)
    assert wheres(v) == ["network.path"] and not v.ok
    assert check_certificate(cert, allow_outside=True).ok
    (inner / "net.json").symlink_to(net_path)  # inside by name, outside once resolved
    (inner / "data.csv").symlink_to(data_path)
    claims["network"]["path"] = "net.json"
    cert = write_json(inner / "c.cert.json", dict(claims, dataset={**claims["dataset"], "path": "data.csv"}))
    assert wheres(check_certificate(cert))[0] in ("network.path", "dataset.path")
    assert check_certificate(cert, allow_outside=True).ok
    claims["network"]["path"] = "/etc/passwd"
    assert wheres(check_certificate(write_json(inner / "c.cert.json", claims))) == ["network.path"]
