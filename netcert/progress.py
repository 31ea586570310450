"""Progress on stderr for work that can take more than a few seconds.

Two shapes: ``counter`` for work with a known total (points evaluated, points
the kernel checks), shown as a bar with a rate and an ETA, and ``stages`` for
work without one (a build), shown as the current stage and the time spent.
Both redraw twice a second from a thread, so a long stage never looks frozen.

Honest ETAs: a counter's clock starts at its first reported step, not when it
is created, so the reading and compiling before the first point do not make
the rate look slow (the kernel's bar used to sit at 0% for 30 s, promise 4
minutes and finish within a second). Until then it says what it is doing.

Shown only when ``mode`` is "always", or "auto" and stderr is a terminal
(``--progress`` and ``--quiet`` on the command line). tqdm draws the bars.
"""

from __future__ import annotations

import contextlib
from typing import Any
import shutil
import sys
import threading
from collections.abc import Callable, Iterator

AUTO, ALWAYS, NEVER = "auto", "always", "never"
REFRESH_S = 0.5


def enabled(mode: str) -> bool:
    return mode == ALWAYS or (mode == AUTO and sys.stderr.isatty())


def _size() -> dict[str, int]:
    """The terminal's size for tqdm; 80 x 24 where it reports none (a fresh pseudo-terminal says
    0 x 0, and tqdm then hides every bar as below the last row)."""
    size = shutil.get_terminal_size((80, 24))
    return {"ncols": size.columns, "nrows": size.lines or 24}


@contextlib.contextmanager
def _ticking(bar: Any) -> Iterator[None]:  # a tqdm bar (tqdm ships no stubs)
    """Redraw ``bar`` every REFRESH_S seconds until the block ends."""
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(REFRESH_S):
            bar.refresh()

    thread = threading.Thread(target=tick, name="netcert-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@contextlib.contextmanager
def counter(
    label: str, total: int, mode: str = AUTO, waiting: str = "reading and compiling"
) -> Iterator[Callable[[int], None] | None]:
    """A callback ``report(done)`` (steps done so far) drawing a bar of ``total`` steps; None when hidden."""
    if not enabled(mode):
        yield None
        return
    from tqdm import tqdm

    bar = tqdm(
        total=total,
        desc=label,
        file=sys.stderr,
        unit="pt",
        **_size(),
        leave=True,
        bar_format=f"{{desc}}: {waiting} ({{elapsed}})",
    )
    started = False

    def report(done: int) -> None:
        nonlocal started
        if not started:  # the clock of the rate and the ETA starts here
            started = True
            bar.bar_format = None
            bar.reset(total=total)
        bar.update(done - bar.n)

    with _ticking(bar):
        try:
            yield report
        finally:
            bar.close()


@contextlib.contextmanager
def stages(label: str, mode: str = AUTO) -> Iterator[Callable[[str], None]]:
    """A callback ``stage(name)`` naming what is being done now; the line shows it and the time spent."""
    if not enabled(mode):
        yield lambda name: None
        return
    from tqdm import tqdm

    bar = tqdm(total=None, desc=label, file=sys.stderr, **_size(), leave=False, bar_format="{desc} ({elapsed})")

    def stage(name: str) -> None:
        bar.set_description_str(f"{label}: {name}", refresh=True)

    with _ticking(bar):
        try:
            yield stage
        finally:
            bar.close()
