"""Regenerate the example certificates under certificates/good/ and certificates/bad/.

    python certificates/make.py [--out DIR]      (default: the directory of this script)

Deterministic: every random choice has a fixed seed, the .npz files are written
with fixed zip timestamps, and netcert writes canonical bytes; so two runs with
the same tool versions give the same bytes (``tests/test_certificates.py``
checks it). The certificates record the tool versions in ``tools``, which
``netcert check`` does not compare.

good/<name>/   dataset, net.json (``netcert build``), net.cert.json (``netcert
               verify``): each must pass ``netcert check`` (exit 0).
bad/<name>/    the same files with one thing wrong, and ``expected.txt``: a
               substring that the output of ``netcert check`` must contain
               (exit 1). See ``BAD`` below for what each one breaks.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import shutil
import sys
import zipfile
from fractions import Fraction
from pathlib import Path

import networkx as nx
import numpy as np

from netcert import certificate, dataset
from netcert.cli import cli
from netcert.exact import mpq
from netcert.formats import netjson

HERE = Path(__file__).resolve().parent
CERT = "net.cert.json"
NET = "net.json"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


# -- writing inputs deterministically ----------------------------------------------


def write_npz(path: Path, X: np.ndarray, y: np.ndarray) -> None:
    """An .npz readable by ``numpy.load`` whose bytes depend only on the arrays.

    ``numpy.savez`` stamps each member with the current time; this writes the
    same members (``X.npy``, ``y.npy``, stored, uncompressed) with a fixed one.
    """
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for key, arr in (("X", X), ("y", y)):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=_ZIP_TIME)
            info.external_attr = 0o644 << 16
            zf.writestr(info, member.getvalue())
    path.write_bytes(buf.getvalue())


def csv_text(X: list[list[str]], y: list[str], header: list[str]) -> str:
    lines = [",".join(header)] + [",".join([*row, label]) for row, label in zip(X, y)]
    return "\n".join(lines) + "\n"


def decimal(q: Fraction, places: int) -> str:
    """A decimal literal of exactly ``places`` places (q must be a multiple of 10^-places)."""
    sign, q = ("-" if q < 0 else ""), abs(q)
    scaled = q * 10**places
    assert scaled.denominator == 1, q
    whole, frac = divmod(int(scaled), 10**places)
    return f"{sign}{whole}.{frac:0{places}d}"


# -- running netcert -------------------------------------------------------------------


def netcert(*args: str) -> int:
    """``netcert ARGS`` in this process (the click command itself); its exit code."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            cli.main([str(a) for a in args], prog_name="netcert", standalone_mode=False)
            code = 0
        except SystemExit as e:
            code = e.code or 0
    return int(code)


def build_and_verify(
    directory: Path, data_name: str, *, expect: int = 0, construction: tuple[str, ...] = ("zhang2017",)
) -> dict:
    """``netcert build`` (``construction``: its name, then options) then ``netcert verify`` in
    ``directory``; the certificate."""
    data = directory / data_name
    code = netcert("build", data, "--construction", *construction, "--seed", "0", "-o", directory / NET)
    if code != 0:
        raise SystemExit(f"netcert build {data} failed ({code})")
    code = netcert("verify", directory / NET, "--data", data, "-o", directory / CERT, "--seed", "0", "--quiet")
    if code != expect:
        raise SystemExit(f"netcert verify {directory / NET} exited {code}, expected {expect}")
    return json.loads((directory / CERT).read_bytes())


def write_cert(path: Path, cert: dict) -> None:
    """A (possibly forged) certificate, written canonically like netcert writes it."""
    path.write_bytes(certificate.to_bytes(cert))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- the good examples -------------------------------------------------------------


def blobs_npz(path: Path) -> None:
    """n = 40, d = 2, float32 Gaussian points, integer labels 0..2."""
    rng = np.random.default_rng(20170101)
    X = rng.standard_normal((40, 2)).astype(np.float32)
    y = rng.integers(0, 3, size=40).astype(np.int64)
    write_npz(path, X, y)


def decimal_csv(path: Path) -> None:
    """n = 30, d = 3, decimal coordinates (not dyadic: 0.1 is 1/10), real labels, a header line."""
    rng = np.random.default_rng(31415)
    n, d = 30, 3
    X = [[decimal(Fraction(int(v), 1000), 3) for v in rng.integers(-5000, 5000, size=d)] for _ in range(n)]
    y = [decimal(Fraction(int(v), 100), 2) for v in rng.integers(-300, 300, size=n)]
    y[7] = "1/3"  # one label that no decimal writes
    path.write_text(csv_text(X, y, ["a", "b", "c", "target"]), encoding="utf-8")


