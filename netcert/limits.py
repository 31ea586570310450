"""The size limits every reader applies before it allocates (``specs/README.md`` section 5).

A verifier that a CI trusts must answer every input in bounded time and
memory, so each reader checks a claimed size against one of these limits
before it reads, inflates, parses or allocates anything of that size, and a
refusal names the limit and how to raise it. The limits live in the
environment (``NETCERT_MAX_*``) so that forked workers and the independent
kernel, which reads them with its own code, see the same values; the CLI's
``--max-bits``, ``--max-bytes``, ``--max-values`` and ``--max-layer`` set them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from netcert.errors import UsageError


@dataclass(frozen=True)
class Limit:
    """One configurable bound: its environment variable, default and meaning."""

    env: str
    default: int
    flag: str
    meaning: str

    def value(self) -> int:
        """The active value: the environment's if set (a positive integer), else the default."""
        text = os.environ.get(self.env)
        if text is None:
            return self.default
        if not (text.isascii() and text.isdigit()) or len(text) > 30 or int(text) < 1:
            raise UsageError(f"{self.env} must be a positive integer, got {text[:40]!r}")
        return int(text)

    def exceeded(self, what: str, amount: int | str) -> str:
        """The one-line refusal for ``what`` of size ``amount`` over this limit."""
        return (
            f"{what} ({amount}) exceeds the limit of {self.value()} {self.meaning} "
            f"(raise it with {self.flag} or {self.env})"
        )


BITS = Limit("NETCERT_MAX_BITS", 10**6, "--max-bits", "bits per numerator or denominator")
BYTES = Limit("NETCERT_MAX_BYTES", 512 * 2**20, "--max-bytes", "bytes per file (after gunzip)")
VALUES = Limit("NETCERT_MAX_VALUES", 10**7, "--max-values", "values per dataset array")
LAYER = Limit("NETCERT_MAX_LAYER", 10**6, "--max-layer", "as the largest node layer")
JSON_DEPTH = 64
"""Nesting depth of a JSON file (the formats need 6); fixed, since no honest file comes near it."""

ALL = (BITS, BYTES, VALUES, LAYER)
