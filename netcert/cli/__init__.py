"""The command line: thin click commands over the library.

Exit codes: 0 success / certified, 1 refuted or check failed, 2 usage error,
3 bad input, 4 internal error, 130 interrupted. A ``NetcertError`` becomes one
line on stderr, never a traceback; every output file is written atomically.

This package holds the group, its global options and ``main``; each module of ``COMMANDS``
registers its own commands on the group (``register(cli)``), so a new family of commands is a
new module and one more name in that tuple. The library is imported when a command first needs
it (``netcert.cli.common``), so that ``netcert --help`` loads neither sympy nor numpy.
"""

from __future__ import annotations

import os
import sys

import click

from netcert import __version__, limits
from netcert.cli import build, demo, floats, gap, research, trained, verify
from netcert.cli.common import _limit_option


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


COMMANDS = (build, verify, trained, research, floats, gap, demo)
for _module in COMMANDS:
    _module.register(cli)


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
