"""Float formats: correct rounding of exact rationals, and the float evaluation of a network."""

import numpy as np
import pytest
from gmpy2 import mpq

from netcert import floats
from netcert.errors import UsageError
from netcert.ir import keys
from netcert.ir.network import add_neuron, new_network, set_outputs

F64, F32, F16, BF16 = (floats.FORMATS[n] for n in ("float64", "float32", "float16", "bfloat16"))


def test_rounding_is_correct_where_a_double_rounding_is_not():
    q = 1 + mpq(1, 2**24) + mpq(1, 2**60)  # just above the midpoint between two float32 neighbours
    assert floats.round_to(q, F32) == 1 + 2.0**-23
    assert float(np.float32(float(q))) == 1.0  # via float64 first, the tie goes to even: wrong


@pytest.mark.parametrize(
    "fmt, q, expected",
    [
        (F32, mpq(3, 2**150), 2.0**-148),  # 1.5 subnormal units: ties to the even 2
        (F32, mpq(1, 2**151), 0.0),  # a quarter of the smallest subnormal
        (F32, mpq(2**200), float("inf")),
        (F16, mpq(65504), 65504.0),  # the largest half
        (F16, mpq(65520), float("inf")),  # max + half an ulp rounds to infinity
        (F16, mpq(65519), 65504.0),
        (BF16, 1 + mpq(1, 2**8), 1.0),  # a tie between 1 and 1 + 2^-7: even
        (BF16, 1 + mpq(3, 2**9), 1 + 2.0**-7),
        (F64, mpq(1, 3), 1 / 3),
        (F64, -mpq(1, 10), -0.1),
    ],
)
def test_round_to(fmt, q, expected):
    assert floats.round_to(q, fmt) == expected


def test_round_to_agrees_with_numpy_on_doubles():
    rng = np.random.default_rng(0)
    xs = np.concatenate([rng.normal(size=500) * 10.0 ** rng.integers(-40, 40, size=500), rng.normal(size=100) * 1e-42])
    for x in xs:
        with np.errstate(over="ignore"):
            assert floats.round_to(mpq(float(x)), F32) == float(np.float32(x))
            assert floats.round_to(mpq(float(x)), F16) == float(np.float16(x))


def test_rounding_counts_and_worst_relative_error():
    r = floats.rounding([mpq(1, 3), mpq(1, 2), mpq(2**300)], F32)
    assert (r.count, r.inexact, r.overflow) == (3, 2, 1)
    assert r.worst_relative == abs(mpq(floats.round_to(mpq(1, 3), F32)) - mpq(1, 3)) * 3


def test_parse_formats():
    assert [f.name for f in floats.parse_formats("float32, float64,float32")] == ["float32", "float64"]
    with pytest.raises(UsageError, match="unknown type 'float8'"):
        floats.parse_formats("float64,float8")
    with pytest.raises(UsageError):
        floats.parse_formats(" , ")


def _mixed():
    """One input; layer 1 mixes relu, threshold, identity and leaky_relu (slope 1/4); the output sums them."""
    G = new_network(["x"])
    add_neuron(G, "r", layer=1, activation=keys.RELU, bias=0, incoming={"x": 1})
    add_neuron(G, "t", layer=1, activation=keys.THRESHOLD, bias=0, incoming={"x": 1})
    add_neuron(G, "i", layer=1, activation=keys.IDENTITY, bias=mpq(1, 2), incoming={"x": 1})
    add_neuron(G, "l", layer=1, activation=keys.LEAKY_RELU, bias=0, incoming={"x": 1}, slope=mpq(1, 4))
    add_neuron(G, "y", layer=2, activation=keys.IDENTITY, bias=0, incoming={"r": 1, "t": 2, "i": 4, "l": 8})
    add_neuron(G, "skip", layer=2, activation=keys.IDENTITY, bias=0, incoming={"x": 3})
    set_outputs(G, ["y", "skip"])
    return G


@pytest.mark.parametrize("fmt", [F64, F32, F16, BF16], ids=lambda f: f.name)
def test_forward_applies_every_activation_and_skip_connections(fmt):
    G = _mixed()
    fnet = floats.to_format(G, floats.layers(G), fmt)
    x = floats.inputs_in([(mpq(-2),), (mpq(0),), (mpq(1),)], fmt)
    out, kept = floats.forward(fnet, x, keep=True)
    # x = -2: r 0, t 0, i -3/2, l -1/2: y = -6 - 4; x = 0: t = 1 (threshold(0) = 1), i = 1/2
    assert out.tolist() == [[-10.0, -6.0], [4.0, 0.0], [1 + 2 + 6 + 8, 3.0]]
    assert len(kept) == 3 and kept[1].shape == (3, 4)


def test_forward_keeps_a_sparse_layer_sparse():
    G = new_network([f"x{j}" for j in range(40)])
    for j in range(40):
        add_neuron(G, f"h{j}", layer=1, activation=keys.RELU, bias=0, incoming={f"x{j}": 2})
    add_neuron(G, "y", layer=2, activation=keys.IDENTITY, bias=0, incoming={f"h{j}": 1 for j in range(40)})
    set_outputs(G, ["y"])
    fnet = floats.to_format(G, floats.layers(G), F64)
    assert not isinstance(fnet.matrices[(0, 1)], np.ndarray)  # 40 of 1,600 entries: CSR
    out, _ = floats.forward(fnet, np.arange(40.0).reshape(1, 40))
    assert out.tolist() == [[2.0 * sum(range(40))]]


def test_nan_and_infinity_propagate():
    G = new_network(["x"])
    add_neuron(G, "a", layer=1, activation=keys.IDENTITY, bias=0, incoming={"x": mpq(2**100)})
    add_neuron(G, "b", layer=1, activation=keys.IDENTITY, bias=0, incoming={"x": -mpq(2**100)})
    add_neuron(G, "y", layer=2, activation=keys.IDENTITY, bias=0, incoming={"a": 1, "b": 1})
    set_outputs(G, ["y"])
    out, _ = floats.forward(floats.to_format(G, floats.layers(G), F16), floats.inputs_in([(mpq(1),)], F16))
    assert np.isnan(out[0, 0])  # inf + -inf
