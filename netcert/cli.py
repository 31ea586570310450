"""The command line: thin click commands over the library.

Exit codes: 0 success / certified, 1 refuted or check failed, 2 usage error,
3 bad input, 4 internal error, 130 interrupted. A ``NetcertError`` becomes one
line on stderr, never a traceback; every output file is written atomically.

The library is imported when a command first needs it (``_Lazy``), so that
``netcert --help`` and ``--version`` answer without loading sympy, scipy and
networkx (1.3 s of a start-up measured at 1.3 s).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import sys
import tempfile
from importlib import resources
from pathlib import Path

import click

from netcert import __version__, limits
from netcert.errors import InputError, NetcertError, NetworkError, PreconditionError, UsageError


class _Lazy:
    """A module imported at its first attribute access."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str):
        return getattr(importlib.import_module(self._name), attr)


certificate, certify, compare, dataset, progress, report, sweep = (
    _Lazy(f"netcert.{m}") for m in ("certificate", "certify", "compare", "dataset", "progress", "report", "sweep")
)
evaluate, native, parallel = (_Lazy(f"netcert.engine.{m}") for m in ("evaluate", "native", "parallel"))
api, auto = _Lazy("netcert.api"), _Lazy("netcert.constructions.auto")
registry = _Lazy("netcert.constructions.registry")
files, netjson = _Lazy("netcert.formats.files"), _Lazy("netcert.formats.netjson")
keys, measures, validate = _Lazy("netcert.ir.keys"), _Lazy("netcert.ir.measures"), _Lazy("netcert.ir.validate")
exact = _Lazy("netcert.exact")


class _InputFile(click.ParamType):
    """A path to read. Not checked here: the readers refuse a missing file, a directory, a FIFO
    or a device with the contract's one line and exit 3, where click would say exit 2."""

    name = "file"

    def convert(self, value, param, ctx) -> Path:
        if isinstance(value, Path):
            return value
        if not str(value):
            raise _Error(InputError(f"'': an empty file name (for {param.human_readable_name if param else 'a file'})"))
        return Path(value)


EXISTING = _InputFile()
OUTPUT = click.Path(path_type=Path)  # write_atomic refuses a directory or a missing parent (exit 3, one line)
SCHEDULER = click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Evaluate on the workers of this Dask scheduler, e.g. tcp://10.0.0.5:8786 "
    "(pip install 'netcert[dask]'); not with --jobs.",
)


class _Error(click.ClickException):
    """A NetcertError shown as one line with its own exit code."""

    def __init__(self, error: NetcertError):
        super().__init__(str(error))
        self.exit_code = error.exit_code

    def show(self, file=None) -> None:
        kind = "internal error" if self.exit_code == 4 else "error"  # an InternalError: a bug, not the input
        click.echo(f"netcert: {kind}: {self.message}", err=True)


@contextlib.contextmanager
def _errors():
    try:
        yield
    except NetcertError as e:
        raise _Error(e) from None


def _alternatives(ds, refused: str, seed: int) -> str:
    """The way out of a refusal: the constructions whose assumptions this dataset meets."""
    fits = [c.name for c in registry.CONSTRUCTIONS.values() if c.name != refused and not c.check(ds, {"seed": seed})]
    if not fits:
        return "; no construction accepts this dataset"
    return f"; constructions that accept it: {', '.join(fits)} (or -c auto)"


def _flag(option: str) -> str:
    """The command-line spelling of a construction option (``fan_in`` -> ``--fan-in``)."""
    return "--" + option.replace("_", "-")


def _progress_options(fn):
    """--progress / --quiet: the progress mode of a command (default: shown on a terminal only)."""
    fn = click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")(fn)
    return click.option(
        "--progress", "show_progress", is_flag=True, help="Progress on stderr even when it is not a terminal."
    )(fn)


_CSV_FLAGS = ("label_column", "header", "delimiter", "labels", "index_column")


