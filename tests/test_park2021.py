"""park2021 end to end: the worked example of docs/constructions/park2021.md section 10 and reference sizes, the folds' corrected step forms,
the cost model, Delta computed exactly, certification, degenerate data, determinism and the CLI."""

from __future__ import annotations

import itertools
import math
import random
from fractions import Fraction

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn import datasets as skdata

from netcert import dataset
from netcert.engine import reference
from netcert.engine import evaluate
from netcert.cli import cli
from netcert.constructions import park2021, registry
from netcert.errors import PreconditionError, UsageError
from netcert.exact import mpq
from netcert.formats import netjson
from netcert.ir import keys, measures

import cases
from cases import certify, opts, oracle_agrees

# ------------------------------------------------------------------ helpers


def reference_data(N: int, d: int, C: int):
    """docs/constructions/park2021.md section 11's data and seed: X ~ U[0, 1)^d (float64), y ~ U{1..C}."""
    seed = 1000003 * N + 101 * d + C
    rng = np.random.default_rng(seed)
    X = rng.random((N, d))
    return X, rng.integers(1, C + 1, N), seed


def claims_hold(G, data) -> measures.Measures:
    """The exact size formulas against the measures (no kernel)."""
    return cases.claims_hold(G, data, park2021.size)


def assert_certified(cert: dict, n: int) -> None:
    assert cert["verdict"] == "certified", cert["checker"]["failures"] or cert["interpolation"]["mismatches"]
    assert cert["interpolation"]["exact"] and cert["interpolation"]["points_checked"] == n
    assert not cert["checker"]["failures"]
    c = cert["construction"]
    assert c["name"] == "park2021" and c["size"]["holds"]
    assert set(c["size"]["claims"]) == {"depth", "width", "params_dense", "params_nonzero"}
    assert c["theorem"]["bound"]["value"] > 0 and "ceil_root(D*N**2, 3)" in c["theorem"]["bound"]["formula"]


def build_with(**kw):
    return lambda ds: park2021.build(ds, **kw)


# ------------------------------------------------------------------ docs/constructions/park2021.md section 10: the worked example

EXAMPLE_X = np.array([(0, 0), (1, 3), (2, 6), (5, 1), (3, 4), (7, 7), (4, 2), (6, 5)]) / 8
EXAMPLE_Y = np.array([1, 2, 3, 1, 2, 3, 2, 1])


def example(variant: str = "counter"):
    data = dataset.from_arrays(EXAMPLE_X, EXAMPLE_Y)
    return park2021.build(data, direction=(1, 5), shifts="smallest", block=4, variant=variant), data


@pytest.mark.parametrize(
    "variant,sizes",
    [
        # depth, width, dense, nonzero, max bits, total bits: the reference figures for counter
        # and blocks; width3 has none (measured here, then pinned)
        ("counter", (20, 9, 460, 300, 11, 1437)),
        ("blocks", (20, 9, 618, 349, 11, 1472)),
        ("width3", (49, 3, 577, 249, 11, 858)),
    ],
)
def test_worked_example_sizes_and_outputs(variant, sizes):
    G, data = example(variant)
    m = claims_hold(G, data)
    assert (m.depth, m.width, m.params_dense, m.params_nonzero, m.max_weight_bits, m.total_weight_bits) == sizes
    assert evaluate.outputs(G, data) == [mpq(int(v)) for v in EXAMPLE_Y]
    oracle_agrees(G, data, points=8)
    o = opts(G)
    assert (o["direction"], o["k"], o["p_min"], o["K0"], o["K_f"]) == ([1, 5], 0, "0", 43, 17)
    assert (o["A"], o["B"], o["D"]) == (5, 4, 2)
    assert o["folds"] == [{"kind": "halving", "T": 22, "K": 17, "steps": 2, "shifts": [3]}]


