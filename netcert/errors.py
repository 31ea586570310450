"""Every exception netcert raises, in one tree.

Each class carries the process exit code the CLI maps it to, so the CLI never
decides by message text:

- 1: a claim was checked and found false (``Refuted``, ``CheckFailed``);
- 2: the command line itself is wrong (``UsageError``);
- 3: an input file or a dataset is unusable (``InputError`` and below), or
  the processes or cluster meant to do the work failed (``ExecutorError``).

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


class CheckFailed(NetcertError):
    """A certificate does not reproduce (exit 1)."""

    exit_code = 1
