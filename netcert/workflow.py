"""What the commands do beyond reading their arguments, as plain functions of the library.

A time budget on a block of work, the certificate files a list of paths stands for, a
certificate's default name beside its network, and the way out of a construction's refusal.
``netcert.cli`` calls them; nothing here prints or exits.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from netcert.constructions import registry
from netcert.dataset import Dataset
from netcert.errors import InputError, UsageError


class _Budget(Exception):
    """The time a command was given ran out."""


@contextlib.contextmanager
def budget(seconds: float | None, what: str, stage: list[str]) -> Iterator[None]:
    """Run the block within ``seconds`` of wall-clock time (None: no limit).

    When they pass, the block is interrupted (SIGALRM, so the main thread only) and an
    ``InputError`` (exit 3) names ``what`` and ``stage[-1]``, the stage the block had reached:
    the caller appends to ``stage`` as it goes. A budget that is not positive is a ``UsageError``.
    """
    if seconds is None:
        yield
        return
    if seconds <= 0:
        raise UsageError(f"--budget takes a positive number of seconds, got {seconds}")

    def expire(signum: int, frame: FrameType | None) -> None:
        raise _Budget()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _Budget:
        raise InputError(
            f"{what}: stopped at the budget of {seconds:g} s, while {stage[-1]}; nothing was "
            "written (give a larger --budget, or none)"
        ) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def certificate_files(paths: tuple[Path, ...] | list[Path]) -> list[Path]:
    """The certificate files named, in order, a directory expanded to its ``*.cert.json`` files
    (recursively, sorted). A directory that holds none is an ``InputError``: a CI step that
    checks nothing must not pass."""
    out: list[Path] = []
    for p in paths:
        if not p.is_dir():
            out.append(p)
            continue
        found = sorted(q for q in p.rglob("*.cert.json") if q.is_file())
        if not found:
            raise InputError(f"{p}: a directory with no *.cert.json file in it")
        out.extend(found)
    return out


def certificate_name(net: Path) -> Path:
    """The default certificate of the network ``net``: beside it, ``.json`` or ``.json.gz``
    replaced by ``.cert.json`` (``net.json.gz`` -> ``net.cert.json``)."""
    name = net.name
    for suffix in (".json.gz", ".json"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return net.with_name(name + ".cert.json")


def alternatives(ds: Dataset, refused: str, seed: int) -> str:
    """The way out of a refusal, to append to its message: the constructions other than
    ``refused`` whose assumptions ``ds`` meets (with ``seed``), or that none does."""
    fits = [c.name for c in registry.CONSTRUCTIONS.values() if c.name != refused and not c.check(ds, {"seed": seed})]
    if not fits:
        return "; no construction accepts this dataset"
    return f"; constructions that accept it: {', '.join(fits)} (or -c auto)"
