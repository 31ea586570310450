"""rajput2021 end to end: the worked example of docs/constructions/rajput2021.md section 10 draw by draw (spec sizing), certification
on random, grid and digits data, the exact size formulas, the verified sizing (every kept hyperplane and code
row needed, the smallest candidate built, predictions equal to the built count), fan-in and sparse-code
variants, degenerate data, determinism and the CLI."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn import datasets as skdata

from netcert import dataset
from netcert.engine import reference
from netcert.engine import evaluate
from netcert.cli import cli
from netcert.constructions import rajput2021, registry
from netcert.errors import DatasetError, PreconditionError, UsageError
from netcert.exact import mpq
from netcert.formats import netjson
from netcert.gadgets import codes
from netcert.gadgets.threshold import levels
from netcert.ir import keys, measures

import cases
from cases import certify, opts, oracle_agrees

# ------------------------------------------------------------------ helpers


def ball(n: int, d: int, C: int = 2, seed: int = 0):
    """docs/constructions/rajput2021.md section 11's "ball": uniform in the unit ball of R^d, on the 2^-30 grid; labels U{1..C}."""
    rng = np.random.default_rng(seed)
    g = rng.standard_normal((n, d))
    X = g / np.linalg.norm(g, axis=1)[:, None] * rng.random(n)[:, None] ** (1 / d)
    return np.round(X * 2.0**30) / 2.0**30, rng.integers(1, C + 1, n)


def grid(n: int, seed: int = 0):
    """section 7's "grid": a jittered grid in [-1, 1]^2, delta about 1/sqrt(n)."""
    rng = np.random.default_rng(seed)
    s = int(np.ceil(np.sqrt(n)))
    ij = np.array([(i, j) for i in range(s) for j in range(s)][:n], dtype=float)
    X = -1 + 2 / s * (ij + 0.5) + rng.uniform(-0.5 / s, 0.5 / s, (n, 2))
    return np.round(X * 2.0**30) / 2.0**30, rng.integers(1, 3, n)


def claims_hold(G, data) -> measures.Measures:
    """The exact size formulas against the measures (no kernel)."""
    return cases.claims_hold(G, data, rajput2021.size, {"depth", "width", "neurons", "params_dense", "params_nonzero"})


def exact_everywhere(G, data) -> None:
    ev = evaluate.run(G, data, jobs=1)
    assert ev.points_checked == data.n and ev.exact, ev.mismatches[:3]


def assert_certified(cert: dict, n: int) -> None:
    assert cert["verdict"] == "certified", cert["checker"]["failures"] or cert["interpolation"]["mismatches"]
    assert cert["interpolation"]["exact"] and cert["interpolation"]["points_checked"] == n
    assert not cert["checker"]["failures"]
    c = cert["construction"]
    assert c["name"] == "rajput2021" and c["size"]["holds"]
    assert set(c["size"]["claims"]) == {"depth", "width", "neurons", "params_dense", "params_nonzero"}
    assert c["theorem"]["bound"]["measure"].startswith("params_nonzero")
    s, o = cert["structure"], c["options"]
    assert s["activations"] == ["identity", "threshold"] and s["layered"]
    assert s["depth"] == 4 + 2 * levels(max(o["compress_rows"]), o["fan_in"]) + 2 * levels(
        max(o["expand_rows"]), o["fan_in"]
    )
    assert o["delta_sq"] == cert["dataset"]["min_sq_separation"] and o["r_sq"] == cert["dataset"]["max_sq_norm"]
    assert all(
        1 <= v <= 10 for v in o["draws"].values()
    )  # 2 expected per stage (docs/constructions/rajput2021.md section 7)


def build_with(**kw):
    return lambda ds: rajput2021.build(ds, **kw)


def bit_strings(rows) -> list[str]:
    return ["".join(str(int(b)) for b in row) for row in rows]


