"""What a construction is: a paper's theorem compiled into a network builder.

A construction module provides a ``Construction`` record: its name (first
author and year), the paper, its assumptions, a precondition check returning
every problem, ``build(dataset, **options) -> DiGraph``, and its exact size
formulas as sympy expressions that the certificate evaluates beside the
measured sizes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import networkx as nx
import sympy

from netcert.dataset import Dataset
from netcert.errors import UsageError
from netcert.exact import Rat, display, mpq


@dataclass(frozen=True)
class SizeClaim:
    """Exact formulas for the measures of a built network, and their variables.

    ``formulas`` maps a measure name of ``ir.measures.Measures`` to a sympy
    expression; ``variables`` gives every symbol's integer value for one build.
    """

    formulas: Mapping[str, sympy.Expr]
    variables: Mapping[str, int]


@dataclass(frozen=True)
class Theorem:
    """The paper's statement, its rate, and its explicit bound when the paper gives one."""

    statement: str
    rate: str
    bound: sympy.Expr | None = None
    bound_measure: str = ""


@dataclass(frozen=True)
class Construction:
    name: str
    paper: str
    reference: str
    assumptions: str
    options: Mapping[str, str]  # option name -> one-line description
    check: Callable[[Dataset, Mapping], list[str]]
    build: Callable[..., nx.DiGraph]
    size: Callable[[nx.DiGraph, Dataset], SizeClaim]
    theorem: Theorem
    formulas_text: Mapping[str, str] = field(default_factory=dict)
    # (data, seed) -> (nonzero parameters it would build, the options that build it), or None when it
    # cannot say for this data; for ``auto``
    predict: Callable[[Dataset, int], tuple[int, dict] | None] | None = None


def input_nodes(data: Dataset) -> list[str]:
    """The ids of a construction's input nodes, one per coordinate."""
    return [f"x[{j}]" for j in range(data.d)]


def on_inputs(inputs: list[str], row, data: Dataset) -> dict[str, Rat]:
    """Weights on the rational input nodes that compute ``row . x_int``.

    Constructions work on the dataset's integer form x_int[j] = x[j] * scale[j]
    (docs/constructions/README.md section 1); folding the column scales into the first layer,
    weight row[j] * scale[j] on input j, makes the network take the original
    inputs. Zero entries are left out (an absent edge).
    """
    return {x: mpq(a) * s for x, a, s in zip(inputs, row, data.scale) if a}


def integer_labels(data: Dataset, name: str) -> list[str]:
    """The problem of a construction that needs integer labels: the first five that are not, named."""
    bad = [i for i, y in enumerate(data.labels) if y.denominator != 1]
    if not bad:
        return []
    shown = ", ".join(f"point {data.kept[i]} (label {display(data.labels[i])})" for i in bad[:5])
    return [f"{name} needs integer labels; {len(bad)} are not: {shown}"]


def choice_option(value: object, allowed: Sequence[str], name: str) -> str:
    """A construction option that must be one of ``allowed`` (a UsageError naming the flag otherwise)."""
    if value not in allowed:
        raise UsageError(f"--{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def int_option(value: object, name: str, low: int = 1) -> int | None:
    """An integer option >= ``low``, given as an int or as the command line's string; None when unset.
    A float that is not an integer is refused, not truncated."""
    if value in (None, ""):
        return None
    wanted = "a positive integer" if low == 1 else f"an integer >= {low}"
    try:
        v = int(value)
    except (TypeError, ValueError):
        raise UsageError(f"--{name} takes {wanted}, got {value!r}") from None
    if v < low or (isinstance(value, float) and v != value):
        raise UsageError(f"--{name} takes {wanted}, got {v if low == 1 else repr(value)}")
    return v


def positive_option(value: object, name: str) -> int | None:
    """A positive integer option (``int_option`` with ``low`` 1)."""
    return int_option(value, name, 1)
