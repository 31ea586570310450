"""What every command shares: the lazily imported library, the error contract, the common options.

A ``NetcertError`` becomes one line on stderr (``_errors``), never a traceback. The library is
imported when a command first needs it (``_Lazy``), so that ``netcert --help`` and ``--version``
answer without loading sympy, scipy and networkx (1.3 s of a start-up measured at 1.3 s).
"""

from __future__ import annotations

import contextlib
import importlib
import os
from pathlib import Path

import click

from netcert import limits
from netcert.errors import InputError, NetcertError


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
exact, workflow = _Lazy("netcert.exact"), _Lazy("netcert.workflow")


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
