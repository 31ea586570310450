"""Writing whole or not at all: the temporary files of write_atomic and what a killed writer leaves."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from netcert.formats import files


def test_a_killed_writers_temporary_is_removed_by_the_next_write_and_a_live_ones_kept(tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    stale = tmp_path / f".net.cert.json.{gone.pid}.k3j2.tmp"
    live = tmp_path / f".net.cert.json.{os.getppid()}.x8a1.tmp"  # pytest's parent: alive
    other = tmp_path / f".other.json.{gone.pid}.aaaa.tmp"
    for f in (stale, live, other):
        f.write_text("partial")
    files.write_atomic(tmp_path / "net.cert.json", b"{}\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other.name, "net.cert.json"])


def test_no_glob_for_outputs_matches_a_temporary(tmp_path):
    (tmp_path / f".net.cert.json.{os.getpid()}.abcd.tmp").write_text("partial")
    assert not list(tmp_path.rglob("*.cert.json")) and not list(tmp_path.glob("*.json"))


def test_files_take_the_umask_not_0600(tmp_path):
    old = os.umask(0o022)
    try:
        files.write_atomic(tmp_path / "a.json", b"{}")
        os.umask(0o077)
        files.write_atomic(tmp_path / "b.json", b"{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "b.json").stat().st_mode) == 0o600


@pytest.mark.slow
def test_a_closed_stdout_is_not_a_refutation(tmp_path):
    """`netcert constructions | head -1`: the reader leaves; exit 141 (SIGPIPE's), no traceback, never 1."""
    proc = subprocess.run(
        f"{sys.executable} -m netcert constructions | head -c 10 > /dev/null; echo ${{PIPESTATUS[0]}}",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.stdout.strip() in ("0", "141"), proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