def _csv_options(fn):
    """How a CSV dataset is read: --label-column, --header, --delimiter, --labels, --index-column."""
    for option in reversed(
        (
            click.option(
                "--label-column",
                default=None,
                metavar="COL",
                help="CSV: the label's column, from 1 (negative from the end) or a header name [default: last].",
            ),
            click.option(
                "--header",
                type=click.Choice(["auto", "yes", "no"]),
                default=None,
                help="CSV: is the first line a header [default: auto, when none of its fields is a number].",
            ),
            click.option(
                "--delimiter",
                type=click.Choice([",", ";", "tab", "|", "auto"]),
                default=None,
                help="CSV: the field separator; auto sniffs it from the first lines [default: ,].",
            ),
            click.option(
                "--labels",
                type=click.Choice(["numbers", "map"]),
                default=None,
                help="CSV: map string labels to 0, 1, 2, ... in sorted order (recorded in the certificate).",
            ),
            click.option(
                "--index-column",
                type=click.Choice(["refuse", "drop", "keep"]),
                default=None,
                help="CSV: a leading pandas-style row index column [default: refuse].",
            ),
        )
    ):
        fn = option(fn)
    return fn


def _csv(chosen: dict):
    """The CsvOptions of the CSV flags in ``chosen`` (removed from it), or None when none was given."""
    given = {k: chosen.pop(k) for k in _CSV_FLAGS if k in chosen}
    given = {k: v for k, v in given.items() if v is not None}
    if not given:
        return None
    if "label_column" in given:
        given["label_column"] = dataset.CsvOptions.parse_label_column(given["label_column"])
    if given.get("delimiter") == "tab":
        given["delimiter"] = "\t"
    return dataset.CsvOptions(**given)


def _notes(ds) -> None:
    """What the CSV reader decided for the user (a sniffed delimiter, a dropped index, a label map), on
    stderr after a success; the header rule is said only in the refusals it explains (it is the usual case)."""
    for note in getattr(ds, "csv_notes", ()) or ():
        if not note.startswith("header:"):
            click.echo(f"netcert: note: {ds.path}: {note}", err=True)


def _mode(quiet: bool, show_progress: bool) -> str:
    return progress.NEVER if quiet else progress.ALWAYS if show_progress else progress.AUTO


class _Budget(Exception):
    """The time a command was given ran out."""


@contextlib.contextmanager
def _budget(seconds: float | None, what: str, stage: list[str]):
    """Exit 3 (an InputError naming the stage) when ``seconds`` pass inside the block (SIGALRM, main thread)."""
    if seconds is None:
        yield
        return
    if seconds <= 0:
        raise UsageError(f"--budget takes a positive number of seconds, got {seconds}")
    import signal

    def expire(signum, frame):
        raise _Budget()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _Budget:
        raise InputError(
            f"{what}: stopped at the budget of {seconds:g} s, while {stage[-1]}; nothing was "
            "written (give a larger --budget, or none)"
        ) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _limit_option(limit: limits.Limit):
    def store(ctx, param, value):
        if value is not None:  # the environment carries it to forked workers and to the kernel
            os.environ[limit.env] = str(value)
        return value

    return click.option(
        limit.flag,
        type=click.IntRange(min=1),
        default=None,
        expose_value=False,
        callback=store,
        is_eager=True,
        help=f"Refuse inputs over this many {limit.meaning} [default: {limit.default}; env {limit.env}].",
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="netcert")
@_limit_option(limits.BITS)
@_limit_option(limits.BYTES)
@_limit_option(limits.VALUES)
@_limit_option(limits.LAYER)
def cli() -> None:
    """Compile memorization theorems into exact networks and certify what they compute.

    Every reader bounds what it reads before it allocates; the --max-* options (before the
    command: `netcert --max-bits 2000000 verify ...`) raise or lower those limits.
    """


class _BuildCommand(click.Command):
    """``build``, whose construction options are made from the constructions' own declarations
    (``Construction.options``: one source of truth for the flags and their help), when the command
    is first parsed, so that ``netcert --help`` does not import the constructions."""

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        if not getattr(self, "_declared", False):
            self._declared = True
            self.params.extend(_construction_options())
        return super().get_params(ctx)


