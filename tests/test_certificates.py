"""The committed example certificates: good ones check, bad ones fail for the stated reason.

certificates/good/*/*.cert.json must pass ``netcert check`` (exit 0);
certificates/bad/<case>/*.cert.json must fail it (exit 1) with the text of
``expected.txt`` in its output. ``certificates/make.py`` regenerates all of
them, byte for byte.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from netcert import certificate

ROOT = Path(__file__).resolve().parents[1] / "certificates"
GOOD = sorted(ROOT.glob("good/*/*.cert.json"))
BAD = sorted(ROOT.glob("bad/*/*.cert.json"))
# The kernel rechecks the claims a certificate makes; an honest "refuted" certificate makes only true ones.
KERNEL_ACCEPTS = {"refuted_honest"}


def run(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=600)


def name(path: Path) -> str:
    return path.parent.name


def test_there_are_examples():
    assert len(GOOD) >= 3
    assert len(BAD) >= 4
    assert all((p.parent / "expected.txt").is_file() for p in BAD)


@pytest.mark.parametrize("cert", GOOD, ids=name)
@pytest.mark.slow
def test_good_certificate_checks(cert: Path):
    r = run("-m", "netcert", "check", cert.relative_to(ROOT))
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("OK"), r.stdout
    assert json.loads(cert.read_bytes())["verdict"] == certificate.CERTIFIED


@pytest.mark.parametrize("cert", BAD, ids=name)
@pytest.mark.slow
def test_bad_certificate_fails_for_its_reason(cert: Path):
    expected = (cert.parent / "expected.txt").read_text(encoding="utf-8").rstrip("\n")
    assert expected
    r = run("-m", "netcert", "check", cert.relative_to(ROOT))
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert out.startswith("FAIL"), out
    assert expected in out, f"{expected!r} not in:\n{out}"


@pytest.mark.parametrize("cert", GOOD + BAD, ids=lambda p: f"{p.parent.parent.name}-{name(p)}")
@pytest.mark.slow
def test_kernel_alone_agrees(cert: Path):
    """``python -m netcert.kernel`` on its own: accepts the good ones, rejects the forged or broken ones."""
    r = run("-m", "netcert.kernel", cert.relative_to(ROOT))
    accepts = cert.parent.parent.name == "good" or name(cert) in KERNEL_ACCEPTS
    assert r.returncode == (0 if accepts else 1), r.stdout + r.stderr


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for sub in ("good", "bad")
        for p in sorted((root / sub).rglob("*"))
        if p.is_file()
    }


def _without_tools(raw: bytes) -> dict:
    cert = json.loads(raw)
    cert.pop("tools", None)
    return cert


@pytest.mark.slow
def test_make_reproduces_the_committed_files(tmp_path: Path):
    """make.py into a temporary directory gives the committed bytes.

    Certificates record the versions of the tools that wrote them; when the
    installed versions differ from the committed ones, certificates are
    compared without their ``tools`` section (everything else byte for byte).
    """
    r = run(ROOT / "make.py", "--out", tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    committed, fresh = _tree(ROOT), _tree(tmp_path)
    assert sorted(fresh) == sorted(committed)
    current = certificate.tools()
    for rel, raw in committed.items():
        if rel.endswith(".cert.json") and json.loads(raw)["tools"] != current:
            assert _without_tools(fresh[rel]) == _without_tools(raw), rel
        else:
            assert fresh[rel] == raw, rel


# ---------------------------------------------------------------- what check refuses beyond the examples


def _copy_good(tmp_path: Path, name: str = "blobs40") -> Path:
    import shutil

    shutil.copytree(ROOT / "good" / name, tmp_path / name)
    return tmp_path / name / "net.cert.json"


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda t: t.replace('"depth": 2,', '"depth": 2.0,'), "structure.depth is a float"),
        (lambda t: t.replace('"seed": 0,', f'"seed": {10**30},', 1), "checker/seed"),
        (
            lambda t: t.replace('"verdict": "certified"', '"verdict": "certified", "verdict": "certified"'),
            "key 'verdict' repeated",
        ),
        (lambda t: t.replace('"depth": 2,', '"depth": NaN,'), "NaN is not a JSON number"),
    ],
)
def test_read_certificate_refuses_what_the_schema_would_let_through(tmp_path: Path, edit, message):
    from netcert import certify
    from netcert.errors import FormatError

    cert = _copy_good(tmp_path)
    text = cert.read_text()
    assert edit(text) != text
    cert.write_text(edit(text))
    with pytest.raises(FormatError, match=message.replace("/", "/")):
        certify.read_certificate(cert)


def test_recheck_refuses_a_path_outside_the_certificates_directory(tmp_path: Path):
    from netcert import certify

    cert = _copy_good(tmp_path)
    inner = cert.parent / "inner"
    inner.mkdir()
    moved = inner / "net.cert.json"
    stored = json.loads(cert.read_bytes())
    stored["network"]["path"], stored["dataset"]["path"] = "../net.json", "../data.npz"
    moved.write_bytes(certificate.to_bytes(stored))
    diffs = certify.recheck(moved, jobs=1)
    assert diffs == [f"network.path: ../net.json leaves the directory of {moved} (allow_outside permits it)"]
    # allowed, the paths are followed; the fresh certificate then names them as they are
    assert certify.recheck(moved, jobs=1, allow_outside=True) == []
    for name in ("net.json", "data.npz"):  # inside by name, outside once the symlinks are resolved
        (inner / name).symlink_to(cert.parent / name)
    stored["network"]["path"], stored["dataset"]["path"] = "net.json", "data.npz"
    moved.write_bytes(certificate.to_bytes(stored))
    assert certify.recheck(moved, jobs=1)[0].startswith("network.path: net.json leaves the directory")


def test_a_forged_full_coverage_claim_is_rechecked_in_full(tmp_path: Path):
    """5,000 points, a sample certificate edited to claim a full kernel run without its caveat: check reruns
    the kernel in full, and what it compared is not what the certificate recorded."""
    import numpy as np

    from netcert import certify
    from netcert.formats import files, netjson
    from netcert.ir import network as net

    n = 5000
    X = np.arange(2 * n, dtype=np.float64).reshape(n, 2) / 8
    np.savez(tmp_path / "d.npz", X=X, y=X[:, 0])  # the identity on the first coordinate interpolates
    G = net.new_network(["x0", "x1"])
    net.add_neuron(G, "out", layer=1, activation="identity", bias=0, incoming={"x0": 1})
    net.set_outputs(G, ["out"])
    netjson.write(G, tmp_path / "net.json")
    cert_path = tmp_path / "net.cert.json"
    cert = certify.verify(tmp_path / "net.json", tmp_path / "d.npz", cert_path, sample=1000, jobs=1)
    assert cert["verdict"] == "certified" and cert["checker"]["notes"]  # above 2,000 points: only the pair
    files.write_atomic(cert_path, certificate.to_bytes(cert))
    assert certify.recheck(cert_path, jobs=1) == []
    forged = json.loads(cert_path.read_bytes())
    forged["checker"].update(mode="full", sample=None, points_checked=n, notes=[])
    files.write_atomic(cert_path, certificate.to_bytes(forged))
    diffs = certify.recheck(cert_path, jobs=1)
    assert [d.split(":")[0] for d in diffs] == ["checker.points_digest"], diffs
    forged["checker"]["sample"] = 1000  # the schema: a full run has no sample size
    cert_path.write_text(json.dumps(forged))
    from netcert.errors import FormatError

    with pytest.raises(FormatError, match="checker/sample"):
        certify.read_certificate(cert_path)
