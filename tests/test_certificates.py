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
def test_good_certificate_checks(cert: Path):
    r = run("-m", "netcert", "check", cert.relative_to(ROOT))
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("OK"), r.stdout
    assert json.loads(cert.read_bytes())["verdict"] == certificate.CERTIFIED


@pytest.mark.parametrize("cert", BAD, ids=name)
def test_bad_certificate_fails_for_its_reason(cert: Path):
    expected = (cert.parent / "expected.txt").read_text(encoding="utf-8").rstrip("\n")
    assert expected
    r = run("-m", "netcert", "check", cert.relative_to(ROOT))
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert out.startswith("FAIL"), out
    assert expected in out, f"{expected!r} not in:\n{out}"


@pytest.mark.parametrize("cert", GOOD + BAD, ids=lambda p: f"{p.parent.parent.name}-{name(p)}")
def test_kernel_alone_agrees(cert: Path):
    """``python -m netcert.kernel`` on its own: accepts the good ones, rejects the forged or broken ones."""
    r = run("-m", "netcert.kernel", cert.relative_to(ROOT))
    accepts = cert.parent.parent.name == "good" or name(cert) in KERNEL_ACCEPTS
    assert r.returncode == (0 if accepts else 1), r.stdout + r.stderr


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for sub in ("good", "bad") for p in sorted((root / sub).rglob("*")) if p.is_file()}


def _without_tools(raw: bytes) -> dict:
    cert = json.loads(raw)
    cert.pop("tools", None)
    return cert


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
