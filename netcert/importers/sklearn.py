"""scikit-learn's MLPClassifier and MLPRegressor as exact netcert networks, through ``from_layers``.

The weights are the model's own ``coefs_`` and ``intercepts_``, read as the exact rationals
they store: float64 by default, which is what ``predict`` computes with. skl2onnx stores them
as float32 when it converts for float32 inputs; ``dtype="float32"`` rounds them alike first,
so that this route and the ONNX route give byte-identical networks for the same export.

A classifier's scores are its last layer's values before ``out_activation_``: softmax (several
classes) and logistic (two classes: one output, classes [neg, pos]) are monotone, so the class
of the largest score is the one ``predict`` names, and the map is dropped and recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import networkx as nx
import numpy as np

from netcert.errors import InputError, UsageError
from netcert.importers.layers import from_layers
from netcert.ir import keys

HIDDEN = {"relu": keys.RELU, "identity": keys.IDENTITY}
"""scikit-learn's hidden activations that are exact on rationals (tanh and logistic are not)."""

OUT = {"softmax": keys.SOFTMAX, "logistic": keys.SIGMOID}
"""A classifier's final maps, by scikit-learn's name: monotone, so dropped from the scores."""

DTYPES = ("float64", "float32", "float16")


def from_sklearn(model: Any, *, dtype: str = "float64", classes: Sequence[object] | None = None) -> nx.DiGraph:
    """The exact network of a fitted ``MLPClassifier`` or ``MLPRegressor``.

    ``dtype`` is the float type the weights are taken in (their exact value after rounding
    to it; float64 leaves them as fitted). ``classes`` replaces the model's ``classes_``,
    for a model whose labels are not numbers.
    """
    kind = type(model).__name__
    if kind not in ("MLPClassifier", "MLPRegressor"):
        raise UsageError(f"from_sklearn takes a fitted MLPClassifier or MLPRegressor, not {kind}")
    if not hasattr(model, "coefs_"):
        raise UsageError(f"the {kind} is not fitted (no coefs_): call fit first")
    if dtype not in DTYPES:
        raise UsageError(f"dtype must be one of {', '.join(DTYPES)}, not {dtype!r}")
    hidden = HIDDEN.get(model.activation)
    if hidden is None:
        raise InputError(
            f"{kind}: activation {model.activation!r} has no exact value on rationals "
            f"(netcert imports {', '.join(HIDDEN)})"
        )
    coefs, intercepts = model.coefs_, model.intercepts_
    layers = [
        (np.asarray(W, dtype=dtype).T, np.asarray(b, dtype=dtype), hidden if k < len(coefs) - 1 else keys.IDENTITY)
        for k, (W, b) in enumerate(zip(coefs, intercepts, strict=True))
    ]
    if kind == "MLPRegressor":
        if classes is not None:
            raise UsageError("a regressor has no classes")
        if model.out_activation_ != "identity":
            raise InputError(f"{kind}: output activation {model.out_activation_!r} is not exact")
        return from_layers(layers)
    dropped = OUT.get(model.out_activation_)
    if dropped is None or _multilabel(model):
        raise InputError(
            f"{kind}: a multi-label classifier (output {model.out_activation_!r} on several labels) "
            "is not one class per point"
        )
    labels = list(model.classes_) if classes is None else list(classes)
    return from_layers(layers, classes=labels, dropped=dropped)


def _multilabel(model: Any) -> bool:
    """scikit-learn fits one logistic output per label on an indicator matrix: not a classifier
    of one class per point (its ``classes_`` then count the labels, not the outputs' classes)."""
    binarizer = getattr(model, "_label_binarizer", None)
    return getattr(binarizer, "y_type_", "") == "multilabel-indicator"
