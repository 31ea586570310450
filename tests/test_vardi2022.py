"""vardi2022 end to end: the worked example of docs/constructions/vardi2022.md section 10 and reference sizes, certification, depth caps,
the shape predictions that choose the block size, labels, degenerate data, determinism and the CLI."""

from __future__ import annotations

import itertools
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
from netcert.constructions import registry, vardi2022
from netcert.constructions.vardi2022 import counts, stage_three_counts
from netcert.errors import PreconditionError, UsageError
from netcert.exact import mpq
from netcert.formats import netjson
from netcert.gadgets.projection import spread_line
from netcert.gadgets.wiring import Affine, prune
from netcert.ir import keys, measures
from netcert.ir import network as net

import cases
from cases import certify, opts, oracle_agrees

# ------------------------------------------------------------------ helpers


def uniform(N: int, d: int, C: int, seed: int = 0):
    """docs/constructions/vardi2022.md section 11's data: x ~ U[-1, 1]^d, y ~ U{1..C}."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (N, d))
    return X, rng.integers(1, C + 1, N)


def jittered_line(N: int, seed: int = 1):
    """1-D points about 1/8 apart: small key gaps, so VYS beats the trivial network already at N = 1000."""
    rng = np.random.default_rng(seed)
    return (np.arange(N) + rng.uniform(0, 0.5, N)).reshape(-1, 1) / 8, rng.integers(1, 3, N)


def exact_everywhere(G, data) -> None:
    ev = evaluate.run(G, data)
    assert ev.points_checked == data.n and ev.exact, ev.mismatches[:3]


def claims_hold(G, data) -> measures.Measures:
    """The exact size formulas against the measures (no kernel)."""
    return cases.claims_hold(G, data, vardi2022.size)


def assert_certified(cert: dict, n: int) -> None:
    assert cert["verdict"] == "certified", cert["checker"]["failures"] or cert["interpolation"]["mismatches"]
    assert cert["interpolation"]["exact"] and cert["interpolation"]["points_checked"] == n
    assert not cert["checker"]["failures"]
    assert cert["construction"]["name"] == "vardi2022"
    size = cert["construction"]["size"]
    assert size["holds"] and set(size["claims"]) == {"depth", "params_dense", "params_nonzero"}


def build_with(**kw):
    return lambda ds: vardi2022.build(ds, **kw)


# ------------------------------------------------------------------ docs/constructions/vardi2022.md section 10: the worked example

EXAMPLE_X = np.array(
    [(-1, 0.5), (-0.5, -1), (0, 0), (0.375, 0.75), (0.5, -0.5), (0.75, 0.25), (1, -0.75), (-0.75, -0.25)]
)
EXAMPLE_Y = np.array([1, 3, 2, 1, 3, 2, 1, 2])
EXAMPLE_T = ["1191/512", "5035/256", "17", "15359/1024", "13485/512", "23555/1024", "34483/1024", "11261/1024"]


def example(mode: str, gadgets: str = "paper"):
    data = dataset.from_arrays(EXAMPLE_X, EXAMPLE_Y)
    return vardi2022.build(data, mode=mode, direction=(4, -3), block=3, gadgets=gadgets), data


@pytest.mark.parametrize(
    "mode,sizes,graph,rho",
    [("plain", (29, 8, 989, 410, 24, 3262), (153, 353), 6), ("delta", (23, 8, 656, 316, 18, 2032), (110, 267), 4)],
)
def test_worked_example_sizes_and_outputs(mode, sizes, graph, rho):
    G, data = example(mode)
    m = measures.measure(G)
    assert (m.depth, m.width, m.params_dense, m.params_nonzero, m.max_weight_bits, m.total_weight_bits) == sizes
    assert (G.number_of_nodes(), G.number_of_edges()) == graph
    assert evaluate.outputs(G, data) == [mpq(int(v)) for v in EXAMPLE_Y]
    oracle_agrees(G, data, points=8)
    o = opts(G)
    assert (o["block_size"], o["blocks"], o["rho"], o["c"], o["H"], o["y0"], o["C"]) == (3, 3, rho, 2, 13, 1, 3)
    assert (o["direction"], o["scale"], o["shift"], o["draws"]) == ([4, -3], "683/256", 17, 0)
    # Stage I: t = relu(683/64 x0 - 2049/256 x1 + 17)
    assert {u: w for u, _, w in G.in_edges("t", data=keys.WEIGHT)} == {"x[0]": mpq(683, 64), "x[1]": mpq(-2049, 256)}
    assert G.nodes["t"][keys.BIAS] == 17
    claims_hold(G, data)


def test_worked_example_projection_keys_and_blocks():
    data = dataset.from_arrays(EXAMPLE_X, EXAMPLE_Y)
    line = spread_line(data, direction=(4, -3))
    assert [str(t) for t in line.t] == EXAMPLE_T
    assert list(line.keys) == [2, 19, 17, 14, 26, 23, 33, 10]
    assert [i + 1 for i in line.order] == [1, 8, 4, 3, 2, 6, 5, 7]
    G, _ = example("plain")
    # thresholds alpha_2 = 16, alpha_3 = 25; W_1 = 534840 and the jumps W_2 - W_1, W_3 - W_2
    assert [G.nodes[f"S2.step[{j}].{u}"][keys.BIAS] for j in (0, 1) for u in "PQ"] == [-16, -17, -25, -26]
    assert G.nodes["S2.v"][keys.BIAS] == 534840
    assert {u: w for u, _, w in G.in_edges("S2.v", data=keys.WEIGHT)} == {
        "S2.step[0].P": 4007205,
        "S2.step[0].Q": -4007205,
        "S2.step[1].P": 2438563,
        "S2.step[1].Q": -2438563,
    }
    assert 534840 + 4007205 == 4542045 and 4542045 + 2438563 == 6980608  # W_2, W_3 of the table


def test_worked_example_trace_of_x8():
    """docs/constructions/vardi2022.md section 10's example: the trace for x8 = (-0.75, -0.25), read off the hidden neurons with the oracle."""
    G, _ = example("plain")
    trace = {
        "t": "11261/1024",
        "S2.v": "534840",
        "E07.N2": "8189/1024",
        "E07.N1": "0",
        "E09.G": "0",
        "E14.kp": "10",
        "E15.N1": "0",
        "E15.N2": "0",
        "E17.G": "1",
        "E18.acc": "1",
        "E22.kp": "14",
        "E23.N1": "3075/1024",
        "F25.G": "0",
        "F25.acc": "1",
        "out": "2",
    }
    layers = {
        "t": 1,
        "S2.v": 3,
        "E07.N2": 10,
        "E09.G": 12,
        "E14.kp": 17,
        "E15.N1": 18,
        "E17.G": 20,
        "E18.acc": 21,
        "E22.kp": 25,
        "E23.N1": 26,
        "F25.G": 28,
        "out": 29,
    }
    assert {v: G.nodes[v][keys.LAYER] for v in layers} == layers
    H = G.copy()
    H.graph[keys.OUTPUTS] = [*trace, "E05.A", "E05.B"]
    values = reference.forward(H, [Fraction(-3, 4), Fraction(-1, 4)])
    assert dict(zip(trace, map(str, values))) == trace
    assert values[-2] - values[-1] == 1  # L08: bit 5 of W_1 is set


