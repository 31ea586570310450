"""The activations of a computing node, once for every engine.

``netcert.ir.keys`` names them; this module says what they compute on an exact
value z (an integer, or a rational on the rational-fallback path):

- relu(z) = z if z > 0 else 0,
- threshold(z) = 1 if z >= 0 else 0 (so threshold(0) = 1, while relu(0) = 0),
- identity(z) = z,
- leaky_relu(z) = z if z >= 0 else slope * z, with the node's exact ``slope``.

leaky_relu is the one activation with a parameter: its nodes take the
rational-fallback path (``program.RatNode``, whose ``slope`` it reads), so
only the Python interpreters (``pointwise``, ``straightline``) and the
Fraction oracle (``reference``) apply it; ``plan`` sends networks with such
nodes to the per-point path and the C kernel declines them (``pointwise.in_c``).

The per-point interpreters (``pointwise``) call these functions. The other
engines mirror them, and each copy names this module: ``straightline`` writes
``SOURCE`` into its generated code, ``batch._activate_exact`` and
``batch._activate_limbs`` apply them to numpy arrays, ``collapse`` reads them as
0/1 masks (relu(Z) = [Z > 0] Z, threshold(Z) = [Z >= 0]), and the C kernel's copy
is the end of ``step_value`` in ``program.c`` (``act == RELU && num_sgn(z) < 0``
zeroes z, ``act == THRESHOLD`` sets ``num_sgn(z) >= 0``).
"""

from __future__ import annotations

from collections.abc import Callable

from netcert.ir import keys


def relu(z):
    """max(z, 0), keeping z's own type when z > 0 (C: ``step_value``, ``act == RELU``)."""
    return z if z > 0 else 0


def threshold(z) -> int:
    """[z >= 0] as the integer 0 or 1 (C: ``step_value``, ``act == THRESHOLD``)."""
    return int(z >= 0)


def identity(z):
    """z itself (C: ``step_value`` leaves z as it is for ``IDENTITY``)."""
    return z


def leaky_relu(z, slope):
    """z if z >= 0 else slope * z (exact: slope is a rational, z an integer or a rational)."""
    return z if z >= 0 else slope * z


LEAKY_RELU, SLOPE = keys.LEAKY_RELU, keys.SLOPE


def activate(activation: str, z, slope=None):
    """The activation named ``activation`` applied to z (``slope``: leaky_relu's, else unused)."""
    return leaky_relu(z, slope) if activation == LEAKY_RELU else ACTIVATE[activation](z)


ACTIVATE: dict[str, Callable] = {keys.RELU: relu, keys.THRESHOLD: threshold, keys.IDENTITY: identity}
"""The function of each computing activation, by its ``keys`` name."""

SOURCE: dict[str, str] = {keys.RELU: "z if z > 0 else 0", keys.THRESHOLD: "1 if z >= 0 else 0", keys.IDENTITY: "z"}
"""The same functions as Python expressions in z, for code that is generated (``straightline``)."""
