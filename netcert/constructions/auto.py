"""``--construction auto``: the applicable construction with the fewest nonzero parameters.

For each registered construction that can predict its size (``Construction.predict``),
the prediction comes from its exact size formulas at the choices it would make
on this dataset; constructions whose precondition fails are set aside with
their reason. The best two predictions are then built and measured, and the
smaller measured network wins (the first in prediction order on ties), so a
prediction can rank but never decide. The choice and its reasons are recorded
in the network's ``construction.options["auto"]`` and so in the certificate.
"""

from __future__ import annotations

import networkx as nx

from netcert.constructions import registry
from netcert.dataset import Dataset
from netcert.errors import PreconditionError
from netcert.ir import keys, measures

CONFIRM = 2  # predictions confirmed by building


def predictions(data: Dataset, seed: int = 0) -> tuple[dict[str, tuple[int, dict]], dict[str, str]]:
    """((predicted nonzero parameters, build options) by construction, reason by construction set aside)."""
    predicted, skipped = {}, {}
    for name, c in registry.CONSTRUCTIONS.items():
        if c.predict is None:
            skipped[name] = "no size prediction"
            continue
        problems = c.check(data, {"seed": seed})
        if problems:
            skipped[name] = problems[0]
            continue
        p = c.predict(data, seed)
        if p is None:
            skipped[name] = "no size prediction for this dataset"
            continue
        predicted[name] = p
    return predicted, skipped


def build(data: Dataset, *, seed: int = 0) -> nx.DiGraph:
    """Build every one of the CONFIRM best predictions; return the smallest, its choice recorded."""
    predicted, skipped = predictions(data, seed)
    if not predicted:
        raise PreconditionError("no construction applies: " + "; ".join(f"{k}: {v}" for k, v in skipped.items()))
    ranked = sorted(predicted, key=lambda k: (predicted[k][0], k))
    built, best = {}, None
    for name in ranked[:CONFIRM]:
        try:
            G = registry.get(name).build(data, seed=seed, **predicted[name][1])
        except PreconditionError as e:
            skipped[name] = str(e)
            continue
        built[name] = measures.measure(G).params_nonzero
        if best is None or built[name] < built[best[0]]:
            best = (name, G)
    if best is None:
        raise PreconditionError("no construction could be built: " + "; ".join(f"{k}: {v}" for k, v in skipped.items()))
    name, G = best
    G.graph[keys.CONSTRUCTION]["options"]["auto"] = {
        "chosen": name,
        "why": f"fewest nonzero parameters among the {len(built)} best predictions, confirmed by building",
        "predicted_nonzero": {k: v[0] for k, v in predicted.items()},
        "built_nonzero": built,
        "set_aside": skipped,
    }
    return G