def _construction_options() -> list[click.Option]:
    """One --flag per option any construction declares (but the seed, which build takes itself);
    its help names each construction that takes it, with that construction's description."""
    takers: dict[str, list[str]] = {}
    for c in registry.CONSTRUCTIONS.values():
        for name, doc in c.options.items():
            if name != "seed":
                takers.setdefault(name, []).append(f"{c.name}: {doc}")
    return [click.Option([_flag(name)], default=None, help="; ".join(docs)) for name, docs in sorted(takers.items())]


@cli.command(cls=_BuildCommand)
@click.argument("data", type=EXISTING)
@click.option(
    "--construction",
    "-c",
    default="auto",
    show_default=True,
    help="See `netcert constructions`; auto: the fewest nonzero parameters, predicted then built.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of every random choice.")
@click.option(
    "-o",
    "--output",
    type=OUTPUT,
    default=Path("net.json"),
    show_default=True,
    help="Network file to write (.json or .json.gz).",
)
@click.option("--force", "-f", is_flag=True, help="Overwrite OUTPUT if it exists (refused by default).")
@click.option(
    "--budget",
    type=float,
    default=None,
    metavar="S",
    help="Stop (exit 3, nothing written) when the build takes more than S seconds.",
)
@_progress_options
@_csv_options
def build(
    data: Path,
    construction: str,
    seed: int,
    output: Path,
    force: bool,
    budget: float | None,
    quiet: bool,
    show_progress: bool,
    **chosen: str | None,
) -> None:
    """Build a network that interpolates DATA (.npz or .csv).

    Construction options (--widths, --mode, ...) are passed only when given;
    `netcert constructions` lists which construction takes which. An existing
    OUTPUT is not overwritten without --force.
    """
    with _errors():
        csv = _csv(chosen)
        options = {k: v for k, v in chosen.items() if v is not None}
        if construction == "auto" and options:
            raise UsageError(
                f"--construction auto takes no construction option (got {_flag(sorted(options)[0])}); "
                "name a construction to pass options"
            )
        if construction != "auto":  # an unknown name or option is a usage error before any reading
            c = registry.get(construction)
            unknown = sorted(set(options) - set(c.options))
            if unknown:
                raise UsageError(
                    f"{c.name} has no option {_flag(unknown[0])} (its options: "
                    f"{', '.join(_flag(o) for o in c.options)})"
                )
        doing = ["starting"]
        with (
            progress.stages(f"build {construction}", _mode(quiet, show_progress)) as stage,
            _budget(budget, f"build {construction} on {data}", doing),
        ):

            def now(what: str) -> None:
                doing.append(what)
                stage(what)

            now(f"reading {data}")
            ds = dataset.load(data, csv=csv)
            if output.is_dir():
                raise InputError(f"{output}: is a directory, cannot write a file there")
            if output.exists() and not force:  # after the input's own errors, before the long part
                raise InputError(f"{output}: exists; pass --force to overwrite it, or -o another name")
            now(
                f"building {construction} on {ds.n} points"
                if construction != "auto"
                else f"predicting every construction's size on {ds.n} points, building the best (auto)"
            )
            try:
                G = api.build(ds, construction, seed=seed, **options)
            except PreconditionError as e:
                raise PreconditionError(
                    str(e) + ("" if construction == "auto" else _alternatives(ds, construction, seed))
                ) from None
            c = registry.get(G.graph[keys.CONSTRUCTION]["name"])
            now(f"writing {output}")
            netjson.write(G, output)
            m = measures.measure(G)
    merged = f", {len(ds.merged)} duplicate rows merged" if ds.merged else ""
    click.echo(
        f"{output}: {c.name} on {ds.n} points (d = {ds.d}{merged}): depth {m.depth}, width {m.width}, "
        f"{m.params_nonzero} nonzero parameters, max {m.max_weight_bits} bits per weight"
    )
    _notes(ds)


