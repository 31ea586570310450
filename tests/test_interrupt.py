"""Interrupted runs: every process forked by ``netcert.engine.parallel`` dies with its parent, however the parent
ends (SIGKILL, SIGTERM, SIGINT), and a worker that dies is an error, never a wait without end.

Each run starts in a session of its own, so that its processes can be found in /proc even once an
orphan has been adopted by init: a process's session survives its parent. Linux only (/proc).
"""

import multiprocessing as mp
import os
import signal
import subprocess
import sys
import textwrap
import time
from contextlib import suppress
from pathlib import Path

import numpy as np
import pytest

from netcert.engine import parallel
from netcert.errors import ExecutorError
from test_cli import run

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and PR_SET_PDEATHSIG")

GONE_WITHIN = 2.0  # seconds every worker has to die once its parent has
START_WITHIN = 60.0  # seconds the workers have to appear (generous: the machine may be loaded)


def _stat(pid: str) -> list[str]:
    """/proc/<pid>/stat's fields after the command name: state, ppid, pgrp, session, ..."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def _session(sid: int) -> set[int]:
    """The running processes (zombies have stopped) of session ``sid``."""
    found = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            state, _, _, session = _stat(pid)[:4]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue  # it exited while the directory was read
        if int(session) == sid and state != "Z":
            found.add(int(pid))
    return found


def _until(condition, seconds: float) -> bool:
    """Whether ``condition()`` holds within ``seconds`` (polled: no fixed sleep to tune per machine)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _start(args: list, cwd: Path, stderr: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, *map(str, args)],
        cwd=cwd,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=stderr.open("w"),
    )


def _kill_all(sid: int) -> None:
    """After a failed test: no process of the run outlives it."""
    for pid in _session(sid):
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


# -- a small driver: parallel.Local and Beside with work that sleeps ------------------------------

DRIVER = textwrap.dedent("""
    import os, sys, time
    from netcert.engine import parallel
    if "pipe" in sys.argv:
        parallel._PRCTL = None  # the fallback of systems without prctl: a pipe the children watch

    def nap(k):
        open(f"{os.getpid()}.nap", "w").close()  # this worker is at work
        time.sleep(60)

    def pool(report):
        list(parallel.Local(2).map(nap, range(4)))

    if "beside" in sys.argv:
        with parallel.Beside(pool) as other:
            pool(None)
    else:
        pool(None)
""")
NAPPING = {"map": 2, "beside": 4}  # the driver's 2 workers; + the Beside child's 2


@pytest.mark.parametrize("guard", ["prctl", "pipe"])
@pytest.mark.parametrize("shape", ["map", "beside"])
def test_sigkill_of_the_parent_kills_every_worker(tmp_path, shape, guard):
    (tmp_path / "driver.py").write_text(DRIVER)
    p = _start(["driver.py", shape, guard], tmp_path, tmp_path / "err.txt")
    try:
        assert _until(lambda: len(list(tmp_path.glob("*.nap"))) == NAPPING[shape], START_WITHIN), (
            tmp_path / "err.txt"
        ).read_text()
        assert p.poll() is None and len(_session(p.pid)) == 1 + NAPPING[shape] + (shape == "beside")
        os.kill(p.pid, signal.SIGKILL)
        assert p.wait(10) == -signal.SIGKILL
        assert _until(lambda: not _session(p.pid), GONE_WITHIN), f"still running: {_session(p.pid)}"
    finally:
        p.kill()
        _kill_all(p.pid)


# -- Lifeline and dead workers, in this process ----------------------------------------------------


def test_a_child_whose_parent_died_before_it_was_guarded_dies():
    """The race PR_SET_PDEATHSIG alone leaves open: the parent gone before prctl ran. Simulated by a
    lifeline naming another parent than the real one."""
    ctx = mp.get_context("fork")
    honest = ctx.Process(target=parallel.Lifeline().hold)
    honest.start()
    honest.join(10)
    orphan_line = parallel.Lifeline()
    orphan_line.parent = os.getppid()  # not the pid the child will see as its parent
    orphan = ctx.Process(target=orphan_line.hold)
    orphan.start()
    orphan.join(10)
    assert honest.exitcode == 0
    assert orphan.exitcode == -signal.SIGKILL


def _dies_on_2(k):
    if k == 2:
        os._exit(9)
    time.sleep(0.05)
    return k


def test_a_worker_that_dies_is_an_executor_error_not_a_hang():
    start = time.monotonic()
    with pytest.raises(ExecutorError, match=r"a forked worker stopped \(exit code 9\)"):
        list(parallel.Local(2).map(_dies_on_2, range(8)))
    assert time.monotonic() - start < 10  # multiprocessing.Pool alone would wait for the lost task forever


def _handlers(k):
    return str(signal.getsignal(signal.SIGINT)), str(signal.getsignal(signal.SIGTERM))


def test_workers_leave_ctrl_c_to_their_parent_and_die_of_sigterm():
    assert set(parallel.Local(2).map(_handlers, range(4))) == {(str(signal.SIG_IGN), str(signal.SIG_DFL))}
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # this process's are unchanged


def _pool_handlers(report):
    return sorted(set(parallel.Local(2).map(_handlers, range(4))))


def test_a_beside_childs_pool_does_not_inherit_its_sigterm_handler():
    with parallel.Beside(_pool_handlers) as other:
        assert other.result() == [(str(signal.SIG_IGN), str(signal.SIG_DFL))]


# -- netcert verify, interrupted ---------------------------------------------------------------------

N = 20000  # vardi2022 on N points: verify runs for seconds, with a Beside child and pools on 2 jobs


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    root = tmp_path_factory.mktemp("interrupt")
    rng = np.random.default_rng(3)
    np.savez(root / "data.npz", X=rng.uniform(-1, 1, (N, 2)), y=rng.integers(1, 3, N))
    assert run("build", root / "data.npz", "-c", "vardi2022", "-o", root / "net.json").exit_code == 0
    return root


@pytest.mark.parametrize(
    "how, exit_code",
    [
        ("SIGKILL", -signal.SIGKILL),
        ("SIGTERM", -signal.SIGTERM),
        ("SIGINT", 130),  # kill -INT: the main process only
        ("SIGINT to the group", 130),  # Ctrl-C in a terminal: every process of the foreground group
    ],
)
@pytest.mark.slow
def test_an_interrupted_verify_leaves_no_worker(work, tmp_path, how, exit_code):
    err = tmp_path / "err.txt"
    p = _start(
        [
            "-m",
            "netcert",
            "verify",
            work / "net.json",
            "--data",
            work / "data.npz",
            "-o",
            tmp_path / "net.cert.json",
            "--jobs",
            "2",
        ],
        tmp_path,
        err,
    )
    try:
        # the main process, the Beside child, and at least one pool worker
        assert _until(lambda: len(_session(p.pid)) >= 3 or p.poll() is not None, START_WITHIN)
        assert p.poll() is None, f"verify ended before it forked: {err.read_text()}"
        sig = getattr(signal, how.split()[0])
        (os.killpg if how.endswith("group") else os.kill)(p.pid, sig)
        assert p.wait(30) == exit_code, err.read_text()
        assert _until(lambda: not _session(p.pid), GONE_WITHIN), f"still running: {_session(p.pid)}"
        assert "Traceback" not in err.read_text()
        assert not (tmp_path / "net.cert.json").exists()
    finally:
        p.kill()
        _kill_all(p.pid)
