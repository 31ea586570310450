"""Export to ONNX and to .npz: valid models, honest metadata, refusals, exact where lossless."""

import io

import numpy as np
import pytest
from gmpy2 import mpq

from netcert import api, export, floats
from netcert.dataset import from_arrays
from netcert.errors import InputError, UsageError
from netcert.ir import keys
from netcert.ir.network import add_neuron, new_network, set_outputs

onnx = pytest.importorskip("onnx")


def _small_bit_data(n=40, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 16, size=(3 * n, 2)).astype(float)
    X = np.unique(X, axis=0)[:n]
    return from_arrays(X, rng.integers(0, 4, size=len(X)))


def _props(model):
    return {p.key: p.value for p in model.metadata_props}


def test_zhang2017_on_small_bit_data_is_lossless_in_float64_and_onnxruntime_gives_the_labels():
    pytest.importorskip("onnxruntime")
    data = _small_bit_data()
    G = api.build(data, "zhang2017")
    model = export.to_onnx(G, "float64")
    onnx.checker.check_model(model)
    props = _props(model)
    assert props["netcert.lossless"] == "true" and props["netcert.inexact_parameters"] == "0"
    assert model.opset_import[0].version >= 17
    x = floats.inputs_in([data.point(i) for i in range(data.n)], floats.FORMATS["float64"])
    y = export.run_onnx(model, x)
    assert y.shape == (data.n, 1)
    assert [mpq(v) for v in y[:, 0]] == list(data.labels)  # exactly, not within a tolerance


def test_an_inexact_export_says_so():
    G = new_network(["x"])
    add_neuron(G, "y", layer=1, activation=keys.IDENTITY, bias=mpq(1, 3), incoming={"x": 1})
    set_outputs(G, ["y"])
    props = _props(export.to_onnx(G, "float32"))
    assert props["netcert.lossless"] == "false" and props["netcert.inexact_parameters"] == "1"
    assert not export.loss(G, "float64").lossless


def test_a_weight_past_the_range_is_refused_not_written_as_infinity():
    G = new_network(["x"])
    add_neuron(G, "y", layer=1, activation=keys.IDENTITY, bias=0, incoming={"x": mpq(2**200)})
    set_outputs(G, ["y"])
    with pytest.raises(InputError, match="beyond float32's range"):
        export.to_onnx(G, "float32")
    with pytest.raises(InputError, match="beyond float32's range"):
        export.to_numpy(G, "float32")
    export.to_onnx(G, "float64")  # 2^200 is a double


def test_only_float64_and_float32_export():
    G = new_network(["x"])
    add_neuron(G, "y", layer=1, activation=keys.RELU, bias=0, incoming={"x": 1})
    set_outputs(G, ["y"])
    with pytest.raises(UsageError, match="float64 or float32"):
        export.to_onnx(G, "float16")


def _every_activation():
    G = new_network(["x0", "x1"])
    add_neuron(G, "r", layer=1, activation=keys.RELU, bias=mpq(-1, 2), incoming={"x0": 1, "x1": 2})
    add_neuron(G, "t", layer=1, activation=keys.THRESHOLD, bias=0, incoming={"x0": 1, "x1": -1})
    add_neuron(G, "l", layer=1, activation=keys.LEAKY_RELU, bias=0, incoming={"x0": -1}, slope=mpq(1, 8))
    add_neuron(G, "m", layer=1, activation=keys.LEAKY_RELU, bias=0, incoming={"x1": -1}, slope=mpq(1, 4))
    add_neuron(G, "a", layer=2, activation=keys.IDENTITY, bias=0, incoming={"r": 1, "t": 4, "l": 8, "m": 16})
    add_neuron(G, "b", layer=2, activation=keys.RELU, bias=1, incoming={"x0": -3, "r": 1})  # a skip from layer 0
    set_outputs(G, ["b", "a"])
    return G


def test_onnxruntime_computes_every_activation_as_netcert_does():
    pytest.importorskip("onnxruntime")
    G = _every_activation()
    pts = [(mpq(a), mpq(b)) for a in (-2, 0, 1, 3) for b in (-1, 0, 2)]
    for dtype in ("float64", "float32"):
        fmt = floats.FORMATS[dtype]
        x = floats.inputs_in(pts, fmt)
        expected, _ = floats.forward(floats.to_format(G, floats.layers(G), fmt), x)
        assert np.array_equal(export.run_onnx(export.to_onnx(G, dtype), x), expected)


def test_a_sparse_layer_is_a_sparse_initializer():
    pytest.importorskip("onnxruntime")
    G = new_network([f"x{j}" for j in range(30)])
    for j in range(30):
        add_neuron(G, f"h{j}", layer=1, activation=keys.RELU, bias=0, incoming={f"x{j}": j + 1})
    add_neuron(G, "y", layer=2, activation=keys.IDENTITY, bias=0, incoming={f"h{j}": 1 for j in range(30)})
    set_outputs(G, ["y"])
    model = export.to_onnx(G, "float64")
    assert [s.values.name for s in model.graph.sparse_initializer] == ["W_0_1"]
    y = export.run_onnx(model, np.ones((2, 30)))
    assert y.tolist() == [[465.0], [465.0]]


def test_numpy_export_is_deterministic_and_complete():
    G = _every_activation()
    raw = export.to_numpy(G, "float64")
    assert raw == export.to_numpy(G, "float64")
    z = np.load(io.BytesIO(raw), allow_pickle=False)
    assert sorted(z.files) == sorted(
        ["W_0_1", "b_1", "activation_1", "slope_1", "W_0_2", "W_1_2", "b_2", "activation_2", "slope_2"]
        + ["outputs", "metadata"]
    )
    assert z["outputs"].tolist() == [[2, 1], [2, 0]]  # b then a: graph.outputs order
    assert z["activation_1"].tolist() == ["leaky_relu", "leaky_relu", "relu", "threshold"]
    assert z["slope_1"].tolist() == [0.125, 0.25, 0.0, 0.0]


def _weights_by_layer(G):
    """Each layer's exact (weights, bias, activation) per node, nodes in canonical order: the
    network up to the names of its nodes."""
    return [
        (
            L.index,
            sorted(
                (tuple(sorted(w for k in L.incoming for i, j2, w in L.incoming[k] if j2 == j)), b, a)
                for j, (b, a) in enumerate(zip(L.biases, L.activations))
            ),
        )
        for L in floats.layers(G)
    ]


def test_importing_a_lossless_export_gives_the_network_back_exactly(tmp_path):
    import netcert
    from netcert.engine.run import values

    data = _small_bit_data()
    G = api.build(data, "zhang2017")
    assert export.loss(G, "float64").lossless
    (tmp_path / "z.onnx").write_bytes(export.to_onnx(G, "float64").SerializeToString())
    H = netcert.import_onnx(tmp_path / "z.onnx")
    assert _weights_by_layer(H) == _weights_by_layer(G)
    assert values(H, data) == values(G, data)
