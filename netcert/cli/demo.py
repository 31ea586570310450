"""``demo``: build, verify and summary on the bundled iris example."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import click

from netcert.cli.build import build
from netcert.cli.common import _errors, certify
from netcert.cli.verify import _finish


@click.command()
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


def register(group: click.Group) -> None:
    """Add this module's commands to ``group``."""
    group.add_command(demo)