def iris_npz(path: Path) -> None:
    """Fisher's iris from scikit-learn: n = 150 rows (149 distinct), d = 4, float64, labels 0..2."""
    from sklearn.datasets import load_iris

    iris = load_iris()
    write_npz(path, np.asarray(iris.data, dtype=np.float64), np.asarray(iris.target, dtype=np.int64))


def uniform300_npz(path: Path) -> None:
    """n = 300, d = 2, float64 uniform on [-1, 1]^2, labels 1..4 (docs/constructions/vardi2022.md section 11's generator)."""
    rng = np.random.default_rng(2022)
    X = rng.uniform(-1, 1, (300, 2))
    write_npz(path, X, rng.integers(1, 5, 300).astype(np.int64))


GOOD = {
    "blobs40": ("data.npz", blobs_npz, ("zhang2017",)),
    "decimal_csv": ("data.csv", decimal_csv, ("zhang2017",)),
    "iris": ("iris.npz", iris_npz, ("zhang2017",)),
    "vardi2022_uniform300": ("data.npz", uniform300_npz, ("vardi2022", "--mode", "delta")),
}


def tiny_network(outputs: int, classes: list[str] | None) -> nx.DiGraph:
    """2 inputs -> 3 ReLUs -> ``outputs`` identities, small exact weights: a trained network's shape."""
    G = nx.DiGraph(format="netcert.network", version=1, inputs=["x0", "x1"], outputs=[f"o{k}" for k in range(outputs)])
    if classes is not None:
        G.graph["classes"] = classes
    G.add_nodes_from(["x0", "x1"], layer=0, activation="input")
    hidden = [((1, -1), 0), ((1, 1), -1), ((-1, 2), 1)]
    for i, (w, b) in enumerate(hidden):
        G.add_node(f"h{i}", layer=1, activation="relu", bias=mpq(b, 2))
        for j, a in enumerate(w):
            G.add_edge(f"x{j}", f"h{i}", weight=mpq(a, 2))
    heads = [(1, -1, 1), (-1, 1, 1 / 2), (1, 1, -1)][:outputs]
    for k, ws in enumerate(heads):
        G.add_node(f"o{k}", layer=2, activation="identity", bias=mpq(k - 1, 4))
        for i, w in enumerate(ws):
            G.add_edge(f"h{i}", f"o{k}", weight=mpq(*Fraction(w).as_integer_ratio()))
    return G


def tiny_points() -> np.ndarray:
    """A 7 x 7 integer grid: n = 49, d = 2."""
    return np.array([(a, b) for a in range(-3, 4) for b in range(-3, 4)], dtype=np.int64)


def outputs_of(G: nx.DiGraph, X: np.ndarray) -> list[tuple[Fraction, ...]]:
    from netcert.engine import reference

    return [tuple(reference.forward(G, [Fraction(int(v)) for v in x])) for x in X]


def classify_example(directory: Path) -> dict:
    """Version 2, classification: 3 scores, labelled by the network's own unique argmax (ties left out)."""
    G, X = tiny_network(3, ["0", "1", "2"]), tiny_points()
    outs = outputs_of(G, X)
    keep = [i for i, o in enumerate(outs) if o.count(max(o)) == 1]
    write_npz(directory / "data.npz", X[keep], np.array([outs[i].index(max(outs[i])) for i in keep], dtype=np.int64))
    netjson.write(G, directory / NET)
    return verify_claim(directory, "data.npz")


def tolerance_example(directory: Path) -> dict:
    """Version 2, tolerance: one output, labels the output plus a dyadic error of at most 1/8, eps 1/4."""
    G, X = tiny_network(1, None), tiny_points()
    noise = [Fraction((i % 5) - 2, 16) for i in range(len(X))]
    y = np.array([float(o[0] + e) for o, e in zip(outputs_of(G, X), noise)], dtype=np.float64)  # dyadic: exact
    write_npz(directory / "data.npz", X.astype(np.float64), y)
    netjson.write(G, directory / NET)
    return verify_claim(directory, "data.npz", "--claim", "tolerance", "--eps", "1/4")


def verify_claim(directory: Path, data_name: str, *claim: str) -> dict:
    """``netcert verify`` of the network in ``directory`` with a claim of version 2; the certificate."""
    code = netcert(
        "verify", directory / NET, "--data", directory / data_name, "-o", directory / CERT, *claim, "--quiet"
    )
    if code != 0:
        raise SystemExit(f"netcert verify {directory / NET} exited {code}, expected 0")
    return json.loads((directory / CERT).read_bytes())


