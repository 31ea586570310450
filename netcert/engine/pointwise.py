"""The per-point path: a compiled program evaluated on one point after another.

Points go in the order of their first-layer image (``sweep_order``), so that
consecutive points share most of a memorization network's state
(docs/performance.md, "The per-point path"). Four ways to run a program give
the same integers:

- **The C kernel** (``native``): the program over GMP, recomputing only what
  changed since the previous point, many points per call.
- **Sweep** (``Sweep``): the Python interpreter of the program, recomputing a
  shared form only when one of its sources changed and a node only when its
  form did.
- **Events** (``Events``): the same reuse, visiting only what changed (a heap
  of step positions), when little changes between points.
- **Straight line** (``straightline``): the whole program as one compiled
  Python function, no reuse, a fraction of the interpreter's work per node.

``forward`` is the plain reading of the program, one point, no reuse: the
others are tested against it. Every activation is applied by
``activations.ACTIVATE``. What is exact: everything; zero values are skipped
(they add nothing), and outputs are compared with the labels by
cross-multiplication (``run``).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from heapq import heappop, heappush
from time import perf_counter

from netcert.dataset import Dataset
from netcert.engine import native, straightline
from netcert.engine.activations import ACTIVATE, activate
from netcert.engine.program import Node, Program, RatNode, Table
from netcert.exact import Rat, mpq, mpz


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
        vals[step.slot] = activate(step.activation, step_value(step, L, vals), getattr(step, "slope", None))
    return [vals[s] for s in program.output_slots]


def step_value(step, L: list, vals: list):
    """The pre-activation value of ``step`` given the forms' values ``L`` and the slots' ``vals``."""
    kind = type(step)
    if kind is Node:
        return step.m * L[step.form] + step.B
    if kind is Table:
        return table_value(step, L[step.form])
    return rational_value(step, vals)


def rational_value(step: RatNode, vals: list) -> Rat:
    """bias + sum over the classes (q, terms) of (sum p H_s) / q; a class whose sum is 0 adds nothing."""
    z = step.bias
    for q, terms in step.classes:
        total = sum(p * vals[s] for s, p in terms if vals[s])
        if total:
            z += mpq(total, q)
    return z


def table_value(t: Table, L) -> object:
    """The table's Z at the integer L: k breakpoints of ``pos_tau`` are <= L, j of ``neg_tau`` < L."""
    k = bisect_right(t.pos_tau, L)
    j = bisect_left(t.neg_tau, L)
    return t.B + L * (t.pos_slope[k] + t.neg_slope[j]) + t.pos_icpt[k] + t.neg_icpt[j]