@cli.command(name="verify")
@click.argument("net", type=EXISTING)
@click.option("--data", "-d", type=EXISTING, required=True, help="The dataset the network must interpolate.")
@click.option("-o", "--output", type=OUTPUT, default=None, help="Certificate to write [default: NET with .cert.json].")
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Points the independent kernel re-evaluates (seeded sample).",
)
@click.option("--full", is_flag=True, help="Kernel re-evaluates every point (slow on large networks).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the kernel's sample.")
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Processes for the exact evaluation [default: every core].",
)
@SCHEDULER
@_progress_options
@_csv_options
def verify_cmd(
    net: Path,
    data: Path,
    output: Path | None,
    sample: int,
    full: bool,
    seed: int,
    jobs: int | None,
    scheduler: str | None,
    quiet: bool,
    show_progress: bool,
    **flags: str | None,
) -> None:
    """Evaluate NET exactly on every point of DATA, re-check it independently, write a certificate.

    A CSV read with --label-column, --delimiter, ... is recorded with those
    options in the certificate, so `netcert check` reads it the same way.
    """
    output = output or _cert_name(net)
    mode = _mode(quiet, show_progress)
    with _errors():
        csv = _csv(flags)
        ds = dataset.load(data, csv=csv)
        n = ds.n
        with (
            parallel.connect(scheduler, jobs) as ex,
            progress.counter("evaluating", n, mode) as p1,
            progress.counter("kernel", n if full else min(n, sample), mode, "reading the files") as p2,
        ):
            cert = certify.verify(
                net,
                data,
                output,
                sample=sample,
                seed=seed,
                full=full,
                progress=p1,
                kernel_progress=p2,
                data=ds,
                executor=ex,
                csv=csv,
            )
    _finish(cert, output, lambda: _notes(ds))


def _finish(cert: dict, path: Path, after=None) -> None:
    """Write the certificate atomically, print its summary (then ``after()``), exit 0 if certified else 1."""
    with _errors():
        files.write_atomic(path, certificate.to_bytes(cert))
    _summary(cert, path)
    if after is not None:
        after()
    sys.exit(0 if cert["verdict"] == certificate.CERTIFIED else 1)


def _cert_name(net: Path) -> Path:
    name = net.name
    for suffix in (".json.gz", ".json"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return net.with_name(name + ".cert.json")


def _summary(cert: dict, path: Path) -> None:
    for line in report.certificate_summary(cert, path):
        click.echo(line)


@cli.command()
@click.argument("certs", nargs=-1, required=True, type=EXISTING)
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    default=None,
    help="Also have the kernel re-evaluate a seeded sample of this many points "
    "[default: only the sample the certificate claims].",
)
@click.option("--full", is_flag=True, help="Also have the kernel re-evaluate every point.")
@click.option(
    "--allow-outside",
    is_flag=True,
    help="Follow network and dataset paths that leave the certificate's directory tree.",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Processes for the exact evaluation [default: every core].",
)
@SCHEDULER
@_progress_options
def check(
    certs: tuple[Path, ...],
    sample: int | None,
    full: bool,
    allow_outside: bool,
    jobs: int | None,
    scheduler: str | None,
    quiet: bool,
    show_progress: bool,
) -> None:
    """Re-verify certificates from the files they name; exit 1 on any difference.

    A directory stands for every *.cert.json under it (recursively). Each
    certificate is re-run as it claims to have been made (its kernel mode,
    seed and sample), so a claim of a full check is re-checked in full.
    """
    with _errors():
        found = _certificates(certs)
        ex = parallel.connect(scheduler, jobs)
    with ex:
        sys.exit(_check_all(found, sample, full, ex, _mode(quiet, show_progress), allow_outside))


