"""``netcert gap``: the smallest width at which gradient descent memorizes a dataset, certified exactly.

Each run trains a ReLU network (scikit-learn's ``MLPClassifier``, or ``MLPRegressor`` for a
regression) of a given width and depth from a seed, imports the trained weights exactly (the
dyadic rationals the float64 weights are, ``importers.sklearn``), and certifies memorization
with netcert's exact verifier and kernel:

- classification: every training point's label has the unique largest score, exactly (a tie
  is a miss); the certificate's claim is ``classification``;
- regression (integer labels read as numbers): |f(x) - y| < 1/2 on every point, exactly; the
  certificate's claim is ``tolerance`` with eps = 1/2, and a run whose exact ``max_error`` is
  1/2 itself is not counted (the output does not round to the label).

"Memorized" in the output means exactly that certificate and nothing less: training accuracy
is only used to decide when to stop training. Inputs are standardized for training, and the
standardization (x - mu) / sigma is folded exactly into the first layer, so the certified
network reads the dataset's own inputs.

A width *memorizes* when at least one of its seeds (``require="any"``) or every seed
(``require="all"``) is certified. ``--widths auto`` doubles the width from 1 until one
memorizes, then bisects between the last width that did not and the first that did (which
assumes memorization is monotone in the width; the table shows every width tried).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import numpy as np
from gmpy2 import mpq

from netcert.dataset import Dataset
from netcert.errors import UsageError
from netcert.ir import keys

OPTIMIZERS = {"adam": "adam", "sgd": "sgd", "lbfgs": "lbfgs"}
HALF = mpq(1, 2)


@dataclass(frozen=True)
class Setup:
    """How every run trains: hidden layers of the run's width, the optimizer, at most ``epochs``
    epochs checked every ``chunk`` epochs, classification or regression."""

    depth: int = 1
    optimizer: str = "adam"
    epochs: int = 3000
    chunk: int = 100
    regression: bool = False
    learning_rate: float = 1e-2


@dataclass(frozen=True)
class Run:
    """One trained network and its exact verdict."""

    width: int
    seed: int
    memorized: bool
    reason: str  # why not, or "" when memorized
    margin: str | None  # classification: exact min_margin; regression: exact max_error
    train_accuracy: float  # approx: the float64 training accuracy (or fraction within 1/2) at the end
    epochs: int
    train_s: float
    certify_s: float
    params: int
    certificate: str  # file name, in the output directory


def points(data: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """The distinct points as float64 (for training only) and their labels."""
    X = np.array([[float(c) for c in data.point(i)] for i in range(data.n)], dtype=np.float64)
    y = np.array([float(v) for v in data.labels])
    return X, y


def train(X: np.ndarray, y: np.ndarray, width: int, seed: int, setup: Setup):
    """A scikit-learn MLP of ``setup.depth`` hidden ReLU layers of ``width``, trained on the
    standardized X (no weight decay: the point is to fit) until the float64 training decisions
    are all right or ``setup.epochs`` pass; (model, mu, sigma, epochs run, float accuracy)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    mu, sigma = X.mean(axis=0), X.std(axis=0)
    sigma = np.where(sigma > 0, sigma, 1.0)
    Z = (X - mu) / sigma
    kind = MLPRegressor if setup.regression else MLPClassifier
    extra = {} if setup.optimizer == "lbfgs" else {"learning_rate_init": setup.learning_rate}
    model = kind(
        hidden_layer_sizes=(width,) * setup.depth,
        activation="relu",
        solver=OPTIMIZERS[setup.optimizer],
        alpha=0.0,
        max_iter=setup.chunk,
        tol=0.0,
        n_iter_no_change=10**9,
        warm_start=True,
        random_state=seed,
        **extra,
    )
    labels = y if setup.regression else y.astype(np.int64)
    done, accuracy = 0, 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        while done < setup.epochs:
            model.fit(Z, labels)
            done += setup.chunk
            predicted = model.predict(Z)
            accuracy = float(np.mean(np.abs(predicted - y) < 0.5) if setup.regression else np.mean(predicted == labels))
            if accuracy == 1.0:
                break
    return model, mu, sigma, done, accuracy


def fold_standardization(G: nx.DiGraph, mu: Sequence[float], sigma: Sequence[float]) -> nx.DiGraph:
    """The network reading x where ``G`` read (x - mu) / sigma, exactly: each weight w from
    input j becomes w / sigma_j and its target's bias loses w mu_j / sigma_j (mu and sigma are
    taken as the exact rationals their float64 values are)."""
    H = G.copy()
    for j, x in enumerate(G.graph[keys.INPUTS]):
        m, s = mpq(float(mu[j])), mpq(float(sigma[j]))
        for _, v, w in G.out_edges(x, data=keys.WEIGHT):
            H.edges[x, v][keys.WEIGHT] = mpq(w) / s
            H.nodes[v][keys.BIAS] = mpq(H.nodes[v][keys.BIAS]) - mpq(w) * m / s
    return H


