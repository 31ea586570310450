"""Every exception netcert raises, in one tree.

Each class carries the process exit code the CLI maps it to, so the CLI never
decides by message text:

- 1: a claim was checked and found false; that is a result (a refuted
  certificate, a failed check), never an exception;
- 2: the command line itself is wrong (``UsageError``);
- 3: an input file or a dataset is unusable (``InputError`` and below), or
  the processes or cluster meant to do the work failed (``ExecutorError``);
- 4: an invariant netcert proves for itself failed (``InternalError``): a bug.

Library code raises only these; builtins are second bases where callers may
expect them (``FormatError`` is also a ``ValueError``).
"""

from __future__ import annotations


class NetcertError(Exception):
    """Base of every netcert error. ``str(e)`` is one line meant for a user."""

    exit_code = 3


class UsageError(NetcertError):
    """The options do not make sense together (exit 2)."""

    exit_code = 2


class InputError(NetcertError, ValueError):
    """An input file or value is unusable (exit 3)."""


class NumberError(InputError):
    """A string is not an exact number of the contract, or exceeds the size limit."""


class DatasetError(InputError):
    """A dataset file cannot be read, or no function can interpolate it."""


class FormatError(InputError):
    """A net.json or certificate file breaks its format."""


class NetworkError(InputError):
    """A network is ill-formed (see ``netcert.ir.validate``)."""


class PreconditionError(InputError):
    """A dataset breaks an assumption of the chosen construction."""


class ExecutorError(NetcertError):
    """The processes or the Dask cluster meant to do the work cannot be used (exit 3)."""


class InternalError(NetcertError):
    """A bound or invariant that netcert's own construction guarantees did not hold: a bug, reported
    as one line and exit 4 (never as a refutation, and never skipped as an ``assert`` would be under -O)."""

    exit_code = 4
