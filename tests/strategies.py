"""Hypothesis strategies and checks shared by tests/test_properties.py and benchmarks/fuzz.py.

Two families:

- **Evaluation.** ``evaluation_cases()`` draws a small network (layered or a general DAG with
  skip connections; relu, threshold and identity neurons; weights from a few bits to hundreds,
  zero and negative biases) and a dataset for it (integer, dyadic, arbitrary float64/float32 or
  wide inputs). ``check_evaluation`` evaluates it with every engine the fast evaluator has
  (batch, collapse, the C kernel, the Python sweep, events and straight line), with the trusted
  kernel (``netcert/kernel/``) and with the Fraction oracle (``netcert/engine/reference.py``), asserts that
  they agree exactly on every output, and returns the engines it saw run.
- **Mutation.** ``CORPUS`` holds a small valid dataset (.npz, .csv), network (.json, .json.gz)
  and certificates; ``TARGETS`` says which file each strategy mutates and which commands read it;
  ``mutated(original)`` flips, inserts, deletes, truncates and duplicates bytes; ``run_mutation``
  runs the commands in-process (click's CliRunner) on the mutated file and returns every way
  they broke the command line's contract (specs/README.md; README.md's command table): exit 1
  or 3, 0 only where the mutation left the file's meaning intact, never 2, never a traceback,
  at most one ``netcert: error:`` line on stderr.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import tempfile
import traceback
import zipfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path
from unittest import mock

import gmpy2
import numpy as np
from click.testing import CliRunner
from hypothesis import strategies as st
from sympy.polys.domains import QQ

from netcert import certificate, dataset, certify
from netcert.engine import reference, straightline
from netcert.engine import evaluate, pointwise
from netcert.cli import cli
from netcert.constructions import zhang2017
from netcert.exact import mpq, mpz
from netcert.formats import files, netjson
from netcert.ir import measures, validate
from netcert.ir import network as net
from netcert.kernel import net as knet

ACTIVATIONS = ("relu", "threshold", "identity")
# Weight regimes. Each one aims at an engine: tiny and int64 values keep every |Z| below 2^53 or
# 2^63 (batch-float64, batch-int64), limbs between 2^63 and the batch engine's 12 limbs
# (limb-split), huge beyond (per point only), unrelated gives every weight its own big prime
# denominator so that integer scales explode (rational fallback).
REGIMES = ("tiny", "tiny", "int64", "limbs", "huge", "unrelated")
PRIMES = tuple(int(gmpy2.next_prime(2**61 + k * 2**40)) for k in range(64))


# -- exact numbers -------------------------------------------------------------------------


def tiny_rationals() -> st.SearchStrategy[Fraction]:
    """Numerators of a few bits over small denominators (dyadic and not)."""
    return st.builds(Fraction, st.integers(-9, 9), st.sampled_from([1, 1, 2, 3, 4, 8]))


def rationals(regime: str) -> st.SearchStrategy[Fraction]:
    """Weights of the regime (``REGIMES``); may be 0 (the network then has no such edge)."""
    if regime == "tiny":
        return tiny_rationals()
    if regime == "int64":
        return st.builds(Fraction, st.integers(-(2**30), 2**30), st.sampled_from([1, 2, 1024]))
    if regime == "limbs":
        return st.one_of(
            tiny_rationals(), st.builds(Fraction, st.integers(-(2**90), 2**90), st.sampled_from([1, 2**20, 2**60]))
        )
    if regime == "huge":  # hundreds of bits, dyadic and odd denominators, mixed with tiny ones
        big = st.integers(100, 600).flatmap(lambda b: st.integers(-(2**b), 2**b))
        return st.one_of(tiny_rationals(), st.builds(Fraction, big, st.sampled_from([1, 3, 2**200, 3**150 + 2])))
    raise ValueError(regime)


def biases(regime: str) -> st.SearchStrategy[Fraction]:
    """Biases: zero often, else as the weights (negative ones included)."""
    return st.one_of(st.just(Fraction(0)), rationals("tiny" if regime == "unrelated" else regime))


# -- networks and datasets ---------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A network, a dataset for it (labels still 0) and the indices whose label will be off by one."""

    G: object
    data: dataset.Dataset
    wrong: frozenset[int]
    regime: str