# ------------------------------------------------------------------ docs/constructions/rajput2021.md section 10: the worked example

EXAMPLE_X = np.array([(1 / 2, 1 / 4), (-1 / 2, 1 / 2), (1 / 4, -3 / 4), (-1 / 4, -1 / 4), (3 / 4, -1 / 4), (0, 1 / 2)])
EXAMPLE_Y = np.array([1, 2, 2, 1, 2, 1])
EXAMPLE = {"seed": 3, "k": 6, "p": 2, "fan_in": 16, "b0": 1, "b": 2, "L": 2, "sizing": "spec"}


@pytest.fixture(scope="module")
def example():
    data = dataset.from_arrays(EXAMPLE_X, EXAMPLE_Y)
    return rajput2021.build(data, **EXAMPLE), data


def test_worked_example_sizing_and_lift():
    data = dataset.from_arrays(EXAMPLE_X, EXAMPLE_Y)
    lifted = codes.lift(data)
    assert (lifted.D, lifted.grid, lifted.centre, lifted.h) == (4, 1, [0, 0], 4)  # c = 0, h = 1
    angles = codes.angle_histogram(codes.unit_rows(lifted))
    assert codes.union_k(angles.counts, 0.5) == 15 and round(angles.theta_min, 2) == 0.42
    assert angles.counts.sum() == 15


def test_worked_example_draws_and_codes():
    data = dataset.from_arrays(EXAMPLE_X, EXAMPLE_Y)
    P = rajput2021.plan(data, seed=3, p=2, rho="dense", k=6, k_mult=None, b0=1, b=2, L=2, sizing="spec", f=16)
    assert P.planes.draws == 7  # the codes collided 6 times
    bits = np.unpackbits(P.planes.bits, axis=1, bitorder="little")[:, :6]
    assert bit_strings(bits) == ["010110", "101110", "000111", "001110", "010111", "110110"]
    assert [S.tolist() for S in P.code.rows] == [[1, 4, 5], [0, 2, 3, 5], [1, 2, 4, 5], [0, 1, 2, 5], [0, 4]]
    assert P.code.draws == 1
    assert bit_strings(P.code.bits) == ["01011", "11000", "00011", "10011", "10101", "00000"]
    ex = P.expansion
    assert (ex.L, ex.draws, len(ex.rows)) == (3, 2, 7)  # L = 2 left four points without a private block
    E = np.stack([P.code.bits[:, S].sum(axis=1) & 1 for S in ex.rows], axis=1)
    assert bit_strings(E) == ["1110111", "0000101", "1110001", "1110010", "1011000", "0000000"]
    assert ex.group.tolist() == [1, 0, 1, 1, 1, 0]
    assert ex.private.tolist()[1:5] == [8, 12, 11, 4]  # x2 -> block 2 (coordinate 8), x3 -> 12, x5 -> 4


