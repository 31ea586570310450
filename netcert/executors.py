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

``record()`` is what a certificate says about the executor: None for
``Local`` (forks of this process run this process's code), and
``{"kind": "dask", "workers": k}`` for a cluster, whose workers ran their own
copy of netcert.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress

from threadpoolctl import threadpool_limits

from netcert.errors import ExecutorError, NetcertError, UsageError

TASKS_PER_WORKER = 8  # batches per worker: small enough to balance, large enough to amortize a task
CONNECT_TIMEOUT = 10.0  # seconds to reach a scheduler


def default_jobs() -> int:
    """Every core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def batches(items: Sequence, workers: int) -> list[Sequence]:
    """``items`` cut into at most ``TASKS_PER_WORKER * workers`` contiguous runs of near-equal length."""
    tasks = max(1, min(len(items), workers * TASKS_PER_WORKER))
    return [items[k * len(items) // tasks:(k + 1) * len(items) // tasks] for k in range(tasks)]


def _apply(fn: Callable, batch: Sequence) -> list:
    return [fn(x) for x in batch]


_INHERITED: Callable | None = None  # the function of the current Local.map, inherited by the forked pool


def _apply_inherited(batch: Sequence) -> list:
    return _apply(_INHERITED, batch)


def _one_blas_thread() -> None:
    """A forked worker is one of ``workers`` processes sharing the cores: a multithreaded BLAS in
    each oversubscribes them (measured: the two-layer batch path ran 3x slower with 2 processes
    than with 1). threadpoolctl finds whichever BLAS numpy loaded and sets its thread count."""
    threadpool_limits(1)


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
            with mp.get_context("fork").Pool(min(self.workers, len(items)), _one_blas_thread) as pool:
                for results in pool.imap(_apply_inherited, batches(items, self.slots)):
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
    value comes back, or its exception is raised here. Leaving the ``with`` block before
    ``result`` (an exception here) stops the child and its own pool. Both values and exceptions
    cross by pickle.
    """

    def __init__(self, fn: Callable[[Callable[[int], None]], object]):
        ctx = mp.get_context("fork")
        self._recv, send = ctx.Pipe(duplex=False)
        self._process = ctx.Process(target=_beside, args=(fn, send), daemon=False)
        self._process.start()
        send.close()

    def result(self, on_report: Callable[[int], None] | None = None) -> object:
        while True:
            try:
                kind, value = self._recv.recv()
            except EOFError:
                raise ExecutorError(f"a forked process stopped (exit code {self._process.exitcode})") from None
            if kind == "report":
                if on_report is not None:
                    on_report(value)
                continue
            self._process.join()
            if kind == "error":
                raise value
            return value

    def __enter__(self) -> Beside:
        return self

    def __exit__(self, *exc) -> None:
        if self._process.is_alive():
            self._process.terminate()  # SIGTERM: the child's handler exits through its pool's cleanup
        self._process.join()
        self._recv.close()


def _beside(fn: Callable, send) -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        message = ("value", fn(lambda k: send.send(("report", k))))
    except (KeyboardInterrupt, SystemExit):
        sys.exit(1)  # stopped by the parent, or with it (Ctrl-C): it has nothing to wait for
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
            self.client = Client(address, timeout=CONNECT_TIMEOUT if timeout is None else timeout,
                                 set_as_default=False)
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
            raise ExecutorError(f"the Dask scheduler at {address} has no workers" if not threads else
                                f"the Dask workers at {address} run netcert {other[0]}, this is {netcert.__version__}")
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
            futures = [self.client.submit(_apply, shared, batch, pure=False)
                       for batch in batches(items, self.slots)]
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
