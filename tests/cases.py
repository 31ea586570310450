"""Shared dataset generators and the certification helper used by several test files."""

from __future__ import annotations

import dataclasses
import random
from fractions import Fraction
from pathlib import Path

import numpy as np

from netcert import certificate, dataset
from netcert.engine import reference
from netcert import certify as pipeline
from netcert.engine import evaluate
from netcert.formats import files, netjson
from netcert.ir import keys, measures
from netcert.ir import network as net


def random_data(n: int, d: int, labels: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """float32 Gaussian points (float64 for d = 1, where float32 collides) and labels."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(np.float64 if d == 1 else np.float32)
    y = rng.integers(-3, 4, n) if labels == "integer" else rng.uniform(-1, 1, n).astype(np.float32)
    return X, y


def certify(tmp: Path, X, y, build, *, sample: int = 1000) -> tuple[dict, object, object]:
    """Write the data, build, write net.json, verify; return (certificate, network, dataset)."""
    data_path, net_path, cert_path = tmp / "data.npz", tmp / "net.json", tmp / "net.cert.json"
    np.savez(data_path, X=X, y=y)
    data = dataset.load(data_path)
    G = build(data)
    netjson.write(G, net_path)
    cert = pipeline.verify(net_path, data_path, cert_path, sample=sample)
    files.write_atomic(cert_path, certificate.to_bytes(cert))
    return cert, G, data


def oracle_agrees(G, data, points: int, seed: int = 0) -> int:
    """Compare the fast evaluator with the Fraction oracle on a seeded sample; return points compared."""
    fast = evaluate.outputs(G, data)
    idx = sorted(random.Random(seed).sample(range(data.n), min(points, data.n)))
    for i in idx:
        x = [Fraction(int(q.numerator), int(q.denominator)) for q in data.point(i)]
        ref = reference.forward(G, x)[0]
        got = fast[i]
        assert Fraction(int(got.numerator), int(got.denominator)) == ref, f"point {i}"
        y = data.labels[i]
        assert ref == Fraction(int(y.numerator), int(y.denominator)), f"point {i} label"
    return len(idx)


def opts(G) -> dict:
    """The construction options a build recorded in its graph."""
    return G.graph[keys.CONSTRUCTION]["options"]


def claims_hold(G, data, size, names: set[str] | None = None) -> measures.Measures:
    """A construction's exact size formulas (``size(G, data)``; exactly ``names`` when given),
    evaluated and compared with the measures (no kernel); the measures."""
    m = measures.measure(G)
    claim = size(G, data)
    assert names is None or set(claim.formulas) == names, sorted(claim.formulas)
    for name, formula in claim.formulas.items():
        value = int(formula.subs({s: claim.variables[s.name] for s in formula.free_symbols}))
        assert value == getattr(m, name), (name, value, getattr(m, name))
    return m


def exploding_scales_network():
    """x -> six ReLUs with biases 1/p -> output weights 1/p, for six primes p near 10^6: the
    integer scales explode, so the evaluator takes its rational fallback (docs/performance.md, "Benchmark shapes": shape Ar)."""
    G = net.new_network(["x"])
    primes = [1000003, 1000033, 1000037, 1000039, 1000081, 1000099]
    for k, p in enumerate(primes):
        net.add_neuron(G, f"h{k}", layer=1, activation="relu", bias=Fraction(1, p), incoming={"x": 1})
    net.add_neuron(
        G,
        "out",
        layer=2,
        activation="identity",
        bias=0,
        incoming={f"h{k}": Fraction(1, p) for k, p in enumerate(primes)},
    )
    net.set_outputs(G, ["out"])
    return G


def layered_network(seed: int, *, weight_bits: int, sparse: bool = False, n: int = 40, depth: int | None = None):
    """A random layered network (mixed activations, dyadic weights of about ``weight_bits`` bits) and
    points labelled with its exact outputs, about a third of them off by one."""
    rng = random.Random(seed)
    d = rng.randint(1, 4)
    inputs = [f"x{j}" for j in range(d)]
    G = net.new_network(inputs)
    prev = inputs
    depth = depth or rng.randint(2, 4)
    for layer in range(1, depth + 1):
        width = 1 if layer == depth else (rng.randint(40, 60) if sparse else rng.randint(2, 25))
        cur = []
        for k in range(width):
            acts = ["threshold"] if sparse else ["relu", "relu", "threshold", "identity"]
            act = "identity" if layer == depth else rng.choice(acts)
            chosen = [
                v
                for v in prev
                if rng.random() < (0.7 if not sparse else 1.0 if layer == depth else 0.05 if layer > 1 else 0.7)
            ] or [prev[0]]
            w = 3 if sparse and layer > 1 else weight_bits
            inc = {v: Fraction(rng.randint(-(2**w), 2**w) or 1, rng.choice([1, 2, 2**10])) for v in chosen}
            net.add_neuron(
                G,
                f"h{layer}_{k}",
                layer=layer,
                activation=act,
                bias=Fraction(rng.randint(-(2 ** (w + 8)), 2 ** (w + 8)), rng.choice([1, 4])),
                incoming=inc,
            )
            cur.append(f"h{layer}_{k}")
        prev = cur
    net.set_outputs(G, [prev[0]])
    X = np.unique(
        np.array([[rng.randint(-(2**40), 2**40) / 2 ** rng.choice([0, 20]) for _ in range(d)] for _ in range(n)]),
        axis=0,
    )
    data = dataset.from_arrays(X, np.zeros(len(X)))
    outs = evaluate.outputs(G, data)
    labels = tuple(o + 1 if rng.random() < 0.3 else o for o in outs)
    return G, dataclasses.replace(data, labels=labels), outs