def test_worked_example_network(example):
    G, data = example
    layer1 = {
        f"z[{t}]": ({u: w for u, _, w in G.in_edges(f"z[{t}]", data=keys.WEIGHT)}, G.nodes[f"z[{t}]"][keys.BIAS])
        for t in range(6)
    }
    assert layer1["z[0]"] == ({"x[0]": 1, "x[1]": 10}, -4)  # step(x_1 + 10 x_2 - 4)
    assert layer1["z[1]"] == ({"x[0]": 6, "x[1]": 6}, -3)
    assert layer1["z[2]"] == ({"x[0]": -8, "x[1]": -1}, 0)
    assert layer1["z[3]"] == ({"x[0]": -2, "x[1]": 2}, 3)
    assert layer1["z[4]"] == ({"x[0]": -9, "x[1]": 5}, 8)
    assert layer1["z[5]"] == ({"x[0]": 4, "x[1]": -5}, -1)
    widths = measures.layer_sizes(G)
    assert [widths[layer] for layer in range(9)] == [2, 6, 17, 5, 15, 7, 14, 2, 1]
    # the count layer of row {1, 4, 5}: step(z1 + z4 + z5 - j), j = 1..3; its alternating neuron
    assert {u for u, _ in G.in_edges("c1.u[00]")} == {"z[1]", "z[4]", "z[5]"}
    assert [G.nodes[f"c1.u[{j:02d}]"][keys.BIAS] for j in range(3)] == [-1, -2, -3]
    assert {u: w for u, _, w in G.in_edges("c1.p[0]", data=keys.WEIGHT)} == {
        "c1.u[00]": 1,
        "c1.u[01]": -1,
        "c1.u[02]": 1,
    }
    # block 1 of the one-hot layer: step(-c1 - c2) (value 0), step(c1 - c2 - 1) (value 1)
    hot = {
        v: ({u: w for u, _, w in G.in_edges(v, data=keys.WEIGHT)}, G.nodes[v][keys.BIAS])
        for v in ("hot[02]", "hot[03]")
    }
    assert [sorted(w.values()) for w, _ in hot.values()] == [[-1, -1], [-1, 1]]
    assert [b for _, b in hot.values()] == [0, -1]
    # memorization: h_0 = step(3 [g = 0] + [coord 8] - 4), h_1 = step(3 [g = 1] + [coord 4] + [coord 12] - 4)
    assert {u: w for u, _, w in G.in_edges("mem[0]", data=keys.WEIGHT)} == {"hot[00]": 3, "hot[08]": 1}
    assert {u: w for u, _, w in G.in_edges("mem[1]", data=keys.WEIGHT)} == {"hot[01]": 3, "hot[04]": 1, "hot[12]": 1}
    assert G.nodes["mem[0]"][keys.BIAS] == G.nodes["mem[1]"][keys.BIAS] == -4
    assert {u: w for u, _, w in G.in_edges("out", data=keys.WEIGHT)} == {"mem[0]": 1, "mem[1]": 1}
    assert G.nodes["out"][keys.BIAS] == 1


def test_worked_example_sizes_and_outputs(example):
    G, data = example
    m = claims_hold(G, data)
    assert (m.depth, m.width, m.neurons, m.params_nonzero) == (8, 17, 67, 239)
    assert (m.params_dense, m.max_weight_bits, m.total_weight_bits) == (574, 4, 539)
    assert evaluate.outputs(G, data) == [mpq(int(v)) for v in EXAMPLE_Y]
    oracle_agrees(G, data, points=6)
    o = opts(G)
    assert (o["k"], o["k_u"], o["m"], o["L"], o["lifted_dim"], o["delta_sq"]) == (6, 15, 5, 3, 14, "1/4")
    assert o["draws"] == {"hyperplanes": 7, "compression": 1, "expansion": 2}
    H = G.copy()
    H.graph[keys.OUTPUTS] = ["mem[0]", "mem[1]"]
    trace = [reference.forward(H, [Fraction(v) for v in x]) for x in EXAMPLE_X.tolist()]
    assert ["".join(str(int(v)) for v in t) for t in trace] == ["00", "10", "01", "00", "01", "00"]


# ------------------------------------------------------------------ certification


@pytest.mark.parametrize("n,d,seed", [(100, 2, 0), (100, 2, 1), (100, 10, 0), (100, 10, 1), (1000, 10, 0)])
@pytest.mark.slow
def test_certified_on_random_data_in_the_ball(tmp_path, n, d, seed):
    X, y = ball(n, d, seed=seed)
    cert, G, data = certify(tmp_path, X, y, build_with(seed=seed), sample=3 if d == 2 else 10)
    assert_certified(cert, n)
    assert cert["construction"]["options"]["seed"] == seed


