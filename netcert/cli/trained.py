"""``import``: a trained network (an ONNX file) as an exact net.json."""

from __future__ import annotations

import time
from pathlib import Path

import click

from netcert.cli.common import EXISTING, OUTPUT, _errors, measures, netjson
from netcert.errors import InputError, UsageError


@click.command(name="import")
@click.argument("model", type=EXISTING)
@click.option("-o", "--output", type=OUTPUT, required=True, help="The net.json to write.")
@click.option(
    "--classes",
    default=None,
    metavar="C0,C1,...",
    help="The class label of each output (two, neg and pos, for one output), when the model does not say them.",
)
@click.option("--force", "-f", is_flag=True, help="Overwrite OUTPUT if it exists (refused by default).")
def import_(model: Path, output: Path, classes: str | None, force: bool) -> None:
    """Import MODEL (an .onnx file: torch.onnx.export, skl2onnx, tf2onnx) as an exact network.

    Every stored float becomes the exact rational it denotes; a final Softmax, Sigmoid or
    ArgMax of a classifier is dropped and recorded with its classes. An operator that cannot be
    exact is refused with its name, its node and why (exit 3).
    """
    with _errors():
        labels = _classes(classes)
        if output.exists() and not force:
            raise InputError(f"{output}: exists; pass --force to overwrite it, or -o another name")
        from netcert.importers.onnx import import_onnx

        start = time.perf_counter()
        G = import_onnx(model, classes=labels)
        netjson.write(G, output)
        m = measures.measure(G)
        said = G.graph.get("classes")
        dropped = G.graph.get("dropped")
        tail = f", classes {','.join(said)}" if said else ""
        tail += f" ({dropped} dropped)" if dropped else ""
        click.echo(
            f"{output}: imported {model.name}: {m.inputs} inputs, {m.outputs} outputs, depth {m.depth}, "
            f"{m.neurons} neurons, {m.params_nonzero} nonzero parameters, max {m.max_weight_bits} bits"
            f"{tail} [{time.perf_counter() - start:.2f} s]"
        )


def _classes(text: str | None) -> list[str] | None:
    if text is None:
        return None
    labels = [c.strip() for c in text.split(",")]
    if len(labels) < 2 or any(not c for c in labels):
        raise UsageError(f"--classes takes at least two labels separated by commas, got {text!r:.60}")
    return labels


def register(group: click.Group) -> None:
    """Add this module's commands to ``group``."""
    group.add_command(import_)