CLAIMED = {"classify_tiny": classify_example, "tolerance_tiny": tolerance_example}


def make_good(root: Path) -> dict[str, dict]:
    certs = {}
    for name, (data_name, make, construction) in GOOD.items():
        directory = root / "good" / name
        directory.mkdir(parents=True)
        make(directory / data_name)
        certs[name] = build_and_verify(directory, data_name, construction=construction)
    for name, example in CLAIMED.items():
        directory = root / "good" / name
        directory.mkdir(parents=True)
        certs[name] = example(directory)
    return certs


# -- the bad examples --------------------------------------------------------------


def copy_example(root: Path, good: str, bad: str, data_name: str) -> Path:
    src, dst = root / "good" / good, root / "bad" / bad
    dst.mkdir(parents=True)
    for f in (data_name, NET, CERT):
        shutil.copyfile(src / f, dst / f)
    return dst


def expect(directory: Path, text: str) -> None:
    (directory / "expected.txt").write_text(text + "\n", encoding="utf-8")


def load_cert(directory: Path) -> dict:
    return json.loads((directory / CERT).read_bytes())


def forge_dataset_hashes(cert: dict, data_path: Path) -> None:
    cert["dataset"]["sha256"] = sha256(data_path)
    cert["dataset"]["digest"] = dataset.load(data_path).digest


def forge_network_hashes(cert: dict, net_path: Path) -> None:
    cert["network"]["sha256"] = sha256(net_path)
    cert["network"]["digest"] = netjson.digest(netjson.read(net_path))


def bad_flipped_label(root: Path) -> None:
    """One label changed in the .npz, the certificate's dataset sha256 and digest forged to match.

    The hashes agree, so what fails is the interpolation at that point. Label
    0 -> 1 at a point whose label 0 is not the only 0, so the label summary
    (distinct, min, max) does not change either.
    """
    d = copy_example(root, "blobs40", "flipped_label", "data.npz")
    with np.load(d / "data.npz", allow_pickle=False) as z:
        X, y = z["X"], z["y"].copy()
    i = int(np.flatnonzero(y == 0)[0])
    y[i] = 1
    write_npz(d / "data.npz", X, y)
    cert = load_cert(d)
    forge_dataset_hashes(cert, d / "data.npz")
    write_cert(d / CERT, cert)
    expect(d, "interpolation.exact: stored true, recomputed false")


def bad_weight_nudged(root: Path) -> None:
    """One output weight of net.json changed by 2^-40, re-serialized canonically, network hashes forged.

    The weight of h[0] -> out: h[0] has the leftmost kink of the zig-zag, so it
    is active at (nearly) every point and the outputs move.
    """
    d = copy_example(root, "blobs40", "weight_nudged", "data.npz")
    G = netjson.read(d / NET)
    first = max((u for u, _ in G.in_edges("out")), key=lambda u: G.nodes[u]["bias"])  # least kink
    G.edges[first, "out"]["weight"] += mpq(1, 2**40)
    netjson.write(G, d / NET)
    cert = load_cert(d)
    forge_network_hashes(cert, d / NET)
    write_cert(d / CERT, cert)
    expect(d, "interpolation.exact: stored true, recomputed false")


def bad_params_nonzero(root: Path) -> None:
    """structure.params_nonzero claimed one more than the network has."""
    d = copy_example(root, "blobs40", "params_nonzero_off_by_one", "data.npz")
    cert = load_cert(d)
    true = cert["structure"]["params_nonzero"]
    cert["structure"]["params_nonzero"] = true + 1
    write_cert(d / CERT, cert)
    expect(d, f"structure.params_nonzero: stored {true + 1}, recomputed {true}")


def bad_max_weight_bits(root: Path) -> None:
    """structure.max_weight_bits claimed one less than the network has."""
    d = copy_example(root, "iris", "max_weight_bits_off_by_one", "iris.npz")
    cert = load_cert(d)
    true = cert["structure"]["max_weight_bits"]
    cert["structure"]["max_weight_bits"] = true - 1
    write_cert(d / CERT, cert)
    expect(d, f"structure.max_weight_bits: stored {true - 1}, recomputed {true}")


