"""The tamper matrix: every single change to a certified network's files is caught by ``netcert check``.

For a network of every construction, certified on a small dataset it accepts, each mutation below is made in
a copy and ``netcert check`` (the click command, in this process) must exit 1 naming the field that no longer
reproduces, or exit 3 naming the field a schema-invalid certificate breaks:

- the certificate: every key path (its value changed within its type, given a wrong type, removed), every
  object given an unknown key, every list item changed and removed. The kernel checks a sample of K < N points,
  so its seed and sample size are material. ``tools.*`` values are informational (specs/README.md section 4.1)
  and not compared: their changes are the only ones left out, their shape (types, keys) is in the matrix;
- net.json, its hashes in the certificate forged to match (so that what is caught is the network's meaning,
  not its bytes): a first-layer weight, a last-layer weight, a bias, the largest weight, a zero bias made
  nonzero (where there is one), an edge removed, a node added; and one weight without forging the hashes;
- the dataset: one label by 1 (integer labels), one coordinate by one ulp (float64), each with the dataset's
  hashes forged and without.

``test_the_matrix_is_caught_in_full`` prints the matrix and requires 100%.
"""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from netcert import dataset
from netcert.cli import cli
from netcert.constructions import registry
from netcert.formats import netjson

N, K = 12, 8  # points, and the kernel's sample: K < N, so that a changed seed draws other points
CONSTRUCTIONS = sorted(registry.CONSTRUCTIONS)
RESULTS: dict[str, list[tuple[str, bool, str]]] = {}  # construction -> (mutation, caught, first output line)
OTHER = {
    "sample": "full",
    "full": "sample",
    "integer": "real",
    "real": "integer",
    "certified": "refuted",
    "refuted": "certified",
    "relu": "threshold",
    "threshold": "identity",
    "identity": "relu",
}


def run(*args: object) -> tuple[int, str]:
    """``netcert ARGS`` in this process: (exit code, stdout + stderr); a crash fails the test."""
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"netcert {' '.join(map(str, args))} crashed") from result.exception
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes is not None else "")


def check(cert: Path) -> tuple[int, str]:
    return run("check", cert, "--jobs", "1", "--sample", K, "--quiet")


