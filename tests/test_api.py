"""The public API as docs/api.md documents it: its code blocks run, in order, as written."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np

import netcert

ROOT = Path(__file__).resolve().parents[1]


def test_docs_api_runs_as_written(tmp_path, monkeypatch):
    shutil.copyfile(ROOT / "netcert" / "examples" / "demo.npz", tmp_path / "iris.npz")
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "api.md").read_text(), re.S)
    assert len(blocks) >= 3
    scope: dict = {}
    exec(compile("\n".join(blocks), "docs/api.md", "exec"), scope)
    assert (tmp_path / "iris.cert.json").is_file()
    assert scope["cert"].certified and scope["result"].ok


def test_the_issue_one_liner(tmp_path, monkeypatch):
    shutil.copyfile(ROOT / "netcert" / "examples" / "demo.npz", tmp_path / "d.npz")
    monkeypatch.chdir(tmp_path)
    c = netcert.verify(netcert.build(netcert.load_dataset("d.npz"), "vardi2022"), "d.npz")
    assert c.verdict == "certified" and c.path is None
    assert list(tmp_path.iterdir()) == [tmp_path / "d.npz"]  # nothing left behind


def test_an_in_memory_dataset_round_trips_exactly(tmp_path):
    X = np.array([[0.1, 0.2], [0.3, -0.5], [1.0, 1.0]])
    pts = netcert.api._dataset.from_arrays(X, np.array([1.0, 2.0, -3.0]))  # real labels that are integers
    cert = netcert.verify(netcert.build(pts, "zhang2017"), pts, certificate=tmp_path / "c.cert.json")
    assert cert.certified
    assert cert.record["dataset"]["digest"] == pts.digest and cert.record["dataset"]["labels"]["kind"] == "real"
    assert netcert.check(tmp_path / "c.cert.json").ok


def test_import_netcert_stays_light():
    import subprocess
    import sys

    code = "import sys, netcert; print('sympy' in sys.modules, netcert.__version__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout.split()
    assert out == ["False", netcert.__version__]
