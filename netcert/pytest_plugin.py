"""pytest plugin: certificates as tests.

With ``--netcert`` on the command line, or ``netcert = true`` in the pytest
configuration, every ``*.cert.json`` file pytest collects becomes one test
item that re-checks the certificate exactly as ``netcert check`` does: it
re-reads the network and the dataset the certificate names, recomputes every
figure, and fails with each difference as the reason (a certificate that
reproduces but is not ``certified`` fails too). Files pytest does not visit
(``--ignore``, ``norecursedirs``, ``testpaths``) are not checked.

Options (command line / ini): ``--netcert-sample`` / ``netcert_sample``, a
sample of points the kernel re-evaluates besides the certificate's own (default
none, like ``netcert check``);
``--netcert-jobs`` / ``netcert_jobs``, the evaluator's processes (default:
every core); ``--netcert-scheduler`` / ``netcert_scheduler``, a Dask
scheduler's address to evaluate on instead (the ``dask`` extra; one
connection serves the session; not with jobs).

The plugin is registered through the ``pytest11`` entry point, so installing
netcert is enough; it imports nothing heavy until a certificate is collected.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # for the type checker only: the plugin imports nothing heavy until a certificate is collected
    from _pytest._code.code import TerminalRepr

    from netcert.engine.parallel import Dask, Local

SUFFIX = ".cert.json"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("netcert", "netcert certificates")
    group.addoption(
        "--netcert",
        action="store_true",
        default=None,
        help="collect *.cert.json files and re-check each as `netcert check` does",
    )
    group.addoption(
        "--netcert-sample",
        type=int,
        default=None,
        help="also re-evaluate a sample of this many points (default: the certificate's own sample)",
    )
    group.addoption("--netcert-jobs", type=int, default=None, help="evaluator processes (every core)")
    group.addoption(
        "--netcert-scheduler",
        default=None,
        metavar="ADDRESS",
        help="evaluate on the workers of this Dask scheduler (not with --netcert-jobs)",
    )
    parser.addini("netcert", type="bool", default=False, help="collect *.cert.json files as netcert checks")
    parser.addini("netcert_sample", default="", help="also re-evaluate a sample of this many points")
    parser.addini("netcert_jobs", default="", help="evaluator processes (empty: every core)")
    parser.addini("netcert_scheduler", default="", help="a Dask scheduler's address (empty: this machine)")


_EXECUTOR: pytest.StashKey[Local | Dask | Exception] = (
    pytest.StashKey()
)  # the session's connection to --netcert-scheduler


def pytest_unconfigure(config: pytest.Config) -> None:
    executor = config.stash.get(_EXECUTOR, None)
    if executor is not None and not isinstance(executor, Exception):
        executor.close()


def _enabled(config: pytest.Config) -> bool:
    flag = config.getoption("netcert")
    return bool(flag) if flag is not None else bool(config.getini("netcert"))


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> CertificateFile | None:
    if file_path.name.endswith(SUFFIX) and _enabled(parent.config):
        return CertificateFile.from_parent(parent, path=file_path)
    return None


class CertificateFile(pytest.File):
    def collect(self) -> Iterator[CertificateItem]:
        yield CertificateItem.from_parent(self, name="netcert check")


class CertificateFailed(Exception):
    """The differences (or the error) that make a certificate fail its re-check."""

    def __init__(self, reasons: list[str]):
        super().__init__("\n".join(reasons))
        self.reasons = reasons


class CertificateItem(pytest.Item):
    def _setting(self, option: str, ini: str) -> int | None:
        value = self.config.getoption(option)
        if value is None:
            text = str(self.config.getini(ini)).strip()
            value = int(text) if text else None
        return value

    def runtest(self) -> None:
        from netcert import certify
        from netcert.errors import NetcertError

        sample = self._setting("netcert_sample", "netcert_sample")
        jobs = self._setting("netcert_jobs", "netcert_jobs")
        scheduler = self.config.getoption("netcert_scheduler") or str(self.config.getini("netcert_scheduler")).strip()
        try:
            diffs = certify.recheck(self.path, sample=sample, jobs=jobs, executor=self._executor(scheduler, jobs))
        except NetcertError as e:
            raise CertificateFailed([f"netcert: error: {e}"]) from None
        if diffs:
            raise CertificateFailed(diffs)

    def _executor(self, scheduler: str, jobs: int | None) -> Local | Dask | None:
        """None (this machine, ``jobs`` processes) or the session's one connection to ``scheduler``."""
        if not scheduler:
            return None
        if _EXECUTOR not in self.config.stash:  # a failure is kept too: every item reports it at once
            from netcert.engine import parallel
            from netcert.errors import NetcertError

            try:
                self.config.stash[_EXECUTOR] = parallel.connect(scheduler, jobs)
            except NetcertError as e:
                self.config.stash[_EXECUTOR] = e
        found = self.config.stash[_EXECUTOR]
        if isinstance(found, Exception):
            raise found
        return found

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str | TerminalRepr:
        if isinstance(excinfo.value, CertificateFailed):
            return "\n".join([f"FAIL {self.path}", *(f"  {r}" for r in excinfo.value.reasons)])
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, None, str]:
        return self.path, None, f"netcert check {self.path.name}"