def test_exact_on_a_thousand_points_with_ten_labels():
    """The second seed at n = 1000 (evaluator and size formulas; the kernel's run is the test above)."""
    data = dataset.from_arrays(*ball(1000, 10, C=10, seed=1))
    G = rajput2021.build(data, seed=1)
    claims_hold(G, data)
    exact_everywhere(G, data)
    assert (opts(G)["C"], opts(G)["B"], len(G.graph[keys.OUTPUTS])) == (10, 4, 1)


@pytest.mark.parametrize("n", [100, 400])
def test_certified_on_a_separated_grid(tmp_path, n):
    cert, G, data = certify(tmp_path, *grid(n), build_with(), sample=3)
    assert_certified(cert, n)
    o = cert["construction"]["options"]
    assert o["sizing"] == "verified" and o["k"] <= o["k_refining"] <= o["k_drawn"] and o["k"] < o["k_u"] < o["k_wc"]


@pytest.mark.slow
def test_certified_on_digits(tmp_path):
    """The first 300 of scikit-learn's digits (d = 64, labels 0..9; all 1797 are certified by
    benchmarks/threshold.py digits: the kernel's exact all-pairs separation check alone takes about 10 s there)."""
    digits = skdata.load_digits()
    cert, G, data = certify(tmp_path, digits.data[:300], digits.target[:300], build_with(), sample=5)
    assert_certified(cert, data.n)
    o = cert["construction"]["options"]
    assert (o["y0"], o["C"], o["B"]) == (0, 10, 4)


def test_spec_sizes_at_a_thousand_points():
    """Exact regression values (seed 0, sizing spec) beside the reference implementation's row (ball, n = 1000,
    d = 10: k 106, m 20, depth 12, 2479 neurons, 19913 nonzero; there the expansion needed one draw, here two)."""
    data = dataset.from_arrays(*ball(1000, 10))
    G = rajput2021.build(data, sizing="spec")
    m = claims_hold(G, data)
    o = opts(G)
    assert (o["k"], o["k_u"], o["k_wc"], o["m"], o["b0"], o["b"], o["L"]) == (106, 106, 344, 20, 7, 5, 7)
    assert (m.depth, m.width, m.neurons, m.params_nonzero, m.max_weight_bits) == (14, 1114, 2622, 20803, 27)


def test_verified_sizes_at_a_thousand_points():
    """Exact regression values of the default (seed 0): about half of section 7's 2479 neurons and 19913
    nonzero parameters, and of the spec sizing's build above."""
    data = dataset.from_arrays(*ball(1000, 10))
    G = rajput2021.build(data)
    m = claims_hold(G, data)
    o = opts(G)
    assert o["sizing"] == "verified" and (o["k_u"], o["k_wc"]) == (106, 344)
    assert (o["k"], o["k_refining"], o["k_drawn"], o["m"], o["row_density"], o["L"]) == REGRESSION_1000["options"]
    assert (m.depth, m.width, m.neurons, m.params_nonzero, m.max_weight_bits) == REGRESSION_1000["measures"]
    chosen = min(o["compression_candidates"], key=lambda c: c["params_nonzero"])
    assert chosen["params_nonzero"] == m.params_nonzero and chosen["row_density"] == o["row_density"]
    assert [c["row_density"] for c in o["compression_candidates"]] == ["1/2", "1/4", "1/8", "1/16", "1/32"]


REGRESSION_1000 = {"options": (37, 59, 110, 17, "1/4", 5), "measures": (12, 288, 1066, 7371, 26)}


