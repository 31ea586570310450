"""``audit`` and ``export``: the network in floating point, beside its exact self and for frameworks.

Everything these commands print in floats is labelled so (``~`` in the table, ``*_approx`` in the
JSON); the verdicts they compare are exact.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import click

from netcert.cli.common import (
    EXISTING,
    OUTPUT,
    _csv,
    _csv_options,
    _errors,
    _Lazy,
    _mode,
    _notes,
    _progress_options,
    api,
    dataset,
    files,
    progress,
)
from netcert.errors import InputError, UsageError

floats, audit_lib, export_lib = (_Lazy(f"netcert.{m}") for m in ("floats", "audit", "export"))

DEFAULT_DTYPES = "float64,float32,float16,bfloat16"
CLAIMS = ("interpolation", "classification", "tolerance")


def _exact_number(text: str | None, what: str):
    """An exact rational from a decimal ("0.001", "1e-3") or a fraction ("1/1000") string."""
    if text is None:
        return None
    try:
        if len(text) > 200:
            raise ValueError
        value = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise UsageError(f"{what}: not an exact number: {text!r:.60}") from None
    from gmpy2 import mpq

    return mpq(value.numerator, value.denominator)


def _formats(text: str | None):
    """The formats asked for; without --dtype every format, bfloat16 only when ml_dtypes is here."""
    if text is not None:
        return floats.parse_formats(text), True
    chosen = []
    for name in DEFAULT_DTYPES.split(","):
        try:
            chosen += floats.parse_formats(name)
        except UsageError:
            click.echo(f"netcert: note: {name} skipped (pip install ml_dtypes to audit it)", err=True)
    return chosen, False


def _refuse_out_of_range(G, formats, net_path: Path) -> None:
    """An explicitly asked format the network's parameters overflow is refused (exit 3)."""
    params = floats.parameters(floats.layers(G))
    for fmt in formats:
        over = sum(1 for p in params if abs(p) > fmt.max and floats.round_to(p, fmt) in (float("inf"), float("-inf")))
        if over:
            raise InputError(
                f"{net_path}: {over} of its {len(params)} parameters are beyond {fmt.name}'s range "
                f"(largest finite {fmt.name} ~{float(fmt.max):.4g}); leave out --dtype to audit it with infinities"
            )


def _short(v, width: int = 10) -> str:
    if v is None:
        return "-"
    try:
        return f"~{float(v):.3g}"
    except OverflowError:
        return "~inf"


def _runtime_text(rt: dict | None) -> str:
    if rt is None:
        return "-"
    if "skipped" in rt:
        return "skipped (--runtime yes to run it)"
    return f"{rt['diverging']} diverge, " + ("same points" if rt["same_points"] else "OTHER points")


def table(result, net_path: Path, data_path: Path) -> list[str]:
    """The audit for people: a summary row per format, then where the first diverging points start."""
    c = result.claim
    lines = [
        f"{net_path} on {data_path}: {result.n} points, claim {c.kind}; exact network: "
        f"{result.exact_right}/{result.n} right",
        f"{'dtype':9} {'params inexact':>15} {'worst rel':>10} {'overflow':>8} {'inputs inexact':>15} "
        f"{'right':>7} {'diverge':>7} {'recover':>7} {'nan':>5} {'inf':>5} {'worst |err|':>11}  onnxruntime",
    ]
    for f in result.formats:
        p, i = f.parameters, f.inputs
        rt = (
            "-"
            if f.runtime is None
            else f"{f.runtime['diverging']} diverge"
            + (", same points" if f.runtime["same_points"] else ", OTHER points")
        )
        lines.append(
            f"{f.dtype:9} {f'{p.inexact}/{p.count}':>15} {_short(p.worst_relative):>10} {p.overflow:>8} "
            f"{f'{i.inexact}/{i.count}':>15} {f.float_right:>7} {len(f.diverging):>7} {len(f.recovered):>7} "
            f"{f.nan:>5} {f.inf:>5} {_short(f.worst_error):>11}  {rt}"
        )
    for f in result.formats:
        if f.divergences:
            lines.append(f"first diverging points in {f.dtype} (layer: the first whose error reaches the margin):")
            for d in f.divergences[:5]:
                lines.append(
                    f"  point {d.index}: layer {d.layer}, node {d.node}: {f.dtype} ~{d.obtained:.6g}, "
                    f"exact {_short(d.exact)} (margin {_short(d.margin)})"
                )
    lines.append("~: a float, rounded for reading; `--json` gives every value exactly")
    return lines