def _check_all(certs: list[Path], sample: int | None, full: bool, ex, mode: str, allow_outside: bool) -> int:
    """The exit code of checking every certificate named, each reported on one line (and its differences)."""
    worst = 0
    for path in certs:
        try:
            stored = certify.read_certificate(path)
            n, claimed = stored["dataset"]["n"], stored["checker"]["sample"]
            with (
                progress.counter("evaluating", n, mode) as p1,
                progress.counter(
                    "kernel", n if full else min(n, sample or claimed or n), mode, "reading the files"
                ) as p2,
            ):
                diffs = certify.recheck(
                    path,
                    sample=sample,
                    full=full,
                    progress=p1,
                    kernel_progress=p2,
                    stored=stored,
                    executor=ex,
                    allow_outside=allow_outside,
                )
        except NetcertError as e:
            click.echo(f"netcert: error: {e}", err=True)
            worst = max(worst, e.exit_code if e.exit_code != 2 else 3)
            continue
        if diffs:
            click.echo(f"FAIL {path}")
            for d in diffs:
                click.echo(f"  {d}")
            worst = max(worst, 1)
        else:
            click.echo(f"OK   {path}")
    return worst


def _certificates(paths: tuple[Path, ...]) -> list[Path]:
    """The certificate files named, a directory expanded to its *.cert.json files (recursively, sorted);
    a directory that holds none is refused (a CI step that checks nothing must not pass)."""
    out: list[Path] = []
    for p in paths:
        if not p.is_dir():
            out.append(p)
            continue
        found = sorted(q for q in p.rglob("*.cert.json") if q.is_file())
        if not found:
            raise InputError(f"{p}: a directory with no *.cert.json file in it")
        out.extend(found)
    return out


@cli.command(name="compare")
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


@cli.command(name="sweep")
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


@cli.command()
@click.argument("net", type=EXISTING)
@click.option(
    "--plan", "show_plan", is_flag=True, help="The exact evaluator's plan: the engine of every layer and why."
)
@click.option("--data", "-d", type=EXISTING, default=None, help="With --plan: plan for this dataset.")
def inspect(net: Path, show_plan: bool, data: Path | None) -> None:
    """Per-layer table of NET: width, activations, weights, max bits; and its problems."""
    with _errors():
        G = netjson.read(net)
        problems = validate.validate(G)
        errs = validate.errors(problems)
        for p in errs:
            click.echo(f"error: {p}")
        dead = [p for p in problems if p.severity == validate.WARNING]
        if dead:  # one line, not one per node: a construction may keep thousands of dead units on purpose
            click.echo(
                f"warning: {len(dead)} dead node{'s' if len(dead) > 1 else ''} (no output depends on "
                f"{'them' if len(dead) > 1 else 'it'}), first {dead[0].where}"
            )
        if errs:
            more = f" (and {len(errs) - 1} more, listed above)" if len(errs) > 1 else ""
            raise NetworkError(f"{net}: invalid network: {errs[0]}{more}")
        outputs = G.graph[keys.OUTPUTS]
        if len(outputs) != 1:
            raise NetworkError(
                f"{net}: {len(outputs)} outputs; netcert's claims compare one output with "
                "each label (specs/README.md 3.5)"
            )
    if show_plan:
        with _errors():
            _print_plan(evaluate.evaluation_plan(G, None if data is None else dataset.load(data)), data)
        return
    for line in report.layer_table(G):
        click.echo(line)


def _print_plan(plan, data: Path | None) -> None:
    """One row per layer: engine, width, nonzeros, bits of the proved bound on |Z|, and why."""
    click.echo(
        f"plan on {data if data else 'integer inputs of at most 53 bits (no --data)'}: "
        f"{'batch' if plan.batched else 'per point'}"
        + (f", {plan.chunk} points per chunk" if plan.batched else "")
        + f": {plan.why}"
    )
    if not plan.batched:
        why = native.unavailable() or (
            "rational-fallback nodes" if any(p.engine == "rational fallback" for p in plan.layers) else None
        )
        if why is None:
            click.echo(
                "per point: the C kernel over GMP (netcert/engine/program.c), recomputing only what "
                "changed since the previous point"
            )
        else:
            click.echo(
                f"per point in Python (not the C kernel: {why}): reuse of what did not change since the "
                "previous point (sweep, or events when little changes) or the whole program as "
                "straight-line code, whichever is faster on the first points of a run"
            )
    click.echo(f"{'layer':>5} {'engine':<34} {'width':>8} {'nonzeros':>9} {'bits':>5}  why")
    for p in plan.layers:
        alone = plan.batched or p.engine in ("sweep", "rational fallback")
        engine, why = (p.label, p.why) if alone else ("sweep", f"batch would be {p.label}; {p.why}")
        click.echo(f"{p.layer:>5} {engine:<34} {p.width:>8} {p.nonzeros:>9} {p.bits or '-':>5}  {why}")


