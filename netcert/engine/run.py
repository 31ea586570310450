"""The evaluator's entry point: a network evaluated exactly on every distinct point of a dataset.

``run(G, data)`` chooses the engine (``plan.choose``), cuts the points into
contiguous ranges, evaluates them on the executor (this process, forked
processes, or Dask workers), and folds the mismatches into one outcome and one
digest of the outputs, both per point index: they depend neither on the engine
nor on the order nor on the executor. Nothing here is trusted: the kernel
(``netcert.kernel``) re-derives what a certificate claims.

What is exact: everything. Floats enter only in ``batch``, on integers proved
to be below 2^53, and in ``collapse``'s filter, which decides a sign only
where its proved error bound does
(docs/performance.md, "The evaluator's engines"). What is assumed: the network is valid (``ir.validate``) and has
input nodes matching the dataset's columns.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import networkx as nx
import numpy as np

from netcert.engine import parallel
from netcert.dataset import Dataset
from netcert.engine import batch, collapse, pointwise
from netcert.engine.plan import choose, input_bounds
from netcert.engine.program import Program, compile_network
from netcert.errors import InputError
from netcert.exact import Rat, mpq
from netcert.ir import keys

Progress = Callable[[int], None]
"""Called with the number of points done so far (the kernel's convention too)."""

_PARALLEL_MIN_POINTS = 2000  # below this a pool costs more than it saves
_PARALLEL_MIN_NS = 0.5e9  # the batch path's estimated work below which a pool costs more than it saves


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
class PointWork:
    """What every range of points needs on the per-point path: the program, the data, the sweep order."""

    program: Program
    data: Dataset
    order: list[int]

    def evaluate(self, lo: int, hi: int) -> tuple[int, list[tuple[int, Rat]]]:
        """Points lo..hi-1 of the sweep order; (count, [(index, obtained)] of the mismatches)."""
        return pointwise.evaluate_points(self.program, self.data, self.order[lo:hi])

    def values(self, lo: int, hi: int) -> list[tuple[int, tuple[Rat, ...]]]:
        """Points lo..hi-1 of the sweep order: (index, the exact value of every output)."""
        indices = self.order[lo:hi]
        scales = self.program.output_scales
        ints = pointwise.output_values(self.program, self.data, indices)
        return [(i, tuple(mpq(z) / s for z, s in zip(zs, scales))) for i, zs in zip(indices, ints)]


@dataclass(frozen=True)
class BatchWork:
    """What every range of points needs on a batch path: the compiled layers (or the collapsed
    pair), the data, the output's scale, the points per chunk, and whether some input numerator
    needs 63 bits or more (then the inputs go as object arrays)."""

    layers: tuple[batch.Layer, ...] | collapse.Pair
    data: Dataset
    scale: Rat
    chunk: int
    wide: bool
    scales: tuple[Rat, ...] = ()  # every output's scale, in graph.outputs order (``values``)

    def evaluate(self, lo: int, hi: int) -> tuple[int, list[tuple[int, Rat]]]:
        """Points lo..hi-1, ``chunk`` at a time; mismatches as ``pointwise.evaluate_points`` reports them."""
        data, wrong, work = self.data, [], {}
        inputs = np.array(data.num[lo:hi], dtype=object if self.wide else np.int64).reshape(hi - lo, data.d).T
        for a in range(lo, hi, self.chunk):
            b = min(hi, a + self.chunk)
            X = inputs[:, a - lo : b - lo]
            if isinstance(self.layers, collapse.Pair):
                outs = collapse.forward(self.layers, X, work)
            else:
                outs = batch.to_ints(*batch.forward(self.layers, X, work))
            pointwise.mismatches(data, self.scale, range(a, b), outs, wrong)
        return hi - lo, wrong

    def values(self, lo: int, hi: int) -> list[tuple[int, tuple[Rat, ...]]]:
        """Points lo..hi-1, ``chunk`` at a time: (index, the exact value of every output)."""
        data, out, work = self.data, [], {}
        inputs = np.array(data.num[lo:hi], dtype=object if self.wide else np.int64).reshape(hi - lo, data.d).T
        for a in range(lo, hi, self.chunk):
            b = min(hi, a + self.chunk)
            X = inputs[:, a - lo : b - lo]
            if isinstance(self.layers, collapse.Pair):
                columns = [collapse.forward(self.layers, X, work)]
            else:
                H, r = batch.forward(self.layers, X, work)
                columns = [batch.to_ints(H, r, k) for k in range(len(self.scales))]
            for k, i in enumerate(range(a, b)):
                out.append((i, tuple(mpq(col[k]) / s for col, s in zip(columns, self.scales))))
        return out


def _prepare(G: nx.DiGraph, data: Dataset, engine: str) -> tuple[PointWork | BatchWork, int]:
    """What every range of points needs, and the fewest points worth a pool of processes."""
    bounds = input_bounds(data)
    chosen = choose(G, data.scale, bounds, data.n, engine, complete=False)
    if chosen.compiled is not None:
        wide = max(bounds, default=0) >= batch.INT64_EXACT
        minimum = max(_PARALLEL_MIN_POINTS, int(_PARALLEL_MIN_NS // max(chosen.plan.ns, 1.0)))
        scales = tuple(mpq(chosen.scale[v]) for v in G.graph[keys.OUTPUTS])
        return BatchWork(chosen.compiled, data, scales[0], chosen.plan.chunk, wide, scales), minimum
    program = chosen.program
    return PointWork(program, data, pointwise.sweep_order(program, data)), _PARALLEL_MIN_POINTS


def _task(work: PointWork | BatchWork, bounds: tuple[int, int]) -> tuple[int, list[tuple[int, Rat]]]:
    return work.evaluate(*bounds)


def _values_task(work: PointWork | BatchWork, bounds: tuple[int, int]) -> list[tuple[int, tuple[Rat, ...]]]:
    return work.values(*bounds)


def values(
    G: nx.DiGraph,
    data: Dataset,
    progress: Progress | None = None,
    jobs: int | None = None,
    executor: parallel.Local | parallel.Dask | None = None,
    *,
    engine: str = "auto",
) -> list[tuple[Rat, ...]]:
    """The exact value of every output of ``G`` (in ``graph.outputs`` order) on every distinct
    point of ``data``, in index order: what the classification and tolerance claims judge
    (``claims``). The engines, ranges and executors are ``run``'s; several outputs take the batch
    engine layer by layer when it applies (the collapse has one output), else the per-point path.
    Raises ``InputError`` when the inputs do not match the dataset's coordinates."""
    work, minimum = _prepare(G, data, engine)
    executor = executor or parallel.Local(jobs)
    found: dict[int, tuple[Rat, ...]] = {}
    if not executor.parallel(data.n, minimum):
        step = 256 if progress else data.n
        for start in range(0, data.n, step):
            found.update(work.values(start, min(start + step, data.n)))
            if progress is not None:
                progress(min(start + step, data.n))
    else:
        bounds = [(r.start, r.stop) for r in parallel.batches(range(data.n), executor.slots)]
        for part in executor.map(partial(_values_task, work), bounds):
            found.update(part)
            if progress is not None:
                progress(len(found))
    return [found[i] for i in range(data.n)]


def run(
    G: nx.DiGraph,
    data: Dataset,
    progress: Progress | None = None,
    jobs: int | None = None,
    executor: parallel.Local | parallel.Dask | None = None,
    *,
    engine: str = "auto",
) -> Evaluation:
    """Evaluate ``G`` exactly on every distinct point of ``data`` and compare with the labels.

    Layered networks whose values provably fit the batch kernels go through
    ``batch`` (two-layer ones possibly through ``collapse``) in chunks of
    points when that is estimated cheaper (``engine``: "auto"; "batch"
    layer by layer whenever exact; "collapse" whenever it applies, else as
    "auto"; "point" never; ``plan.evaluation_plan`` says which and why).
    Otherwise points are evaluated in the order of ``pointwise.sweep_order``,
    in contiguous runs (one per task) by ``pointwise.evaluate_points``. The
    runs go to ``executor`` (default ``parallel.Local(jobs)``: with ``jobs``
    > 1, default every core, a pool of processes forked after compiling, so
    the compiled program is shared, not pickled; ``parallel.Dask``: the
    program and the data reach each worker once). The outcome and the outputs
    digest are per point index, so they depend neither on the order nor on
    the executor. Raises ``InputError`` when the network does not have exactly
    one output or its inputs do not match the dataset's coordinates.
    """
    if len(G.graph[keys.OUTPUTS]) != 1:
        raise InputError(f"the network has {len(G.graph[keys.OUTPUTS])} outputs; scalar labels need exactly 1")
    work, minimum = _prepare(G, data, engine)
    executor = executor or parallel.Local(jobs)
    wrong: list[tuple[int, Rat]] = []
    if not executor.parallel(data.n, minimum):
        chunk = 256
        for start in range(0, data.n, chunk):
            wrong += work.evaluate(start, min(start + chunk, data.n) if progress else data.n)[1]
            if progress is None:
                break
            progress(min(start + chunk, data.n))
    else:
        bounds = [(r.start, r.stop) for r in parallel.batches(range(data.n), executor.slots)]
        done = 0
        for count, bad in executor.map(partial(_task, work), bounds):
            done += count
            wrong += bad
            if progress is not None:
                progress(done)
    return _evaluation(data, dict(wrong))


def _evaluation(data: Dataset, obtained: dict[int, Rat]) -> Evaluation:
    """The outcome from the obtained values of the mismatched points: the digest hashes, line by
    line in index order, the label where the output matched it and the output where it did not."""
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
    return [mpq(pointwise.forward(program, p)[0]) / scale for p in data.num]
