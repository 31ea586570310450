"""The claims and the kernel beside the evaluation: ``parallel.Beside`` and ``verify``'s use of it.

A local verify on two cores or more forks its claims and the kernel's check beside the evaluation;
the certificate must be the one the sequential order gives, byte for byte, certified or refuted.
"""

import gc
import os
import signal
import time
from multiprocessing.connection import Connection

import numpy as np
import pytest

from netcert import certificate, certify
from netcert.engine import parallel
from netcert.errors import ExecutorError, InputError
from test_cli import run

N = 2500  # at least certify._BESIDE_MIN_POINTS


# -- parallel.Beside ---------------------------------------------------------------------------


def _reports_then(value):
    def fn(report):
        for k in (1, 2, 3):
            report(k)
        return value

    return fn


def test_the_value_and_every_report_in_order():
    seen = []
    with parallel.Beside(_reports_then({"pid": os.getpid()})) as other:
        value = other.result(seen.append)
    assert seen == [1, 2, 3]
    assert value == {"pid": os.getpid()}  # computed in a fork: the same pid value, copied


def test_the_work_runs_in_another_process():
    with parallel.Beside(lambda report: os.getpid()) as other:
        assert other.result() != os.getpid()


def _raises(report):
    raise InputError("data.npz: point 3: not finite")


def test_an_exception_is_raised_here_with_its_type():
    with parallel.Beside(_raises) as other, pytest.raises(InputError, match="point 3: not finite"):
        other.result()


def test_an_unpicklable_value_is_an_executor_error():
    with (
        parallel.Beside(lambda report: lambda: 0) as other,
        pytest.raises(ExecutorError, match="could not return its result"),
    ):
        other.result()


def test_a_child_that_dies_is_an_executor_error():
    with parallel.Beside(lambda report: os._exit(7)) as other, pytest.raises(ExecutorError, match="exit code 7"):
        other.result()


def _close_the_pipe() -> None:
    """In a Beside child: close its end of the pipe to the parent (its one writable Connection)."""
    for c in [o for o in gc.get_objects() if isinstance(o, Connection) and not o.closed and o.writable]:
        c.close()


def _exits_after_closing_its_pipe(report):
    _close_the_pipe()  # the parent reads end of file first
    time.sleep(0.3)
    os._exit(7)


def test_the_exit_code_is_read_once_the_child_has_exited():
    # was a race: end of file, then the exit code before the child had been reaped ("exit code None")
    with parallel.Beside(_exits_after_closing_its_pipe) as other, pytest.raises(ExecutorError, match="exit code 7"):
        other.result()


def _closes_its_pipe_and_lingers(report):
    _close_the_pipe()
    time.sleep(30)


def test_a_child_that_lingers_after_closing_its_pipe_is_an_executor_error(monkeypatch):
    monkeypatch.setattr(parallel, "EXIT_TIMEOUT", 0.2)
    start = time.perf_counter()
    with (
        parallel.Beside(_closes_its_pipe_and_lingers) as other,
        pytest.raises(ExecutorError, match="closed its pipe and had not exited 0.2 s later"),
    ):
        other.result()
    assert other._process.exitcode == 1  # stopped on leaving the block, through its SIGTERM handler
    assert time.perf_counter() - start < 5


def _deaf_to_sigterm(report):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    report(0)
    time.sleep(30)


def test_a_child_deaf_to_sigterm_is_killed_on_leaving(monkeypatch):
    monkeypatch.setattr(parallel, "EXIT_TIMEOUT", 0.2)
    start = time.perf_counter()

    def leave(k):
        raise KeyError("the parent's own failure")

    with pytest.raises(KeyError), parallel.Beside(_deaf_to_sigterm) as other:
        other.result(leave)
    assert other._process.exitcode == -signal.SIGKILL
    assert time.perf_counter() - start < 5


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has stopped
    except FileNotFoundError:
        return False


