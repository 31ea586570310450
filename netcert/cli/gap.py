"""``gap``: at what width gradient descent memorizes, certified exactly, beside the constructions."""

from __future__ import annotations

import csv
import io
import json
import math
import time
from pathlib import Path

import click

from netcert.cli.common import (
    EXISTING,
    OUTPUT,
    _errors,
    _Lazy,
    _mode,
    _progress_options,
    compare,
    dataset,
    files,
    progress,
)
from netcert.errors import UsageError

gap = _Lazy("netcert.gap")


def _runs_at(args: tuple) -> object:
    """One run in a worker process, with one BLAS thread (the workers are the parallelism)."""
    ds, data_path, out, width, seed, setup = args
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return gap.one_run(ds, data_path, out, width, seed, setup)


def _try_width(ds, data_path: Path, out: Path, seeds: int, setup, jobs: int, tick):
    def run(width: int) -> list:
        work = [(ds, data_path, out, width, s, setup) for s in range(seeds)]
        if jobs == 1:
            results = []
            for w in work:
                results.append(_runs_at(w))
                tick(width)
            return results
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("fork")) as pool:
            results = []
            for r in pool.map(_runs_at, work):
                results.append(r)
                tick(width)
            return results

    return run


def _table(result, seeds: int, rows, b, n: int) -> list[str]:
    lines = [
        f"{'width':>6} {'certified':>9} {'params':>8} {'mean min margin / max error':>28} {'train s':>8} {'epochs':>7}"
    ]
    for m in sorted(result.runs):
        runs = result.runs[m]
        ok = [r for r in runs if r.memorized]
        margin = "-"
        if ok and ok[0].margin is not None:
            from gmpy2 import mpq

            margin = f"~{float(sum(mpq(r.margin) for r in ok) / len(ok)):.3g}"
        lines.append(
            f"{m:>6} {f'{len(ok)}/{len(runs)}':>9} {runs[0].params:>8} {margin:>28} "
            f"{sum(r.train_s for r in runs) / len(runs):>8.1f} {max(r.epochs for r in runs):>7}"
        )
    lines.append(
        f"m* = {result.m_star} hidden ReLUs per layer (smallest width certified)"
        if result.m_star
        else f"m* not found{': ' + result.stopped if result.stopped else ''}"
    )
    if result.stopped and result.m_star:
        lines.append(f"note: {result.stopped}")
    lines.append(
        f"lower bounds for arbitrary labels: {n} parameters at depth 2 (counting), ceil(sqrt N) = {b.vc_params} "
        f"(VC); the constructions below build for any labels:"
    )
    for r in rows:
        size = f"{r.neurons} neurons, {r.params_nonzero} nonzero parameters" if r.neurons else r.reason[:60]
        lines.append(f"  {r.construction:16} {r.outcome:12} {size}")
    return lines


def _plot(result, rows, path: Path, seeds: int) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError("gap.png needs matplotlib: pip install 'netcert[plots]'") from None
    ws = sorted(result.runs)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(ws, [sum(r.memorized for r in result.runs[m]) / seeds for m in ws], marker="o", label="gradient descent")
    for r in rows:
        if r.neurons:
            ax.axvline(r.neurons, linestyle=":", color="gray")
            ax.text(r.neurons, 0.5, r.construction, rotation=90, fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("hidden width")
    ax.set_ylabel("fraction of seeds certified")
    ax.set_ylim(-0.05, 1.05)
    ax.legend()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120, metadata={"Software": None})
    plt.close(fig)
    files.write_atomic(path, buffer.getvalue())