@st.composite
def networks(draw: st.DrawFn) -> tuple[object, str]:
    """(network, regime): one output in the last layer, possibly dead nodes, node ids strings or integers.

    ``layered`` networks read only the layer before; the others read any earlier layer (skip
    connections). ``shared`` makes layer 1 a set of multiples of one direction (the evaluator's
    breakpoint tables); ``sparse`` gives every neuron one source (scipy's CSR path).
    """
    regime = draw(st.sampled_from(REGIMES))
    d = draw(st.integers(1, 3))
    layered, shared = draw(st.booleans()), draw(st.booleans())
    sparse = regime != "unrelated" and draw(st.integers(0, 5)) == 0
    depth = draw(st.integers(1, 4)) if regime != "unrelated" else draw(st.integers(2, 3))
    integer_ids = draw(st.booleans())
    name = (lambda k: k) if integer_ids else (lambda k: f"n{k}")
    inputs = [name(k) for k in range(d)]
    G = net.new_network(inputs)
    layers, count, edge = [inputs], d, 0
    direction = [draw(tiny_rationals().filter(bool)) for _ in range(d)]
    for layer in range(1, depth + 1):
        last = layer == depth
        dead = 0 if last or draw(st.integers(0, 4)) else 1
        if regime == "unrelated":
            width = 1 if last else draw(st.integers(6, 8))
        else:
            width = 1 if last else draw(st.integers(4 if shared and layer == 1 else 1, 12 if sparse else 6))
        current = []
        for _ in range(width + dead):
            act = draw(st.sampled_from(ACTIVATIONS))
            pool = layers[-1] if layered else [v for lay in layers for v in lay]
            if layer == 1 and shared:  # mostly ReLUs of one form: the tables' shape
                act = "relu" if draw(st.integers(0, 3)) else act
                m = draw(st.sampled_from([1, 2, -1, -3, Fraction(1, 2), Fraction(-5, 4)]))
                incoming = {x: a * m for x, a in zip(inputs, direction)}
            elif regime == "unrelated":
                incoming = {}
                for v in layers[-1]:
                    incoming[v] = Fraction(
                        draw(st.integers(1, 7)) * draw(st.sampled_from([1, -1])), PRIMES[edge % len(PRIMES)]
                    )
                    edge += 1
            else:
                if sparse:
                    chosen = [draw(st.sampled_from(pool))]
                elif layer == 2 and shared and draw(st.booleans()):
                    chosen = list(layers[1])  # every ReLU of the shared form: a breakpoint table
                else:
                    chosen = draw(st.lists(st.sampled_from(pool), unique=True, max_size=len(pool)))
                incoming = {v: draw(rationals(regime)) for v in chosen}
            v = name(count)
            count += 1
            net.add_neuron(G, v, layer=layer, activation=act, bias=draw(biases(regime)), incoming=incoming)
            current.append(v)
        layers.append(current[:width])  # the extra node, if any, is read by nobody: dead
    net.set_outputs(G, [layers[-1][0]])
    assert not validate.errors(validate.validate(G))
    return G, regime


@st.composite
def point_arrays(draw: st.DrawFn, d: int) -> np.ndarray:
    """(n, d) inputs: integers, dyadic floats, arbitrary finite floats (float64 or float32), or
    wide ones (integers times up to 2^80, numerators beyond int64); duplicates allowed (merged)."""
    n = draw(st.integers(1, 12))
    kind = draw(st.sampled_from(["int", "dyadic", "float", "float32", "wide"]))
    if kind == "int":
        values = st.integers(-(2 ** draw(st.sampled_from([4, 20, 62]))), 2**20)
        return np.array(
            draw(st.lists(st.lists(values, min_size=d, max_size=d), min_size=n, max_size=n)), dtype=np.int64
        )
    if kind == "dyadic":
        values = st.builds(lambda a, k: a / 2**k, st.integers(-(2**20), 2**20), st.integers(0, 30))
    elif kind == "wide":
        values = st.builds(lambda a, k: float(a) * 2.0**k, st.integers(-(2**20), 2**20), st.integers(40, 80))
    else:
        values = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=32 if kind == "float32" else 64)
    X = np.array(draw(st.lists(st.lists(values, min_size=d, max_size=d), min_size=n, max_size=n)), dtype=np.float64)
    return X.astype(np.float32) if kind == "float32" else X