@pytest.mark.parametrize("mode", ["plain", "delta"])
def test_worked_example_compact_gadgets_are_exact_and_smaller(mode):
    G, data = example(mode, gadgets="compact")
    P, _ = example(mode)
    m, p = measures.measure(G), measures.measure(P)
    assert evaluate.outputs(G, data) == [mpq(int(v)) for v in EXAMPLE_Y]
    assert m.depth == p.depth and m.width == p.width - 1
    # stage_three_formulas: compact saves n (16c - 18) + 4c - 1 = 35 dense and n (c - 1) = 3 nonzero (n = 3, c = 2)
    assert (m.params_dense, m.params_nonzero) == (p.params_dense - 35, p.params_nonzero - 3)
    claims_hold(G, data)


# ------------------------------------------------------------------ docs/constructions/vardi2022.md section 11: reference sizes


@pytest.fixture(scope="module")
def ten_thousand():
    return dataset.from_arrays(*uniform(10_000, 2, 2))


@pytest.mark.parametrize(
    "mode,row",
    [
        # n, M, rho, depth, width, dense, nonzero, max bits, total bits (section 16, N = 10^4, d = 2, C = 2)
        ("plain", (8, 1250, 28, 237, 2499, 19453, 11229, 232, 857384)),
        ("delta", (11, 910, 20, 236, 1819, 14338, 10832, 231, 690870)),
    ],
)
@pytest.mark.slow
def test_reference_sizes_at_ten_thousand_points(ten_thousand, mode, row):
    G = vardi2022.build(ten_thousand, mode=mode, gadgets="paper")
    m = measures.measure(G)
    o = opts(G)
    assert (o["block_size"], o["blocks"], o["rho"]) == row[:3]
    assert (m.depth, m.width, m.params_dense, m.params_nonzero, m.max_weight_bits, m.total_weight_bits) == row[3:]
    claims_hold(G, ten_thousand)
    compact = measures.measure(vardi2022.build(ten_thousand, mode=mode))
    assert compact.params_dense <= m.params_dense and compact.params_nonzero <= m.params_nonzero
    assert compact.params_dense < 3 * 10_000 + 2 - 1  # smaller than the trivial interpolant (section 14)