@pytest.mark.parametrize("n,d,seed", [(300, 2, 0), (300, 10, 1)])
def test_verified_stages_are_exact_and_minimal(n, d, seed):
    """Codes distinct after Stage 1 and 2, and no kept hyperplane or code row can be dropped (greedy
    pruning); every point keeps a private block in the first L blocks, and some point needs the L-th."""
    data = dataset.from_arrays(*ball(n, d, seed=seed))
    P = rajput2021.plan(data, seed=seed, p=16, rho="dense", k=None, k_mult=None, b0=None, b=None, L=None)
    bits = np.unpackbits(P.planes.bits, axis=1, bitorder="little")[:, : P.k].astype(bool)
    assert codes.distinct(bits) and P.k == len(P.planes.b1) <= P.planes.refining <= P.planes.drawn
    for t in range(P.k):
        assert not codes.distinct(np.delete(bits, t, axis=1))
    C = P.code.bits.astype(bool)
    assert codes.distinct(C) and (C == codes.parities(P.planes.bits, P.code.rows).astype(bool)).all()
    for r in range(C.shape[1]):
        assert not codes.distinct(np.delete(C, r, axis=1))
    ex = P.expansion
    assert len(ex.rows) == ex.b0 + ex.L * ex.b and ex.L <= ex.L_drawn
    block = (ex.private - 2**ex.b0) // 2**ex.b + 1
    assert block.min() >= 1 and block.max() == ex.L
    assert P.k < P.k_u


@pytest.mark.parametrize("n,d,C,seed", [(1, 2, 2, 0), (60, 3, 5, 4), (250, 10, 2, 2), (250, 2, 3, 1)])
@pytest.mark.slow
def test_predict_is_the_built_nonzero_count(n, d, C, seed):
    X, y = ball(n, d, C=C, seed=seed)
    data = dataset.from_arrays(X, y - 2)  # labels from -1: the offset y0 counts too
    predicted, options = rajput2021.predict(data, seed)
    assert options == {}
    G = rajput2021.build(data, seed=seed)
    assert predicted == measures.measure(G).params_nonzero
    assert registry.get("rajput2021").predict is rajput2021.predict


def test_predict_says_nothing_for_non_integer_labels():
    data = dataset.from_arrays(np.array([[0.0], [1.0]]), np.array([0.5, 1.0]))
    assert rajput2021.predict(data, 0) is None


def test_verified_sizing_beats_the_spec_sizing():
    data = dataset.from_arrays(*ball(400, 4, seed=6))
    spec, verified = (measures.measure(rajput2021.build(data, sizing=z)) for z in ("spec", "verified"))
    assert verified.neurons < spec.neurons and verified.params_nonzero < spec.params_nonzero


# ------------------------------------------------------------------ options


@pytest.fixture(scope="module")
def small():
    return dataset.from_arrays(*ball(200, 10, C=5, seed=3))


@pytest.mark.parametrize("f", [2, 4, 32])
@pytest.mark.slow
def test_fan_in_trades_depth_for_weights(small, f):
    G = rajput2021.build(small, fan_in=f)
    m = claims_hold(G, small)
    o = opts(G)
    assert o["fan_in"] == f
    assert m.depth == 4 + 2 * levels(max(o["compress_rows"]), f) + 2 * levels(max(o["expand_rows"]), f)
    exact_everywhere(G, small)
    base = measures.measure(rajput2021.build(small))
    assert (m.depth > base.depth) == (f < 8) and (m.params_nonzero > base.params_nonzero) == (f > 8)


def test_sparse_code_rows_with_oversampled_k(small):
    G = rajput2021.build(small, rho="sparse", k_mult=4, sizing="spec")
    m = claims_hold(G, small)
    o = opts(G)
    assert o["k"] == 4 * o["k_u"] and o["rho"] == "sparse" and o["min_hamming"] >= 1
    assert Fraction(o["row_density"]) <= Fraction(1, 2)
    exact_everywhere(G, small)
    assert m.depth >= 8


def test_k_too_small_is_refused_after_a_hundred_draws():
    data = dataset.from_arrays(*ball(40, 2, seed=2))
    with pytest.raises(PreconditionError, match="2 hyperplanes gave no distinct codes in 100 draws"):
        rajput2021.build(data, k=2, sizing="spec")


