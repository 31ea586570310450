"""The construction API: what a construction is, and where netcert finds them.

A construction compiles one paper's theorem into a network builder. It is a
``Construction`` record (``netcert.constructions.base``): its name, paper,
assumptions, options, a precondition ``check``, ``build(dataset, **options)``
returning the network, and ``size(network, dataset)`` returning a
``SizeClaim``: exact sympy formulas for the measures of specs/README.md
section 3.4 and the integer values of their variables, which every
certificate evaluates beside the measured sizes. The gadgets it is built from
are in ``netcert.gadgets`` (each module states its exact contract).

``get(name)`` and ``CONSTRUCTIONS`` (``netcert.constructions.registry``) give
the built-ins, the installed plugins (entry-point group
``netcert.constructions``) and construction files (``path.py:ATTR``);
docs/new-construction.md writes, builds, certifies and sweeps one.

The names below are imported on first use, so that importing one
construction module does not import them all.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # what the lazy attributes below are, for type checkers
    from netcert.constructions.base import (
        Construction,
        SizeClaim,
        Theorem,
        input_nodes,
        integer_labels,
        on_inputs,
    )
    from netcert.constructions.registry import CONSTRUCTIONS, get

_FROM = {
    "Construction": "base",
    "SizeClaim": "base",
    "Theorem": "base",
    "input_nodes": "base",
    "on_inputs": "base",
    "integer_labels": "base",
    "CONSTRUCTIONS": "registry",
    "get": "registry",
}

__all__ = [
    "CONSTRUCTIONS",
    "Construction",
    "SizeClaim",
    "Theorem",
    "get",
    "input_nodes",
    "integer_labels",
    "on_inputs",
]


def __getattr__(name: str) -> object:
    """``netcert.constructions.Construction`` and the rest of ``__all__``, imported when first asked for."""
    if name not in _FROM:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"netcert.constructions.{_FROM[name]}"), name)