@st.composite
def evaluation_cases(draw: st.DrawFn) -> Case:
    """A network, points for it and which labels to get wrong (``check_evaluation``)."""
    G, regime = draw(networks())
    X = draw(point_arrays(len(G.graph["inputs"])))
    data = dataset.from_arrays(X, np.zeros(len(X)))
    wrong = draw(st.sets(st.integers(0, data.n - 1), max_size=data.n))
    return Case(G, data, frozenset(wrong), regime)


# -- the agreement check -------------------------------------------------------------------


def fractions(q_values) -> list[Fraction]:
    return [Fraction(int(q.numerator), int(q.denominator)) for q in q_values]


def kernel_outputs(G, data: dataset.Dataset) -> list[Fraction]:
    """The trusted kernel's outputs (its own validity check, program and QQ evaluation) on the canonical
    bytes of ``G``; also checks the kernel's digest and measures against netcert's."""
    doc = json.loads(netjson.to_bytes(G))
    nodes, edges, ins, outs, problems = knet.validate(doc)
    assert not problems, problems
    assert knet.canonical_digest(doc, nodes) == netjson.digest(G)
    assert knet.structure(nodes, edges, ins, outs) == measures.measure(G).as_dict()
    prog, pos = knet.program(nodes, edges, ins)
    out = []
    for i in range(data.n):
        x = tuple(QQ(int(q.numerator), int(q.denominator)) for q in data.point(i))
        v = knet.evaluate(prog, x, pos[outs[0]])
        out.append(Fraction(int(QQ.numer(v)), int(QQ.denom(v))))
    return out


def _digest(values) -> str:
    h = hashlib.sha256()
    for v in values:
        h.update(f"{mpq(v.numerator, v.denominator)}\n".encode())
    return h.hexdigest()


def _plan_engines(plan) -> list[str]:
    return [p.engine + ("(sparse)" if p.sparse else "") for p in plan.layers]


def check_evaluation(case: Case) -> set[str]:
    """Assert that every engine, the kernel and the oracle agree exactly on every output of ``case``;
    return the engines (and compiled step kinds) that really ran."""
    G, data = case.G, case.data
    truth = [reference.forward(G, fractions(data.point(i)))[0] for i in range(data.n)]
    assert kernel_outputs(G, data) == truth, "trusted kernel"
    assert fractions(evaluate.outputs(G, data)) == truth, "evaluate.forward"
    labels = tuple(
        mpq(y.numerator + (y.denominator if i in case.wrong else 0), y.denominator) for i, y in enumerate(truth)
    )
    labelled = dataclasses.replace(data, labels=labels)
    expected = [(i, truth[i]) for i in sorted(case.wrong)]
    digest = _digest(truth)
    seen: set[str] = set()
    program = evaluate.compile_network(G, data.scale)
    kinds = {type(s).__name__ for s in program.steps}
    seen |= {"rational fallback"} if "RatNode" in kinds else set()
    seen |= {"breakpoint table"} if "Table" in kinds else set()

    def run(engine: str, label: str, *patches) -> None:
        with ExitStack() as stack:
            for target, attribute, value in patches:
                stack.enter_context(mock.patch.object(target, attribute, value))
            ev = evaluate.run(G, labelled, jobs=1, engine=engine)
        got = [(m.index, Fraction(int(m.obtained.numerator), int(m.obtained.denominator))) for m in ev.mismatches]
        assert got == expected, f"{label}: mismatches {got}, expected {expected}"
        assert all(m.expected == labels[m.index] for m in ev.mismatches), label
        assert ev.points_checked == data.n and ev.outputs_digest == digest, label

    auto = evaluate.evaluation_plan(G, labelled)
    run("auto", "auto")
    seen.add("auto: " + ("batched" if auto.batched else "per point"))
    plan = evaluate.evaluation_plan(G, labelled, engine="batch")
    run("batch", "batch")
    if plan.batched:
        seen.update(_plan_engines(plan))
    pair = evaluate.evaluation_plan(G, labelled, engine="collapse")
    run("collapse", "collapse")
    if pair.layers and pair.layers[0].engine == "sign-filter":
        seen.update(_plan_engines(pair))
    loaded: list[bool] = []
    real = pointwise.native_program
    run("point", "C kernel", (pointwise, "native_program", lambda p: loaded.append(real(p) is not None) or real(p)))
    if loaded and all(loaded):
        seen.add("C kernel")
    python = (pointwise, "native_program", lambda p: None)
    run("point", "sweep", python)
    seen.add("sweep")
    events: list[int] = []

    class Events(pointwise.Events):
        def __init__(self, sweep):
            events.append(1)
            super().__init__(sweep)

    run(
        "point",
        "events",
        python,
        (pointwise, "_CALIBRATION", 2),
        (pointwise, "_SPARSE", 10.0),
        (pointwise, "Events", Events),
    )
    if events and data.n > 2:
        seen.add("events")
    straight: list[bool] = []

    def compiled(p):
        fn = straightline.compile_program(p, pointwise.table_value, mpz, mpq)
        straight.append(fn is not None)
        return fn, True

    run(
        "point",
        "straight line",
        python,
        (pointwise, "_STRAIGHT_MIN_POINTS", 1),
        (pointwise, "_straight_line", compiled),
    )
    if straight and all(straight):
        seen.add("straight line")
    return seen