def test_bad_options_are_usage_errors(small):
    for kw, text in [
        ({"fan_in": 1}, "--fan-in takes an integer >= 2, got 1"),
        ({"fan_in": "x"}, "--fan-in"),
        ({"k": 0}, "--k takes"),
        ({"k_mult": "-1"}, "--k-mult"),
        ({"rho": "half"}, "--rho must be"),
        ({"k": 5, "k_mult": 2}, "exclude each other"),
        ({"L": 0}, "--L takes"),
        ({"sizing": "union"}, "--sizing must be one of verified, spec"),
        ({"k": 5}, "need --sizing spec"),
        ({"rho": "sparse"}, "need --sizing spec"),
    ]:
        with pytest.raises(UsageError, match=text):
            rajput2021.build(small, **kw)


def test_same_seed_same_bytes(small):
    first = netjson.to_bytes(rajput2021.build(small, seed=5))
    assert netjson.to_bytes(rajput2021.build(small, seed=5)) == first
    assert netjson.to_bytes(rajput2021.build(small, seed=6)) != first
    assert json.loads(first)["graph"][keys.CONSTRUCTION]["options"]["seed"] == 5


# ------------------------------------------------------------------ degenerate data and labels


def test_one_point():
    data = dataset.from_arrays(np.array([[0.25, -0.5]]), np.array([7]))
    G = rajput2021.build(data)
    o = opts(G)
    assert (o["k"], o["m"], o["k_u"], o["k_wc"], o["delta_sq"]) == (1, 1, None, None, None)
    claims_hold(G, data)
    assert evaluate.outputs(G, data) == [mpq(7)]


@pytest.mark.parametrize("labels,y0,B", [([0, 1], 0, 1), ([-3, 4], -3, 3), ([5], 5, 1), ([1, 2, 3, 4, 5], 1, 3)])
def test_labels_are_shifted_by_their_minimum(labels, y0, B):
    X, _ = ball(60, 3, seed=4)
    y = np.array([labels[i % len(labels)] for i in range(60)])
    data = dataset.from_arrays(X, y)
    G = rajput2021.build(data)
    assert (opts(G)["y0"], opts(G)["B"]) == (y0, B)
    assert G.nodes["out"][keys.BIAS] == y0
    claims_hold(G, data)
    exact_everywhere(G, data)


def test_one_dimensional_data_and_merged_duplicates():
    X = np.array([[0.0], [0.5], [1.0], [0.5], [-2.0]])
    data = dataset.from_arrays(X, np.array([1, 2, 1, 2, 3]))
    assert data.n == 4 and data.merged == ((3, 1),)
    G = rajput2021.build(data)
    claims_hold(G, data)
    exact_everywhere(G, data)


def test_coordinates_beyond_int64_are_decided_exactly(monkeypatch):
    """One tiny float64 value makes the common denominator 2^q huge (X near 2^130), so the codes take the
    float filter with exact integer fallbacks (gadgets/codes.filtered_signs)."""
    X, y = ball(30, 2, seed=8)
    X[0, 0] = 1e-30
    data = dataset.from_arrays(X, y)
    assert max(abs(v) for row in codes.lift(data).X for v in row).bit_length() > 63
    calls = []
    real = codes.filtered_signs
    monkeypatch.setattr(codes, "filtered_signs", lambda *a: calls.append(1) or real(*a))
    G = rajput2021.build(data)
    assert calls
    claims_hold(G, data)
    exact_everywhere(G, data)


def test_points_too_close_for_the_angle_statistics_are_named():
    X = np.array([[0.5, 0.0], [0.5, 0.25], [0.5 + 2.0**-53, 0.0]])
    data = dataset.from_arrays(X, np.array([1, 2, 1]))
    with pytest.raises(PreconditionError, match="rajput2021: points 0 and 2 are too close for the float64 angle"):
        rajput2021.build(data)


def test_duplicates_with_different_labels_are_refused_at_load():
    with pytest.raises(DatasetError, match="identical points with different labels"):
        dataset.from_arrays(np.array([[0.5, 1.0], [0.5, 1.0]]), np.array([1, 2]))


