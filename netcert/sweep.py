"""``netcert sweep``: sizes of constructions over N (and depth caps L), with fitted slopes and plots.

Each point of the sweep builds a construction on one dataset: generated
(X uniform on [-1, 1]^d, labels uniform on 1..C, numpy ``default_rng(seed)``,
docs/constructions/vardi2022.md section 11's generator) or the first N points of a seeded
permutation of a user's dataset. Sizes are the exact measures of
``ir.measures``; times are wall-clock (``--times`` adds the exact evaluation
of every point). The fitted slope of log(parameters) against log(N) is a
least-squares fit over the sweep, and the "last decade" slope is the
least-squares fit over N >= N_max / 10 (10^4..10^5 for a sweep to 10^5),
which is how the construction issues state their targets; a single point
spacing there would be noisy (the stage choices jump between grid points). Floats appear only in the slopes and the plots.

Plots (matplotlib, optional extra ``netcert[plots]``): ``sizes.png``,
nonzero parameters vs N on log-log axes with each construction's fitted slope
and the reference rates sqrt N (the VC lower bound), N^(2/3) and N;
``depth.png``, vardi2022's nonzero parameters vs the depth cap L with the
N / L reference.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
import dataclasses
import io
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from netcert import dataset
from netcert.engine import evaluate
from netcert.constructions import registry
from netcert.dataset import Dataset
from netcert.errors import NetcertError, UsageError
from netcert.formats import files
from netcert.ir import measures

if TYPE_CHECKING:  # matplotlib is an optional extra, imported only when plotting
    from matplotlib.figure import Figure


@dataclass(frozen=True)
class Point:
    construction: str
    N: int
    d: int
    C: int
    L: int | None
    built: str
    depth: int
    width: int
    neurons: int
    params_dense: int | None  # None when the network has no layered dense form (``measures.params_dense``)
    params_nonzero: int
    max_weight_bits: int
    total_weight_bits: int
    build_s: float
    eval_s: float | None


def generated(N: int, d: int, C: int, seed: int) -> Dataset:
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (N, d))
    return dataset.from_arrays(X, rng.integers(1, C + 1, N))


def subsample(data: Dataset, N: int, seed: int) -> Dataset:
    """The first N distinct points of a seeded permutation of ``data`` (all of it if N >= n), exactly.

    The column scales are kept (every coordinate is still num / scale), so the
    subsample's numbers are the file's numbers.
    """
    keep = sorted(int(i) for i in np.random.default_rng(seed).permutation(data.n)[:N])
    num = tuple(data.num[i] for i in keep)
    labels = tuple(data.labels[i] for i in keep)
    floats = None if data.floats is None else data.floats[keep]
    return dataclasses.replace(
        data,
        num=num,
        labels=labels,
        kept=tuple(data.kept[i] for i in keep),
        merged=(),
        rows=len(keep),
        digest=dataset.digest_of([list(r) for r in num], list(data.scale), list(labels)),
        sha256=None,
        floats=floats,
    )


def measure_point(name: str, data: Dataset, *, seed: int, L: int | None, times: bool) -> Point:
    c = registry.get(name)
    options = {"seed": seed, **({"depth": L} if L is not None else {})}
    t0 = time.perf_counter()
    G = c.build(data, **options)
    tb = time.perf_counter() - t0
    te = None
    if times:
        t0 = time.perf_counter()
        if not evaluate.run(G, data).exact:
            raise NetcertError(f"{name} does not interpolate its N = {data.n} sample")
        te = time.perf_counter() - t0
    m = measures.measure(G)
    built = G.graph["construction"].get("options", {}).get("built", name)
    return Point(
        name,
        data.n,
        data.d,
        len(set(data.labels)),
        L,
        built,
        m.depth,
        m.width,
        m.neurons,
        m.params_dense,
        m.params_nonzero,
        m.max_weight_bits,
        m.total_weight_bits,
        round(tb, 3),
        None if te is None else round(te, 3),
    )


def run(
    names: list[str],
    Ns: list[int],
    caps: list[int],
    *,
    d: int,
    C: int,
    seed: int,
    times: bool,
    base: Dataset | None = None,
    on_point: Callable[[Point], object] | None = None,
) -> list[Point]:
    """Every (construction, N) point of a sweep, then vardi2022 at the largest N under each depth cap.

    The data is ``base`` subsampled to N (``subsample``) or generated (``generated``); an N
    larger than ``base`` has points is refused (``UsageError``) rather than silently measured
    at ``base.n``. ``on_point(point)`` is called as each point is measured (for progress).
    """
    if base is not None and max(Ns) > base.n:
        too_big = sorted(N for N in Ns if N > base.n)
        raise UsageError(f"--n {','.join(map(str, too_big))}: the dataset has only {base.n} distinct points")
    data = (lambda N: subsample(base, N, seed)) if base is not None else (lambda N: generated(N, d, C, seed))
    points = []
    for N in Ns:
        ds = data(N)
        for name in names:
            points.append(measure_point(name, ds, seed=seed, L=None, times=times))
            if on_point is not None:
                on_point(points[-1])
    for L in caps:
        points.append(measure_point("vardi2022", data(Ns[-1]), seed=seed, L=L, times=times))
        if on_point is not None:
            on_point(points[-1])
    return points


def slopes(points: list[Point]) -> dict[str, tuple[float, float | None]]:
    """(least-squares slope, last-decade slope) of log nonzero vs log N per construction (uncapped runs).

    The last decade is N >= N_max / 10 (at least the two largest N)."""
    out: dict[str, tuple[float, float | None]] = {}
    for name in sorted({p.construction for p in points}):
        pts = sorted((p.N, p.params_nonzero) for p in points if p.construction == name and p.L is None)
        if len(pts) < 2:
            continue
        decade = [q for q in pts if 10 * q[0] >= pts[-1][0]]
        out[name] = (_fit(pts), _fit(decade if len(decade) >= 2 else pts[-2:]))
    return out


def _fit(pts: list[tuple[int, int]]) -> float:
    """Least-squares slope of log v against log N."""
    return float(np.polyfit(np.log([n for n, _ in pts]), np.log([v for _, v in pts]), 1)[0])


def to_csv(points: list[Point]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    names = [f.name for f in fields(Point)]
    w.writerow(names)
    for p in points:
        row = asdict(p)
        w.writerow(["" if row[k] is None else row[k] for k in names])
    return buf.getvalue().encode()


def plot(points: list[Point], out: Path) -> list[Path]:
    """Write sizes.png (and depth.png when there are capped runs); the paths written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    fits = slopes(points)
    fig, ax = plt.subplots(figsize=(8, 5.5))
    Ns = sorted({p.N for p in points if p.L is None})
    for name in sorted({p.construction for p in points if p.L is None}):
        pts = sorted((p.N, p.params_nonzero) for p in points if p.construction == name and p.L is None)
        label = name if name not in fits else f"{name} (slope {fits[name][0]:.3f}, last decade {fits[name][1]:.3f})"
        ax.plot([n for n, _ in pts], [v for _, v in pts], marker="o", label=label)
    if Ns:
        grid = np.geomspace(Ns[0], Ns[-1], 50)
        ax.plot(grid, np.sqrt(grid), "k:", label="sqrt N (VC lower bound)")
        ax.plot(grid, grid ** (2 / 3), "k-.", alpha=0.6, label="N^(2/3)")
        ax.plot(grid, grid, "k--", alpha=0.6, label="N")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("N (points)")
    ax.set_ylabel("nonzero parameters")
    ax.set_title("Network size vs N (exact counts)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    written.append(_save(fig, out / "sizes.png"))
    plt.close(fig)
    capped = sorted((p.L, p.params_nonzero, p.N, p.built) for p in points if p.L is not None)
    if capped:
        fig, ax = plt.subplots(figsize=(8, 5.5))
        N = capped[0][2]
        ax.plot([L for L, *_ in capped], [v for _, v, *_ in capped], marker="o", label=f"vardi2022, N = {N:,}")
        fallback = [(L, v) for L, v, _, built in capped if built != "vardi2022"]
        if fallback:
            ax.plot(*zip(*fallback), "rx", markersize=10, label="cap too small: the depth-3 interpolant was built")
        Ls = np.array([L for L, *_ in capped], dtype=float)
        ax.plot(Ls, N / Ls, "k--", alpha=0.6, label="N / L (lower bound, up to log factors)")
        ax.axhline(3 * N, color="grey", lw=0.8, label="3N (depth-3 interpolant)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("depth cap L")
        ax.set_ylabel("nonzero parameters")
        ax.set_title("The depth-L family: parameters vs depth cap")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        written.append(_save(fig, out / "depth.png"))
        plt.close(fig)
    return written


def _save(fig: Figure, path: Path) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    files.write_atomic(path, buf.getvalue())
    return path
