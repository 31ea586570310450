"""The classification and tolerance claims, judged exactly on the outputs of every point.

``run.values`` gives the exact outputs of every distinct point; this module
turns them into what specs/README.md section 4 reports (the ``classification``
and ``tolerance`` sections). Every value is an exact rational; nothing is
rounded, and the judgment depends neither on the engine nor on the executor.

- **classification**: ``classes`` (the network's ``graph.classes``) names one
  class per output. With several outputs the prediction is the class of the
  unique largest output (a tie for the largest is a miss, predicted "tie"),
  and the margin of point i is score(label's class) - max(other scores). With
  one output, ``classes`` is [neg, pos]: f > 0 predicts pos, f < 0 neg, f = 0
  is a tie, and the margin is f for a label pos, -f for a label neg. A point is
  right exactly when its margin is > 0. A label that is no class is a miss
  with no margin; ``min_margin`` is over the points whose label is a class
  (None when there is none), attained first at ``min_margin_point``.
- **tolerance**: error = |f(x_i) - y_i| (one output); within iff error <= eps
  for every point; ``max_error`` attained first at ``max_error_point``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from netcert.exact import Rat, format_rational

INTERPOLATION, CLASSIFICATION, TOLERANCE = "interpolation", "classification", "tolerance"
KINDS = (INTERPOLATION, CLASSIFICATION, TOLERANCE)
TIE = "tie"


@dataclass(frozen=True)
class Miss:
    """A point classified wrongly: its label, the predicted class string (or "tie"), every output."""

    index: int
    label: Rat
    predicted: str
    outputs: tuple[Rat, ...]


@dataclass(frozen=True)
class Classification:
    """The classification claim's outcome on every distinct point (section 4, ``classification``)."""

    points_checked: int
    misses: tuple[Miss, ...]
    min_margin: Rat | None
    min_margin_point: int | None
    outputs_digest: str

    @property
    def correct(self) -> bool:
        return not self.misses


@dataclass(frozen=True)
class Over:
    """A point whose error exceeds eps: its label, the output, the exact error."""

    index: int
    expected: Rat
    obtained: Rat
    error: Rat


@dataclass(frozen=True)
class Tolerance:
    """The tolerance claim's outcome on every distinct point (section 4, ``tolerance``)."""

    eps: Rat
    points_checked: int
    over: tuple[Over, ...]
    max_error: Rat
    max_error_point: int
    outputs_digest: str

    @property
    def within(self) -> bool:
        return not self.over


def outputs_digest(values: Sequence[tuple[Rat, ...]]) -> str:
    """sha256 of one line per point: its outputs' canonical strings joined by one space, then "\\n"
    (with one output, exactly the interpolation claim's digest of the outputs)."""
    h = hashlib.sha256()
    for outs in values:
        h.update((" ".join(format_rational(v) for v in outs) + "\n").encode())
    return h.hexdigest()


def predict(outs: tuple[Rat, ...], classes: Sequence[str]) -> str:
    """The predicted class string of one point, or "tie" (module docstring)."""
    if len(outs) == 1:
        f = outs[0]
        return classes[1] if f > 0 else classes[0] if f < 0 else TIE
    top = max(outs)
    first = outs.index(top)
    return TIE if outs.count(top) > 1 else classes[first]


def margin(outs: tuple[Rat, ...], classes: Sequence[str], label: str) -> Rat | None:
    """score(label's class) - max(other scores), f * (+1 pos, -1 neg) for one output; None when
    the label is no class. The point is classified right exactly when this is > 0."""
    if label not in classes:
        return None
    k = list(classes).index(label)
    if len(outs) == 1:
        return outs[0] if k == 1 else -outs[0]
    return outs[k] - max(v for j, v in enumerate(outs) if j != k)


def classify(values: Sequence[tuple[Rat, ...]], labels: Sequence[Rat], classes: Sequence[str]) -> Classification:
    """The classification claim on the points' exact outputs ``values`` against ``labels``."""
    misses, best, where = [], None, None
    for i, (outs, y) in enumerate(zip(values, labels)):
        m = margin(outs, classes, format_rational(y))
        if m is not None and (best is None or m < best):
            best, where = m, i
        if m is None or m <= 0:
            misses.append(Miss(i, y, predict(outs, classes), outs))
    return Classification(len(values), tuple(misses), best, where, outputs_digest(values))


def tolerate(values: Sequence[tuple[Rat, ...]], labels: Sequence[Rat], eps: Rat) -> Tolerance:
    """The tolerance claim (one output): error |f(x_i) - y_i| <= eps on every point."""
    over, worst, where = [], None, 0
    for i, (outs, y) in enumerate(zip(values, labels)):
        e = abs(outs[0] - y)
        if worst is None or e > worst:
            worst, where = e, i
        if e > eps:
            over.append(Over(i, y, outs[0], e))
    return Tolerance(eps, len(values), tuple(over), worst, where, outputs_digest(values))