# -- a corpus of valid files -----------------------------------------------------------------

_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def npz_bytes(members: dict[str, bytes]) -> bytes:
    """An .npz (a stored zip) of the given members, with fixed timestamps: same members, same bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, content in members.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.external_attr = 0o644 << 16
            zf.writestr(info, content)
    return buf.getvalue()


def npy_bytes(a: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.lib.format.write_array(out, np.ascontiguousarray(a), allow_pickle=False)
    return out.getvalue()


@cache
def corpus() -> dict[str, bytes]:
    """Valid files, by name: data.npz and data.csv (the same six points, d = 2), net.json and
    net.json.gz (zhang2017 on them), a.cert.json (net.json on data.npz) and b.cert.json
    (net.json.gz on data.csv), both certified; paths in the certificates are relative."""
    X = np.array([[0.5, -1.0], [2.0, 0.25], [-3.0, 1.5], [1.0, 1.0], [0.0, -2.5], [4.0, 0.0]])
    y = np.array([1, -2, 0, 3, 1, -1])
    text = "x0,x1,y\n" + "".join(f"{a},{b},{c}\n" for (a, b), c in zip(X.tolist(), y.tolist()))
    out = {"data.npz": npz_bytes({"X.npy": npy_bytes(X), "y.npy": npy_bytes(y)}), "data.csv": text.encode()}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, content in out.items():
            (root / name).write_bytes(content)
        G = zhang2017.build(dataset.load(root / "data.npz"))
        out["net.json"] = netjson.write(G, root / "net.json")
        out["net.json.gz"] = netjson.write(G, root / "net.json.gz")
        for cert, (network, data) in {
            "a.cert.json": ("net.json", "data.npz"),
            "b.cert.json": ("net.json.gz", "data.csv"),
        }.items():
            made = certify.verify(root / network, root / data, root / cert, sample=10, jobs=1)
            assert made["verdict"] == certificate.CERTIFIED
            out[cert] = certificate.to_bytes(made)
    return out


# -- mutations ----------------------------------------------------------------------------------

TOKENS = (
    b"-",
    b"0",
    b"1",
    b"/",
    b"/0",
    b"0x",
    b"e9999",
    b".",
    b",",
    b'"',
    b"[]",
    b"{}",
    b"null",
    b"true",
    b"1e400",
    b"\n",
    b"\x00",
    b"\xff",
    b"NaN",
    b"2" * 40,
)


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    """``original`` after 1 to 3 edits: a byte flipped, bytes or a token inserted, bytes deleted,
    the tail truncated, a range duplicated, a digit replaced. Always different from ``original``."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 3))):
        n = len(data)
        op = draw(st.sampled_from(["flip", "insert", "token", "delete", "truncate", "duplicate", "digit"]))
        at = draw(st.integers(0, max(n - 1, 0)))
        if op == "flip" and n:
            data[at] ^= draw(st.integers(1, 255))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif op == "token":
            data[at:at] = draw(st.sampled_from(TOKENS))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        elif op == "truncate":
            del data[at:]
        elif op == "duplicate":
            data[at:at] = data[at : at + draw(st.integers(1, 32))]
        elif op == "digit":
            digits = [k for k, b in enumerate(data) if 48 <= b <= 57]
            if digits:
                data[digits[at % len(digits)]] = draw(st.integers(48, 57))
    if bytes(data) == original:
        data.append(draw(st.integers(0, 255)))
    return bytes(data)


