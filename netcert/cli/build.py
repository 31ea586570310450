"""``build``, ``inspect``, ``constructions``: making a network and looking at it."""

from __future__ import annotations

from pathlib import Path

import click

from netcert.cli.common import (
    EXISTING,
    OUTPUT,
    _csv,
    _csv_options,
    _errors,
    _flag,
    _mode,
    _notes,
    _progress_options,
    api,
    auto,
    dataset,
    evaluate,
    keys,
    measures,
    native,
    netjson,
    progress,
    registry,
    report,
    validate,
    workflow,
)
from netcert.errors import InputError, NetworkError, PreconditionError, UsageError


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


@click.command(cls=_BuildCommand)
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
            workflow.budget(budget, f"build {construction} on {data}", doing),
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
                    str(e) + ("" if construction == "auto" else workflow.alternatives(ds, construction, seed))
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


@click.command()
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


@click.command()
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


def register(group: click.Group) -> None:
    """Add this module's commands to ``group``."""
    for command in (build, inspect, constructions):
        group.add_command(command)
