"""Fast exact evaluation of a network on every point of a dataset.

The network is compiled once into integer arithmetic (perf.md, "Design advice"):

- **Integer scaling.** Every node value is h = H / s with H an integer and s a
  positive rational fixed at compile time. For a neuron with weights w_u and
  bias b, the pre-activation times s_v = t / g is the integer
  Z = B + sum_u A_u H_u, where t is the lcm of the denominators of w_u / s_u and
  b, A_u = t w_u / s_u, B = t b, and g = gcd(A, B) makes the row primitive.
  relu and identity commute with positive scaling, so H_v = act(Z) at scale
  s_v; threshold gives H_v = [Z >= 0] at scale 1. No gcd, no rational, no
  normalisation happens per point.
- **Shared affine forms.** Rows over the same sources whose integer vectors are
  proportional share one form L, and Z = m L + B with an integer m (in the
  networks of the papers whole layers are multiples of one projection u.x).
- **Breakpoint tables.** A consumer c all of whose sources are ReLUs of one
  form L sees Z_c = B_c + sum_j A_cj relu(m_j L + B_j): a piecewise-linear
  function of the single integer L. It is compiled to sorted breakpoints with
  prefix sums of slopes and intercepts, so evaluating it costs two binary
  searches instead of one multiply-add per source. This is exact: the
  breakpoints -B_j / m_j are rationals compared exactly with L.
- **Zero skipping.** A zero activation contributes nothing and is skipped.
- **Reuse or straight line.** Points go in the order of their first-layer
  image; ``_Sweep`` recomputes only what changed since the previous point,
  ``straightline`` runs the whole program as one compiled Python function
  (no reuse, a fraction of the interpreter's work per node). The first
  points of a long run time both and the faster takes the rest.
- **Output comparison by cross-multiplication**: Z / s = p / q is tested as
  Z q den(s) = p num(s), so no huge rational is ever normalised.

- **Batch path.** Layered networks whose values provably stay within int64 or
  float64-exact integers (limb-split when they do not) are evaluated many points
  at a time by ``batch``, when its cost estimate beats the per-point path's;
  ``evaluation_plan`` (``netcert inspect --plan``) tells which path and why.
- **Two-layer collapse.** A network of one hidden layer and one output goes
  through ``collapse`` when that is estimated cheaper still: the hidden signs
  from float64 with a proved error bound (ambiguous entries exact), and the
  output as one exact linear form of the point per mask.

What is exact: everything. Floats enter only in ``batch``, on integers proved
to be below 2^53, and in ``collapse``'s filter, which decides a sign only
where its proved error bound does. What is assumed: the network is
valid (``ir.validate``) and has input nodes matching the dataset's columns.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from bisect import bisect_left, bisect_right
from heapq import heappop, heappush
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from time import perf_counter

import gmpy2
import networkx as nx
import numpy as np

from netcert import batch, collapse, executors, native, straightline
from netcert.dataset import Dataset
from netcert.errors import InputError
from netcert.exact import Rat, mpq, mpz
from netcert.ir import keys
from netcert.ir.network import ordered_nodes

_TABLE_MIN_SOURCES = 4
_BIG_BITS = 256
_EXPLOSION = 4  # a row whose common denominator exceeds 4x its own bits goes rational
Progress = Callable[[int], None]
"""Called with the number of points done so far (the kernel's convention too)."""


@dataclass(frozen=True)
class Mismatch:
    index: int
    expected: Rat
    obtained: Rat


@dataclass(frozen=True)
class Evaluation:
    """The outcome of evaluating every distinct point."""

    points_checked: int
    mismatches: tuple[Mismatch, ...]
    outputs_digest: str

    @property
    def exact(self) -> bool:
        return not self.mismatches


@dataclass(frozen=True)
class _Form:
    terms: tuple[tuple[int, object], ...]  # (value slot, integer coefficient)


@dataclass(frozen=True)
class _Node:
    slot: int
    activation: str
    form: int
    m: object
    B: object


@dataclass(frozen=True)
class _RatNode:
    """A node whose integer scale would explode (many unrelated denominators):
    z = bias + sum over denominator classes q of (sum p_u H_u) / q, exact."""

    slot: int
    activation: str
    classes: tuple[tuple[object, tuple[tuple[int, object], ...]], ...]  # (q, ((slot, p), ...))
    bias: Rat


@dataclass(frozen=True)
class _Table:
    """Z = B + const + L (slope) + intercept, from breakpoints of one form."""

    slot: int
    activation: str
    form: int
    B: object
    pos_tau: list
    pos_slope: list
    pos_icpt: list
    neg_tau: list
    neg_slope: list
    neg_icpt: list


@dataclass(frozen=True)
class Program:
    """A network compiled for one set of input scales."""

    n_slots: int
    input_slots: tuple[int, ...]
    forms: tuple[_Form, ...]
    steps: tuple[object, ...]  # _Node | _Table, in topological order, with form markers
    form_order: tuple[tuple[int, ...], ...]  # forms to compute before each step
    output_slots: tuple[int, ...]
    output_scales: tuple[Rat, ...]
    big: bool


# -- compile -------------------------------------------------------------------

def compile_network(G: nx.DiGraph, input_scales: tuple) -> Program:
    """Compile ``G`` for inputs given as integers over ``input_scales`` (one per input)."""
    order = ordered_nodes(G)
    return _program(G, order, *integer_rows(G, order, input_scales))


def integer_rows(G: nx.DiGraph, order: list, input_scales: tuple) -> tuple[dict, dict, dict]:
    """(rows, rational, scale): node -> (A, B, pre-activation scale) with integer A (source -> int)
    and B, for inputs given as integers over ``input_scales``; node -> rational classes for the
    nodes whose scale would explode; node -> the scale of its integer value."""
    inputs = list(G.graph[keys.INPUTS])
    if len(inputs) != len(input_scales):
        raise InputError(f"the network has {len(inputs)} inputs but the dataset has {len(input_scales)} coordinates")
    scale = {v: mpq(s) for v, s in zip(inputs, input_scales)}
    rows, rational = {}, {}
    for v in order:
        if G.nodes[v][keys.ACTIVATION] == keys.INPUT:
            continue
        coef = {u: mpq(d[keys.WEIGHT]) / scale[u] for u, _, d in G.in_edges(v, data=True)}
        bias = mpq(G.nodes[v][keys.BIAS])
        row = _integer_row(coef, bias, G.nodes[v][keys.ACTIVATION])
        if row is None:
            rational[v], scale[v] = (_rational_classes(coef), bias), mpq(1)
        else:
            rows[v], scale[v] = row
    return rows, rational, scale


def _program(G: nx.DiGraph, order: list, rows: dict, rational: dict, scale: dict) -> Program:
    slot = {v: k for k, v in enumerate(order)}
    inputs = list(G.graph[keys.INPUTS])
    form_of, forms = _share_forms(rows, slot)
    tables = _table_consumers(G, rows, form_of)
    needed = _needed(G, order, tables, form_of, rows)
    # Value slots only for the nodes evaluated per point: a breakpoint table
    # makes the ReLU layer it reads unnecessary, and allocating a slot per
    # node would cost more than the whole table lookup.
    kept = [v for v in order if v in needed or G.nodes[v][keys.ACTIVATION] == keys.INPUT]
    compact = {slot[v]: k for k, v in enumerate(kept)}
    forms = [[(compact[s], c) for s, c in f] if all(s in compact for s, _ in f) else [] for f in forms]
    slot = {v: compact[slot[v]] for v in kept}
    steps, form_order = _steps(G, order, slot, rows, rational, form_of, forms, tables, needed)
    outs = list(G.graph[keys.OUTPUTS])
    big = bool(rational) or max((abs(c).bit_length() for row in rows.values() for c in row[0].values()),
                                default=0) > _BIG_BITS
    return Program(len(kept), tuple(slot[v] for v in inputs), tuple(_Form(tuple(f)) for f in forms),
                   tuple(steps), tuple(form_order), tuple(slot[v] for v in outs),
                   tuple(scale[v] for v in outs), big)


def _integer_row(coef: dict, bias: Rat, activation: str) -> tuple[tuple[dict, object, Rat], Rat] | None:
    """(A, B, pre-activation scale) of a node with coefficients w_u / s_u on its
    sources, and the scale of its value; None when the common denominator grows
    far beyond the row's own numbers."""
    t = mpz(1)
    limit = _EXPLOSION * max((max(c.numerator.bit_length(), c.denominator.bit_length())
                              for c in (*coef.values(), bias)), default=1) + 64
    for c in (*coef.values(), bias):
        t = gmpy2.lcm(t, c.denominator)
        if t.bit_length() > limit:
            return None
    A = {u: c.numerator * (t // c.denominator) for u, c in coef.items()}
    B = bias.numerator * (t // bias.denominator)
    g = mpz(0)
    for c in (*A.values(), B):
        g = gmpy2.gcd(g, c)
    g = g or mpz(1)
    A = {u: int(c // g) for u, c in A.items()}
    s = mpq(t, g)
    value_scale = mpq(1) if activation == keys.THRESHOLD else s
    return (A, int(B // g), s), value_scale


def _rational_classes(coef: dict) -> list:
    """Coefficients p / q grouped by denominator: [(q, [(u, p)])]."""
    classes: dict = {}
    for u, c in coef.items():
        classes.setdefault(c.denominator, []).append((u, c.numerator))
    return sorted(classes.items())


def _share_forms(rows: dict, slot: dict) -> tuple[dict, list]:
    """Group proportional integer rows: node -> (form index, multiplier m)."""
    index: dict[tuple, int] = {}
    forms: list[list] = []
    form_of = {}
    for v, (A, _, _) in rows.items():
        terms = sorted((slot[u], c) for u, c in A.items())
        g = 0
        for _, c in terms:
            g = gmpy2.gcd(g, c)
        g = int(g) or 1
        if terms and terms[0][1] < 0:
            g = -g
        key = tuple((s, c // g) for s, c in terms)
        if key not in index:
            index[key] = len(forms)
            forms.append(list(key))
        form_of[v] = (index[key], g if terms else 0)
    return form_of, forms


def _table_consumers(G: nx.DiGraph, rows: dict, form_of: dict) -> set:
    """Nodes whose sources are all ReLUs of one shared form (see the module docstring)."""
    out = set()
    for v in rows:
        sources = list(G.predecessors(v))
        if len(sources) < _TABLE_MIN_SOURCES:
            continue
        if all(G.nodes[u][keys.ACTIVATION] == keys.RELU and u in form_of for u in sources) \
                and len({form_of[u][0] for u in sources}) == 1:
            out.add(v)
    return out


def _needed(G, order, tables, form_of, rows) -> set:
    """Nodes whose value some output needs, given which consumers use tables."""
    needed = set(G.graph[keys.OUTPUTS])
    for v in reversed(order):
        if v not in needed or G.nodes[v][keys.ACTIVATION] == keys.INPUT:
            continue
        sources = list(G.predecessors(v))
        if v in tables:
            sources = list(G.predecessors(sources[0]))  # the shared form's sources
        needed.update(sources)
    return needed


def _steps(G, order, slot, rows, rational, form_of, forms, tables, needed):
    steps, form_order, done = [], [], set()
    for v in order:
        if v not in needed or G.nodes[v][keys.ACTIVATION] == keys.INPUT:
            continue
        act = G.nodes[v][keys.ACTIVATION]
        if v in rational:
            classes, bias = rational[v]
            steps.append(_RatNode(slot[v], act, tuple((q, tuple((slot[u], p) for u, p in terms))
                                                      for q, terms in classes), bias))
            form_order.append(())
            continue
        A, B, _ = rows[v]
        if v in tables:
            sources = list(G.predecessors(v))
            f = form_of[sources[0]][0]
            step = _make_table(slot[v], act, f, B, [(A[u], *form_of[u][1:], rows[u][1]) for u in sources])
        else:
            f, m = form_of[v]
            step = _Node(slot[v], act, f, m, B)
        form_order.append((f,) if f not in done else ())
        done.add(f)
        steps.append(step)
    return steps, form_order


def _make_table(slot: int, act: str, form: int, B, sources: list) -> _Table:
    """Breakpoint table of Z = B + sum_j a_j relu(m_j L + b_j) over sources (a_j, m_j, b_j)."""
    const = 0
    pos, neg = [], []
    for a, m, b in sources:
        if m > 0:
            pos.append((mpq(-b, m), a * m, a * b))
        elif m < 0:
            neg.append((mpq(-b, m), a * m, a * b))
        elif b > 0:
            const += a * b
    pos.sort(key=lambda e: e[0])
    neg.sort(key=lambda e: e[0])
    pos_slope, pos_icpt = _prefix([e[1] for e in pos]), _prefix([e[2] for e in pos])
    neg_slope, neg_icpt = _suffix([e[1] for e in neg]), _suffix([e[2] for e in neg])
    return _Table(slot, act, form, B + const, [e[0] for e in pos], pos_slope, pos_icpt,
                  [e[0] for e in neg], neg_slope, neg_icpt)


def _prefix(values: list) -> list:
    out = [0]
    for v in values:
        out.append(out[-1] + v)
    return out


def _suffix(values: list) -> list:
    out = [0]
    for v in reversed(values):
        out.append(out[-1] + v)
    return out[::-1]


# -- run -------------------------------------------------------------------------

def forward(program: Program, point: tuple) -> list:
    """Integer output values H (value = H / output scale) on one point given as integers."""
    vals = [0] * program.n_slots
    for s, x in zip(program.input_slots, point):
        vals[s] = mpz(x) if program.big else x
    forms = program.forms
    L = [0] * len(forms)
    for step, before in zip(program.steps, program.form_order):
        for f in before:
            L[f] = sum(c * vals[s] for s, c in forms[f].terms if vals[s])
        kind = type(step)
        if kind is _Node:
            z = step.m * L[step.form] + step.B
        elif kind is _Table:
            z = _table_value(step, L[step.form])
        else:
            z = _rational_value(step, vals)
        act = step.activation
        vals[step.slot] = (z if z > 0 else 0) if act == keys.RELU else (
            z if act == keys.IDENTITY else int(z >= 0))
    return [vals[s] for s in program.output_slots]


def _rational_value(step: _RatNode, vals: list) -> Rat:
    z = step.bias
    for q, terms in step.classes:
        total = sum(p * vals[s] for s, p in terms if vals[s])
        if total:
            z += mpq(total, q)
    return z


def _table_value(t: _Table, L) -> object:
    k = bisect_right(t.pos_tau, L)
    j = bisect_left(t.neg_tau, L)
    return t.B + L * (t.pos_slope[k] + t.neg_slope[j]) + t.pos_icpt[k] + t.neg_icpt[j]


class _Sweep:
    """Evaluates points one after another, recomputing only what changed.

    Between consecutive points, a shared form is recomputed only when one of
    its sources changed value, and a node only when its form did (perf.md,
    "reuse work across points"). Points sorted by their first-layer image
    share most of a memorization network's state (the selected block's big
    integers and their bit extraction), so most of the work is skipped. The
    values are the same as ``forward``'s: a skipped node would have been
    recomputed from identical inputs.
    """

    def __init__(self, program: Program):
        self.p = program
        self.vals: list = [None] * program.n_slots
        self.L: list = [0] * len(program.forms)
        readers: list[list[int]] = [[] for _ in range(program.n_slots)]
        for f, form in enumerate(program.forms):
            for s, _ in form.terms:
                readers[s].append(f)
        self.readers = readers
        self.form_dirty = [0] * len(program.forms)  # round in which a source changed
        self.form_changed = [0] * len(program.forms)  # round in which the value changed
        self.round = 0
        self.recomputed = 0  # steps recomputed after the first point (to choose the strategy)

    def __call__(self, point: tuple) -> list:
        p, vals, L, readers = self.p, self.vals, self.L, self.readers
        self.round += 1
        r, first = self.round, self.round == 1
        dirty, changed = self.form_dirty, self.form_changed
        for s, x in zip(p.input_slots, point):
            x = mpz(x) if p.big else x
            if first or x != vals[s]:
                vals[s] = x
                for f in readers[s]:
                    dirty[f] = r
        forms = p.forms
        for step, before in zip(p.steps, p.form_order):
            for f in before:
                if first or dirty[f] == r:
                    new = sum(c * vals[s] for s, c in forms[f].terms if vals[s])
                    if first or new != L[f]:
                        L[f] = new
                        changed[f] = r
            kind = type(step)
            if kind is _Node:
                if not first and changed[step.form] != r:
                    continue
                z = step.m * L[step.form] + step.B
            elif kind is _Table:
                if not first and changed[step.form] != r:
                    continue
                z = _table_value(step, L[step.form])
            else:
                z = _rational_value(step, vals)
            self.recomputed += 1
            act = step.activation
            v = (z if z > 0 else 0) if act == keys.RELU else (z if act == keys.IDENTITY else int(z >= 0))
            if first or v != vals[step.slot]:
                vals[step.slot] = v
                for f in readers[step.slot]:
                    dirty[f] = r
        return [vals[s] for s in p.output_slots]


class _Events:
    """The same values as ``_Sweep``, visiting only what changed.

    After a first full pass, a point's changed inputs schedule the forms that
    read them; a recomputed form whose value changed schedules the nodes that
    use it, and so on, in topological order (a heap of step positions). The
    cost is then proportional to what changes between consecutive points, not
    to the network's size: in a deep memorization network only the chain that
    carries the point's own image changes inside a block.
    """

    def __init__(self, sweep: _Sweep):
        p = sweep.p
        self.p, self.s = p, sweep
        self.form_pos = [0] * len(p.forms)  # event position of a form: just before its first user
        self.users: list[list[int]] = [[] for _ in p.forms]
        rational_readers: list[list[int]] = [[] for _ in range(p.n_slots)]
        for k, (step, before) in enumerate(zip(p.steps, p.form_order)):
            for f in before:
                self.form_pos[f] = 2 * k
            if type(step) is _RatNode:
                for _, terms in step.classes:
                    for s, _ in terms:
                        rational_readers[s].append(2 * k + 1)
            else:
                self.users[step.form].append(2 * k + 1)
        self.rational_readers = rational_readers
        self.seen = [0] * (2 * len(p.steps) + 2)

    def __call__(self, point: tuple) -> list:
        p, sw = self.p, self.s
        vals, L, readers = sw.vals, sw.L, sw.readers
        sw.round += 1
        r = sw.round
        seen, form_pos, users, rat = self.seen, self.form_pos, self.users, self.rational_readers
        push, pop = heappush, heappop
        heap: list[int] = []
        for s, x in zip(p.input_slots, point):
            x = mpz(x) if p.big else x
            if x != vals[s]:
                vals[s] = x
                for e in [form_pos[f] for f in readers[s]] + rat[s]:
                    if seen[e] != r:
                        seen[e] = r
                        push(heap, e)
        steps, forms, form_order = p.steps, p.forms, p.form_order
        while heap:
            e = pop(heap)
            k = e >> 1
            if not e & 1:  # the forms computed before step k
                for f in form_order[k]:
                    new = sum(c * vals[s] for s, c in forms[f].terms if vals[s])
                    if new != L[f]:
                        L[f] = new
                        for u in users[f]:
                            if seen[u] != r:
                                seen[u] = r
                                push(heap, u)
                continue
            step = steps[k]
            kind = type(step)
            if kind is _Node:
                z = step.m * L[step.form] + step.B
            elif kind is _Table:
                z = _table_value(step, L[step.form])
            else:
                z = _rational_value(step, vals)
            act = step.activation
            v = (z if z > 0 else 0) if act == keys.RELU else (z if act == keys.IDENTITY else int(z >= 0))
            slot = step.slot
            if v != vals[slot]:
                vals[slot] = v
                for f in readers[slot]:
                    e2 = form_pos[f]
                    if seen[e2] != r:
                        seen[e2] = r
                        push(heap, e2)
                for e2 in rat[slot]:
                    if seen[e2] != r:
                        seen[e2] = r
                        push(heap, e2)
        return [vals[s] for s in p.output_slots]


_CALIBRATION = 64
_SPARSE = 0.25  # switch to events when fewer than a quarter of the steps change per point
_STRAIGHT_MIN_POINTS = 1000  # below this, compiling the straight-line function costs more than it saves
_straight: list = [None, None, None]  # [program, its straight-line function, faster than reuse (None: untimed)]
_native = threading.local()  # per thread: .record = [program, the C kernel's copy of it or None]
_NATIVE_BLOCK = 4096  # points per call of the C kernel


def _sweep_order(program: Program, data: Dataset) -> list[int]:
    """Points ordered by the first form the program computes (in the papers' networks, the
    projection to a line), so that consecutive points share as much state as possible."""
    first = next((fs[0] for fs in program.form_order if fs), None)
    if first is None or not program.forms[first].terms:
        return list(range(data.n))
    where = {s: k for k, s in enumerate(program.input_slots)}
    terms = program.forms[first].terms
    if not all(s in where for s, _ in terms):
        return list(range(data.n))
    image = [sum(c * row[where[s]] for s, c in terms) for row in data.num]
    return sorted(range(data.n), key=image.__getitem__)


_PARALLEL_MIN_POINTS = 2000  # below this a pool costs more than it saves
_PARALLEL_MIN_NS = 0.5e9  # the batch path's estimated work below which a pool costs more than it saves


def _evaluate_points(program: Program, data: Dataset, indices: list[int]) -> tuple[int, list[tuple[int, Rat]]]:
    """Evaluate consecutive points of the sweep order; (count, [(index, obtained)] of the mismatches).

    When the C kernel (``native``) can run the program, it evaluates every point, recomputing what
    changed since the previous one (or everything, once a probe finds that nearly everything does). Otherwise the first _CALIBRATION points go through
    ``_Sweep``, which counts what changes between points; ``_Events`` takes over when little
    does. On datasets of at least _STRAIGHT_MIN_POINTS, the first long enough run in a process
    times the next _CALIBRATION points with that strategy and the following ones with the
    straight-line function (``straightline``); the faster does the rest, and the later runs of
    the process (a pool's or a cluster's tasks) go straight to it. All give the same values.
    """
    scale = program.output_scales[0]
    wrong: list[tuple[int, Rat]] = []

    def check(step: Callable, lo: int, hi: int) -> float:
        start = perf_counter()
        _mismatches(data, scale, indices[lo:hi], (step(data.num[i])[0] for i in indices[lo:hi]), wrong)
        return perf_counter() - start

    c, n = _CALIBRATION, len(indices)
    kernel = native_program(program)
    if kernel is not None:
        for lo in range(0, n, _NATIVE_BLOCK):
            block = indices[lo:lo + _NATIVE_BLOCK]
            _mismatches(data, scale, block, kernel.run([data.num[i] for i in block]), wrong)
        return n, wrong
    straight, faster = _straight_line(program) if data.n >= _STRAIGHT_MIN_POINTS else (None, None)
    if straight is not None and faster:
        check(straight, 0, n)
        return n, wrong
    sweep = _Sweep(program)
    check(sweep, 0, c)
    reuse = _Events(sweep) if program.steps and sweep.recomputed < _SPARSE * len(program.steps) * (c - 1) else sweep
    if straight is None or faster is not None or n < 4 * c:
        check(reuse, c, n)
    else:
        faster = _straight[2] = check(straight, 2 * c, 3 * c) < check(reuse, c, 2 * c)
        check(straight if faster else reuse, 3 * c, n)
    return n, wrong


def native_program(program: Program) -> native.Program | None:
    """The program loaded into the C kernel (``native``), kept for the last program of this thread
    (the kernel holds the previous point's state, and Dask workers may run tasks in threads), or
    None when the kernel is unavailable or the program has rational-fallback nodes."""
    record = getattr(_native, "record", None)
    if record is None or record[0] is not program:
        loaded = native.Program(native.library(), program, _Node, _Table) if _in_c(program) else None
        record = _native.record = [program, loaded]
    return record[1]


def _in_c(program: Program) -> bool:
    """Whether the C kernel can run ``program``: it is available, and no node is a rational fallback."""
    return native.library() is not None and all(type(s) is not _RatNode for s in program.steps)


def _straight_line(program: Program) -> tuple[Callable | None, bool | None]:
    """The program's straight-line function (None: too large) and whether it was timed faster than
    reuse (None: not yet), kept for the last program of this process, so that a pool's or a
    cluster's worker compiles and times each program once."""
    if _straight[0] is not program:
        _straight[:] = [program, straightline.compile_program(program, _table_value, mpz, mpq), None]
    return _straight[1], _straight[2]


# -- choosing the engine; the batch path -------------------------------------------

ENGINES = ("auto", "batch", "collapse", "point")


def _layers(G: nx.DiGraph, rational: dict) -> tuple[list[list], str | None]:
    """The nodes the output needs, by layer (layer 0: every input, in order), and why the batch
    engine cannot take them (None when it can: every edge among them goes from layer l to l + 1)."""
    outs = list(G.graph[keys.OUTPUTS])
    needed = set(outs).union(*(nx.ancestors(G, v) for v in outs))
    by_layer: dict[int, list] = {}
    for v in ordered_nodes(G):
        if v in needed and G.nodes[v][keys.ACTIVATION] != keys.INPUT:
            by_layer.setdefault(G.nodes[v][keys.LAYER], []).append(v)
    top = max(by_layer, default=0)
    layers = [list(G.graph[keys.INPUTS])] + [by_layer.get(k, []) for k in range(1, top + 1)]
    if rational:
        return layers, f"{len(rational)} nodes' integer scales explode (rational fallback)"
    if len(outs) != 1 or not all(layers[1:]) or G.nodes[outs[0]][keys.LAYER] != top:
        return layers, "the output is not alone in the last of consecutive layers"
    for k, nodes in enumerate(layers[1:], start=1):
        if any(G.nodes[u][keys.LAYER] != k - 1 for v in nodes for u in G.predecessors(v)):
            return layers, f"not layered: layer {k} reads a layer other than {k - 1}"
    return layers, None


def _batch_rows(G: nx.DiGraph, layers: list[list], rows: dict) -> list[list[batch.Row]]:
    """The integer rows of every layer, sources as positions in the layer before."""
    out = []
    for prev, nodes in zip(layers, layers[1:]):
        index = {u: j for j, u in enumerate(prev)}
        layer = []
        for v in nodes:
            A, B, _ = rows[v]
            items = sorted((index[u], int(a)) for u, a in A.items())
            layer.append(batch.Row(tuple(j for j, _ in items), tuple(a for _, a in items), int(B),
                                   G.nodes[v][keys.ACTIVATION]))
        out.append(layer)
    return out


def _point_ns(program: Program) -> float:
    """The per-point path's cost estimate: one operation per form term and per step, two binary
    searches per breakpoint table, one operation per term of a rational node; an operation costs
    ``native.NS_PER_OP`` in the C kernel, ``batch.NS_PER_POINT_OP`` in Python."""
    ops = sum(len(f.terms) for f in program.forms) + len(program.steps)
    for step in program.steps:
        if type(step) is _Table:
            ops += 2 * (len(step.pos_tau) + len(step.neg_tau) + 1).bit_length()
        elif type(step) is _RatNode:
            ops += sum(len(t) for _, t in step.classes)
    return ops * (native.NS_PER_OP if _in_c(program) else batch.NS_PER_POINT_OP)


def _per_point_plan(G: nx.DiGraph, layers: list[list], rational: dict, why: str) -> batch.Plan:
    """Every layer on the per-point path (sweep, or rational fallback for exploding nodes)."""
    out = []
    for k, nodes in enumerate(layers[1:], start=1):
        rat = sum(1 for v in nodes if v in rational)
        acts = ",".join(sorted({G.nodes[v][keys.ACTIVATION] for v in nodes}))
        out.append(batch.LayerPlan(k, len(nodes), sum(G.in_degree(v) for v in nodes),
                                   max((G.in_degree(v) for v in nodes), default=0), acts, 0,
                                   "rational fallback" if rat else "sweep",
                                   why=f"{rat} nodes with exploding scales" if rat else why))
    return batch.Plan(tuple(out), False, 0, why)


def _input_bounds(data: Dataset) -> list[int]:
    """The exact maximum |numerator| of every input column."""
    return [max((abs(row[j]) for row in data.num), default=0) for j in range(data.d)]


def _choose(G: nx.DiGraph, scales: tuple, bounds: list[int], n: int, engine: str, complete: bool = True):
    """(plan, batch layers or None, program or None, value scales): the batch path when ``engine``
    allows it and (auto) it is estimated cheaper than the per-point path; ``complete``: plan every
    layer even past one without an exact batch kernel (for ``inspect --plan``)."""
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r} (one of {', '.join(ENGINES)})")
    order = ordered_nodes(G)
    rows, rational, scale = integer_rows(G, order, scales)
    layers, blocked = _layers(G, rational)
    program = None if engine == "batch" and not blocked else _program(G, order, rows, rational, scale)
    if engine == "point" or blocked:
        return _per_point_plan(G, layers, rational, blocked or "the per-point path was asked for"), None, \
            program, scale
    brows = _batch_rows(G, layers, rows)
    point_ns = None if program is None else _point_ns(program)
    chosen = batch.plan(brows, bounds, n, point_ns, complete=complete)
    found = None if engine == "batch" else collapse.plan(brows, bounds)
    if found is not None and (engine == "collapse" or found[0].ns < min(point_ns, chosen.ns or point_ns)):
        rival = f"{chosen.ns / 1000:.1f} us batched by layer, " if chosen.ns else ""
        pair = dataclasses.replace(found[0], why=f"{found[0].why}, against {rival}{point_ns / 1000:.1f} us alone")
        return pair, collapse.build(pair, found[1], brows), program, scale
    if not chosen.batched:
        return chosen, None, program or _program(G, order, rows, rational, scale), scale
    return chosen, batch.build(chosen, brows, [len(nodes) for nodes in layers[:-1]]), program, scale


def evaluation_plan(G: nx.DiGraph, data: Dataset | None = None, *, engine: str = "auto") -> batch.Plan:
    """How ``run`` evaluates ``G`` on ``data``, layer by layer, and why. Without data the inputs are
    taken as integers (scale 1) of at most 53 bits, and 10,000 points."""
    if data is None:
        d = len(G.graph[keys.INPUTS])
        return _choose(G, (1,) * d, [batch.FLOAT_EXACT - 1] * d, 10**4, engine)[0]
    return _choose(G, data.scale, _input_bounds(data), data.n, engine)[0]


def _prepare(G: nx.DiGraph, data: Dataset, engine: str) -> tuple[tuple, int]:
    """What every range of points needs: ("batch", layers, data, output scale, chunk, wide inputs)
    or ("point", program, data, sweep order); and the fewest points worth a pool of processes."""
    bounds = _input_bounds(data)
    chosen, layers, program, scale = _choose(G, data.scale, bounds, data.n, engine, complete=False)
    if layers is not None:
        wide = max(bounds, default=0) >= batch.INT64_EXACT
        minimum = max(_PARALLEL_MIN_POINTS, int(_PARALLEL_MIN_NS // max(chosen.ns, 1.0)))
        return ("batch", layers, data, mpq(scale[G.graph[keys.OUTPUTS][0]]), chosen.chunk, wide), minimum
    return ("point", program, data, _sweep_order(program, data)), _PARALLEL_MIN_POINTS


def _evaluate_range(shared: tuple, lo: int, hi: int) -> tuple[int, list[tuple[int, Rat]]]:
    """Points lo..hi-1 (of the sweep order on the per-point path); (count, mismatches)."""
    if shared[0] == "point":
        _, program, data, order = shared
        return _evaluate_points(program, data, order[lo:hi])
    return _evaluate_batch(*shared[1:], lo, hi)


def _evaluate_batch(layers: tuple, data: Dataset, scale: Rat, chunk: int, wide: bool,
                    lo: int, hi: int) -> tuple[int, list[tuple[int, Rat]]]:
    """Points lo..hi-1 through the batch engine, ``chunk`` at a time (inputs as object arrays when
    some numerator needs 63 bits or more); mismatches exactly as ``_evaluate_points`` reports them."""
    wrong: list[tuple[int, Rat]] = []
    work: dict = {}
    inputs = np.array(data.num[lo:hi], dtype=object if wide else np.int64).reshape(hi - lo, data.d).T
    for a in range(lo, hi, chunk):
        b = min(hi, a + chunk)
        X = inputs[:, a - lo:b - lo]
        if isinstance(layers, collapse.Pair):
            outs = collapse.forward(layers, X, work)
        else:
            outs = batch.to_ints(*batch.forward(layers, X, work))
        _mismatches(data, scale, range(a, b), outs, wrong)
    return hi - lo, wrong


def _mismatches(data: Dataset, scale: Rat, indices, outs, wrong: list[tuple[int, Rat]]) -> None:
    """Append (index, obtained value) to ``wrong`` for every point whose integer output z (value
    z / scale) differs from its label, compared by cross-multiplication (no rational is formed
    unless it differs)."""
    sn, sd = scale.numerator, scale.denominator
    for i, z in zip(indices, outs):
        y = data.labels[i]
        if z * y.denominator * sd != y.numerator * sn:
            wrong.append((i, mpq(z) / scale))


def _task(shared: tuple, bounds: tuple[int, int]) -> tuple[int, list[tuple[int, Rat]]]:
    return _evaluate_range(shared, *bounds)


def run(G: nx.DiGraph, data: Dataset, progress: Progress | None = None, jobs: int | None = None,
        executor: executors.Local | executors.Dask | None = None, *, engine: str = "auto") -> Evaluation:
    """Evaluate ``G`` exactly on every distinct point of ``data`` and compare with the labels.

    Layered networks whose values provably fit the batch kernels go through
    ``batch`` (two-layer ones possibly through ``collapse``) in chunks of
    points when that is estimated cheaper (``engine``: "auto"; "batch"
    layer by layer whenever exact; "collapse" whenever it applies, else as
    "auto"; "point" never; ``evaluation_plan`` says which and why). Otherwise points are evaluated in the order of ``_sweep_order``, in contiguous runs
    (one per task) by ``_Sweep``/``_Events``. The runs go to ``executor``
    (default ``executors.Local(jobs)``: with ``jobs`` > 1, default every core,
    a pool of processes forked after compiling, so the compiled program is
    shared, not pickled; ``executors.Dask``: the program and the data reach
    each worker once). The outcome and the outputs digest are per point
    index, so they depend neither on the order nor on the executor. Raises
    ``InputError`` when the network does not have exactly one output or its
    inputs do not match the dataset's coordinates.
    """
    if len(G.graph[keys.OUTPUTS]) != 1:
        raise InputError(f"the network has {len(G.graph[keys.OUTPUTS])} outputs; scalar labels need exactly 1")
    shared, minimum = _prepare(G, data, engine)
    executor = executor or executors.Local(jobs)
    wrong: list[tuple[int, Rat]] = []
    if not executor.parallel(data.n, minimum):
        chunk = 256
        for start in range(0, data.n, chunk):
            wrong += _evaluate_range(shared, start, min(start + chunk, data.n) if progress else data.n)[1]
            if progress is None:
                break
            progress(min(start + chunk, data.n))
    else:
        bounds = [(r.start, r.stop) for r in executors.batches(range(data.n), executor.slots)]
        done = 0
        for count, bad in executor.map(partial(_task, shared), bounds):
            done += count
            wrong += bad
            if progress is not None:
                progress(done)
    obtained = dict(wrong)
    digest = hashlib.sha256()
    mismatches = []
    for i, y in enumerate(data.labels):
        got = obtained.get(i)
        if got is None:
            digest.update(f"{y}\n".encode())
        else:
            mismatches.append(Mismatch(i, y, got))
            digest.update(f"{got}\n".encode())
    return Evaluation(data.n, tuple(mismatches), digest.hexdigest())


def outputs(G: nx.DiGraph, data: Dataset) -> list[Rat]:
    """The exact output value on every distinct point (normalised; for tests and tools)."""
    program = compile_network(G, data.scale)
    scale = program.output_scales[0]
    return [mpq(forward(program, p)[0]) / scale for p in data.num]
