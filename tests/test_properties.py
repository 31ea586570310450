"""Property tests (hypothesis): every evaluator agrees exactly, the two readers agree, and
mutated files never break the command line's contract.

1. Random small networks and datasets (tests/strategies.py): the fast evaluator with every engine
   it can choose (batch-float64, batch-int64 dense and sparse, limb-split, the two-layer collapse,
   the C kernel, the Python sweep, events and straight-line paths, breakpoint tables and the
   rational fallback), the trusted kernel and the Fraction oracle give the same value on every
   point; each engine is asserted to have really run on some of the generated cases.
2. Random .npz and .csv datasets: netcert's reader and the kernel's give the same exact rows
   (the same digest) or both refuse.
3. Random byte mutations of a valid net.json, .json.gz, .npz, .csv and .cert.json: `netcert
   check`, `verify` and `inspect` exit 1 or 3 (0 only where the meaning is intact), never 2,
   never a traceback, at most one `netcert: error:` line on stderr. Every distinct violation
   found is listed in the failure message (not only the first).

Budget: the ``netcert`` profile (derandomized, no example database) keeps this file near 30 s on
one core; benchmarks/fuzz.py runs the same strategies for as long as asked.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from netcert import dataset
from netcert.engine import native
from netcert.engine import evaluate
from netcert.errors import DatasetError
from netcert.ir import network as net
from netcert.kernel import read as kread

import strategies

settings.register_profile(
    "netcert",
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
PROFILE = settings.get_profile("netcert")
EVALUATION_EXAMPLES = 300  # about 12 s
READER_EXAMPLES = 150  # per format, about 2 s
MUTATION_EXAMPLES = 120  # per target, about 1-3 s


# -- 1. every engine, the kernel and the oracle ---------------------------------------------------

# The engines (and compiled step kinds) the generated cases must reach, as check_evaluation names them.
ENGINES = {
    "batch-float64",
    "batch-int64",
    "batch-int64(sparse)",
    "limb-split",
    "sign-filter",
    "collapse",
    "sweep",
    "events",
    "straight line",
    "breakpoint table",
    "rational fallback",
    "auto: per point",
}


@pytest.mark.slow
def test_every_engine_the_kernel_and_the_oracle_agree_on_every_output():
    reached: Counter[str] = Counter()

    @settings(PROFILE, max_examples=EVALUATION_EXAMPLES)
    @given(case=strategies.evaluation_cases())
    def agree(case):
        reached.update(strategies.check_evaluation(case))

    agree()
    wanted = ENGINES | ({"C kernel"} if native.library() is not None else set())
    assert wanted <= set(reached), f"engines never reached: {sorted(wanted - set(reached))} (reached: {reached})"


@pytest.mark.slow
def test_the_strategies_draw_what_the_engines_need():
    """The regimes behind the engines: big rationals, unrelated denominators, float and integer inputs."""
    seen: Counter[str] = Counter()

    @settings(PROFILE, max_examples=60)
    @given(case=strategies.evaluation_cases())
    def draw(case):
        bias = [b for _, b in case.G.nodes(data="bias") if b is not None]
        weights = [w for _, _, w in case.G.edges(data="weight")] + bias
        seen[case.regime] += 1
        seen["hundreds of bits"] += any(max(abs(w.numerator), w.denominator).bit_length() >= 100 for w in weights)
        seen["zero bias"] += any(b == 0 for b in bias)
        seen["negative bias"] += any(b < 0 for b in bias)
        seen["not layered"] += any(case.G.nodes[v]["layer"] != case.G.nodes[u]["layer"] + 1 for u, v in case.G.edges)
        seen["float inputs"] += any(s > 1 for s in case.data.scale)
        seen["integer inputs"] += all(s == 1 for s in case.data.scale)
        seen["integer ids"] += all(isinstance(v, int) for v in case.G.nodes)

    draw()
    for what in (
        "tiny",
        "int64",
        "limbs",
        "huge",
        "unrelated",
        "hundreds of bits",
        "zero bias",
        "negative bias",
        "not layered",
        "float inputs",
        "integer inputs",
        "integer ids",
    ):
        assert seen[what] > 0, (what, seen)


def test_collapse_settles_ambiguous_signs_beside_identity_rows():
    """Found by benchmarks/fuzz.py: relu(x) + x on x = 1 beside points near 2^60. The float filter
    cannot decide relu's sign at x = 1 (|Z| = 1 is far below its error bound), but collapse.forward
    skips the exact settling when (proved positive) + (proved negative) reaches H * points, and an
    identity row counts in both; the output then takes the mask 0: 1 instead of 2."""
    G = net.new_network(["x"])
    net.add_neuron(G, "r", layer=1, activation="relu", bias=0, incoming={"x": 1})
    net.add_neuron(G, "i", layer=1, activation="identity", bias=0, incoming={"x": 1})
    net.add_neuron(G, "out", layer=2, activation="identity", bias=0, incoming={"r": 1, "i": 1})
    net.set_outputs(G, ["out"])
    X = np.array([[1], [2**60], [2**60 + 2]], dtype=np.int64)
    data = dataset.from_arrays(X, 2 * X[:, 0])  # relu(x) + x = 2x on x > 0
    assert [p.engine for p in evaluate.evaluation_plan(G, data, engine="collapse").layers] == [
        "sign-filter",
        "collapse",
    ]
    assert evaluate.run(G, data, jobs=1, engine="point").exact
    assert evaluate.run(G, data, jobs=1, engine="collapse").exact


# -- 2. the two dataset readers agree ---------------------------------------------------------------


def _kernel_reads(path: Path):
    """(digest, rows, labels, kind) by the kernel's reader, or None when it refuses."""
    try:
        _, rows, ys, kind = kread.read_dataset(path)
    except Exception:  # noqa: BLE001 (the kernel reports any reader exception as a failure)
        return None
    return kread.dataset_digest(rows, ys), rows, ys, kind