def test_non_integer_labels_are_refused():
    data = dataset.from_arrays(np.array([[0.0], [1.0]]), np.array([0.5, 1.0]))
    assert rajput2021.check(data, {}) == ["rajput2021 needs integer labels; 1 are not: point 0 (label 0.5)"]
    with pytest.raises(PreconditionError, match="integer labels"):
        rajput2021.build(data)


# ------------------------------------------------------------------ registry and command line


def _run(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"netcert {' '.join(map(str, args))} crashed") from result.exception
    return result


def test_registered_with_its_options_and_the_vershynin_note():
    c = registry.get("rajput2021")
    assert c is rajput2021.CONSTRUCTION and set(c.options) == {"seed", "fan_in", "sizing"}
    result = _run("constructions")
    assert "rajput2021" in result.output and "vershynin2020 = not offered" in result.output
    note = rajput2021.vershynin_note(mpq(1, 16), mpq(1))  # delta/r = 1/4: e^16
    assert note.startswith("not offered: its first layers need about e^(1/delta^2) = 10^6.949 neurons")


def test_cli_build_with_fan_in_then_verify(tmp_path):
    X, y = ball(150, 10, seed=9)
    np.savez(tmp_path / "data.npz", X=X, y=y)
    out = tmp_path / "net.json"
    result = _run(
        "build", tmp_path / "data.npz", "--construction", "rajput2021", "--fan-in", "4", "--seed", "2", "-o", out
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{out}: rajput2021 on 150 points (d = 10): depth ")
    o = opts(netjson.read(out))
    assert (o["fan_in"], o["seed"]) == (4, 2)
    result = _run("verify", out, "--data", tmp_path / "data.npz", "-o", tmp_path / "net.cert.json", "--sample", "5")
    assert result.exit_code == 0, result.output
    assert_certified(json.loads((tmp_path / "net.cert.json").read_text()), 150)


def test_cli_bad_fan_in_is_a_one_line_usage_error(tmp_path):
    np.savez(tmp_path / "data.npz", X=np.array([[0.0], [1.0]]), y=np.array([1, 2]))
    result = _run("build", tmp_path / "data.npz", "-c", "rajput2021", "--fan-in", "1", "-o", tmp_path / "n.json")
    assert result.exit_code == 2
    assert result.stderr.strip("\n").split("\n") == ["netcert: error: --fan-in takes an integer >= 2, got '1'"]
    result = _run("build", tmp_path / "data.npz", "-c", "zhang2017", "--fan-in", "4", "-o", tmp_path / "n.json")
    assert result.exit_code == 2 and "has no option --fan-in (its options: --seed)" in result.stderr
    assert not (tmp_path / "n.json").exists()


def test_cli_sizing_spec_gives_the_union_bound_stages(tmp_path):
    X, y = ball(60, 3, seed=4)
    np.savez(tmp_path / "data.npz", X=X, y=y)
    nets = {}
    for sizing in ("verified", "spec"):
        out = tmp_path / f"{sizing}.json"
        result = _run("build", tmp_path / "data.npz", "-c", "rajput2021", "--sizing", sizing, "-o", out)
        assert result.exit_code == 0, result.output
        nets[sizing] = opts(netjson.read(out))
    assert nets["verified"]["sizing"] == "verified" and nets["spec"]["sizing"] == "spec"
    assert nets["spec"]["k"] == nets["spec"]["k_u"] and nets["verified"]["k"] < nets["spec"]["k"]
    result = _run("build", tmp_path / "data.npz", "-c", "rajput2021", "--sizing", "tight", "-o", tmp_path / "n.json")
    assert result.exit_code == 2
    assert result.stderr.strip("\n").split("\n") == [
        "netcert: error: --sizing must be one of verified, spec, got 'tight'"
    ]