@pytest.mark.slow
def test_ten_thousand_points_exact(ten_thousand):
    G = vardi2022.build(ten_thousand)
    exact_everywhere(G, ten_thousand)
    oracle_agrees(G, ten_thousand, points=3)


# ------------------------------------------------------------------ certification on random data


def _check_structure(cert: dict, stage2: str) -> None:
    o, s = cert["construction"]["options"], cert["structure"]
    assert o["built"] == "vardi2022"
    n, M, P = o["block_size"], o["blocks"], o["rho"] + o["c"]
    R = 0 if M == 1 else 1 if stage2 == "wide" else M - 1
    assert s["depth"] == n * P + o["rho1"] - o["rho"] + R + 4
    assert o["group"] == (1 if stage2 == "narrow" else None)
    assert s["width"] <= (max(2 * M - 1, 8) if stage2 == "wide" else 8)  # narrow g = 1: constant width
    assert len(o["direction"]) == cert["dataset"]["d"] and all(abs(a) <= 2**15 for a in o["direction"])


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("stage2", ["wide", "narrow"])
@pytest.mark.parametrize("mode", ["plain", "delta"])
@pytest.mark.parametrize("C", [2, 10])
@pytest.mark.parametrize("d", [1, 2, 10])
@pytest.mark.slow
def test_certified_on_random_data_100(tmp_path, d, C, mode, stage2, seed):
    X, y = uniform(100, d, C, seed=10 * d + C + seed)
    cert, G, data = certify(tmp_path, X, y, build_with(mode=mode, stage2=stage2, seed=seed))
    assert_certified(cert, 100)
    _check_structure(cert, stage2)
    assert cert["construction"]["options"]["seed"] == seed


@pytest.mark.parametrize(
    "d,C,mode,stage2,seed",
    [
        (1, 2, "plain", "narrow", 0),
        (2, 10, "delta", "wide", 0),
        (2, 2, "plain", "wide", 1),
        (10, 10, "delta", "wide", 1),
    ],
)
@pytest.mark.slow
def test_certified_on_random_data_1000(tmp_path, d, C, mode, stage2, seed):
    X, y = uniform(1000, d, C, seed=d + C + seed)
    cert, G, data = certify(tmp_path, X, y, build_with(mode=mode, stage2=stage2, seed=seed), sample=200)
    assert_certified(cert, 1000)
    _check_structure(cert, stage2)
    assert cert["construction"]["options"]["block_size"] >= 3
    oracle_agrees(G, data, points=3)