def plot(result, path: Path) -> None:
    """The largest |float - exact| per layer over the profiled points, log scale, a line per format."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError("--plot needs matplotlib: pip install 'netcert[plots]'") from None
    import io

    fig, ax = plt.subplots(figsize=(7, 4))
    for f in result.formats:
        layers = [k + 1 for k, e in enumerate(f.layer_errors) if 0 < e < float("inf")]
        errors = [e for e in f.layer_errors if 0 < e < float("inf")]
        ax.plot(layers, errors, marker="o", label=f.dtype)
    ax.set_yscale("log")
    ax.set_xlabel("layer")
    ax.set_ylabel(f"max |float - exact| over {len(result.profiled)} points")
    ax.set_title("where floating point leaves the exact network")
    ax.legend()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120, metadata={"Software": None})
    plt.close(fig)
    files.write_atomic(path, buffer.getvalue())


@click.command(name="audit")
@click.argument("net", type=EXISTING)
@click.option("--data", "-d", type=EXISTING, required=True, help="The points to audit the network on.")
@click.option("--dtype", default=None, help=f"Float types, comma-separated [default: {DEFAULT_DTYPES}].")
@click.option("--claim", type=click.Choice(CLAIMS), default=None, help="What is judged [default: from the network].")
@click.option("--eps", default=None, help="The tolerance claim's exact eps (e.g. 1/100 or 0.01).")
@click.option("--plot", "plot_path", type=OUTPUT, default=None, help="Write the error against depth as a PNG.")
@click.option("--json", "as_json", is_flag=True, help="Print the audit as JSON, every value exact.")
@click.option(
    "--profile",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Points compared neuron by neuron (beside the first diverging ones).",
)
@click.option(
    "--runtime",
    type=click.Choice(["auto", "yes", "no"]),
    default="auto",
    show_default=True,
    help="Also run the exported model through onnxruntime (float64, float32); auto: unless it is very large.",
)
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, help="Processes for the exact evaluation.")
@_progress_options
@_csv_options
def audit_cmd(
    net: Path,
    data: Path,
    dtype: str | None,
    claim: str | None,
    eps: str | None,
    plot_path: Path | None,
    as_json: bool,
    profile: int,
    runtime: str,
    jobs: int | None,
    quiet: bool,
    show_progress: bool,
    **flags: str | None,
) -> None:
    """Evaluate NET in floating-point types beside its exact evaluation, point by point.

    Per type: the parameters and inputs the type cannot hold, the points whose float decision
    differs from the exact verdict, NaNs and infinities, the worst error, and for the first
    diverging points the layer where the error became large enough to flip the decision.
    """
    with _errors():
        if eps is not None and claim not in (None, "tolerance"):
            raise UsageError("--eps goes with --claim tolerance")
        formats, explicit = _formats(dtype)
        G = api.read_network(net)
        ds = dataset.load(data, csv=_csv(flags))
        if explicit:
            _refuse_out_of_range(G, formats, net)
        kind = "tolerance" if eps is not None and claim is None else claim
        the_claim = audit_lib.claim_for(G, ds, kind, _exact_number(eps, "--eps"))
        with progress.stages("audit", _mode(quiet, show_progress)) as stage:
            stage("evaluating exactly")
            from netcert.engine.run import values

            exact = values(G, ds, jobs=jobs)
            stage("evaluating in floats")
            result = audit_lib.audit(G, ds, formats, the_claim, exact_outputs=exact, profile=profile, runtime=runtime)
        if plot_path is not None:
            plot(result, plot_path)
    if as_json:
        click.echo(json.dumps(audit_lib.record(result), indent=2, sort_keys=True, allow_nan=False))
    else:
        for line in table(result, net, data):
            click.echo(line)
    _notes(ds)


@click.command(name="export")
@click.argument("net", type=EXISTING)
@click.option("--to", "target", type=click.Choice(["onnx", "numpy"]), default="onnx", show_default=True)
@click.option("--dtype", type=click.Choice(["float64", "float32"]), default="float64", show_default=True)
@click.option("-o", "--output", type=OUTPUT, default=None, help="File to write [default: NET with .onnx or .npz].")
@click.option("--data", "-d", type=EXISTING, default=None, help="Audit on these points and record the summary.")
@_csv_options
def export_cmd(net: Path, target: str, dtype: str, output: Path | None, data: Path | None, **flags) -> None:
    """Write NET for float frameworks, as an ONNX model or an .npz of layer matrices.

    The file says whether the export is lossless (every parameter a value of DTYPE); with
    --data it also carries the audit's summary for those points in DTYPE.
    """
    with _errors():
        G = api.read_network(net)
        metadata = {}
        if data is not None:
            ds = dataset.load(data, csv=_csv(flags))
            fmt = floats.FORMATS[dtype]
            _refuse_out_of_range(G, [fmt], net)
            result = audit_lib.audit(G, ds, [fmt], audit_lib.claim_for(G, ds), runtime="no", profile=0)
            f = result.formats[0]
            metadata["netcert.audit"] = json.dumps(
                {
                    "dataset": str(data.name),
                    "n": result.n,
                    "exact_right": result.exact_right,
                    "float_right": f.float_right,
                    "diverging": len(f.diverging),
                    "worst_error_approx": audit_lib.record(result)["formats"][0]["worst_error_approx"],
                },
                sort_keys=True,
            )
        stem = net.name.removesuffix(".gz").removesuffix(".json")
        output = output or net.with_name(stem + (".onnx" if target == "onnx" else ".npz"))
        if target == "onnx":
            blob = export_lib.to_onnx(G, dtype, metadata).SerializeToString(deterministic=True)
        else:
            if metadata:
                raise UsageError("--data goes with --to onnx (an .npz carries no audit)")
            blob = export_lib.to_numpy(G, dtype)
        files.write_atomic(output, blob)
        lost = export_lib.loss(G, dtype)
    state = (
        "lossless" if lost.lossless else f"LOSSY: {lost.rounding.inexact} of {lost.rounding.count} parameters rounded"
    )
    click.echo(f"{output}: {target} in {dtype}, {state}")


def register(group: click.Group) -> None:
    """Add this module's commands to ``group``."""
    group.add_command(audit_cmd)
    group.add_command(export_cmd)
