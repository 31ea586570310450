"""Every case of the hostile corpus (tests/hostile/corpus.py) against the contract.

Each case runs ``netcert.cli.main`` in a process forked from this one (netcert is
imported once, so a case costs milliseconds, not an interpreter start), under a
time limit and an address-space cap, and fails on: another exit code, a
traceback, more than one stderr line, a message without its fragment, a hang,
peak memory over 1 GB, or an output file (or its temporary) left behind.
"""

from __future__ import annotations

import atexit
import io
import os
import selectors
import shutil
import tempfile
import resource
import signal
import sys
import time
import traceback
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "hostile"))
import corpus  # noqa: E402

from netcert import cli  # noqa: E402

RSS_LIMIT_MB = 1024
# Made once, at collection: the parametrization needs the names, and the cases their files.
_DIR = Path(tempfile.mkdtemp(prefix="netcert-hostile-"))
atexit.register(shutil.rmtree, _DIR, ignore_errors=True)
CASES = {c.name: c for c in corpus.write(_DIR)}
NAMES = list(CASES)


def test_corpus_is_large_enough():
    assert len(NAMES) >= 100, len(NAMES)
    assert len(set(NAMES)) == len(NAMES)


def run_forked(argv: list[str], timeout: float) -> tuple[int, str, str, float, float]:
    """(exit code, stdout, stderr, seconds, peak RSS in MB) of ``netcert ARGV`` in a forked child.
    Exit code -1: killed at the time limit; 99: an exception escaped ``main`` (a traceback)."""
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 98
        try:
            os.close(out_r)
            os.close(err_r)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", closefd=False), write_through=True)
            sys.stderr = io.TextIOWrapper(os.fdopen(2, "wb", closefd=False), write_through=True)
            resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))  # a runaway fails, the machine survives
            try:
                cli.main(argv)
                code = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 97)
            except BaseException:
                traceback.print_exc()
                code = 99
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)
    os.close(out_w)
    os.close(err_w)
    chunks = {out_r: [], err_r: []}
    sel = selectors.DefaultSelector()
    for fd in chunks:
        sel.register(fd, selectors.EVENT_READ)
    status = None
    while sel.get_map():
        left = timeout - (time.monotonic() - start)
        if left <= 0:
            os.kill(pid, signal.SIGKILL)
            break
        for key, _ in sel.select(min(left, 1.0)):
            data = os.read(key.fd, 1 << 16)
            if data:
                chunks[key.fd].append(data)
            else:
                sel.unregister(key.fd)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.monotonic() - start
    for fd in chunks:
        os.close(fd)
    killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL and seconds >= timeout
    code = -1 if killed else (os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))
    text = lambda fd: b"".join(chunks[fd]).decode("utf-8", "replace")  # noqa: E731
    return code, text(out_r), text(err_r), seconds, usage.ru_maxrss / 1024


@pytest.mark.parametrize("name", NAMES)
def test_hostile_case(name):
    d, case = _DIR, CASES[name]
    argv = [a.replace("{dir}", str(d)) for a in case.argv]
    code, out, err, seconds, rss = run_forked(argv, case.timeout)
    where = f"netcert {' '.join(argv)}\n--- stdout\n{out[-2000:]}\n--- stderr\n{err[-3000:]}"
    assert code != -1, f"hang: killed after {seconds:.0f} s\n{where}"
    assert "Traceback" not in err and code not in (97, 98, 99), where
    assert rss < RSS_LIMIT_MB, f"peak RSS {rss:.0f} MB\n{where}"
    assert code == case.exit_code, where
    if code == 3:
        lines = err.rstrip("\n").split("\n")
        assert len(lines) == 1 and lines[0].startswith("netcert: error: "), where
        assert case.fragment in lines[0], where
    else:
        assert case.fragment in out + err, where
    if case.output is not None:
        left = [p.name for p in d.iterdir() if p.name == case.output or p.name.startswith(f".{case.output}.")]
        assert not left, f"left behind: {left}\n{where}"