def test_worked_example_layers_and_first_layer():
    """Section 15: ReLU layer sizes 2,5,9,2,4,4,4,4,6,4,...,4,1 and the first layer ReLU(8x1 + 40x2 - c)."""
    G, _ = example()
    sizes = measures.layer_sizes(G)
    assert [sizes[layer] for layer in range(21)] == [2, 5, 9, 2] + [4, 4, 4, 4] + [6, 4, 4, 4] * 3 + [1]
    first = sorted(v for v, layer in G.nodes(data=keys.LAYER) if layer == 1)
    assert sorted(G.nodes[v][keys.BIAS] for v in first) == [-41, -40, -22, -21, 0]
    assert all({u: w for u, _, w in G.in_edges(v, data=keys.WEIGHT)} == {"x[0]": 8, "x[1]": 40} for v in first)
    # S2: z' = z - 19 [z >= 22] - 22 [z >= 41]; S4 bypass w = 1/8 + 1/8 s1 - 1/4 s2 + 9/64 s3 + 7/64 s4
    assert G.nodes["S4.w"][keys.BIAS] == mpq(1, 8)
    jumps = [G.edges[f"S4.s[{a}].P", "S4.w"][keys.WEIGHT] for a in range(1, 5)]
    assert jumps == [mpq(1, 8), mpq(-1, 4), mpq(9, 64), mpq(7, 64)]
    assert G.nodes["out"][keys.BIAS] == 1 and G.edges["S5[8].f.v", "out"][keys.WEIGHT] == 1024


@pytest.mark.parametrize("point,w,xi", [(2, "9/64", 1), (5, "1/8", 1)])
def test_worked_example_traces_of_p3_and_p6(point, w, xi):
    """Section 15's traces: p3 goes to word 3 slot 1, p6 to word 0 slot 1; both read "10" = 2, so F = 3."""
    G, data = example()
    H = G.copy()
    H.graph[keys.OUTPUTS] = ["S4.w", "S4.xi", "out"]
    x = [Fraction(int(v.numerator), int(v.denominator)) for v in data.point(point)]
    assert [str(v) for v in reference.forward(H, x)] == [w, str(xi), "3"]


def test_worked_example_delta_and_lemma_4_bound():
    """Diameter |p1 p6| = 7 sqrt 2 / 8, min distance |p4 p7| = sqrt 2 / 8: Delta = 7; Lemma 4: 398 >= K0 = 43."""
    G, data = example()
    assert park2021.max_sq_diameter(data) == mpq(98, 64)
    assert park2021.delta_sq(data) == 49
    v = park2021.size(G, data).variables
    assert (v["delta_sq_num"], v["delta_sq_den"], v["K0_lemma4_bound"], v["K0"]) == (49, 1, 398, 43)


# ------------------------------------------------------------------ docs/constructions/park2021.md section 11: reference sizes

REFERENCE = {  # (variant, N, d, C): depth, width, dense, nonzero, max bits, total bits
    ("counter", 100, 2, 2): (27, 131, 1210, 972, 69, 35772),
    ("counter", 1000, 2, 10): (167, 819, 7568, 6117, 81, 293458),
    ("counter", 1000, 10, 10): (159, 859, 7674, 6283, 77, 300845),
    ("blocks", 1000, 2, 2): (73, 533, 5280, 4161, 69, 144258),
    ("blocks", 100, 10, 10): (36, 205, 1928, 1509, 70, 50963),
    ("width3", 100, 2, 10): (331, 3, 3961, 1714, 70, 30944),
    ("width3", 1000, 10, 2): (1007, 3, 12097, 5150, 73, 109660),
    ("counter", 10000, 2, 2): (346, 2379, 22132, 18334, 166, 1306406),
    ("blocks", 10000, 2, 2): (304, 2729, 24866, 19407, 145, 1213547),
    ("width3", 10000, 2, 2): (4081, 3, 48949, 20444, 250, 782358),
}


@pytest.mark.parametrize("case", list(REFERENCE), ids=lambda c: "-".join(map(str, c)))
@pytest.mark.slow
def test_reference_sizes_are_reproduced_exactly(case):
    """Same data, seed and rules as the reference implementation: every size column agrees."""
    variant, N, d, C = case
    X, y, seed = reference_data(N, d, C)
    data = dataset.from_arrays(X, y)
    G = park2021.build(data, seed=seed, variant=variant)
    m = claims_hold(G, data)
    measured = (m.depth, m.width, m.params_dense, m.params_nonzero, m.max_weight_bits, m.total_weight_bits)
    assert measured == REFERENCE[case]