@pytest.mark.parametrize(
    "N,kw",
    [
        (300, {"stage2": "narrow", "group": 3, "gadgets": "paper"}),
        (300, {"minimize": "nonzero", "mode": "plain"}),
        (300, {"mode": "plain", "block": 7, "stage2": "narrow", "group": 2}),
        (30, {"block": 50}),
        (30, {"block": 30, "mode": "plain", "stage2": "narrow"}),
    ],
)
@pytest.mark.slow
def test_certified_with_other_options(tmp_path, N, kw):
    X, y = uniform(N, 3, 5, seed=4)
    cert, G, data = certify(tmp_path, X, y, build_with(**kw))
    assert_certified(cert, N)
    o = cert["construction"]["options"]
    if "block" in kw:
        assert o["block_size"] == min(kw["block"], N)
        assert o["blocks"] == -(-N // o["block_size"])
    if "group" in kw:
        assert o["group"] == kw["group"] and cert["structure"]["width"] <= max(2 * kw["group"] + 3, 8)
    if o["blocks"] == 1:  # no staircase: depth n P + 4 (section 6)
        assert cert["structure"]["depth"] == N * (o["rho"] + o["c"]) + o["rho1"] - o["rho"] + 4


# ------------------------------------------------------------------ depth caps (docs/constructions/vardi2022.md section 7)


def _best_under_cap(data, mode: str, L: int):
    """By the exact shape counts (tested below): the smallest dense count over section 12's scan with depth <= L."""
    line = spread_line(data, 0)
    sorted_keys = [line.keys[i] for i in line.order]
    c = (int(max(data.labels) - min(data.labels))).bit_length()
    fields = [int(data.labels[i] - min(data.labels)) for i in line.order]
    shapes = [
        vardi2022.choose_shape(
            data.d,
            data.n,
            c,
            sorted_keys,
            fields,
            mode=mode,
            group=None,
            gadgets="compact",
            minimize="dense",
            depth_cap=None,
            block=n,
        )
        for n in range(1, data.n + 1)
    ]
    P1 = (shapes[0].rho if mode == "plain" else 1) + c
    scan = shapes[: min(data.n, int(6 * (data.n / P1) ** 0.5) + 6)]
    fits = [counts(s)[0] for s in scan if s.depth <= L]
    return min(fits) if fits else None


def _structure(G) -> list:
    return sorted((str(v), G.nodes[v][keys.LAYER], str(G.nodes[v].get(keys.BIAS))) for v in G) + sorted(
        (str(u), str(v), str(w)) for u, v, w in G.edges(data=keys.WEIGHT)
    )


def test_depth_cap_on_random_data_falls_back_to_the_trivial_network():
    X, y = uniform(1000, 2, 2)
    data = dataset.from_arrays(X, y)
    trivial_dense = 3 * 1000 + 2 + 2  # the dyadic zig-zag on t: N ReLUs
    nets = []
    for L in (20, 40, 80, 200):
        G = vardi2022.build(data, depth=L)
        m = claims_hold(G, data)
        assert m.depth <= L
        # at N = 1000 even the unconstrained delta network (3633 dense, section 16) is larger than 3N + d + 2
        assert opts(G)["built"] == "trivial" and opts(G)["depth_cap"] == L
        assert (m.depth, m.width, m.params_dense) == (3, 1000, trivial_dense)
        nets.append(G)
    assert all(_structure(G) == _structure(nets[0]) for G in nets[1:])  # the same network for every cap
    exact_everywhere(nets[0], data)


@pytest.mark.parametrize(
    "mode,L,built,n",
    [
        ("delta", 20, "trivial", None),
        ("delta", 25, "vardi2022", 5),
        ("delta", 30, "vardi2022", 6),
        ("delta", 40, "vardi2022", 7),
        ("delta", 200, "vardi2022", 7),
        ("plain", 40, "trivial", None),
        ("plain", 80, "trivial", None),
    ],
)
@pytest.mark.slow
def test_depth_cap_picks_the_best_block_size_that_fits(mode, L, built, n):
    data = dataset.from_arrays(*jittered_line(1000))
    G = vardi2022.build(data, depth=L, mode=mode)
    m = claims_hold(G, data)
    assert m.depth <= L and opts(G)["built"] == built and opts(G).get("block_size") == n
    best = _best_under_cap(data, mode, L)
    if built == "trivial":
        assert best is None or best > 3 * data.n + data.d + 2
    else:
        assert m.params_dense == best <= 3 * data.n + data.d + 2
    if built == "vardi2022":
        exact_everywhere(G, data)


@pytest.mark.parametrize("L", [0, 1, 2])
def test_depth_cap_below_three_is_refused(L):
    data = dataset.from_arrays(*uniform(50, 2, 3))
    with pytest.raises(UsageError, match="--depth" if L else "positive integer"):
        vardi2022.build(data, depth=L)


def test_depth_cap_one_is_fine_for_a_single_label():
    data = dataset.from_arrays(*uniform(50, 2, 1))
    G = vardi2022.build(data, depth=1)
    assert measures.measure(G).depth == 1 and opts(G)["built"] == "constant"
    assert set(evaluate.outputs(G, data)) == {mpq(1)}


# ------------------------------------------------------------------ shape predictions (docs/constructions/vardi2022.md sections 6-7)


def _dry_run(n: int, rho: int, c: int, mode: str, gadgets: str):
    """Stage III alone on a width-2 Stage II output (t, v), pruned and measured."""
    G = net.new_network(["t", "v"])
    vardi2022.stage_three(
        G, 1, n=n, rho=rho, c=c, C=2**c, H=1, mode=mode, gadgets=gadgets, tt=Affine.of("t"), v=Affine.of("v"), y0=0
    )
    prune(G)
    return measures.measure(G)


COUNT_DATA = {C: dataset.from_arrays(*uniform(60, 3, C, seed=C)) for C in (2, 5)}


@pytest.mark.parametrize("C", [2, 5])
@pytest.mark.parametrize("stage2,group", [("wide", None), ("narrow", 1), ("narrow", 3)])
@pytest.mark.parametrize("mode", ["plain", "delta"])
@pytest.mark.slow
def test_counts_predict_the_measured_sizes(mode, stage2, group, C):
    data = COUNT_DATA[C]
    for n, gadgets in itertools.product([1, 2, 3, 5, 8, 20, 60], ["paper", "compact"]):
        G = vardi2022.build(data, mode=mode, stage2=stage2, group=group, gadgets=gadgets, block=n)
        o, m = opts(G), measures.measure(G)
        s = vardi2022.shape_of(o, data.d, data.n)
        assert (s.M, s.P, s.T) == (o["blocks"], o["rho"] + o["c"], n * (o["rho"] + o["c"]) + o["rho1"] - o["rho"])
        dense, nonzero = counts(s, o["y0"])
        assert (s.depth, dense) == (m.depth, m.params_dense), (n, gadgets)
        if s.carries_e and n == 1:
            # documented upper bound: each zero jump W_j - W_(j-1) drops two edges, H = alpha_1 one bias;
            # with one point per block W_j = 2^c + label field, so equal neighbouring labels give zero jumps
            line = spread_line(data, 0)
            ys = [data.labels[i] for i in line.order]
            zero_jumps = sum(a == b for a, b in zip(ys, ys[1:]))
            assert nonzero - m.params_nonzero == 2 * zero_jumps + (o["H"] == line.keys[line.order[0]] - 1)
        else:
            assert nonzero == m.params_nonzero, (n, gadgets)


@pytest.mark.parametrize("mode", ["plain", "delta"])
@pytest.mark.parametrize("gadgets", ["paper", "compact"])
@pytest.mark.slow
def test_stage_three_counts_equal_full_dry_runs(mode, gadgets):
    """n <= 4 are dry runs; n >= 5 is extrapolated from chunk 3 and must agree with a full dry run."""
    for n, rho, c in itertools.product(range(1, 10), [1, 2, 5], [1, 2, 3]):
        m = _dry_run(n, rho, c, mode, gadgets)
        assert stage_three_counts(n, rho, c, mode, gadgets) == (m.params_dense, m.params_nonzero, m.depth), (n, rho, c)


@pytest.mark.parametrize("stage2,group", [("wide", None), ("narrow", 1), ("narrow", 3)])
@pytest.mark.parametrize("mode", ["plain", "delta"])
@pytest.mark.slow
def test_extrapolated_counts_match_real_builds_with_many_points_per_block(mode, stage2, group):
    data = dataset.from_arrays(*uniform(240, 2, 6, seed=9))
    for n in (5, 6, 9, 13):
        G = vardi2022.build(data, mode=mode, stage2=stage2, group=group, block=n, gadgets="paper")
        o, m = opts(G), measures.measure(G)
        s = vardi2022.shape_of(o, 2, 240)
        assert counts(s, o["y0"]) == (m.params_dense, m.params_nonzero) and s.depth == m.depth, n


@pytest.mark.parametrize("mode", ["plain", "delta"])
@pytest.mark.slow
def test_section_11_closed_forms_match_dry_runs(mode):
    """docs/constructions/vardi2022.md section 6's Stage III table (paper gadgets, n >= 2, rho >= 2) and widths 7 / 8 for n >= 3."""
    for n, rho, c in itertools.product(range(2, 8), [2, 3, 6], [1, 2, 3, 4]):
        if mode == "plain":
            b = 42 * rho + 55 if c == 1 else 42 * rho + 72 * c - 19
            S3 = n * b - 12 * rho - 60 if c == 1 else n * b - 12 * rho - 32 * c - 32 + (c == 2)
            nz = n * (16 * rho + 18 * c + 5) - rho - 2 * c - 9
        else:
            b = 30 * rho + 65 if c == 1 else 30 * rho + 72 * c - 9
            S3 = n * b - 10 * rho - 58 if c == 1 else n * b - 10 * rho - 32 * c - 31 + (c == 2)
            nz = n * (15 * rho + 18 * c + 8) - rho - 2 * c - 11
        m = _dry_run(n, rho, c, mode, "paper")
        assert (m.params_dense, m.params_nonzero + 1) == (S3, nz), (n, rho, c)  # + the output's constant 1
        assert m.depth == n * (rho + c) + 2
        if n >= 3:
            assert m.width == (7 if c == 1 else 8)
        for gadgets in ("paper", "compact"):
            dense, nonzero = vardi2022.stage_three_formulas(mode, gadgets, c)
            values = {s: {"n": n, "rho": rho, "c": c}[s.name] for s in dense.free_symbols | nonzero.free_symbols}
            g = _dry_run(n, rho, c, mode, gadgets) if gadgets == "compact" else m
            assert (int(dense.subs(values)), int(nonzero.subs(values))) == (g.params_dense, g.params_nonzero)


@pytest.mark.parametrize("mode,minimize", [("plain", "dense"), ("delta", "dense"), ("plain", "nonzero")])
@pytest.mark.slow
def test_block_size_minimizes_the_measured_count(mode, minimize):
    """Brute force: every n of section 12's scan built and measured; the automatic choice is the best."""
    data = dataset.from_arrays(*uniform(80, 2, 3, seed=2))
    G = vardi2022.build(data, mode=mode, minimize=minimize)
    o = opts(G)
    P1 = (o["rho"] if mode == "plain" else 1) + o["c"]
    scan = range(1, min(data.n, int(6 * (data.n / P1) ** 0.5) + 6) + 1)
    measured = {}
    for n in scan:
        m = measures.measure(vardi2022.build(data, mode=mode, block=n))
        measured[n] = (m.params_dense, m.params_nonzero) if minimize == "dense" else (m.params_nonzero, m.params_dense)
    best = min(measured.values())
    assert o["block_size"] == min(n for n, v in measured.items() if v == best)


def test_minimize_nonzero_in_delta_mode_finds_the_smallest_nonzero_count():
    data = dataset.from_arrays(*uniform(80, 2, 3, seed=2))
    chosen = measures.measure(vardi2022.build(data, mode="delta", minimize="nonzero")).params_nonzero
    assert chosen <= measures.measure(vardi2022.build(data, mode="delta", block=1)).params_nonzero


# ------------------------------------------------------------------ labels


def test_non_integer_labels_are_refused_and_named():
    X = np.array([[0, 0], [0, 0], [1, 0], [2, 1], [3, 3]], dtype=float)
    data = dataset.from_arrays(X, np.array([1, 1, 2, 2.5, 0.25]))  # row 1 merges into row 0
    problems = vardi2022.check(data, {})
    assert problems == ["vardi2022 needs integer labels; 2 are not: point 3 (label 2.5), point 4 (label 0.25)"]
    with pytest.raises(PreconditionError, match=r"point 3 \(label 2.5\)"):
        vardi2022.build(data)
    assert vardi2022.check(dataset.from_arrays(X[:3], np.array([1.0, 1.0, 2.0])), {}) == []


@pytest.mark.parametrize("label,d", [(4, 2), (0, 3), (-5, 1)])
def test_one_label_gives_the_constant_network(label, d):
    X = np.random.default_rng(0).uniform(-1, 1, (40, d))
    data = dataset.from_arrays(X, np.full(40, label))
    G = vardi2022.build(data)
    m = claims_hold(G, data)
    assert (m.depth, m.width, m.neurons, m.params_dense, m.params_nonzero) == (1, 0, 1, d + 1, int(label != 0))
    assert G.number_of_edges() == 0 and G.nodes["out"][keys.BIAS] == label
    assert G.nodes["out"][keys.ACTIVATION] == keys.IDENTITY
    assert opts(G)["built"] == "constant"
    assert set(evaluate.outputs(G, data)) == {mpq(label)}


@pytest.mark.parametrize("mode", ["plain", "delta"])
@pytest.mark.slow
def test_offset_labels_are_exact(tmp_path, mode):
    rng = np.random.default_rng(3)
    X, y = rng.uniform(-1, 1, (300, 2)), rng.choice([-7, 5, 100], 300)
    cert, G, data = certify(tmp_path, X, y, build_with(mode=mode))
    assert_certified(cert, 300)
    o = cert["construction"]["options"]
    assert (o["y0"], o["C"], o["c"]) == (-7, 108, 7)
    assert G.nodes["out"][keys.BIAS] == -7
    oracle_agrees(G, data, points=10)


# ------------------------------------------------------------------ degenerate data


def _floor(q) -> int:
    return int(q.numerator) // int(q.denominator)


def _spread_ok(data) -> None:
    """Section 4's guarantees: t >= 2, min t in [2, 3), sorted gaps >= 2, keys = floor(t) two apart."""
    line = spread_line(data, 0)
    ts = [line.t[i] for i in line.order]
    ks = [line.keys[i] for i in line.order]
    assert 2 <= ts[0] < 3
    assert all(b - a >= 2 for a, b in zip(ts, ts[1:])) and all(b - a >= 2 for a, b in zip(ks, ks[1:]))
    assert all(k == _floor(t) for k, t in zip(ks, ts))


def test_one_point_is_the_constant_network():
    data = dataset.from_arrays(np.array([[0.5, 1.0]]), np.array([3]))
    for mode in ("plain", "delta"):
        G = vardi2022.build(data, mode=mode)
        assert measures.measure(G).depth == 1 and evaluate.outputs(G, data) == [mpq(3)]
        claims_hold(G, data)


@pytest.mark.parametrize("case", ["one point", "one label", "depth-capped trivial"])
def test_verify_certifies_the_constant_and_trivial_networks(tmp_path, case):
    if case == "one point":
        X, y, kw = np.array([[0.5, 1.0]]), np.array([3]), {}
    elif case == "one label":
        X, y, kw = np.array([[0.5, 1.0], [0.25, 2.0]]), np.array([4, 4]), {}
    else:
        X, y = uniform(200, 2, 2)
        kw = {"depth": 40}
    cert, G, data = certify(tmp_path, X, y, build_with(**kw))
    assert_certified(cert, data.n)


@pytest.mark.parametrize("stage2", ["wide", "narrow"])
@pytest.mark.parametrize("mode", ["plain", "delta"])
def test_two_points(tmp_path, mode, stage2):
    cert, G, data = certify(
        tmp_path, np.array([[0.5, 1.0], [0.25, 2.0]]), np.array([3, 4]), build_with(mode=mode, stage2=stage2)
    )
    assert_certified(cert, 2)
    o = cert["construction"]["options"]
    assert (o["block_size"], o["blocks"], o["C"], o["c"]) == (1, 2, 2, 1)


def _clustered():
    rng = np.random.default_rng(5)
    base = rng.uniform(-1, 1, (30, 3))
    X = np.concatenate([base, base + 1e-9 * np.eye(3)[0], [base[0] + 1e-9 * np.eye(3)[1]]])
    return X, rng.integers(0, 3, len(X))


def _collinear():
    T = np.linspace(-1, 1, 50)
    return np.stack([T, 2 * T + 0.5, -T], 1), np.arange(50) % 4


DEGENERATE = {
    "clustered 1e-9": _clustered,
    "collinear": _collinear,
    "integer grid d=1": lambda: (np.arange(-100, 100).reshape(-1, 1), (np.arange(200) * 7) % 5),
    "2-D lattice": lambda: (np.array([[i % 9, i // 9] for i in range(81)]), (np.arange(81) * 7) % 5 - 2),
}


@pytest.mark.parametrize("stage2", ["wide", "narrow"])
@pytest.mark.parametrize("mode", ["plain", "delta"])
@pytest.mark.parametrize("case", DEGENERATE)
@pytest.mark.slow
def test_degenerate_data(tmp_path, case, mode, stage2):
    X, y = DEGENERATE[case]()
    cert, G, data = certify(tmp_path, X, y, build_with(mode=mode, stage2=stage2))
    assert data.n == len(X)
    assert_certified(cert, len(X))
    _spread_ok(data)
    if case == "clustered 1e-9":
        # the 1e-9 separation costs bits (about log2(r / delta) = 31 more), not correctness
        assert cert["construction"]["options"]["rho"] >= 30 or mode == "delta"


@pytest.mark.parametrize("mode", ["plain", "delta"])
@pytest.mark.slow
def test_sklearn_digits(mode):
    """1797 points in d = 64 (exactly, all labels; the kernel's d = 64 closest-pair check is left out for time)."""
    X, y = skdata.load_digits(return_X_y=True)
    data = dataset.from_arrays(X, y)
    assert (data.n, data.d, data.rows) == (1797 - len(data.merged), 64, 1797)
    G = vardi2022.build(data, mode=mode)
    exact_everywhere(G, data)
    claims_hold(G, data)
    oracle_agrees(G, data, points=3)
    o = opts(G)
    assert (o["y0"], o["C"], o["c"], o["built"]) == (0, 10, 4, "vardi2022")


@pytest.mark.slow
def test_sklearn_digits_with_duplicates_merged(tmp_path):
    X, y = skdata.load_digits(return_X_y=True)
    X, y = np.concatenate([X[:200], X[:50]]), np.concatenate([y[:200], y[:50]])
    cert, G, data = certify(tmp_path, X, y, build_with(mode="plain"))
    assert len(data.merged) == 50 and data.n == 200
    assert_certified(cert, 200)


# ------------------------------------------------------------------ determinism and options


def test_same_seed_same_bytes_and_the_direction_is_recorded():
    data = dataset.from_arrays(*uniform(200, 3, 4, seed=8))
    first = netjson.to_bytes(vardi2022.build(data, seed=7))
    G = vardi2022.build(data, seed=7)
    assert netjson.to_bytes(G) == first
    line = spread_line(data, 7)
    o = opts(G)
    assert o["direction"] == list(line.a) and o["seed"] == 7 and o["draws"] == line.draws >= 16
    assert o["scale"] == str(line.s) and o["shift"] == line.beta
    assert json.loads(first)["graph"][keys.CONSTRUCTION]["options"]["direction"] == list(line.a)
    other = vardi2022.build(data, seed=8)
    assert opts(other)["direction"] == list(spread_line(data, 8).a) != o["direction"]
    # a forced direction reproduces the network without the search
    forced = vardi2022.build(data, seed=123, direction=o["direction"])
    assert opts(forced)["direction"] == o["direction"] and opts(forced)["draws"] == 0
    assert measures.measure(forced) == measures.measure(G)


def test_bad_options_are_usage_errors():
    data = dataset.from_arrays(*uniform(30, 2, 2))
    for kw, text in [
        ({"mode": "fancy"}, "--mode must be one of plain, delta, got 'fancy'"),
        ({"stage2": "tall"}, "--stage2"),
        ({"gadgets": "x"}, "--gadgets"),
        ({"minimize": "x"}, "--minimize"),
        ({"block": 0}, "--block takes a positive integer"),
        ({"depth": "abc"}, "--depth takes"),
        ({"stage2": "narrow", "group": -1}, "--group"),
    ]:
        with pytest.raises(UsageError, match=text.replace("(", r"\(")):
            vardi2022.build(data, **kw)
    assert opts(vardi2022.build(data, group=4))["group"] is None  # group only means something for narrow


def test_registered_with_its_options():
    c = registry.get("vardi2022")
    assert c is vardi2022.CONSTRUCTION
    assert set(c.options) == {"seed", "mode", "stage2", "group", "depth", "gadgets", "minimize", "block"}


# ------------------------------------------------------------------ command line


def _run(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"netcert {' '.join(map(str, args))} crashed") from result.exception
    return result


@pytest.fixture
def npz(tmp_path):
    X, y = uniform(300, 2, 3, seed=6)
    np.savez(tmp_path / "data.npz", X=X, y=y)
    return tmp_path / "data.npz"


def test_cli_build_narrow_plain_with_a_depth_cap(npz, tmp_path):
    out = tmp_path / "net.json"
    result = _run(
        "build",
        npz,
        "--construction",
        "vardi2022",
        "--mode",
        "plain",
        "--stage2",
        "narrow",
        "--depth",
        "300",
        "-o",
        out,
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{out}: vardi2022 on 300 points (d = 2): depth ")
    G = netjson.read(out)
    data = dataset.load(npz)
    o = opts(G)
    assert (o["mode"], o["stage2"], o["group"], o["depth_cap"]) == ("plain", "narrow", 1, 300)
    # at N = 300 every plain narrow block size is larger than 3N + d + 2: the depth-3 interpolant is built
    assert o["built"] == "trivial" and measures.measure(G).depth == 3 <= 300
    exact_everywhere(G, data)
    claims_hold(G, data)


def test_cli_build_then_verify_certifies(npz, tmp_path):
    out = tmp_path / "net.json"
    assert (
        _run(
            "build",
            npz,
            "--construction",
            "vardi2022",
            "--mode",
            "plain",
            "--stage2",
            "narrow",
            "--block",
            "4",
            "-o",
            out,
        ).exit_code
        == 0
    )
    result = _run("verify", out, "--data", npz, "-o", tmp_path / "net.cert.json")
    assert result.exit_code == 0, result.output
    cert = json.loads((tmp_path / "net.cert.json").read_text())
    assert_certified(cert, 300)
    assert cert["construction"]["options"]["block_size"] == 4


def test_cli_verify_of_a_trivial_fallback(npz, tmp_path):
    out = tmp_path / "net.json"
    assert _run("build", npz, "--construction", "vardi2022", "--depth", "20", "-o", out).exit_code == 0
    assert opts(netjson.read(out))["built"] == "trivial"
    result = _run("verify", out, "--data", npz, "-o", tmp_path / "net.cert.json")
    assert result.exit_code == 0, result.output


def test_cli_bad_mode_is_a_one_line_usage_error(npz, tmp_path):
    result = _run("build", npz, "--construction", "vardi2022", "--mode", "fancy", "-o", tmp_path / "net.json")
    assert result.exit_code == 2
    lines = result.stderr.strip("\n").split("\n")
    assert lines == ["netcert: error: --mode must be one of plain, delta, got 'fancy'"]
    assert not (tmp_path / "net.json").exists()
    result = _run("build", npz, "--construction", "vardi2022", "--depth", "2", "-o", tmp_path / "net.json")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "--depth 2 is too small" in result.stderr