@click.command(name="gap")
@click.argument("data", type=EXISTING)
@click.option("--widths", default="auto", show_default=True, help="auto (doubling, then bisection) or m1,m2,...")
@click.option("--depth", type=click.IntRange(1, 2), default=1, show_default=True, help="Hidden layers.")
@click.option("--seeds", type=click.IntRange(min=1), default=5, show_default=True, help="Training runs per width.")
@click.option("--optimizer", type=click.Choice(["adam", "sgd", "lbfgs"]), default="adam", show_default=True)
@click.option("--epochs", type=click.IntRange(min=1), default=3000, show_default=True, help="At most, per run.")
@click.option("--regression", is_flag=True, help="Integer labels as numbers (MLPRegressor, |f - y| < 1/2).")
@click.option("--require", type=click.Choice(["any", "all"]), default="any", show_default=True, help="Seeds needed.")
@click.option("--budget", type=float, default=None, help="Seconds: no new width is started after them.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True, help="Runs in parallel.")
@click.option("--constructions/--no-constructions", default=True, help="Build the constructions beside [default: yes].")
@click.option("--construction-budget", type=float, default=60.0, show_default=True, help="Seconds per construction.")
@click.option("--out", type=OUTPUT, default=Path("gap"), show_default=True, help="Directory for every file.")
@_progress_options
def gap_cmd(
    data: Path,
    widths: str,
    depth: int,
    seeds: int,
    optimizer: str,
    epochs: int,
    regression: bool,
    require: str,
    budget: float | None,
    jobs: int,
    constructions: bool,
    construction_budget: float,
    out: Path,
    quiet: bool,
    show_progress: bool,
) -> None:
    """Train ReLU networks on DATA at several widths and certify exactly which memorize it.

    Every "certified" is an exact certificate (classification: the unique largest score is the
    label's; --regression: |f - y| < 1/2), written in --out with its network and checkable by
    `netcert check`; training accuracy only decides when training stops.
    """
    with _errors():
        chosen = gap.parse_widths(widths)
        if budget is not None and budget <= 0:
            raise UsageError("--budget takes a positive number of seconds")
        ds = dataset.load(data)
        if not regression and ds.label_kind != "integer":
            raise UsageError(f"{data}: real labels: pass --regression or give integer class labels")
        out.mkdir(parents=True, exist_ok=True)
        local = out / ("data" + "".join(data.suffixes[-1:]))
        files.write_atomic(local, data.read_bytes())  # the certificates name a file beside them
        setup = gap.Setup(depth=depth, optimizer=optimizer, epochs=epochs, regression=regression)
        deadline = None if budget is None else time.monotonic() + budget
        with progress.stages("gap", _mode(quiet, show_progress)) as stage:

            def tick(width: int) -> None:
                stage(f"width {width}")

            result = gap.search(
                chosen, _try_width(ds, local, out, seeds, setup, jobs, tick), require=require, deadline=deadline
            )
            rows = []
            if constructions:
                stage("building the constructions")
                (out / "constructions").mkdir(exist_ok=True)
                rows = compare.compare(local, out / "constructions", budget=construction_budget, jobs=1)
        b = compare.bounds(ds)
        _write(result, rows, b, out, ds, setup, seeds, require)
    for line in _table(result, seeds, rows, b, ds.n):
        click.echo(line)
    click.echo(f"{out}/: gap.csv, gap.json, gap.png and one certificate per run (netcert check {out}/*.cert.json)")


def _write(result, rows, b, out: Path, ds, setup, seeds: int, require: str) -> None:
    from dataclasses import asdict

    runs = [r for m in sorted(result.runs) for r in result.runs[m]]
    text = io.StringIO()
    w = csv.writer(text, lineterminator="\n")
    fields = list(asdict(runs[0])) if runs else ["width"]
    w.writerow(fields)
    for r in runs:
        w.writerow([asdict(r)[f] for f in fields])
    files.write_atomic(out / "gap.csv", text.getvalue().encode())
    record = {
        "format": "netcert.gap",
        "version": 1,
        "dataset": {"n": ds.n, "d": ds.d, "digest": ds.digest},
        "setup": asdict(setup) | {"seeds": seeds, "require": require},
        "runs": [asdict(r) for r in runs],
        "m_star": result.m_star,
        "stopped": result.stopped,
        "constructions": [asdict(r) for r in rows],
        "bounds": {"counting_params_depth2": ds.n, "vc_params": b.vc_params, "n_over_d": math.ceil(ds.n / ds.d)},
    }
    files.write_atomic(out / "gap.json", (json.dumps(record, indent=2, sort_keys=True) + "\n").encode())
    if runs:
        _plot(result, rows, out / "gap.png", seeds)


def register(group: click.Group) -> None:
    """Add this module's commands to ``group``."""
    group.add_command(gap_cmd)