def _inside_gzip(original: bytes, draw_mutation: Callable[[bytes], bytes]) -> bytes:
    return files.gzip_bytes(draw_mutation(gzip.decompress(original)))


def _inside_npz(original: bytes, member: str, draw_mutation: Callable[[bytes], bytes]) -> bytes:
    with zipfile.ZipFile(io.BytesIO(original)) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    members[member] = draw_mutation(members[member])
    return npz_bytes(members)


@st.composite
def mutated_file(draw: st.DrawFn, target: "Target") -> bytes:
    """A mutation of the target's file: of its bytes, or of the content inside its container
    (re-gzipped, re-zipped with correct checksums) so that the readers behind them are reached."""
    original = corpus()[target.file]
    edit = lambda raw: draw(mutated(raw))  # noqa: E731
    if target.inside == "gzip":
        return _inside_gzip(original, edit)
    if target.inside:
        return _inside_npz(original, target.inside, edit)
    return edit(original)


@dataclass(frozen=True)
class Target:
    """A mutation strategy: the corpus file it mutates (``inside``: the gzip content or an .npz
    member instead of the raw bytes) and the command lines that read it ({} is the scratch dir)."""

    name: str
    file: str
    commands: tuple[tuple[str, ...], ...]
    inside: str = ""


_VERIFY_A = ("verify", "{}/net.json", "--data", "{}/data.npz", "-o", "{}/out.cert.json", "-j", "1", "-q")
_VERIFY_B = ("verify", "{}/net.json.gz", "--data", "{}/data.csv", "-o", "{}/out.cert.json", "-j", "1", "-q")
_CHECK_A, _CHECK_B = ("check", "{}/a.cert.json", "-j", "1", "-q"), ("check", "{}/b.cert.json", "-j", "1", "-q")
_PLAN_A = ("inspect", "--plan", "{}/net.json", "--data", "{}/data.npz")
TARGETS = (
    Target("net.json", "net.json", (_VERIFY_A, _CHECK_A, ("inspect", "{}/net.json"), _PLAN_A)),
    Target("net.json.gz", "net.json.gz", (_VERIFY_B, _CHECK_B, ("inspect", "{}/net.json.gz"))),
    Target(
        "net.json.gz content",
        "net.json.gz",
        (_VERIFY_B, _CHECK_B, ("inspect", "--plan", "{}/net.json.gz")),
        inside="gzip",
    ),
    Target("data.npz", "data.npz", (_VERIFY_A, _CHECK_A, _PLAN_A)),
    Target("data.npz X.npy", "data.npz", (_VERIFY_A, _CHECK_A), inside="X.npy"),
    Target("data.npz y.npy", "data.npz", (_VERIFY_A, _CHECK_A), inside="y.npy"),
    Target("data.csv", "data.csv", (_VERIFY_B, _CHECK_B)),
    Target("a.cert.json", "a.cert.json", (_CHECK_A,)),
    Target("b.cert.json", "b.cert.json", (_CHECK_B,)),
)


@dataclass(frozen=True)
class Crash:
    """One way a command broke the contract on a mutated file."""

    target: str
    command: tuple[str, ...]  # as run, with the file names relative to the scratch directory
    data: bytes  # the mutated file
    exit_code: int | None
    message: str  # the traceback's last line, or what was wrong
    where: str  # the innermost frame of the traceback (file:line), or "" when there was none

    @property
    def key(self) -> tuple:
        """What makes two crashes the same: the strategy, the command, the kind of failure and where."""
        return self.target, self.command[0], self.message.split(":", 1)[0], self.where


def _readable(read: Callable[[], object]) -> object | None:
    try:
        return read()
    except Exception:  # noqa: BLE001 (any failure means: not a valid file)
        return None


def _strip(cert: object) -> object:
    """A certificate without the fields ``netcert check`` does not compare or takes from it
    (certify._UNCOMPARED, and checker.seed, which the recheck reuses)."""
    if not isinstance(cert, dict):
        return cert
    out = json.loads(json.dumps(cert))
    for path in (*certify._UNCOMPARED, "checker.seed"):
        *parents, leaf = path.split(".")
        node = out
        for p in parents:
            node = node.get(p) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(leaf, None)
    return out