def _sleep_in_a_pool(folder):
    def nap(k):
        (folder / f"{os.getpid()}.pid").touch()
        time.sleep(60)

    def fn(report):
        report(0)
        list(parallel.Local(2).map(nap, range(4)))

    return fn


def test_leaving_early_stops_the_child_and_its_pool(tmp_path):
    def parents_failure(k):
        while len(list(tmp_path.glob("*.pid"))) < 2:  # the child's pool is at work
            time.sleep(0.01)
        raise KeyError("the parent's own failure")

    start = time.perf_counter()
    with pytest.raises(KeyError), parallel.Beside(_sleep_in_a_pool(tmp_path)) as other:
        other.result(parents_failure)
    assert other._process.exitcode == 1  # through the child's SIGTERM handler, which stops its pool
    pool = [int(p.stem) for p in tmp_path.glob("*.pid")]
    deadline = time.perf_counter() + 5
    while any(map(_running, pool)) and time.perf_counter() < deadline:
        time.sleep(0.05)
    assert not any(map(_running, pool))
    assert time.perf_counter() - start < 10


def test_only_a_local_run_on_several_cores_runs_beside():
    assert parallel.Local(2).beside(N, 2000)
    assert not parallel.Local(2).beside(1999, 2000)
    assert not parallel.Local(1).beside(N, 2000)


# -- verify --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """vardi2022 on N uniform points; few.npz has 3 labels changed, many.npz 30% (more than the
    certificate lists, so the kernel's sample meets unlisted mismatches)."""
    root = tmp_path_factory.mktemp("beside")
    rng = np.random.default_rng(1)
    X, y = rng.uniform(-1, 1, (N, 2)), rng.integers(1, 3, N)
    np.savez(root / "good.npz", X=X, y=y)
    few = y.copy()
    few[[5, 1200, 2400]] = 3 - few[[5, 1200, 2400]]
    np.savez(root / "few.npz", X=X, y=few)
    many = y.copy()
    flip = rng.random(N) < 0.3
    many[flip] = 3 - many[flip]
    np.savez(root / "many.npz", X=X, y=many)
    assert run("build", root / "good.npz", "-c", "vardi2022", "-o", root / "net.json").exit_code == 0
    return root


@pytest.fixture
def counted(monkeypatch):
    """How many times verify forked its claims and kernel beside the evaluation."""
    made = []
    real = parallel.Beside

    def counting(fn):
        made.append(fn)
        return real(fn)

    monkeypatch.setattr(parallel, "Beside", counting)
    return made


@pytest.mark.parametrize("data, verdict", [("good.npz", "certified"), ("few.npz", "refuted"), ("many.npz", "refuted")])
@pytest.mark.slow
def test_the_certificate_is_the_sequential_one(work, counted, data, verdict):
    def cert(jobs):
        c = certify.verify(work / "net.json", work / data, work / "x.cert.json", sample=400, jobs=jobs)
        return certificate.to_bytes(c)

    one = cert(1)
    assert not counted
    two = cert(2)
    assert len(counted) == 1
    assert two == one
    assert f'"verdict": "{verdict}"' in one.decode()


@pytest.mark.slow
def test_full_mode_stays_sequential(work, counted):
    c = certify.verify(work / "net.json", work / "good.npz", work / "x.cert.json", full=True, jobs=2)
    assert c["verdict"] == "certified" and c["checker"]["points_checked"] == N
    assert not counted


@pytest.mark.slow
def test_the_kernel_reports_its_progress_from_beside(work, counted):
    seen = []
    certify.verify(
        work / "net.json", work / "good.npz", work / "x.cert.json", sample=300, jobs=2, kernel_progress=seen.append
    )
    assert counted
    assert seen == [100, 200, 300]


def test_a_failure_of_the_claims_is_raised_here(work, counted, monkeypatch):
    def broken(data):
        raise InputError("separation: refused")

    monkeypatch.setattr(certify.separation, "min_sq_separation", broken)
    with pytest.raises(InputError, match="separation: refused"):
        certify.verify(work / "net.json", work / "good.npz", work / "x.cert.json", jobs=2)
    assert counted
