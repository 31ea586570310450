"""The float audit: exact decisions, diverging points found and localised, onnxruntime beside it."""

import json

import numpy as np
import pytest
from gmpy2 import mpq

from netcert import audit, floats
from netcert.dataset import from_arrays
from netcert.engine.run import outputs
from netcert.ir import keys
from netcert.ir.network import add_neuron, new_network, set_outputs

F64, F32 = floats.FORMATS["float64"], floats.FORMATS["float32"]


def _cancelling():
    """f(x) = relu((2^30 + 1) x) - 2^30 x: f(x) = x for x >= 0 exactly, and 0 in float32, where
    2^30 + 1 rounds to 2^30. The first layer is where float32 leaves the exact value."""
    G = new_network(["x"])
    add_neuron(G, "big", layer=1, activation=keys.RELU, bias=0, incoming={"x": 2**30 + 1})
    add_neuron(G, "y", layer=2, activation=keys.IDENTITY, bias=0, incoming={"big": 1, "x": -(2**30)})
    set_outputs(G, ["y"])
    return G


def _exact(G, data):
    return [(v,) for v in outputs(G, data)]


def test_float32_diverges_where_float64_does_not_and_says_where():
    G = _cancelling()
    data = from_arrays(np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 1, 2, 3]))
    claim = audit.claim_for(G, data)
    result = audit.audit(G, data, [F64, F32], claim, exact_outputs=_exact(G, data), runtime="no")
    f64, f32 = result.formats
    assert result.exact_right == 4
    assert (f64.float_right, f64.diverging, f64.parameters.inexact) == (4, (), 0)
    assert f32.diverging == (1, 2, 3) and f32.float_right == 1 and f32.parameters.inexact == 1
    assert f32.worst_error == 3 and f32.worst_error_point == 3
    first = f32.divergences[0]
    # at x = 1 the hidden value is 2^30 in float32 against 2^30 + 1: an error of 1 >= the margin 1/2
    assert (first.index, first.layer, first.node, first.exact, first.margin) == (1, 1, "big", 2**30 + 1, mpq(1, 2))
    assert first.obtained == 2.0**30
    assert f32.layer_errors == (3.0, 3.0)


def test_decisions_are_exact():
    c = audit.Claim("interpolation", integer_labels=True)
    assert audit.decide(c, [mpq(1, 2)], mpq(0)) == (False, mpq(0))  # exactly between 0 and 1: a miss
    assert audit.decide(c, [mpq(1, 2) - mpq(1, 2**80)], mpq(0))[0]
    assert audit.decide(c, [None], mpq(0)) == (False, None)  # a NaN or an infinity
    k = audit.Claim("classification", classes=("0", "1", "2"))
    assert audit.decide(k, [mpq(3), mpq(3), mpq(1)], mpq(0)) == (False, mpq(0))  # a tie is a miss
    assert audit.decide(k, [mpq(3), mpq(2), mpq(1)], mpq(0)) == (True, mpq(1, 2))
    assert audit.decide(k, [mpq(3), mpq(2), mpq(1)], mpq(7)) == (False, None)  # a label that is no class
    one = audit.Claim("classification", classes=("-1", "1"))
    assert audit.decide(one, [mpq(-2)], mpq(-1)) == (True, mpq(2))
    assert audit.decide(one, [mpq(0)], mpq(1)) == (False, mpq(0))
    t = audit.Claim("tolerance", eps=mpq(1, 10))
    assert audit.decide(t, [mpq(11, 10)], mpq(1)) == (True, mpq(0))  # <= eps holds
    r = audit.Claim("interpolation", integer_labels=False, label_values=(mpq(0), mpq(1, 2), mpq(2)))
    assert audit.decide(r, [mpq(1)], mpq(1, 2)) == (True, mpq(1, 4))  # nearest of 0, 1/2, 2 is 1/2
    assert not audit.decide(r, [mpq(5, 4)], mpq(1, 2))[0]  # 5/4 is the midpoint of 1/2 and 2


def test_a_float_tie_between_classes_is_a_miss():
    # two scores 1 + 2^-30 x and 1: exactly apart for x = 1, equal in float32
    G = new_network(["x"])
    add_neuron(G, "a", layer=1, activation=keys.IDENTITY, bias=1, incoming={"x": mpq(1, 2**30)})
    add_neuron(G, "b", layer=1, activation=keys.IDENTITY, bias=1, incoming={})
    set_outputs(G, ["a", "b"])
    G.graph[keys.CLASSES] = ["0", "1"]
    data = from_arrays(np.array([[1.0]]), np.array([0]))
    claim = audit.claim_for(G, data)
    exact = [(1 + mpq(1, 2**30), mpq(1))]
    result = audit.audit(G, data, [F64, F32], claim, exact_outputs=exact, runtime="no")
    assert [f.float_right for f in result.formats] == [1, 0]
    assert result.formats[1].diverging == (0,) and result.formats[1].divergences[0].margin == mpq(1, 2**31)


def test_the_record_is_json_without_nan_and_exact_where_it_says():
    G = _cancelling()
    data = from_arrays(np.array([[1.0], [2.0]]), np.array([1, 2]))
    result = audit.audit(G, data, list(floats.FORMATS.values()), audit.claim_for(G, data), runtime="no")
    text = json.dumps(audit.record(result), allow_nan=False, sort_keys=True)
    rec = json.loads(text)
    assert rec["format"] == "netcert.audit" and rec["n"] == 2 and rec["exact_right"] == 2
    assert [f["dtype"] for f in rec["formats"]] == ["float64", "float32", "float16", "bfloat16"]
    f32 = rec["formats"][1]
    assert f32["diverging"] == {"count": 2, "first": [0, 1]} and f32["worst_error"] == "2"
    assert f32["divergences"][0]["exact"] == str(2**30 + 1) and f32["divergences"][0]["obtained"] == str(2**30)


def test_claims_need_the_right_outputs():
    G = _cancelling()
    data = from_arrays(np.array([[1.0]]), np.array([1]))
    with pytest.raises(Exception, match="no classes"):
        audit.claim_for(G, data, "classification")
    with pytest.raises(Exception, match="needs eps"):
        audit.claim_for(G, data, "tolerance")
    assert audit.claim_for(G, data, "tolerance", mpq(1, 3)).eps == mpq(1, 3)


def test_onnxruntime_reproduces_the_float_points():
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    G = _cancelling()
    data = from_arrays(np.array([[0.0], [1.0], [2.0], [5.0]]), np.array([0, 1, 2, 5]))
    result = audit.audit(G, data, [F64, F32], audit.claim_for(G, data), exact_outputs=_exact(G, data))
    assert result.formats[0].runtime == {"diverging": 0, "same_points": True}
    assert result.formats[1].runtime == {"diverging": 3, "same_points": True}