# ------------------------------------------------------------------ folds, shifts and the cost model


@pytest.mark.parametrize("kind", ["halving", "piece"])
def test_fold_step_form_is_a_shift_mod_T_on_every_integer(kind):
    """The corrected Eq. (5)/(8) (section 14.3): for every integer f in [T, K) of piece i,
    f + sum coef [f >= theta] = (f + b_i) mod T, and f itself for f < T (data or not)."""
    rng = random.Random(7)
    N, K = 40, 3000 if kind == "piece" else 9000
    floors = sorted(rng.sample(range(K), N))
    K = floors[-1] + 1
    T = -(-K // 2) if kind == "piece" else max(-(-K // 2), N * N // 4 + 1)
    chunk = T // N if kind == "piece" else N
    f, new = park2021.fold(floors, K, T, chunk, kind, random.Random(3), "random")
    assert len(set(new)) == N and max(new) < T and f.K == max(new) + 1
    hi = [x for x in floors if x >= T]
    starts = [T] + [hi[i] for i in range(chunk, len(hi), chunk)]
    for x in range(K):
        moved = x + sum(c for theta, c in f.steps if x >= theta)
        piece = sum(1 for s in starts if x >= s)
        assert moved == (x if piece == 0 else (x + f.shifts[piece - 1]) % T), x
    assert all(theta < K and c for theta, c in f.steps)
    assert [theta for theta, _ in f.steps] == sorted({theta for theta, _ in f.steps})


def test_shift_rule_random_then_smallest():
    used, piece, T = {0, 1, 2, 5}, [10, 11], 12
    valid = [b for b in range(T) if all((p + b) % T not in used for p in piece)]
    assert park2021.choose_shift(piece, used, T, random.Random(0), "smallest") == valid[0]
    assert park2021.choose_shift(piece, used, T, random.Random(0), "random") in valid


def test_best_block_is_the_smallest_minimizer_of_the_cost_model():
    for K, D, variant in itertools.product([1, 2, 17, 500, 4099, 200_000], [1, 2, 4], park2021.VARIANTS):
        top = max(2, 4 * math.isqrt(K)) - 1
        costs = [park2021.block_cost(K, B, D, variant) for B in range(1, top + 1)]
        assert park2021.best_block(K, D, variant) == (costs.index(min(costs)) + 1, min(costs))


@pytest.mark.parametrize("variant", park2021.VARIANTS)
def test_fold_stop_and_block_size_follow_the_cost_model(variant):
    """Section 7: S3 stops when T = ceil(K/2) < N or 12 J + 6 + L(T) >= L(K) (width3: 2 J + L3(T) >= L3(K));
    section 8: B = B(K_f), A = ceil(K_f / B); halving folds come first and keep T >= floor(N^2/4) + 1."""
    X, y, seed = reference_data(3000, 2, 10)
    data = dataset.from_arrays(X, y)
    p = park2021.plan(
        data, [int(v) - 1 for v in y], 4, seed=seed, variant=variant, shifts="random", block=None, direction=None
    )
    N, K, T = data.n, p.K, -(-p.K // 2)
    J = -(-sum(1 for f in p.floors if f >= T) // max(T // N, 1))
    assert T < N or not park2021.fold_pays(K, T, J, 4, variant, None)
    assert sorted(p.floors) == sorted(set(p.floors)) and max(p.floors) == K - 1
    assert (p.B, p.A) == (park2021.best_block(K, 4, variant)[0], -(-K // p.B))
    kinds = [f.kind for f in p.folds]
    assert kinds == sorted(kinds) and "piece" in kinds
    Q = N * N // 4 + 1
    assert all(f.T >= Q for f in p.folds if f.kind == "halving")
    assert all(N <= f.T < Q for f in p.folds if f.kind == "piece")
    previous = [p.proj.K0] + [f.K for f in p.folds[:-1]]
    assert all(
        park2021.fold_pays(Kp, f.T, len(f.shifts), 4, variant, None)
        for Kp, f in zip(previous, p.folds)
        if f.kind == "piece"
    )


# ------------------------------------------------------------------ Delta, exactly


def _brute_diameter(data) -> Fraction:
    pts = [[Fraction(int(v.numerator), int(v.denominator)) for v in data.point(i)] for i in range(data.n)]
    return max(sum((a - b) ** 2 for a, b in zip(p, q)) for p, q in itertools.combinations(pts, 2))


def clusters(n_per: int, d: int, C: int, radius: float, seed: int = 0):
    """Tight clusters: points within ``radius`` of 4 random centres in [-1, 1]^d (Delta about 1 / radius)."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-1, 1, (4, d))
    X = np.vstack([c + rng.uniform(-radius, radius, (n_per, d)) for c in centres])
    return X, rng.integers(1, C + 1, len(X))


@pytest.mark.parametrize(
    "make",
    [
        lambda: np.random.default_rng(1).random((300, 3)),
        lambda: np.random.default_rng(2).standard_normal((250, 10)).astype(np.float32),
        lambda: clusters(60, 2, 2, 1e-9)[0],
        lambda: np.random.default_rng(3).random((400, 1)),
    ],
    ids=["uniform-d3", "gauss-d10", "clusters", "d1"],
)
@pytest.mark.slow
def test_diameter_and_delta_are_exact(make):
    X = make()
    data = dataset.from_arrays(X, np.ones(len(X), dtype=int))
    exact = _brute_diameter(data)
    assert park2021.max_sq_diameter(data) == mpq(exact.numerator, exact.denominator)
    sep = min(
        sum((a - b) ** 2 for a, b in zip(data.point(i), data.point(j)))
        for i, j in itertools.combinations(range(data.n), 2)
    )
    assert park2021.delta_sq(data) == mpq(exact.numerator, exact.denominator) / sep


# ------------------------------------------------------------------ certification


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("variant", ["counter", "width3"])
@pytest.mark.parametrize("C", [2, 10])
@pytest.mark.parametrize("d", [2, 10])
@pytest.mark.slow
def test_certified_on_random_data_100(tmp_path, d, C, variant, seed):
    X, y, _ = reference_data(100, d, C)
    cert, G, data = certify(tmp_path, X, y, build_with(variant=variant, seed=seed))
    assert_certified(cert, 100)
    o = cert["construction"]["options"]
    assert (o["seed"], o["variant"]) == (seed, variant)
    assert cert["structure"]["width"] == 3 if variant == "width3" else cert["structure"]["width"] > 3


@pytest.mark.parametrize(
    "d,C,variant,seed",
    [(2, 2, "counter", 0), (10, 10, "counter", 1), (2, 10, "width3", 1), (10, 2, "width3", 0), (2, 10, "blocks", 0)],
)
@pytest.mark.slow
def test_certified_on_random_data_1000(tmp_path, d, C, variant, seed):
    X, y, _ = reference_data(1000, d, C)
    cert, G, data = certify(tmp_path, X, y, build_with(variant=variant, seed=seed), sample=50)
    assert_certified(cert, 1000)
    assert cert["structure"]["depth"] > 70 and cert["structure"]["params_dense"] < 20 * 1000


@pytest.mark.slow
def test_sklearn_digits_exact_everywhere():
    """1797 points in d = 64 (labels 0..9), every point evaluated exactly (the kernel's all-pairs
    d = 64 separation check is left to the certified subset below, for time)."""
    X, y = skdata.load_digits(return_X_y=True)
    data = dataset.from_arrays(X, y)
    G = park2021.build(data)
    ev = evaluate.run(G, data)
    assert ev.exact and ev.points_checked == 1797
    claims_hold(G, data)
    oracle_agrees(G, data, points=2)
    o = opts(G)
    assert (o["y0"], o["C"], o["D"], o["k"]) == (0, 10, 4, 2)  # integer pixels: the min gap G of u.x is in [4, 8)
    assert (park2021.max_sq_diameter(data), park2021.delta_sq(data)) == (5935, mpq(5935, 28))  # min distance^2 28


@pytest.mark.parametrize("variant", ["counter", "width3"])
@pytest.mark.slow
def test_certified_on_digits_with_duplicates_merged(tmp_path, variant):
    X, y = skdata.load_digits(return_X_y=True)
    X, y = np.concatenate([X[:300], X[:50]]), np.concatenate([y[:300], y[:50]])
    cert, G, data = certify(tmp_path, X, y, build_with(variant=variant), sample=100)
    assert len(data.merged) == 50 and data.n == 300
    assert_certified(cert, 300)


def test_certified_on_tight_clusters_with_a_large_delta(tmp_path):
    """Clusters of radius 1e-9 about a unit apart: Delta ~ 10^9 costs halving folds (log Delta), not points."""
    X, y = clusters(50, 2, 3, 1e-9, seed=4)
    cert, G, data = certify(tmp_path, X, y, build_with())
    assert_certified(cert, 200)
    v = cert["construction"]["size"]["variables"]
    assert v["delta_sq_num"] > 10**16 * v["delta_sq_den"]  # Delta > 10^8
    assert mpq(v["delta_sq_num"], v["delta_sq_den"]) == park2021.delta_sq(data)
    assert v["K0"] <= v["K0_lemma4_bound"]
    spread = park2021.build(dataset.from_arrays(*clusters(50, 2, 3, 0.1, seed=4)))
    assert opts(G)["K0"] > 10**6 * opts(spread)["K0"]
    assert len(opts(G)["folds"]) > len(opts(spread)["folds"]) + 15


# ------------------------------------------------------------------ degenerate data and options


@pytest.mark.parametrize("variant", park2021.VARIANTS)
def test_one_point(variant):
    data = dataset.from_arrays(np.array([[0.25, -3.0]]), np.array([5]))
    G = park2021.build(data, variant=variant)
    m = claims_hold(G, data)
    assert evaluate.outputs(G, data) == [mpq(5)]
    o = opts(G)
    assert (o["K0"], o["A"], o["B"], o["D"], o["C"], o["folds"]) == (1, 1, 1, 1, 1, [])
    assert park2021.delta_sq(data) is None and m.depth == 5


@pytest.mark.parametrize("variant", park2021.VARIANTS)
def test_one_label_is_constant(variant):
    X = np.random.default_rng(0).random((30, 2))
    data = dataset.from_arrays(X, np.full(30, -4))
    G = park2021.build(data, variant=variant)
    claims_hold(G, data)
    assert set(evaluate.outputs(G, data)) == {mpq(-4)}
    assert opts(G)["C"] == 1 and opts(G)["zero_jumps"] == opts(G)["A"] - 1


def test_labels_are_offset_by_their_minimum():
    X = np.random.default_rng(1).random((40, 3))
    y = np.random.default_rng(1).integers(-7, -2, 40)
    data = dataset.from_arrays(X, y)
    G = park2021.build(data)
    assert evaluate.outputs(G, data) == [mpq(int(v)) for v in y]
    assert (opts(G)["y0"], opts(G)["C"], opts(G)["D"]) == (int(y.min()), int(y.max() - y.min()) + 1, 3)


def test_one_dimension_and_merged_duplicates():
    X = np.array([[0.5], [0.25], [0.5], [1.0], [-2.0]])
    data = dataset.from_arrays(X, np.array([1, 2, 1, 2, 3]))
    assert data.n == 4
    G = park2021.build(data)
    assert evaluate.outputs(G, data) == [mpq(1), mpq(2), mpq(2), mpq(3)]


def test_non_integer_labels_are_refused_naming_the_points():
    X = np.random.default_rng(2).random((6, 2))
    data = dataset.from_arrays(X, np.array([1.0, 2.5, 3.0, 0.25, 1.0, 2.0]))
    with pytest.raises(PreconditionError, match=r"2 are not: point 1 \(label 2.5\), point 3 \(label 0.25\)"):
        park2021.build(data)
    assert park2021.check(data, {}) and not park2021.check(dataset.from_arrays(X, np.arange(6)), {})


@pytest.mark.parametrize(
    "kw,message",
    [
        ({"variant": "wide"}, "--variant must be one of counter, blocks, width3"),
        ({"shifts": "lucky"}, "--shifts must be one of random, smallest"),
        ({"block": 0}, "--block takes a positive integer, got 0"),
        ({"block": "many"}, "--block takes a positive integer"),
        ({"direction": (1, 1)}, r"park2021: direction \[1, 1\] maps points 0 and 1 to one image"),
        ({"direction": (1, 2, 3)}, "--direction needs 2 integers"),
    ],
)
def test_bad_options_are_usage_errors(kw, message):
    data = dataset.from_arrays(np.array([[0, 1], [1, 0], [2, 2]]), np.array([1, 2, 1]))
    with pytest.raises(UsageError, match=message):
        park2021.build(data, **kw)


@pytest.mark.parametrize("B", [1, 2, 7, 60])
@pytest.mark.slow
def test_a_fixed_block_is_used_and_exact(B):
    X, y, seed = reference_data(200, 2, 4)
    data = dataset.from_arrays(X, y)
    for variant in park2021.VARIANTS:
        G = park2021.build(data, seed=seed, variant=variant, block=B)
        claims_hold(G, data)
        assert opts(G)["B"] == B and opts(G)["A"] == -(-opts(G)["K_f"] // B)
        assert evaluate.outputs(G, data) == [mpq(int(v)) for v in y]


# ------------------------------------------------------------------ determinism, registry, CLI


@pytest.mark.parametrize("variant", ["counter", "width3"])
def test_same_seed_same_bytes(variant):
    X, y, _ = reference_data(300, 3, 5)
    data = dataset.from_arrays(X, y)
    first = netjson.to_bytes(park2021.build(data, seed=11, variant=variant))
    assert netjson.to_bytes(park2021.build(data, seed=11, variant=variant)) == first
    assert netjson.to_bytes(park2021.build(data, seed=12, variant=variant)) != first


def test_registered_with_its_options():
    c = registry.get("park2021")
    assert c is park2021.CONSTRUCTION and set(c.options) == {"seed", "variant", "shifts", "block"}
    assert c.predict is park2021.predict


@pytest.mark.parametrize("N, d, C, seed", [(60, 2, 2, 0), (300, 3, 5, 4)])
def test_predict_is_the_default_builds_nonzero_count(N, d, C, seed):
    X, y, _ = reference_data(N, d, C)
    data = dataset.from_arrays(X, y)
    predicted, options = park2021.predict(data, seed)
    assert options == {}
    assert predicted == measures.measure(park2021.build(data, seed=seed)).params_nonzero
    real = dataset.from_arrays(X, y + 0.5)
    assert park2021.predict(real) is None and park2021.check(real, {})  # refused by check anyway


def test_cli_builds_and_verifies_the_width3_variant(tmp_path):
    X, y, _ = reference_data(150, 2, 3)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    runner = CliRunner()
    net_path = tmp_path / "net.json"
    r = runner.invoke(
        cli,
        ["build", str(tmp_path / "d.npz"), "-c", "park2021", "--variant", "width3", "--seed", "3", "-o", str(net_path)],
    )
    assert r.exit_code == 0, r.output
    assert "park2021 on 150 points" in r.output and "width 3," in r.output
    assert opts(netjson.read(net_path))["variant"] == "width3"
    r = runner.invoke(cli, ["verify", str(net_path), "--data", str(tmp_path / "d.npz"), "--sample", "20", "-q"])
    assert r.exit_code == 0, r.output
    assert "CERTIFIED" in r.output and "park2021: size formulas hold" in r.output
    r = runner.invoke(cli, ["build", str(tmp_path / "d.npz"), "-c", "park2021", "--variant", "deep"])
    assert r.exit_code == 2 and "--variant must be one of counter, blocks, width3" in r.output
    r = runner.invoke(cli, ["build", str(tmp_path / "d.npz"), "-c", "vardi2022", "--variant", "width3"])
    assert r.exit_code == 2 and "vardi2022 has no option --variant" in r.output