def _interpolates(root: Path, network: str, data: str) -> bool:
    """Whether the files read with netcert's own readers and the Fraction oracle finds every label."""
    G = _readable(lambda: certify.load_network(root / network))
    ds = _readable(lambda: dataset.load(root / data))
    if G is None or ds is None or len(G.graph["inputs"]) != ds.d or len(G.graph["outputs"]) != 1:
        return False
    return all(reference.forward(G, fractions(ds.point(i)))[0] == fractions([ds.labels[i]])[0] for i in range(ds.n))


def zero_allowed(target: Target, command: tuple[str, ...], root: Path) -> bool:
    """Whether exit 0 is right for ``command`` on the mutated file in ``root``: the mutation left
    the meaning intact. verify: the files still read and the oracle finds every label; inspect:
    the network still reads and is valid (and the dataset reads, with --data); check: the
    certificate was mutated only where check neither compares nor reads (the files it names,
    with their sha256, are unchanged, so any other change must be found)."""
    verb = command[0]
    if verb == "verify":
        return _interpolates(root, Path(command[1]).name, Path(command[3]).name)
    if verb == "inspect":
        path = root / Path(command[-3] if "--data" in command else command[-1]).name
        G = _readable(lambda: netjson.read(path))
        ok = G is not None and not validate.errors(validate.validate(G))
        return ok and ("--data" not in command or _readable(lambda: dataset.load(root / Path(command[-1]).name)))
    if target.file.endswith(".cert.json"):
        mutated_cert = _readable(lambda: json.loads((root / target.file).read_bytes()))
        return mutated_cert is not None and _strip(mutated_cert) == _strip(json.loads(corpus()[target.file]))
    return False


def invoke(runner: CliRunner, command: tuple[str, ...], root: Path, files_by_name: dict[str, bytes]):
    """Write the files into ``root`` and run ``command`` ({} standing for ``root``) in-process."""
    for name, content in files_by_name.items():
        (root / name).write_bytes(content)
    return runner.invoke(cli, [a.replace("{}", str(root)) for a in command], catch_exceptions=True)


def run_mutation(target: Target, data: bytes, runner: CliRunner | None = None) -> list[Crash]:
    """Run every command of ``target`` on the corpus with ``data`` in place of the target's file;
    the contract violations found (none: every command kept the contract)."""
    runner = runner or CliRunner()
    found = []
    for command in target.commands:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            result = invoke(runner, command, root, {**corpus(), target.file: data})
            shown = tuple(a.replace("{}/", "") for a in command)
            problem, where = _violation(result), ""
            if result.exception is not None and not isinstance(result.exception, SystemExit):
                tb = traceback.extract_tb(result.exc_info[2])
                where = f"{Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else ""
            elif problem is None and result.exit_code == 0 and not zero_allowed(target, command, root):
                problem = "exit 0, but the mutation changed the file's meaning"
            if problem is not None:
                found.append(Crash(target.name, shown, data, result.exit_code, problem, where))
    return found


def _violation(result) -> str | None:
    """What is wrong with one CliRunner result, whatever the file (None: nothing)."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        lines = traceback.format_exception_only(type(result.exception), result.exception)
        return lines[-1].strip()[:300]
    err = result.stderr.strip("\n")
    lines = err.split("\n") if err else []
    if "Traceback" in result.output:
        return "a traceback in the output"
    if result.exit_code not in (0, 1, 3):
        return f"exit {result.exit_code}: {err[:200]!r}"
    if len(lines) > 1 or (lines and not lines[0].startswith("netcert: error:")):
        return f"stderr is not one 'netcert: error:' line: {err[:200]!r}"
    if result.exit_code == 3 and not lines:
        return "exit 3 without an error line"
    return None


def describe(crash: Crash) -> str:
    """One paragraph for a report: the command, the input (as bytes) and the message."""
    shown = crash.data if len(crash.data) <= 400 else crash.data[:200] + b"..." + crash.data[-200:]
    return (
        f"[{crash.target}] netcert {' '.join(crash.command)} -> exit {crash.exit_code}: {crash.message}"
        f"{f' (at {crash.where})' if crash.where else ''}\n    input ({len(crash.data)} bytes): {shown!r}"
    )