def labels_for(name: str, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The labels, made to meet a construction's assumption: two classes for dirksen2023, monotone
    labels (the number of points coordinatewise below or equal) for mikulincer2022."""
    if name == "dirksen2023":
        return y % 2
    if name == "mikulincer2022":
        return np.array([int(np.all(X <= x, axis=1).sum()) for x in X])
    return y


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """Every construction built and certified (kernel sample K) on one small float64 dataset, integer labels."""
    root = tmp_path_factory.mktemp("tamper")
    rng = np.random.default_rng(7)
    X, y = rng.uniform(-1, 1, (N, 2)), rng.integers(0, 3, N)
    out = {}
    for name in CONSTRUCTIONS:
        d = root / name
        d.mkdir()
        np.savez(d / "data.npz", X=X, y=labels_for(name, X, y))
        code, text = run("build", d / "data.npz", "-c", name, "-o", d / "net.json")
        assert code == 0, text
        code, text = run(
            "verify",
            d / "net.json",
            "--data",
            d / "data.npz",
            "-o",
            d / "net.cert.json",
            "--sample",
            K,
            "--jobs",
            "1",
            "--quiet",
        )
        assert code == 0, text
        assert check(d / "net.cert.json") == (0, f"OK   {d / 'net.cert.json'}\n")
        out[name] = d
    return out


# ---------------------------------------------------------------- mutations of the certificate


def changed(value: object) -> object:
    """Another value of the same JSON type."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if value is None:
        return 1
    if isinstance(value, list):  # an empty list (items are leaves of their own): one item of the right shape
        return [{"where": "x", "expected": "y", "found": "z"}] if not value else value[:-1]
    assert isinstance(value, str), value
    if value in OTHER:
        return OTHER[value]
    if len(value) == 64 and set(value) <= set("0123456789abcdef"):
        return ("1" if value[0] == "0" else "0") + value[1:]
    try:
        q = Fraction(value) + 1
        return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"
    except ValueError:
        return value + "x"


def wrong_type(value: object) -> object:
    if isinstance(value, bool):
        return 1
    if isinstance(value, (int, float)):
        return str(value)
    return [] if value is None or isinstance(value, str) else "x"


def leaves(value: object, path: tuple = ()):
    """(key path, value) of every object entry and list item, depth first; lists and objects included."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for k, v in items:
        yield path + (k,), v
        yield from leaves(v, path + (k,))


def objects(value: object, path: tuple = ()):
    if isinstance(value, dict):
        yield path
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for k, v in items:
        yield from objects(v, path + (k,))


def at(doc: dict, path: tuple):
    for k in path:
        doc = doc[k]
    return doc


def certificate_mutations(cert: dict):
    """(label, key path, mutated certificate) for every mutation of the matrix's first part."""
    for path, value in leaves(cert):
        if path[0] == "tools" and len(path) == 2:
            variants = [("wrong type", wrong_type(value)), ("removed", None)]  # values: informational
        elif isinstance(value, dict):
            variants = [("removed", None)]
        elif isinstance(value, list) and value:
            variants = [("wrong type", wrong_type(value)), ("removed", None)]
        else:
            variants = [("changed", changed(value)), ("wrong type", wrong_type(value)), ("removed", None)]
        for how, new in variants:
            doc = copy.deepcopy(cert)
            parent = at(doc, path[:-1])
            if how == "removed":
                del parent[path[-1]]
            else:
                parent[path[-1]] = new
            yield f"{'.'.join(map(str, path))} {how}", path, doc
    for path in objects(cert):
        doc = copy.deepcopy(cert)
        at(doc, path)["zz_unknown"] = 1
        yield f"{'.'.join(map(str, path)) or '(top level)'} unknown key", path + ("zz_unknown",), doc


def names(text: str, path: tuple) -> bool:
    """Whether the output names the field at ``path``, or another field of the same object (a changed seed is
    caught as the points it draws: ``checker.points_digest``). Within a list, the list is the field."""
    head = tuple(k for k in path[: next((i for i, k in enumerate(path) if isinstance(k, int)), len(path))])
    dotted, slashed = ".".join(map(str, head)), "/".join(map(str, path))
    parent = ".".join(map(str, head[:-1]))
    return (
        (bool(dotted) and dotted in text)
        or slashed in text
        or (bool(parent) and (f"{parent}." in text or f" at {parent.replace('.', '/')}" in text))
        or (not parent and f'"{head[-1]}"' in text)
    )


def record(name: str, label: str, code: int, text: str, path: tuple | None) -> None:
    caught = code in (1, 3) and (path is None or names(text, path)) and (code == 3 or text.startswith("FAIL"))
    RESULTS.setdefault(name, []).append((label, caught, f"exit {code}: {' | '.join(text.splitlines()[:3])}"))


# ---------------------------------------------------------------- mutations of the files


def canonical(q: Fraction) -> str:
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


def bits(s: str) -> int:
    q = Fraction(s)
    return max(abs(q.numerator).bit_length(), q.denominator.bit_length())


def network_mutations(net: dict):
    """(label, mutate(net) -> None) for every class of weight; a class the network lacks is left out."""
    layer = {v["id"]: v["layer"] for v in net["nodes"]}
    inputs, output = set(net["graph"]["inputs"]), net["graph"]["outputs"][0]
    nudge = lambda s: canonical(Fraction(s) + Fraction(1, 2**61))  # noqa: E731  (a nonzero weight stays nonzero)
    first = next(e for e in net["edges"] if e["source"] in inputs)
    last = next(e for e in net["edges"] if e["target"] == output)
    biased = next(v for v in net["nodes"] if v.get("bias") not in (None, "0"))
    zero = next((v for v in net["nodes"] if v.get("bias") == "0"), None)
    largest = max(net["edges"], key=lambda e: bits(e["weight"]))
    yield "first-layer weight", lambda: first.update(weight=nudge(first["weight"]))
    yield "last-layer weight", lambda: last.update(weight=nudge(last["weight"]))
    yield "a bias", lambda: biased.update(bias=nudge(biased["bias"]))
    yield "the largest weight", lambda: largest.update(weight=canonical(2 * Fraction(largest["weight"])))
    if zero is not None:
        yield "a zero bias made nonzero", lambda: zero.update(bias="1/1024")
    yield "an edge removed", lambda: net["edges"].remove(last)
    top = max(layer.values())
    yield (
        "a node added",
        lambda: net["nodes"].append({"id": "zz_added", "layer": max(1, top - 1), "activation": "relu", "bias": "1"}),
    )


def forge_network(cert: dict, net_path: Path) -> None:
    cert["network"]["sha256"] = hashlib.sha256(net_path.read_bytes()).hexdigest()
    cert["network"]["digest"] = netjson.digest(netjson.read(net_path))


def forge_dataset(cert: dict, data_path: Path) -> None:
    cert["dataset"]["sha256"] = hashlib.sha256(data_path.read_bytes()).hexdigest()
    cert["dataset"]["digest"] = dataset.load(data_path).digest


def copy_of(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def file_mutations(name: str, src: Path, scratch: Path) -> None:
    cert = json.loads((src / "net.cert.json").read_bytes())
    net = json.loads((src / "net.json").read_bytes())
    for k, (label, mutate) in enumerate(network_mutations(copy.deepcopy(net))):
        for forged in (True, False) if k == 0 else (True,):
            d = copy_of(src, scratch / f"net{k}{forged}")
            doc = copy.deepcopy(net)
            # the mutation closes over its own copy: replay it on that copy and write that copy
            mutations = dict(network_mutations(doc))
            mutations[label]()
            (d / "net.json").write_text(json.dumps(doc))
            forged_cert = copy.deepcopy(cert)
            if forged:
                forge_network(forged_cert, d / "net.json")
            (d / "net.cert.json").write_text(json.dumps(forged_cert))
            code, text = check(d / "net.cert.json")
            record(
                name,
                f"net.json: {label}{'' if forged else ' (hashes not forged)'}",
                code,
                text,
                None if forged else ("network", "sha256"),
            )
    with np.load(src / "data.npz") as z:
        X, y = z["X"], z["y"]
    i = cert["dataset"]["min_sq_separation_pair"][0]  # a point of the closest pair: the separation moves
    X2 = X.copy()
    X2[i, 0] = np.nextafter(X2[i, 0], np.inf)
    y2 = y.copy()
    y2[i] += 1
    for label, (Xm, ym) in (("one coordinate by one ulp", (X2, y)), ("one label by 1", (X, y2))):
        for forged in (True, False):
            d = copy_of(src, scratch / f"data{label[:5]}{forged}")
            np.savez(d / "data.npz", X=Xm, y=ym)
            forged_cert = copy.deepcopy(cert)
            if forged:
                forge_dataset(forged_cert, d / "data.npz")
            (d / "net.cert.json").write_text(json.dumps(forged_cert))
            code, text = check(d / "net.cert.json")
            record(
                name,
                f"dataset: {label}{'' if forged else ' (hashes not forged)'}",
                code,
                text,
                None if forged else ("dataset", "sha256"),
            )


# ---------------------------------------------------------------- the matrix


@pytest.mark.parametrize("name", CONSTRUCTIONS)
@pytest.mark.slow
def test_every_mutation_is_caught(built, name, tmp_path):
    src = built[name]
    cert = json.loads((src / "net.cert.json").read_bytes())
    assert cert["checker"]["sample"] == K < cert["dataset"]["n"] == N
    for label, path, doc in certificate_mutations(cert):
        (src / "t.cert.json").write_text(json.dumps(doc))
        code, text = check(src / "t.cert.json")
        record(name, f"certificate: {label}", code, text, path)
    file_mutations(name, src, tmp_path)
    escaped = [r for r in RESULTS[name] if not r[1]]
    assert not escaped, "\n".join(f"{label}: {out}" for label, _, out in escaped)


def test_the_matrix_is_caught_in_full():
    if set(RESULTS) != set(CONSTRUCTIONS):
        pytest.skip("runs after the per-construction tests (not selected here)")
    total = sum(len(rows) for rows in RESULTS.values())
    caught = sum(ok for rows in RESULTS.values() for _, ok, _ in rows)
    for name, rows in sorted(RESULTS.items()):
        print(f"{name}: {sum(ok for _, ok, _ in rows)}/{len(rows)} caught")
    print(f"tamper matrix: {caught}/{total} caught ({100 * caught / total:.1f}%)")
    assert total > len(CONSTRUCTIONS) * 150 and caught == total


V2_TAMPERS = [
    ("c", ("classification", "min_margin"), "-1/1000"),
    ("c", ("classification", "min_margin_point"), 0),
    ("c", ("classification", "miss_count"), 0),
    ("c", ("classification", "misses"), []),
    ("c", ("claim", "kind"), "tolerance"),
    ("t", ("tolerance", "max_error"), "1/1000"),
    ("t", ("tolerance", "over"), []),
    ("t", ("tolerance", "eps"), "1"),
    ("t", ("claim", "eps"), "1"),
    ("t", ("claim", "kind"), "classification"),
]


@pytest.fixture(scope="module")
def claimed(tmp_path_factory) -> dict[str, Path]:
    """A classification certificate with misses and a tolerance one with points over eps (version 2)."""
    import netcert
    from tests.test_claims import argmax_labels, mlp, oracle, points, save

    root = tmp_path_factory.mktemp("tamper_v2")
    G, X = mlp(), points(30)
    y = argmax_labels(oracle(G, X))
    y[[3, 8]] = (y[[3, 8]] + 1) % 3
    (root / "c").mkdir()
    netcert.verify(G, save(root / "c", X, y), certificate=root / "c" / "net.cert.json", sample=K)
    H = mlp(k=1, classes=False, seed=2)
    f = np.array([float(o[0]) for o in oracle(H, X)]) + np.where(np.arange(30) % 7 == 0, 0.75, 0.0)
    (root / "t").mkdir()
    netcert.verify(H, save(root / "t", X, f), certificate=root / "t" / "net.cert.json", claim="tolerance", eps="1/2")
    return {"c": root / "c", "t": root / "t"}


@pytest.mark.parametrize("which,path,value", V2_TAMPERS)
def test_version_2_figures_tampered_are_caught(claimed, tmp_path, which, path, value):
    src = tmp_path / which
    shutil.copytree(claimed[which], src)
    cert = json.loads((src / "net.cert.json").read_text())
    assert check(src / "net.cert.json")[0] == 1  # refuted, honestly: check reports the verdict only
    assert cert[path[0]][path[1]] != value
    cert[path[0]][path[1]] = value
    (src / "net.cert.json").write_text(json.dumps(cert))
    code, text = check(src / "net.cert.json")
    named = ("tolerance", "eps") if path == ("claim", "eps") else path  # the rerun judges by the stored claim
    assert code in (1, 3) and names(text, named) and "reproduced, but not certified" not in text, text
