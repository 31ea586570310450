"""Shared dataset generators and the certification helper used by several test files."""

from __future__ import annotations

import random
from fractions import Fraction
from pathlib import Path

import numpy as np

from netcert import certificate, dataset, evaluate, oracle, verify
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
    cert = verify.verify(net_path, data_path, cert_path, sample=sample)
    files.write_atomic(cert_path, certificate.to_bytes(cert))
    return cert, G, data


def oracle_agrees(G, data, points: int, seed: int = 0) -> int:
    """Compare the fast evaluator with the Fraction oracle on a seeded sample; return points compared."""
    fast = evaluate.outputs(G, data)
    idx = sorted(random.Random(seed).sample(range(data.n), min(points, data.n)))
    for i in idx:
        x = [Fraction(int(q.numerator), int(q.denominator)) for q in data.point(i)]
        ref = oracle.forward(G, x)[0]
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
    integer scales explode, so the evaluator takes its rational fallback (perf.md shape Ar)."""
    G = net.new_network(["x"])
    primes = [1000003, 1000033, 1000037, 1000039, 1000081, 1000099]
    for k, p in enumerate(primes):
        net.add_neuron(G, f"h{k}", layer=1, activation="relu", bias=Fraction(1, p), incoming={"x": 1})
    net.add_neuron(G, "out", layer=2, activation="identity", bias=0,
                   incoming={f"h{k}": Fraction(1, p) for k, p in enumerate(primes)})
    net.set_outputs(G, ["out"])
    return G
