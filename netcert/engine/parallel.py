"""Where the exact work runs: this process, forked processes, or a Dask cluster.

An executor's ``map(fn, items)`` is the builtin ``map`` spread over workers:
``fn(item)`` for every item, the results in the items' order. The items are
cut into contiguous batches, a few per worker; a task carries one batch and
returns only its results. ``fn`` itself, with all it holds (a compiled
network and the dataset, or the kernel's program), reaches each worker once:
a forked process inherits it, a Dask worker receives it in one broadcast
``scatter``. Moving the work never changes a result.

- ``Local(workers)``: this process when ``workers`` is 1 or there is little
  to do, else a pool of ``workers`` processes forked for the call.
- ``Dask(address)``: the workers of a ``dask.distributed`` scheduler (the
  ``dask`` extra). They must import the same netcert; connecting checks it.

``Beside(fn)`` is the other kind of parallelism, for a local run with two
cores or more: a second line of work in one forked process, beside this
one's (``verify`` runs its claims and the kernel there).

Every process forked here dies with the process that forked it (``Lifeline``):
killing a run, even by SIGKILL, leaves no worker behind, and a worker that
dies is an ``ExecutorError`` here, never a wait without end.

``record()`` is what a certificate says about the executor: None for
``Local`` (forks of this process run this process's code), and
``{"kind": "dask", "workers": k}`` for a cluster, whose workers ran their own
copy of netcert.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing as mp
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from multiprocessing.connection import wait

from threadpoolctl import threadpool_limits

from netcert.errors import ExecutorError, NetcertError, UsageError

TASKS_PER_WORKER = 8  # batches per worker: small enough to balance, large enough to amortize a task
CONNECT_TIMEOUT = 10.0  # seconds to reach a scheduler
EXIT_TIMEOUT = 5.0  # seconds a forked process has to exit once its work is over or it was told to stop
POLL = 0.25  # seconds between two looks at whether a pool's workers are still alive


def default_jobs() -> int:
    """Every core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def batches(items: Sequence, workers: int) -> list[Sequence]:
    """``items`` cut into at most ``TASKS_PER_WORKER * workers`` contiguous runs of near-equal length."""
    tasks = max(1, min(len(items), workers * TASKS_PER_WORKER))
    return [items[k * len(items) // tasks : (k + 1) * len(items) // tasks] for k in range(tasks)]


def _apply(fn: Callable, batch: Sequence) -> list:
    return [fn(x) for x in batch]


# -- forked processes die with their parent ---------------------------------------------------

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _libc_prctl() -> Callable | None:
    """libc's ``prctl`` on Linux, else None. Resolved in the parent: a child forked from a
    multithreaded process must not take the dynamic loader's lock, another thread may hold it."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes, prctl.restype = [ctypes.c_int] + [ctypes.c_ulong] * 4, ctypes.c_int
    return prctl


_PRCTL = _libc_prctl()
_PIPES: dict[int, tuple[int, int]] = {}  # pid -> (read, write): the pipe that pid's children watch


def _parent_pipe() -> tuple[int, int]:
    """This process's lifeline pipe, made once. It keeps the write end open until it exits, and
    its children close their copies, so the read end reaches end of file exactly when it is gone.
    os.pipe's ends are not inherited by exec'd programs, which would keep them open."""
    pid = os.getpid()
    if pid not in _PIPES:
        _PIPES[pid] = os.pipe()
    return _PIPES[pid]


class Lifeline:
    """Made in a parent just before it forks; ``hold()``, first thing in the child, makes the child
    die (SIGKILL) when the parent does, however the parent ends, SIGKILL included.

    On Linux the kernel delivers the signal (``prctl(PR_SET_PDEATHSIG, SIGKILL)``) when the parent's
    thread that forked the child exits. That is the thread which made the lifeline (the caller of
    ``Local.map`` or ``Beside``, busy until its children are done with) for every child but one
    kind: the workers a Pool forks from its worker-handler thread to replace dead ones. That thread
    ends first when the pool terminates, and its signal would kill the replacement while it may
    hold the task queue's lock, on which the terminating pool then waits for ever (seen). Those
    children, like every child elsewhere or where prctl is refused, have a thread that waits on
    the parent's pipe instead, which lives as long as the parent process. Either way the child compares
    ``os.getppid()`` with the parent's pid: a parent that died before the child asked has already
    made it an orphan, which the signal would never reach. SIGKILL, not SIGTERM: a worker holds
    nothing to clean up, and a Beside child's own pool holds lifelines of its own.
    """

    def __init__(self):
        self.parent = os.getpid()
        self.thread = threading.get_ident()  # a forked child keeps the forking thread's ident
        self.pipe = _PRCTL is None  # the fallback; the tests set _PRCTL to None to run it on Linux
        self._fds = _parent_pipe()

    def hold(self) -> None:
        """In the child: die with the parent from now on (see the class); leave Ctrl-C to it (a
        terminal sends SIGINT to every process of the group, and the parent, which stops its
        children, decides what an interrupt means: exit code 130); and let SIGTERM kill at once.
        The parent's SIGTERM handler, when it has one (a Beside child's), is Python code: it runs
        between bytecodes only, and a signal that lands just before a blocking lock wait is noted
        and never acted on. Seen: Pool.terminate waiting for ever for a worker that had inherited
        it and slept in its queue's lock; the kernel's default action has no such window."""
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # also drops the parent's _interrupts_deferred handler
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a Beside child sets its own after this
        _PIPES.pop(self.parent, None)  # the parent's pipe, inherited: not this process's to give out
        read, write = self._fds
        os.close(write)  # only the parent may keep the write end open
        if (
            not self.pipe
            and threading.get_ident() == self.thread
            and _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        ):
            os.close(read)
        else:
            threading.Thread(target=_die_at_end_of_file, args=(read,), daemon=True).start()
        if os.getppid() != self.parent:  # the parent died before this process was guarded
            _die()


def _die_at_end_of_file(fd: int) -> None:
    """Block until ``fd`` (a lifeline's read end) has no writer left, then die."""
    while os.read(fd, 1):  # nobody writes: it returns b"" at end of file only
        pass
    _die()


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's parent-death signal would


@contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Ctrl-C held back while this block forks, raised as KeyboardInterrupt once it is done.

    Python runs a signal's handler at the main thread's next bytecode, and during os.fork that can
    be inside an at-fork callback (logging's lock release), where the KeyboardInterrupt is printed
    ("Exception ignored in ...") and dropped: the run would go on as if never interrupted (seen on
    ``netcert verify``, about one Ctrl-C in eight). Only in the main thread and only over Python's
    own handler: elsewhere the handler is someone else's, or cannot be replaced."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    caught: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if caught:
            raise KeyboardInterrupt


_INHERITED: Callable | None = None  # the function of the current Local.map, inherited by the forked pool


def _apply_inherited(batch: Sequence) -> list:
    return _apply(_INHERITED, batch)


def _worker_start(lifeline: Lifeline) -> None:
    """A pool worker's first steps: die with the parent; then one BLAS thread. A forked worker is one
    of ``workers`` processes sharing the cores: a multithreaded BLAS in each oversubscribes them
    (measured: the two-layer batch path ran 3x slower with 2 processes than with 1). threadpoolctl
    finds whichever BLAS numpy loaded and sets its thread count."""
    lifeline.hold()
    threadpool_limits(1)


def _start_pool(workers: int, lifeline: Lifeline) -> tuple[mp.pool.Pool, list]:
    """A pool of ``workers`` forked processes, and their ``Process`` objects (a worker that died
    already is missing; it had no task to lose, and Pool replaces it). Whatever interrupts the
    forks stops what they made: Pool() itself terminates its workers on an Exception only, and
    after a KeyboardInterrupt or SystemExit (a Beside child's SIGTERM) they would wait for tasks
    for as long as this process lives."""
    before, pool = set(mp.active_children()), None
    try:
        with _interrupts_deferred():
            pool = mp.get_context("fork").Pool(workers, _worker_start, (lifeline,))
            return pool, list(set(mp.active_children()) - before)
    except BaseException:
        if pool is not None:
            pool.terminate()  # its threads too: the worker handler would replace workers killed here
        for p in set(mp.active_children()) - before:
            p.kill()
            p.join(EXIT_TIMEOUT)
        raise


def _imap(pool: mp.pool.Pool, workers: list, fn: Callable, tasks: Sequence) -> Iterator:
    """``pool.imap(fn, tasks)``, raising ``ExecutorError`` when one of ``workers`` dies. Pool replaces
    a dead worker but loses its task, and imap would wait for that task forever. The workers it
    started with never exit on their own (no maxtasksperchild), so any exit code is a death."""
    results = pool.imap(fn, tasks)
    for _ in tasks:
        while True:
            try:
                yield results.next(timeout=POLL)
                break
            except mp.TimeoutError:
                dead = [p.exitcode for p in workers if p.exitcode is not None]
                if dead:
                    raise ExecutorError(f"a forked worker stopped (exit code {dead[0]})") from None


class Local:
    """This process and, for a large enough ``map``, ``workers`` - 1 more forked from it."""

    kind = "local"
    failure = None  # as for Dask: a Local run has no failure of its own to report

    def __init__(self, workers: int | None = None):
        self.workers = default_jobs() if workers is None else max(1, workers)
        self.slots = self.workers  # tasks that run at once

    def parallel(self, items: int, minimum: int = 2) -> bool:
        """Whether ``map`` over ``items`` items would fork (at least ``minimum`` of them)."""
        return self.workers > 1 and items >= max(2, minimum) and "fork" in mp.get_all_start_methods()

    def map(self, fn: Callable, items: Sequence, *, minimum: int = 2) -> Iterator:
        """``fn`` over ``items`` in order; in forked processes when there are at least ``minimum`` items."""
        global _INHERITED
        if not self.parallel(len(items), minimum):
            yield from map(fn, items)
            return
        _INHERITED = fn
        try:
            pool, workers = _start_pool(min(self.workers, len(items)), Lifeline())
            with pool:  # leaving it terminates the workers, whatever stopped this generator
                for results in _imap(pool, workers, _apply_inherited, batches(items, self.slots)):
                    yield from results
        finally:
            _INHERITED = None

    def beside(self, items: int, minimum: int) -> bool:
        """Whether a second line of work should run beside a ``map`` over ``items`` items (see
        ``Beside``): with two cores or more, and at least ``minimum`` items."""
        return self.parallel(items, minimum)

    def record(self) -> dict | None:
        return None

    def close(self) -> None:
        pass

    def __enter__(self) -> Local:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Beside:
    """``fn(report)`` in one process forked from this one, while this one goes on.

    A local run's serial stretches (reading, hashing, compiling) leave all but one core idle;
    a second line of work forked beside them fills that core. ``result(on_report)`` waits for it:
    each ``report(k)`` the child made reaches ``on_report(k)`` here, in order, then its return
    value comes back, or its exception is raised here, or ``ExecutorError`` if the child died
    (with its exit code). Leaving the ``with`` block before ``result`` (an exception here) stops
    the child and its own pool. Both values and exceptions cross by pickle. The child dies with
    this process (``Lifeline``).
    """

    def __init__(self, fn: Callable[[Callable[[int], None]], object]):
        ctx = mp.get_context("fork")
        self._recv, send = ctx.Pipe(duplex=False)
        self._process = ctx.Process(target=_beside, args=(fn, send, Lifeline()), daemon=False)
        try:
            with _interrupts_deferred():
                self._process.start()
        except BaseException:  # e.g. Ctrl-C during the fork: no ``with`` block will stop the child
            if self._process.pid is not None:
                self._stop()
            self._recv.close()
            raise
        finally:
            send.close()

    def result(self, on_report: Callable[[int], None] | None = None) -> object:
        while True:
            kind, value = self._receive()
            if kind == "report":
                if on_report is not None:
                    on_report(value)
                continue
            self._process.join(EXIT_TIMEOUT)  # bounded: the value is here; __exit__ stops a child that lingers
            if kind == "error":
                raise value
            return value

    def _receive(self) -> tuple[str, object]:
        """The child's next message. Waits on the pipe and on the child's exit at once: a child
        that dies leaves the pipe open when one of its own pool's workers still holds the write
        end, so the pipe alone could wait forever. A message sent before exiting is still read."""
        wait([self._recv, self._process.sentinel])
        try:
            if self._recv.poll():
                return self._recv.recv()
        except EOFError:  # end of file: the child has closed its end, by exiting or about to
            pass
        self._process.join(EXIT_TIMEOUT)  # the exit code is None until the child has been reaped
        code = self._process.exitcode
        raise ExecutorError(
            f"a forked process stopped (exit code {code})"
            if code is not None
            else f"a forked process closed its pipe and had not exited {EXIT_TIMEOUT:g} s later"
        )

    def _stop(self) -> None:
        """Stop the child if it runs and reap it: SIGTERM first (its handler exits through its
        pool's cleanup), SIGKILL if it has not exited in ``EXIT_TIMEOUT`` seconds (a Python signal
        handler waits for the C call in progress to return)."""
        if self._process.exitcode is None:
            self._process.terminate()
            self._process.join(EXIT_TIMEOUT)
        if self._process.exitcode is None:
            self._process.kill()
            self._process.join()

    def __enter__(self) -> Beside:
        return self

    def __exit__(self, *exc) -> None:
        self._stop()
        self._recv.close()


def _beside(fn: Callable, send, lifeline: Lifeline) -> None:
    lifeline.hold()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        message = ("value", fn(lambda k: send.send(("report", k))))
    except (KeyboardInterrupt, SystemExit):
        sys.exit(1)  # stopped by the parent (SIGTERM; Ctrl-C is the parent's, see Lifeline.hold)
    except Exception as e:
        message = ("error", e)
    try:
        send.send(message)
    except Exception as e:  # an unpicklable value or exception (a message is pickled before it is sent)
        with suppress(Exception):  # the parent may be gone too
            send.send(("error", ExecutorError(f"a forked process could not return its result: {_one_line(e)}")))
    send.close()


def _netcert_version() -> str:
    import netcert

    return netcert.__version__


class Dask:
    """The workers of the Dask scheduler at ``address`` (``tcp://host:port``).

    Raises ``ExecutorError`` (one line) when distributed is not installed, the
    scheduler cannot be reached within ``timeout`` seconds, it has no workers,
    or a worker runs another netcert version. A failure during ``map`` (a lost
    worker or connection) is an ``ExecutorError`` too, and is kept in
    ``failure`` for callers that must not let it pass as a refutation.
    """

    kind = "dask"

    def __init__(self, address: str, timeout: float | None = None):
        try:
            from distributed import Client
            from distributed.comm import registry
            from distributed.comm.addressing import get_address_host_port, parse_address
        except ImportError:
            raise ExecutorError("--scheduler needs dask.distributed: pip install 'netcert[dask]'") from None
        import netcert

        try:  # a Client on a malformed address fails late, then hangs 20 s when collected
            scheme = parse_address(address)[0]
            if scheme not in registry.backends:
                raise ValueError(f"unknown protocol {scheme!r} (known: {', '.join(sorted(registry.backends))})")
            if scheme in ("tcp", "tls"):
                get_address_host_port(address)
        except (ValueError, TypeError) as e:
            raise ExecutorError(f"cannot reach the Dask scheduler at {address}: {_one_line(e)}") from None
        self.address, self.failure = address, None
        quiet = logging.getLogger("distributed")
        level = quiet.level
        quiet.setLevel(logging.CRITICAL)  # a failed connection is reported once, below
        try:
            self.client = Client(address, timeout=CONNECT_TIMEOUT if timeout is None else timeout, set_as_default=False)
        except Exception as e:  # OSError, TimeoutError, ValueError (a malformed address), ...
            raise ExecutorError(f"cannot reach the Dask scheduler at {address}: {_one_line(e)}") from None
        finally:
            quiet.setLevel(level)
        try:
            threads = self.client.nthreads()
            versions = self.client.run(_netcert_version) if threads else {}
        except Exception as e:
            self.close()
            raise ExecutorError(f"the Dask workers at {address} cannot run netcert: {_one_line(e)}") from None
        other = sorted({v for v in versions.values() if v != netcert.__version__})
        if not threads or other:
            self.close()
            raise ExecutorError(
                f"the Dask scheduler at {address} has no workers"
                if not threads
                else f"the Dask workers at {address} run netcert {other[0]}, this is {netcert.__version__}"
            )
        self.workers, self.slots = len(threads), sum(threads.values())  # slots: tasks that run at once

    def parallel(self, items: int, minimum: int = 2) -> bool:
        """Always: the cluster was asked for, even for a little work."""
        return items > 0

    def beside(self, items: int, minimum: int) -> bool:
        """Never: a forked child cannot share this process's connection to the scheduler."""
        return False

    def map(self, fn: Callable, items: Sequence, *, minimum: int = 2) -> Iterator:
        """``fn`` over ``items`` in order, a few batches per worker thread; ``minimum`` is ignored."""
        if not items:
            return
        futures = []
        try:
            shared = self.client.scatter(fn, broadcast=True, hash=False)
            futures = [self.client.submit(_apply, shared, batch, pure=False) for batch in batches(items, self.slots)]
            for f in futures:
                yield from f.result()
        except NetcertError:
            raise
        except Exception as e:
            self.failure = ExecutorError(f"Dask scheduler {self.address}: {_one_line(e)}")
            raise self.failure from None
        finally:
            for f in futures:
                f.release()

    def record(self) -> dict:
        return {"kind": "dask", "workers": self.workers}

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Dask:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def connect(scheduler: str | None = None, jobs: int | None = None) -> Local | Dask:
    """``Dask(scheduler)`` when a scheduler address is given, else ``Local(jobs)``; not both."""
    if scheduler is not None and jobs is not None:
        raise UsageError("--jobs and --scheduler exclude each other (the cluster's workers are the jobs)")
    return Local(jobs) if scheduler is None else Dask(scheduler)


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return f"{type(e).__name__}: {text}" if text else type(e).__name__