class Sweep:
    """Evaluates points one after another, recomputing only what changed.

    Between consecutive points, a shared form is recomputed only when one of
    its sources changed value, and a node only when its form did (docs/performance.md, "The per-point path"). Points sorted by their first-layer image
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
            if kind is Node:
                if not first and changed[step.form] != r:
                    continue
                z = step.m * L[step.form] + step.B
            elif kind is Table:
                if not first and changed[step.form] != r:
                    continue
                z = table_value(step, L[step.form])
            else:
                z = rational_value(step, vals)
            self.recomputed += 1
            v = ACTIVATE[step.activation](z) if kind is not RatNode else activate(step.activation, z, step.slope)
            if first or v != vals[step.slot]:
                vals[step.slot] = v
                for f in readers[step.slot]:
                    dirty[f] = r
        return [vals[s] for s in p.output_slots]


class Events:
    """The same values as ``Sweep``, visiting only what changed.

    After a first full pass, a point's changed inputs schedule the forms that
    read them; a recomputed form whose value changed schedules the nodes that
    use it, and so on, in topological order (a heap of step positions). The
    cost is then proportional to what changes between consecutive points, not
    to the network's size: in a deep memorization network only the chain that
    carries the point's own image changes inside a block.
    """

    def __init__(self, sweep: Sweep):
        p = sweep.p
        self.p, self.s = p, sweep
        self.form_pos = [0] * len(p.forms)  # event position of a form: just before its first user
        self.users: list[list[int]] = [[] for _ in p.forms]
        rational_readers: list[list[int]] = [[] for _ in range(p.n_slots)]
        for k, (step, before) in enumerate(zip(p.steps, p.form_order)):
            for f in before:
                self.form_pos[f] = 2 * k
            if type(step) is RatNode:
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
            if kind is Node:
                z = step.m * L[step.form] + step.B
            elif kind is Table:
                z = table_value(step, L[step.form])
            else:
                z = rational_value(step, vals)
            v = ACTIVATE[step.activation](z) if kind is not RatNode else activate(step.activation, z, step.slope)
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


def sweep_order(program: Program, data: Dataset) -> list[int]:
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


_CALIBRATION = 64  # points counted or timed before a strategy is chosen
_SPARSE = 0.25  # switch to events when fewer than a quarter of the steps change per point
_STRAIGHT_MIN_POINTS = 1000  # below this, compiling the straight-line function costs more than it saves
_NATIVE_BLOCK = 4096  # points per call of the C kernel


def evaluate_points(program: Program, data: Dataset, indices: list[int]) -> tuple[int, list[tuple[int, Rat]]]:
    """Evaluate consecutive points of the sweep order; (count, [(index, obtained)] of the mismatches).

    When the C kernel (``native``) can run the program, it evaluates every point, recomputing what
    changed since the previous one (or everything, once a probe finds that nearly everything does).
    Otherwise the first _CALIBRATION points go through ``Sweep``, which counts what changes between
    points; ``Events`` takes over when little does. On datasets of at least _STRAIGHT_MIN_POINTS,
    the first long enough run of a program in a process times the next _CALIBRATION points with
    that strategy and the following ones with the straight-line function (``straightline``); the
    faster does the rest, and the later runs of the same program in the process (a pool's or a
    cluster's tasks) go straight to it (the choice is kept in ``program.runtime``). All give the
    same values.
    """
    scale = program.output_scales[0]
    wrong: list[tuple[int, Rat]] = []

    def check(step: Callable, lo: int, hi: int) -> float:
        start = perf_counter()
        mismatches(data, scale, indices[lo:hi], (step(data.num[i])[0] for i in indices[lo:hi]), wrong)
        return perf_counter() - start

    c, n = _CALIBRATION, len(indices)
    kernel = native_program(program)
    if kernel is not None:
        for lo in range(0, n, _NATIVE_BLOCK):
            block = indices[lo : lo + _NATIVE_BLOCK]
            mismatches(data, scale, block, kernel.run([data.num[i] for i in block]), wrong)
        return n, wrong
    straight, faster = _straight_line(program) if data.n >= _STRAIGHT_MIN_POINTS else (None, None)
    if straight is not None and faster:
        check(straight, 0, n)
        return n, wrong
    sweep = Sweep(program)
    check(sweep, 0, c)
    reuse = Events(sweep) if program.steps and sweep.recomputed < _SPARSE * len(program.steps) * (c - 1) else sweep
    if straight is None or faster is not None or n < 4 * c:
        check(reuse, c, n)
    else:
        faster = program.runtime.straight[1] = check(straight, 2 * c, 3 * c) < check(reuse, c, 2 * c)
        check(straight if faster else reuse, 3 * c, n)
    return n, wrong


def output_values(program: Program, data: Dataset, indices: list[int]) -> list[list]:
    """The integer values of every output (value = H / its output scale) on the points ``indices``
    (consecutive points of the sweep order), in that order: the C kernel when it runs the program
    (every output of a point exported together), else the straight-line function on datasets of at
    least _STRAIGHT_MIN_POINTS points when it compiles, else ``Sweep``. All give ``forward``'s values."""
    kernel = native_program(program)
    if kernel is not None:
        k, out = len(program.output_slots), []
        for lo in range(0, len(indices), _NATIVE_BLOCK):
            flat = kernel.run([data.num[i] for i in indices[lo : lo + _NATIVE_BLOCK]])
            out += [flat[a : a + k] for a in range(0, len(flat), k)]
        return out
    straight = _straight_line(program)[0] if data.n >= _STRAIGHT_MIN_POINTS else None
    step = straight if straight is not None else Sweep(program)
    return [step(data.num[i]) for i in indices]


def mismatches(data: Dataset, scale: Rat, indices, outs, wrong: list[tuple[int, Rat]]) -> None:
    """Append (index, obtained value) to ``wrong`` for every point whose integer output z (value
    z / scale) differs from its label, compared by cross-multiplication (no rational is formed
    unless it differs)."""
    sn, sd = scale.numerator, scale.denominator
    for i, z in zip(indices, outs):
        y = data.labels[i]
        if z * y.denominator * sd != y.numerator * sn:
            wrong.append((i, mpq(z) / scale))


def library(program: Program) -> native.Library:
    """The C library ``program`` runs with in this process, loaded on first need and kept in
    ``program.runtime`` (loading reads and hashes the C source, and compiles it once per machine)."""
    runtime = program.runtime
    if runtime.library is None:
        runtime.library = native.Library()
    return runtime.library


def native_program(program: Program) -> native.Program | None:
    """This thread's copy of ``program`` in the C kernel (``native``), kept in ``program.runtime``
    (the kernel holds the previous point's state, and Dask workers may run tasks in threads), or
    None when the kernel is unavailable or the program has rational-fallback nodes."""
    threads = program.runtime.threads
    record = getattr(threads, "kernel", None)
    if record is None:
        loaded = native.Program(library(program).cdll, program) if in_c(program) else None
        record = threads.kernel = [loaded]
    return record[0]


def in_c(program: Program) -> bool:
    """Whether the C kernel can run ``program``: it is available, and no node is a rational fallback."""
    return library(program).cdll is not None and all(type(s) is not RatNode for s in program.steps)


def _straight_line(program: Program) -> tuple[Callable | None, bool | None]:
    """The program's straight-line function (None: too large) and whether it was timed faster than
    reuse (None: not yet), kept in ``program.runtime``, so that a pool's or a cluster's worker
    compiles and times each program once."""
    runtime = program.runtime
    if runtime.straight is None:
        runtime.straight = [straightline.compile_program(program, table_value, mpz, mpq), None]
    return runtime.straight[0], runtime.straight[1]
