"""The compiled program: a network turned into integer arithmetic once, and its step types.

Every engine of the evaluator reads a network through what this module
compiles (docs/performance.md, "The compiled program"):

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
- **Rational fallback.** A row whose common denominator would grow far beyond
  its own numbers (many unrelated denominators), and every leaky_relu node,
  keeps its coefficients as rationals grouped by denominator (``RatNode``).

``Form``, ``Node``, ``RatNode``, ``Table`` and ``Program`` are defined here and
nowhere else; the interpreters (``pointwise``), the straight-line compiler
(``straightline``) and the C kernel (``native``) all read these records.
What is assumed: the network is valid (``ir.validate``) and has one input node
per coordinate of the inputs.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import gmpy2
import networkx as nx

from netcert.engine.activations import LEAKY_RELU, SLOPE
from netcert.errors import InputError
from netcert.exact import Rat, mpq, mpz
from netcert.ir import keys
from netcert.ir.network import ordered_nodes

_TABLE_MIN_SOURCES = 4
_BIG_BITS = 256
_EXPLOSION = 4  # a row whose common denominator exceeds 4x its own bits goes rational


@dataclass(frozen=True)
class Form:
    """A shared affine form L = sum c H_s over value slots s (zero values contribute nothing)."""

    terms: tuple[tuple[int, object], ...]  # (value slot, integer coefficient)


@dataclass(frozen=True)
class Node:
    """A node reading one shared form: H = act(m L + B), integers."""

    slot: int
    activation: str
    form: int
    m: object
    B: object


@dataclass(frozen=True)
class RatNode:
    """A node whose integer scale would explode (many unrelated denominators):
    z = bias + sum over denominator classes q of (sum p_u H_u) / q, exact."""

    slot: int
    activation: str
    classes: tuple[tuple[object, tuple[tuple[int, object], ...]], ...]  # (q, ((slot, p), ...))
    bias: Rat
    slope: Rat | None = None  # leaky_relu's (``activations.activate``), None for every other activation


@dataclass(frozen=True)
class Table:
    """Z = B + L (pos_slope[k] + neg_slope[j]) + pos_icpt[k] + neg_icpt[j], from the breakpoints of
    one form L: k = #{pos_tau <= L}, j = #{neg_tau < L} (``pointwise.table_value``)."""

    slot: int
    activation: str
    form: int
    B: object
    pos_tau: tuple
    pos_slope: tuple
    pos_icpt: tuple
    neg_tau: tuple
    neg_slope: tuple
    neg_icpt: tuple


Step = Node | Table | RatNode


class Runtime:
    """What a process derives from one compiled program while running it, kept as long as the
    program is: the C library it was loaded with (``native.Library``), each thread's copy of the
    program in the C kernel (the kernel holds the previous point's state, and Dask workers may run
    tasks in threads), and the straight-line function with whether it was timed faster than reuse.
    A pool's or a cluster's worker thus loads, compiles and times each program once. Never
    pickled: a worker that receives the program derives its own (a library handle, a thread's
    state and a compiled function do not travel)."""

    def __init__(self):
        self.library = None  # native.Library, loaded on first need (pointwise.library)
        self.threads = threading.local()  # .kernel: [this thread's native.Program or None]
        self.straight: list | None = None  # [straight-line function or None, faster than reuse or None]

    def __reduce__(self):
        return (Runtime, ())


@dataclass(frozen=True)
class Program:
    """A network compiled for one set of input scales."""

    n_slots: int
    input_slots: tuple[int, ...]
    forms: tuple[Form, ...]
    steps: tuple[Step, ...]  # in topological order
    form_order: tuple[tuple[int, ...], ...]  # forms to compute before each step
    output_slots: tuple[int, ...]
    output_scales: tuple[Rat, ...]
    big: bool  # some coefficient has more than _BIG_BITS bits, or some node is rational: inputs as mpz
    runtime: Runtime = field(default_factory=Runtime, compare=False, repr=False)


# -- compile -------------------------------------------------------------------


def compile_network(G: nx.DiGraph, input_scales: tuple) -> Program:
    """Compile ``G`` for inputs given as integers over ``input_scales`` (one per input)."""
    order = ordered_nodes(G)
    return assemble(G, order, *integer_rows(G, order, input_scales))


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
        act = G.nodes[v][keys.ACTIVATION]
        # leaky_relu's two slopes would need a second integer scale per node: its value stays a
        # rational (the rational fallback), exact and slower, and only the Python paths run it.
        row = None if act == LEAKY_RELU else _integer_row(coef, bias, act)
        if row is None:
            rational[v], scale[v] = (_rational_classes(coef), bias), mpq(1)
        else:
            rows[v], scale[v] = row
    return rows, rational, scale


def assemble(G: nx.DiGraph, order: list, rows: dict, rational: dict, scale: dict) -> Program:
    """The program of ``G`` from its integer rows (``integer_rows``): shared forms, breakpoint
    tables, and value slots only for the nodes some output needs."""
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
    big = (
        bool(rational)
        or max((abs(c).bit_length() for row in rows.values() for c in row[0].values()), default=0) > _BIG_BITS
    )
    return Program(
        len(kept),
        tuple(slot[v] for v in inputs),
        tuple(Form(tuple(f)) for f in forms),
        tuple(steps),
        tuple(form_order),
        tuple(slot[v] for v in outs),
        tuple(scale[v] for v in outs),
        big,
    )


def _integer_row(coef: dict, bias: Rat, activation: str) -> tuple[tuple[dict, object, Rat], Rat] | None:
    """(A, B, pre-activation scale) of a node with coefficients w_u / s_u on its
    sources, and the scale of its value; None when the common denominator grows
    far beyond the row's own numbers."""
    t = mpz(1)
    limit = (
        _EXPLOSION
        * max((max(c.numerator.bit_length(), c.denominator.bit_length()) for c in (*coef.values(), bias)), default=1)
        + 64
    )
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
    """Nodes whose sources are all ReLUs of one shared form (breakpoint tables, module docstring)."""
    out = set()
    for v in rows:
        sources = list(G.predecessors(v))
        if len(sources) < _TABLE_MIN_SOURCES:
            continue
        if (
            all(G.nodes[u][keys.ACTIVATION] == keys.RELU and u in form_of for u in sources)
            and len({form_of[u][0] for u in sources}) == 1
        ):
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
            slope = mpq(G.nodes[v][SLOPE]) if act == LEAKY_RELU else None
            steps.append(
                RatNode(
                    slot[v], act, tuple((q, tuple((slot[u], p) for u, p in terms)) for q, terms in classes), bias, slope
                )
            )
            form_order.append(())
            continue
        A, B, _ = rows[v]
        if v in tables:
            sources = list(G.predecessors(v))
            f = form_of[sources[0]][0]
            step = _make_table(slot[v], act, f, B, [(A[u], *form_of[u][1:], rows[u][1]) for u in sources])
        else:
            f, m = form_of[v]
            step = Node(slot[v], act, f, m, B)
        form_order.append((f,) if f not in done else ())
        done.add(f)
        steps.append(step)
    return steps, form_order


def _make_table(slot: int, act: str, form: int, B, sources: list) -> Table:
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
    return Table(
        slot,
        act,
        form,
        B + const,
        tuple(e[0] for e in pos),
        tuple(pos_slope),
        tuple(pos_icpt),
        tuple(e[0] for e in neg),
        tuple(neg_slope),
        tuple(neg_icpt),
    )


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