def bad_csv_byte(root: Path) -> None:
    """One byte of the dataset changed (a digit of a coordinate), certificate untouched: sha256 fails."""
    d = copy_example(root, "decimal_csv", "dataset_byte_changed", "data.csv")
    raw = bytearray((d / "data.csv").read_bytes())
    lines = raw.split(b"\n")
    start = len(lines[0]) + 1 + len(lines[1]) + 1  # the first coordinate of the second data line
    k = start + next(j for j, c in enumerate(raw[start:]) if chr(c).isdigit() and c != ord("0"))
    raw[k] = ord("1") if raw[k] != ord("1") else ord("2")
    (d / "data.csv").write_bytes(bytes(raw))
    expect(d, "dataset.sha256: stored")


def bad_csv_header_byte(root: Path) -> None:
    """One byte of the CSV header changed: the exact rows (digest) are equal, the file's sha256 is not."""
    d = copy_example(root, "decimal_csv", "dataset_header_byte_changed", "data.csv")
    raw = (d / "data.csv").read_bytes()
    assert raw.startswith(b"a,")
    (d / "data.csv").write_bytes(b"A" + raw[1:])
    expect(d, "dataset.sha256: stored")


def bad_npz_byte(root: Path) -> None:
    """One byte of the float data inside the .npz changed: the zip member's CRC no longer matches."""
    d = copy_example(root, "blobs40", "npz_byte_changed", "data.npz")
    raw = bytearray((d / "data.npz").read_bytes())
    k = raw.index(b"\n", raw.index(b"{'descr'")) + 1 + 5  # a byte of X[0, 1]'s float32
    raw[k] ^= 0x01
    (d / "data.npz").write_bytes(bytes(raw))
    expect(d, "files no longer verify")


def bad_net_byte(root: Path) -> None:
    """One byte of net.json changed (its final newline made a space): same network, other sha256."""
    d = copy_example(root, "blobs40", "network_byte_changed", "data.npz")
    raw = (d / NET).read_bytes()
    assert raw.endswith(b"\n")
    (d / NET).write_bytes(raw[:-1] + b" ")
    expect(d, "network.sha256: stored")


def bad_refuted_claims_certified(root: Path) -> None:
    """The network built for blobs40, verified on the same points with other labels: an honest
    ``refuted`` certificate whose verdict is then changed to ``certified``."""
    d = root / "bad" / "refuted_claims_certified"
    d.mkdir(parents=True)
    shutil.copyfile(root / "good" / "blobs40" / NET, d / NET)
    with np.load(root / "good" / "blobs40" / "data.npz", allow_pickle=False) as z:
        X, y = z["X"], z["y"]
    write_npz(d / "other_labels.npz", X, (y + 1) % 3)
    netcert("verify", d / NET, "--data", d / "other_labels.npz", "-o", d / CERT, "--seed", "0", "--quiet")
    cert = load_cert(d)
    assert cert["verdict"] == certificate.REFUTED, cert["verdict"]
    cert["verdict"] = certificate.CERTIFIED
    write_cert(d / CERT, cert)
    expect(d, 'verdict: stored "certified", recomputed "refuted"')


def bad_refuted_honest(root: Path) -> None:
    """The same pair with its honest ``refuted`` certificate: it reproduces, but is not a certification."""
    d = root / "bad" / "refuted_honest"
    d.mkdir(parents=True)
    src = root / "bad" / "refuted_claims_certified"
    shutil.copyfile(src / NET, d / NET)
    shutil.copyfile(src / "other_labels.npz", d / "other_labels.npz")
    code = netcert("verify", d / NET, "--data", d / "other_labels.npz", "-o", d / CERT, "--seed", "0", "--quiet")
    assert code == 1, code
    expect(d, "verdict: refuted (reproduced, but not certified)")


def bad_missing_file(root: Path) -> None:
    """A certificate whose network file is not there."""
    d = root / "bad" / "missing_network"
    d.mkdir(parents=True)
    for f in ("data.npz", CERT):
        shutil.copyfile(root / "good" / "blobs40" / f, d / f)
    expect(d, "network.path: net.json does not exist")


BAD = [
    bad_flipped_label,
    bad_weight_nudged,
    bad_params_nonzero,
    bad_max_weight_bits,
    bad_csv_byte,
    bad_csv_header_byte,
    bad_npz_byte,
    bad_net_byte,
    bad_refuted_claims_certified,
    bad_refuted_honest,
    bad_missing_file,
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="directory to write good/ and bad/ into")
    args = parser.parse_args(argv)
    root = args.out.resolve()
    for sub in ("good", "bad"):
        shutil.rmtree(root / sub, ignore_errors=True)
    make_good(root)
    for make in BAD:
        make(root)
    for sub in ("good", "bad"):
        for p in sorted((root / sub).iterdir()):
            print(f"{sub}/{p.name}: {', '.join(sorted(f.name for f in p.iterdir()))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
