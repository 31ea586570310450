"""Long work shows progress on a terminal, and only there unless asked."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

import numpy as np
import pytest

from netcert import progress


def test_counter_waits_then_counts_with_its_clock_from_the_first_point(capsys):
    with progress.counter("kernel", 4, progress.ALWAYS, "reading the files") as report:
        time.sleep(1.2)  # the reading: shown as such, and not counted in the rate
        for k in range(1, 5):
            report(k)
    err = capsys.readouterr().err
    assert "kernel: reading the files" in err
    last = err.replace("\r", "\n").strip().splitlines()[-1]
    assert "4/4" in last
    assert "00:01" not in last and "00:00" in last  # elapsed over the points only: well under a second


def test_hidden_unless_a_terminal_or_asked(capsys):
    with progress.counter("evaluating", 10, progress.AUTO) as report:  # stderr is captured: not a terminal
        assert report is None
    with progress.stages("build", progress.NEVER) as stage:
        stage("anything")
    assert capsys.readouterr().err == ""


@pytest.mark.slow
def test_a_long_build_shows_progress_within_five_seconds_on_a_terminal(tmp_path):
    """Acceptance: a build of more than 10 s, under a pseudo-terminal, prints its stage within 5 s."""
    rng = np.random.default_rng(0)
    data = tmp_path / "d.npz"
    np.savez(data, X=rng.standard_normal((3000, 10)), y=rng.integers(0, 3, 3000))  # bubeck2020: about 10 s
    master, slave = pty.openpty()
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "netcert", "build", str(data), "-c", "bubeck2020", "-o", str(tmp_path / "n.json")],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        cwd=tmp_path,
    )
    os.close(slave)
    seen = b""
    try:
        while time.monotonic() - start < 5 and b"build bubeck2020: building" not in seen:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(master, 4096)
                except OSError:
                    break
        running = proc.poll() is None
    finally:
        proc.kill()
        proc.wait()
        os.close(master)
    assert b"build bubeck2020: building bubeck2020 on 3000 points" in seen, seen
    if not running:
        pytest.fail("the build finished within 5 s: the test needs a slower one to mean anything")