def _same_dataset(path: Path) -> None:
    """netcert's reader and the kernel's: the same digest and label kind, or both refuse (netcert
    also refuses identical points with different labels, which the kernel finds after reading)."""
    try:
        mine = dataset.load(path)
    except DatasetError as e:
        theirs = _kernel_reads(path)
        if theirs is not None:
            rows, ys = theirs[1], theirs[2]
            first: dict = {}
            conflict = any(ys[first.setdefault(x, i)] != y for i, (x, y) in enumerate(zip(rows, ys)))
            assert conflict, f"netcert refuses ({e}) what the kernel reads"
        return
    theirs = _kernel_reads(path)
    assert theirs is not None, f"the kernel refuses what netcert reads ({mine.n} points)"
    assert (mine.digest, mine.label_kind) == (theirs[0], theirs[3])
    assert mine.rows == len(theirs[1])


DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint64, np.float16, np.float32, np.float64, np.longdouble]


@st.composite
def npz_files(draw) -> bytes:
    n, d = draw(st.integers(1, 6)), draw(st.integers(1, 3))
    X = draw(hnp.arrays(draw(st.sampled_from(DTYPES)), (n, d)))
    y = draw(hnp.arrays(draw(st.sampled_from(DTYPES)), (draw(st.sampled_from([n, n, n + 1])),)))
    if draw(st.booleans()):  # repeat rows: merged, or refused when their labels differ
        X[-1] = X[0]
    return strategies.npz_bytes({"X.npy": strategies.npy_bytes(X), "y.npy": strategies.npy_bytes(y)})


FIELDS = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.builds(lambda a, b, e: f"{a}.{b}e{e}", st.integers(-999, 999), st.integers(0, 999), st.integers(-30, 30)),
    st.builds(lambda a, b: f"{a}/{b}", st.integers(-99, 99), st.integers(0, 99)),
    st.sampled_from(["+1", "-0", "007", "1.", ".5", "1e", "nan", "inf", "", " 3 ", "x", "1e99999", "0/0"]),
)


@st.composite
def csv_files(draw) -> bytes:
    width = draw(st.integers(1, 4))
    lines = [
        ",".join(draw(st.lists(FIELDS, min_size=width, max_size=width + draw(st.sampled_from([0, 0, 0, 1])))))
        for _ in range(draw(st.integers(0, 6)))
    ]
    if draw(st.booleans()):
        lines.insert(0, ",".join(f"c{k}" for k in range(width)))
    if draw(st.booleans()):
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(["", "  ", "\t"])))
    end = draw(st.sampled_from(["\n", "\n", "\r\n"]))
    return (end.join(lines) + draw(st.sampled_from(["", end]))).encode()


@pytest.mark.parametrize("suffix,files", [(".npz", npz_files()), (".csv", csv_files())])
@pytest.mark.slow
def test_netcert_and_the_kernel_read_the_same_dataset(tmp_path, suffix, files):
    path = tmp_path / f"data{suffix}"

    @settings(PROFILE, max_examples=READER_EXAMPLES)
    @given(raw=files)
    def same(raw):
        path.write_bytes(raw)
        _same_dataset(path)

    same()


def test_the_corpus_is_valid_and_every_command_accepts_it(tmp_path):
    """The mutations start from files every command of every target accepts (exit 0, nothing on stderr)."""
    files = strategies.corpus()
    assert json.loads(files["a.cert.json"])["verdict"] == json.loads(files["b.cert.json"])["verdict"] == "certified"
    with np.load(io.BytesIO(files["data.npz"])) as z:
        assert z["X"].shape == (6, 2) and z["y"].dtype.kind == "i"
    runner = CliRunner()
    for command in {c for target in strategies.TARGETS for c in target.commands}:
        result = strategies.invoke(runner, command, tmp_path, files)
        assert result.exit_code == 0 and not result.stderr, (command, result.output)


# -- 3. mutated files ------------------------------------------------------------------------------


@pytest.mark.parametrize("target", strategies.TARGETS, ids=[t.name for t in strategies.TARGETS])
@pytest.mark.slow
def test_mutated_files_keep_the_command_line_contract(target):
    """Exit 1 or 3 (0 where the meaning is intact), never 2, never a traceback, at most one error
    line. Every example runs; all distinct violations are reported together."""
    found: dict[tuple, strategies.Crash] = {}
    runs = Counter()

    @settings(PROFILE, max_examples=MUTATION_EXAMPLES)
    @given(raw=strategies.mutated_file(target))
    def contract(raw):
        runs["runs"] += 1
        for crash in strategies.run_mutation(target, raw):
            found.setdefault(crash.key, crash)

    contract()
    assert runs["runs"] >= MUTATION_EXAMPLES // 2
    assert not found, f"{len(found)} distinct violations:\n" + "\n".join(map(strategies.describe, found.values()))


def test_a_mutation_always_changes_the_file():
    @settings(PROFILE, max_examples=50)
    @given(raw=strategies.mutated(b'{"a": "1/2"}'))
    def changed(raw):
        assert raw != b'{"a": "1/2"}'

    changed()
