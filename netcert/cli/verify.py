"""``verify`` and ``check``: certificates written and re-checked."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from netcert.cli.common import (
    EXISTING,
    OUTPUT,
    SCHEDULER,
    _csv,
    _csv_options,
    _errors,
    _mode,
    _notes,
    _progress_options,
    certificate,
    certify,
    dataset,
    exact,
    files,
    parallel,
    progress,
    report,
    workflow,
)
from netcert.errors import NetcertError, UsageError

if TYPE_CHECKING:  # the library is imported lazily: `netcert --help` must not load gmpy2
    from netcert.exact import Rat


@click.command(name="verify")
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
@click.option(
    "--claim",
    type=click.Choice(["interpolation", "classification", "tolerance"]),
    default=None,
    help="What is checked on every point [default: classification when NET has classes, else interpolation].",
)
@click.option("--eps", default=None, help="Tolerance's bound on |f(x) - y|: an exact number (0.01, 1/100).")
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
    claim: str | None,
    eps: str | None,
    **flags: str | None,
) -> None:
    """Evaluate NET exactly on every point of DATA, re-check it independently, write a certificate.

    A CSV read with --label-column, --delimiter, ... is recorded with those
    options in the certificate, so `netcert check` reads it the same way.
    """
    output = output or workflow.certificate_name(net)
    mode = _mode(quiet, show_progress)
    with _errors():
        bound = None if eps is None else _exact_eps(eps)
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
                claim=claim,
                eps=bound,
            )
    _finish(cert, output, lambda: _notes(ds))


def _exact_eps(text: str) -> Rat:
    """--eps as the exact number it writes: a decimal (``0.01`` is 1/100, not a float) or ``p/q``,
    at least 0; anything else is a usage error (exit 2)."""
    m = re.fullmatch(r"([0-9]+)(?:\.([0-9]+))?|([0-9]+)/([0-9]*[1-9][0-9]*)", text.strip())
    if m is None or len(text) > 1000:
        raise UsageError(f"--eps takes an exact number at least 0 (0.01 or 1/100), got {text[:40]!r}")
    whole, frac, p, q = m.groups()
    mpq = exact.mpq
    return mpq(int(p), int(q)) if p is not None else mpq(int(whole + (frac or "")), 10 ** len(frac or ""))


def _finish(cert: dict, path: Path, after=None) -> None:
    """Write the certificate atomically, print its summary (then ``after()``), exit 0 if certified else 1."""
    with _errors():
        files.write_atomic(path, certificate.to_bytes(cert))
    _summary(cert, path)
    if after is not None:
        after()
    sys.exit(0 if cert["verdict"] == certificate.CERTIFIED else 1)


def _summary(cert: dict, path: Path) -> None:
    for line in report.certificate_summary(cert, path):
        click.echo(line)


@click.command()
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
        found = workflow.certificate_files(certs)
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


def register(group: click.Group) -> None:
    """Add this module's commands to ``group``."""
    for command in (verify_cmd, check):
        group.add_command(command)