def memorized(record: dict, regression: bool) -> tuple[bool, str, str | None]:
    """(memorized, why not, the exact margin or error) from a certificate: certified, and for a
    regression an exact max_error strictly under 1/2."""
    if regression:
        section = record["tolerance"]
        error = section["max_error"]
        if record["verdict"] != "certified":
            return False, f"{section['over_count']} points over 1/2", error
        if mpq(error) >= HALF:
            return False, "a point exactly 1/2 from its label", error
        return True, "", error
    section = record["classification"]
    if record["verdict"] != "certified":
        misses = section["miss_count"]
        ties = sum(1 for m in section["misses"] if m["predicted"] == "tie")
        return (
            False,
            f"{misses} points misclassified" + (f" ({ties} ties among the first)" if ties else ""),
            (section["min_margin"]),
        )
    return True, "", section["min_margin"]


def certify(G: nx.DiGraph, data_path: Path, out: Path, name: str, regression: bool) -> tuple[bool, str, str | None]:
    """Write ``G`` as ``out/name.net.json``, verify it on ``data_path`` by the claim of the run,
    write ``out/name.cert.json``, and say whether it memorizes (``memorized``)."""
    from netcert import api

    net = out / f"{name}.net.json"
    api.write_network(G, net)
    claim, eps = ("tolerance", "1/2") if regression else ("classification", None)
    cert = api.verify(net, data_path, certificate=out / f"{name}.cert.json", claim=claim, eps=eps, jobs=1)
    return memorized(cert.record, regression)


def one_run(data: Dataset, data_path: Path, out: Path, width: int, seed: int, setup: Setup) -> Run:
    """Train, import exactly, certify: one run."""
    from netcert.importers.sklearn import from_sklearn
    from netcert.ir import measures

    X, y = points(data)
    t0 = time.perf_counter()
    model, mu, sigma, epochs, accuracy = train(X, y, width, seed, setup)
    t1 = time.perf_counter()
    G = fold_standardization(from_sklearn(model), mu, sigma)
    name = f"w{width:05d}-s{seed}"
    ok, why, margin = certify(G, data_path, out, name, setup.regression)
    return Run(
        width,
        seed,
        ok,
        why,
        margin,
        accuracy,
        epochs,
        t1 - t0,
        time.perf_counter() - t1,
        measures.measure(G).params_dense or 0,
        f"{name}.cert.json",
    )


@dataclass
class Search:
    """The runs so far, by width, and what the search concluded."""

    runs: dict[int, list[Run]] = field(default_factory=dict)
    m_star: int | None = None
    stopped: str = ""  # why the search stopped early, if it did


def width_memorizes(runs: Sequence[Run], require: str) -> bool:
    return any(r.memorized for r in runs) if require == "any" else bool(runs) and all(r.memorized for r in runs)


def search(
    widths: Sequence[int] | None,
    try_width: Callable[[int], list[Run]],
    *,
    require: str = "any",
    max_width: int = 4096,
    deadline: float | None = None,
) -> Search:
    """The widths tried and m*, the smallest that memorizes: over ``widths`` when given (all of
    them tried), else by doubling from 1 then bisection. ``try_width(m)`` runs every seed at m.
    Stops, saying so, at ``deadline`` (a ``time.monotonic()`` value)."""
    result = Search()

    def run(m: int) -> bool | None:
        if deadline is not None and time.monotonic() > deadline:
            result.stopped = f"the budget ran out before width {m}"
            return None
        result.runs[m] = try_width(m)
        return width_memorizes(result.runs[m], require)

    if widths:
        for m in sorted(set(widths)):
            if run(m) is None:
                break
        good = [m for m, rs in result.runs.items() if width_memorizes(rs, require)]
        result.m_star = min(good) if good else None
        return result
    lo, m = 0, 1  # lo: the largest width known not to memorize
    while m <= max_width:
        ok = run(m)
        if ok is None:
            return result
        if ok:
            break
        lo, m = m, 2 * m
    else:
        result.stopped = f"no width up to {max_width} memorizes within the epochs each run was given"
        return result
    hi = m
    while hi - lo > 1:
        mid = (lo + hi) // 2
        ok = run(mid)
        if ok is None:
            break
        lo, hi = (lo, mid) if ok else (mid, hi)
    result.m_star = hi
    return result


def parse_widths(text: str) -> list[int] | None:
    """None for "auto", else the positive widths of a comma-separated list."""
    if text.strip() == "auto":
        return None
    try:
        widths = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise UsageError(f"--widths: 'auto' or comma-separated positive integers, not {text!r:.40}") from None
    if not widths or min(widths) < 1:
        raise UsageError(f"--widths: 'auto' or comma-separated positive integers, not {text!r:.40}")
    return widths