@cli.command()
def constructions() -> None:
    """The constructions netcert can build: papers, assumptions, size formulas."""
    for c in registry.CONSTRUCTIONS.values():
        click.echo(f"{c.name}")
        click.echo(f"  paper:       {c.paper}")
        click.echo(f"  assumptions: {c.assumptions}")
        click.echo(f"  theorem:     {c.theorem.statement} [{c.theorem.rate}]")
        for name, doc in c.options.items():
            click.echo(f"  {_flag(name)}: {doc}")
        for name, text in c.formulas_text.items():
            click.echo(f"  {name} = {text}")
    predicted = ", ".join(c.name for c in registry.CONSTRUCTIONS.values() if c.predict is not None)
    click.echo("auto (the default of `netcert build`)")
    click.echo(
        f"  the applicable construction with the fewest nonzero parameters: predicted from the size "
        f"formulas of {predicted}, the best {auto.CONFIRM} built and measured; the certificate's "
        "construction.options.auto records the choice and why"
    )


@cli.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("netcert-demo"),
    show_default=True,
    help="Directory for the demo's files.",
)
def demo(out: Path) -> None:
    """Build, verify and summarize zhang2017 on a small bundled dataset."""
    out.mkdir(parents=True, exist_ok=True)
    data = out / "demo.npz"
    with resources.as_file(resources.files("netcert") / "examples" / "demo.npz") as src:
        shutil.copyfile(src, data)
    net, cert = out / "net.json", out / "net.cert.json"
    click.echo(f"$ netcert build {data} --construction zhang2017 -o {net}")
    build.main([str(data), "--construction", "zhang2017", "-o", str(net), "--force"], standalone_mode=False)
    click.echo(f"$ netcert verify {net} --data {data} -o {cert}")
    with _errors():
        c = certify.verify(net, data, cert)
    _finish(c, cert)


class _ReaderGone(Exception):
    """stdout's reader closed the pipe. Not an OSError: click turns an EPIPE OSError into exit 1."""


class _Guarded:
    """stdout, with a closed pipe raised as ``_ReaderGone``."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise _ReaderGone() from None

    def flush(self):
        try:
            return self._stream.flush()
        except BrokenPipeError:
            raise _ReaderGone() from None

    def __getattr__(self, name):
        return getattr(self._stream, name)


def main(args: list[str] | None = None) -> None:
    """The console entry point. Exit codes: 0, 1 refuted or check failed, 2 usage, 3 bad input,
    4 an internal error (one line; NETCERT_DEBUG=1 shows the traceback), 130 interrupted, 141 the
    reader of stdout went away.
    Nothing else: click's "Aborted!" with exit 1 would read as a refutation."""
    sys.stdout = _Guarded(sys.stdout)
    try:
        code = cli.main(args, prog_name="netcert", standalone_mode=False)
    except click.ClickException as e:
        e.show()
        code = e.exit_code
    except (click.Abort, KeyboardInterrupt):
        click.echo("netcert: interrupted", err=True)
        code = 130
    except _ReaderGone:  # `netcert verify ... | head`: the reader left; exit as a process killed by SIGPIPE
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # so the interpreter's final flush is quiet
        code = 141
    except MemoryError:
        click.echo("netcert: error: out of memory (lower the input, or the --max-* limits)", err=True)
        code = 3
    except Exception as e:
        if os.environ.get("NETCERT_DEBUG"):
            raise
        click.echo(
            f"netcert: internal error: {type(e).__name__}: {' '.join(str(e).split())[:300]} "
            "(a bug: please report it; NETCERT_DEBUG=1 shows where)",
            err=True,
        )
        code = 4
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
