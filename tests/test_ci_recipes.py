"""The ways the README tells people to check certificates in CI work as written, on a directory.

The pre-commit hook is run from its own declaration in .pre-commit-hooks.yaml
(entry and default args), and the README's shell step is taken from the README
itself, so neither can drift from what users copy.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SMALL = ("blobs40", "iris", "decimal_csv")  # the quick ones of certificates/good


def _hook() -> tuple[list[str], list[str]]:
    """(entry words, default args) of the netcert-check hook, read from the YAML as pre-commit reads it."""
    text = (ROOT / ".pre-commit-hooks.yaml").read_text()
    try:
        import yaml
    except ImportError:  # pragma: no cover - the two fields are plain scalars and a flow list
        entry = re.search(r"^\s*entry:\s*(.+)$", text, re.M).group(1)
        args = re.search(r"^\s*args:\s*\[(.*)\]", text, re.M).group(1)
        return shlex.split(entry), [a.strip().strip("'\"") for a in args.split(",") if a.strip()]
    (hook,) = [h for h in yaml.safe_load(text) if h["id"] == "netcert-check"]
    assert hook["pass_filenames"] is False
    return shlex.split(hook["entry"]), list(hook["args"])


def _readme_shell_step() -> list[str]:
    """The `netcert check ...` line of the README's plain shell step, without its comment."""
    block = re.search(r"\*\*A plain shell step\*\*.*?```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    (line,) = [ln for ln in block.group(1).splitlines() if ln.startswith("netcert check")]
    return shlex.split(line.split("#")[0])


def _netcert(words: list[str], cwd: Path) -> subprocess.CompletedProcess:
    assert words[0] == "netcert"
    return subprocess.run(
        [sys.executable, "-m", "netcert", *words[1:]], cwd=cwd, capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def repo(tmp_path) -> Path:
    """A user's repository: a few certificates with their files, under certificates/."""
    for name in SMALL:
        shutil.copytree(ROOT / "certificates" / "good" / name, tmp_path / "certificates" / name)
    return tmp_path


@pytest.mark.slow
def test_pre_commit_hook_as_declared_checks_a_directory(repo):
    entry, default_args = _hook()
    for args in (["certificates"], default_args):  # the README's args, and the hook's own default (".")
        proc = _netcert(entry + args, repo)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert proc.stdout.count("OK   ") == len(SMALL), proc.stdout
        assert proc.stderr == ""


@pytest.mark.slow
def test_pre_commit_hook_fails_on_a_changed_byte(repo):
    data = repo / "certificates" / "iris" / "iris.npz"
    raw = bytearray(data.read_bytes())
    raw[-30] ^= 1
    data.write_bytes(bytes(raw))
    entry, _ = _hook()
    proc = _netcert(entry + ["certificates"], repo)
    assert proc.returncode in (1, 3), proc.stdout + proc.stderr
    assert "iris" in proc.stdout + proc.stderr


@pytest.mark.slow
def test_readme_shell_step_as_written(repo):
    words = _readme_shell_step()
    proc = _netcert(words, repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    checked = sorted(re.findall(r"^OK   (\S+)$", proc.stdout, re.M))
    assert checked == sorted(str(Path("certificates") / n / "net.cert.json") for n in SMALL), proc.stdout


def test_an_empty_directory_is_refused_not_passed(tmp_path):
    (tmp_path / "certificates").mkdir()
    proc = _netcert(_readme_shell_step(), tmp_path)
    assert proc.returncode == 3
    assert proc.stderr.startswith("netcert: error: certificates") and "no *.cert.json" in proc.stderr
