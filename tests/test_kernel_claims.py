"""The kernel's own reading of claims (specs/README.md section 4): it re-derives the outputs, margins and
errors of version 2 certificates with its own code, so every tampered figure is a failure of ``kernel.check``
(and of ``python -m netcert.kernel``), without netcert's evaluator."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

import netcert
from netcert import kernel
from netcert.kernel import net as knet
from netcert.kernel import read as kread
from tests.test_claims import argmax_labels, mlp, oracle, points, save


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, tuple[Path, dict]]:
    """A refuted classification (misses, min_margin < 0), a certified one and a refuted tolerance certificate."""
    root = tmp_path_factory.mktemp("kclaims")
    G, X = mlp(), points(40)
    y = argmax_labels(oracle(G, X))
    y[[4, 9, 30]] = (y[[4, 9, 30]] + 1) % 3
    out = {}
    out["miss"] = (
        root / "m.cert.json",
        netcert.verify(G, save(root, X, y, "m.npz"), certificate=root / "m.cert.json", sample=5).record,
    )
    ok = [i for i, o in enumerate(oracle(G, X)) if o.count(max(o)) == 1]
    yy = argmax_labels(oracle(G, X))[ok]
    out["ok"] = (
        root / "ok.cert.json",
        netcert.verify(G, save(root, X[ok], yy, "ok.npz"), certificate=root / "ok.cert.json", sample=5).record,
    )
    H = mlp(k=1, classes=False, seed=2)
    f = np.array([float(o[0]) for o in oracle(H, X)]) + np.where(np.arange(40) % 13 == 0, 0.75, 0.0)
    sub = root / "tol"
    sub.mkdir()
    out["tol"] = (
        sub / "t.cert.json",
        netcert.verify(
            H, save(sub, X, f, "t.npz"), certificate=sub / "t.cert.json", claim="tolerance", eps="1/2", sample=5
        ).record,
    )
    return out


def kcheck(path: Path, record: dict, full: bool = False) -> list[str]:
    base = path.parent
    v = kernel.check(base / record["network"]["path"], base / record["dataset"]["path"], record, sample=5, full=full)
    return [f.where for f in v.failures]


@pytest.mark.parametrize("name", ["miss", "ok", "tol"])
@pytest.mark.parametrize("full", [False, True])
def test_honest_certificates_pass_the_kernel(made, name, full):
    path, record = made[name]
    rest = {k: v for k, v in record.items() if k not in ("checker", "verdict")}
    assert kcheck(path, rest, full) == []
    assert kernel.check_certificate(path).ok  # a refuted claim reproduced honestly is no failure of the kernel
    assert (record["verdict"] == "certified") == (name == "ok")


TAMPERS = {
    "miss": [
        ("classification", "min_margin", lambda s: "-1/1000000"),
        ("classification", "min_margin_point", lambda s: (s + 1) % 40),
        ("classification", "miss_count", lambda s: s - 1),
        ("classification", "correct", lambda s: True),
        ("classification", "misses", lambda s: s[1:]),
        (
            "classification",
            "misses",
            lambda s: [dict(s[0], predicted="2" if s[0]["predicted"] != "2" else "0")] + s[1:],
        ),
        ("classification", "misses", lambda s: [dict(s[0], outputs=["0"] + s[0]["outputs"][1:])] + s[1:]),
        ("claim", "kind", lambda s: "tolerance"),
        ("version", None, lambda s: 1),
    ],
    "ok": [
        ("classification", "min_margin", lambda s: str(json.loads(json.dumps(s)) + "0") if "/" not in s else "1/3"),
        ("classification", "correct", lambda s: False),
        ("classification", "points_checked", lambda s: s - 1),
    ],
    "tol": [
        ("tolerance", "max_error", lambda s: "3/8"),
        ("tolerance", "max_error_point", lambda s: (s + 1) % 40),
        ("tolerance", "eps", lambda s: "1"),
        ("claim", "eps", lambda s: "1"),
        ("tolerance", "over", lambda s: [dict(s[0], error="1/4")] + s[1:]),
        ("tolerance", "over_count", lambda s: s + 1),
        ("tolerance", "within", lambda s: True),
    ],
}


@pytest.mark.parametrize("name,i", [(n, i) for n, ts in TAMPERS.items() for i in range(len(ts))])
def test_every_tampered_figure_fails_the_kernel(made, name, i):
    path, record = made[name]
    section, key, change = TAMPERS[name][i]
    bad = copy.deepcopy(record)
    if key is None:
        bad[section] = change(bad[section])
    else:
        bad[section][key] = change(bad[section][key])
    assert bad != record
    assert kcheck(path, bad), (section, key)


def test_the_kernel_reads_slopes_classes_and_several_outputs(tmp_path):
    G = mlp(act="leaky_relu", k=2)
    netcert.write_network(G, tmp_path / "n.json")
    _, doc = kread.read_network(tmp_path / "n.json")
    nodes, edges, ins, outs, problems = knet.validate(doc)
    assert problems == [] and len(outs) == 2
    prog, pos = knet.program(nodes, edges, ins)
    x = tuple(kread.number(str(v)) for v in (-3, 2, 5))
    want = [
        kread.number(f"{v.numerator}/{v.denominator}" if v.denominator != 1 else str(v.numerator))
        for v in oracle(G, np.array([[-3, 2, 5]]))[0]
    ]
    assert list(knet.evaluate(prog, x, tuple(pos[v] for v in outs))) == want
    for graph, node in (
        ({"classes": ["0", "0"]}, {}),
        ({"classes": ["0", "1/2", "2"]}, {}),
        ({"classes": ["0x1", "2"]}, {}),
        ({}, {"slope": "1/2"}),
    ):
        d = copy.deepcopy(doc)
        d["graph"].update(graph)
        relu = next(nd for nd in d["nodes"] if nd["activation"] == "leaky_relu")
        relu.update(activation="relu") if node else None
        relu.update(node)
        assert knet.validate(d)[4], (graph, node)
    d = copy.deepcopy(doc)
    del next(nd for nd in d["nodes"] if nd["activation"] == "leaky_relu")["slope"]
    assert knet.validate(d)[4]


@pytest.mark.parametrize("claim", [{"kind": ["x"]}, {"kind": "foo"}, {"kind": "interpolation"}, [], {"kind": None}])
def test_a_malformed_claim_is_a_failure_not_a_crash(made, claim):
    path, record = made["miss"]
    bad = dict(record, claim=claim)
    assert kcheck(path, bad)
