"""``compare`` and ``sweep``: every construction side by side, and sizes over N."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import click

from netcert.cli.common import EXISTING, SCHEDULER, _errors, compare, dataset, files, parallel, registry, sweep
from netcert.errors import UsageError


@click.command(name="compare")
@click.argument("data", type=EXISTING)
@click.option("--only", default=None, help="Comma-separated constructions (default: all).")
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Points the kernel re-evaluates per network.",
)
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, help="Evaluator processes.")
@SCHEDULER
@click.option("--budget", type=float, default=None, help="Seconds allowed per build and per verify.")
@click.option(
    "--keep",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory to keep the networks and certificates in.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def compare_cmd(
    data: Path,
    only: str | None,
    sample: int,
    jobs: int | None,
    scheduler: str | None,
    budget: float | None,
    keep: Path | None,
    as_json: bool,
) -> None:
    """Build and certify every construction on DATA; one table, with the lower bounds."""
    with _errors():
        if scheduler is not None:  # a usage error or an unreachable scheduler, before any build
            parallel.connect(scheduler, jobs).close()
        ds = dataset.load(data)
        names = None if only is None else [registry.get(n.strip()).name for n in only.split(",") if n.strip()]
        with contextlib.ExitStack() as stack:
            if keep is None:
                workdir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            else:
                keep.mkdir(parents=True, exist_ok=True)
                workdir = keep
            rows = compare.compare(
                data.resolve(),
                workdir,
                names=names,
                sample=sample,
                jobs=jobs,
                budget=budget,
                progress=None if as_json else (lambda n: click.echo(f"... {n}", err=True)),
                scheduler=scheduler,
            )
    b = compare.bounds(ds)
    click.echo(compare.as_json(rows, b) if as_json else compare.table(rows, b), nl=not as_json)


def _ints(text: str, what: str) -> list[int]:
    try:
        values = [int(float(v)) for v in text.split(",") if v.strip()]
    except ValueError:
        raise UsageError(f"--{what} takes comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise UsageError(f"--{what} takes positive integers, got {text!r}")
    return values


@click.command(name="sweep")
@click.option(
    "--constructions", "-c", "names", default="vardi2022", show_default=True, help="Comma-separated constructions."
)
@click.option("--n", "ns", default="100,1000,10000", show_default=True, help="Comma-separated N (1e5 works).")
@click.option("--L", "Ls", default=None, help="Comma-separated depth caps for vardi2022, at the largest N.")
@click.option("--d", "d", type=click.IntRange(min=1), default=2, show_default=True, help="Dimension (generated data).")
@click.option("--C", "C", type=click.IntRange(min=1), default=2, show_default=True, help="Classes (generated data).")
@click.option("--data", type=EXISTING, default=None, help="Subsample this dataset instead of generating data.")
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed of the generated data (or of the subsample of --data) and of every construction.",
)
@click.option("--times", is_flag=True, help="Also evaluate every point exactly and report the time.")
@click.option("--no-plots", is_flag=True, help="Only the CSV.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("netcert-sweep"),
    show_default=True,
    help="Directory for sweep.csv and the plots.",
)
def sweep_cmd(
    names: str,
    ns: str,
    Ls: str | None,
    d: int,
    C: int,
    data: Path | None,
    seed: int,
    times: bool,
    no_plots: bool,
    out: Path,
) -> None:
    """Sizes of constructions over N (and depth caps L): CSV, fitted slopes, plots."""
    with _errors():
        chosen = [registry.get(n.strip()).name for n in names.split(",") if n.strip()]
        Ns = sorted(set(_ints(ns, "n")))
        caps = _ints(Ls, "L") if Ls else []
        if caps and "vardi2022" not in chosen:
            raise UsageError("--L needs vardi2022 among the constructions (the depth-L family)")
        base = dataset.load(data) if data is not None else None

        def show(p) -> None:
            if p.L is None:
                click.echo(
                    f"{p.construction:11s} N = {p.N:>8,}: depth {p.depth}, {p.params_nonzero:,} nonzero, "
                    f"{p.params_dense:,} dense, max {p.max_weight_bits} bits, build {p.build_s:.2f} s"
                    + ("" if p.eval_s is None else f", eval {p.eval_s:.2f} s")
                )
            else:
                what = {
                    "vardi2022": "the depth-L network",
                    "trivial": "the depth-3 zig-zag instead (smaller at this cap, or no block size fits it)",
                    "constant": "a constant (one label)",
                }.get(p.built, p.built)
                click.echo(
                    f"vardi2022   N = {p.N:>8,}, L = {p.L}: built {what}, depth {p.depth}, {p.params_nonzero:,} nonzero"
                )

        points = sweep.run(chosen, Ns, caps, d=d, C=C, seed=seed, times=times, base=base, on_point=show)
        out.mkdir(parents=True, exist_ok=True)
        files.write_atomic(out / "sweep.csv", sweep.to_csv(points))
        click.echo(f"wrote {out / 'sweep.csv'}")
        for name, (fit, last) in sweep.slopes(points).items():
            click.echo(
                f"slope of nonzero parameters vs N, {name}: {fit:.3f} (least squares), {last:.3f} "
                f"(last decade, N >= {max(p.N for p in points) // 10:,})"
            )
        if not no_plots:
            try:
                for path in sweep.plot(points, out):
                    click.echo(f"wrote {path}")
            except ImportError:
                click.echo("plots skipped: matplotlib is not installed (pip install 'netcert[plots]')", err=True)


def register(group: click.Group) -> None:
    """Add this module's commands to ``group``."""
    for command in (compare_cmd, sweep_cmd):
        group.add_command(command)
