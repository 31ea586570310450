"""netcert's Python API: the pipeline on objects or on paths.

    data = netcert.load_dataset("d.npz")                 # Dataset: exact rationals
    net = netcert.build(data, "vardi2022")               # networkx DiGraph, exact weights
    cert = netcert.verify(net, "d.npz")                  # Certificate: evaluated on every point
    cert.verdict, cert.certified, cert.record["structure"]["params_nonzero"]
    netcert.check("net.cert.json").ok                    # re-derived from the files it names

Data flows one way: Dataset -> construction -> network -> Evaluation ->
Certificate. Every function takes a path wherever it takes an object, and
raises only ``netcert.errors.NetcertError`` subclasses for bad input (each
with the one-line message and the exit code the CLI shows). What is exact:
everything; floats appear nowhere in the results.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import networkx as nx

from netcert import certificate as _certificate
from netcert import dataset as _dataset
from netcert.engine import evaluate as _evaluate
from netcert import certify as _certify
from netcert.constructions import auto as _auto
from netcert.constructions import registry as _registry
from netcert.dataset import CsvOptions, Dataset
from netcert.errors import PreconditionError, UsageError
from netcert.engine.evaluate import Evaluation
from netcert.exact import format_rational, mpq, parse_rational
from netcert.formats import files as _files
from netcert.formats import netjson as _netjson
from netcert.ir.measures import Measures, measure

__all__ = [
    "Certificate",
    "CheckResult",
    "CsvOptions",
    "Dataset",
    "Evaluation",
    "Measures",
    "build",
    "check",
    "constructions",
    "evaluate",
    "load_dataset",
    "measure",
    "read_network",
    "verify",
    "write_network",
]

PathLike = str | Path


@dataclass(frozen=True)
class Certificate:
    """A certificate (``specs/README.md`` section 4): ``record`` is the JSON object, ``path`` where it
    was written (None when it was not). ``certified`` is True exactly when the verdict is."""

    record: dict
    path: Path | None = None

    @property
    def verdict(self) -> str:
        return self.record["verdict"]

    @property
    def certified(self) -> bool:
        return self.verdict == _certificate.CERTIFIED

    def to_bytes(self) -> bytes:
        """The canonical bytes netcert writes (schema-checked)."""
        return _certificate.to_bytes(self.record)


@dataclass(frozen=True)
class CheckResult:
    """What ``check`` found: ``differences`` between the stored certificate and a fresh run (empty: it
    reproduces, and it is certified)."""

    path: Path
    differences: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.differences


def load_dataset(path: PathLike, *, csv: CsvOptions | None = None) -> Dataset:
    """A ``.npz`` or ``.csv`` dataset, exactly (``specs/README.md`` section 2)."""
    return _dataset.load(path, csv=csv)


def _data(data: Dataset | PathLike) -> Dataset:
    return data if isinstance(data, Dataset) else load_dataset(data)


def constructions() -> list[str]:
    """The names ``build`` takes (besides ``"auto"``)."""
    return list(_registry.CONSTRUCTIONS)


def build(data: Dataset | PathLike, construction: str = "auto", *, seed: int = 0, **options) -> nx.DiGraph:
    """The network ``construction`` builds for ``data``: its assumptions checked first, every problem
    in one ``PreconditionError``; ``"auto"`` predicts every construction's size and builds the smallest.
    ``options`` are the construction's own (``netcert constructions`` lists them)."""
    ds = _data(data)
    where = f"{ds.path}: " if ds.path else ""
    if construction == "auto":
        if options:
            raise UsageError(f"auto takes no construction option (got {sorted(options)[0]!r}); name a construction")
        try:
            return _auto.build(ds, seed=seed)
        except PreconditionError as e:
            raise PreconditionError(f"{where}{e}") from None
    c = _registry.get(construction)
    chosen = {"seed": seed, **options}
    unknown = sorted(set(chosen) - set(c.options))
    if unknown:
        raise UsageError(f"{c.name} has no option {unknown[0]!r} (its options: {', '.join(c.options)})")
    problems = c.check(ds, chosen)
    if problems:
        raise PreconditionError(f"{where}{c.name} cannot be built: " + "; ".join(problems))
    try:
        return c.build(ds, **chosen)
    except PreconditionError as e:  # found while building
        raise PreconditionError(f"{where}{e}") from None


def read_network(path: PathLike) -> nx.DiGraph:
    """A ``net.json`` (or ``.json.gz``), schema-checked and refused (``NetworkError``) if ill-formed."""
    return _certify.load_network(path)


def write_network(network: nx.DiGraph, path: PathLike) -> None:
    """Write ``network`` canonically (gzip for a ``.gz`` name), atomically."""
    _netjson.write(network, path)


def evaluate(network: nx.DiGraph | PathLike, data: Dataset | PathLike, *, jobs: int | None = 1) -> Evaluation:
    """The exact evaluation of ``network`` on every distinct point of ``data``, against its labels."""
    G = network if isinstance(network, nx.DiGraph) else read_network(network)
    return _evaluate.run(G, _data(data), jobs=jobs)


def verify(
    network: nx.DiGraph | PathLike,
    data: Dataset | PathLike,
    *,
    certificate: PathLike | None = None,
    sample: int = 1000,
    seed: int = 0,
    full: bool = False,
    jobs: int | None = None,
    workdir: PathLike | None = None,
    claim: str | None = None,
    eps: object = None,
) -> Certificate:
    """Evaluate ``network`` on every point of ``data``, have the kernel re-check it, and return the certificate.

    A certificate names files, so what is given as an object is written first: a network as
    ``net.json``, a dataset read from no file as ``data.csv`` (exact rationals), in ``workdir``
    (default: the certificate's directory when ``certificate`` is given, else a temporary
    directory that is removed, and then the certificate is returned unwritten, ``path`` None).
    With ``certificate``, the certificate is written there (atomically) and its paths are
    relative to it, as ``netcert verify`` writes them. ``claim``: interpolation, classification
    or tolerance (default: classification when the network has ``classes``, else
    interpolation); ``eps`` (tolerance's, exact: a rational, an int or a canonical string such
    as ``"1/100"``) bounds |f(x) - y|. Classification and tolerance certificates are version 2.
    """
    if isinstance(eps, float):  # which exact number a float means is a guess: refused
        raise UsageError(f"eps must be exact (a rational, an int or a string such as '1/100'), not the float {eps!r}")
    bound = None if eps is None else mpq(eps) if not isinstance(eps, str) else parse_rational(eps)
    with tempfile.TemporaryDirectory(prefix="netcert-") as scratch:
        base = Path(workdir) if workdir is not None else (Path(certificate).parent if certificate else Path(scratch))
        net_path = network if not isinstance(network, nx.DiGraph) else base / "net.json"
        if isinstance(network, nx.DiGraph):
            write_network(network, net_path)
        ds = _data(data)
        data_path = Path(data) if not isinstance(data, Dataset) else Path(ds.path) if ds.path else base / "data.csv"
        if isinstance(data, Dataset) and not ds.path:
            _files.write_atomic(data_path, _exact_csv(ds))
            ds = load_dataset(data_path)
        cert_path = Path(certificate) if certificate is not None else base / "net.cert.json"
        record = _certify.verify(
            net_path,
            data_path,
            cert_path,
            sample=sample,
            seed=seed,
            full=full,
            jobs=jobs,
            data=ds,
            csv=CsvOptions.from_record(ds.csv) if ds.csv else None,
            claim=claim,
            eps=bound,
        )
        if certificate is None:
            return Certificate(record)
        _files.write_atomic(cert_path, _certificate.to_bytes(record))
        return Certificate(record, cert_path)


def check(
    path: PathLike,
    *,
    sample: int | None = None,
    full: bool = False,
    jobs: int | None = None,
    allow_outside: bool = False,
) -> CheckResult:
    """Re-verify a stored certificate from the files it names, as ``netcert check`` does."""
    return CheckResult(
        Path(path), tuple(_certify.recheck(path, sample=sample, full=full, jobs=jobs, allow_outside=allow_outside))
    )


def _exact_csv(ds: Dataset) -> bytes:
    """A dataset's distinct points as a CSV of exact rationals: it reads back to the same values and
    the same label kind (a real label that is an integer is written ``3/1``, not an integer literal)."""

    def label(q) -> str:
        text = format_rational(q)
        return f"{text}/1" if ds.label_kind == _dataset.REAL and "/" not in text else text

    rows = (",".join([*(format_rational(v) for v in ds.point(i)), label(ds.labels[i])]) for i in range(ds.n))
    return ("\n".join(rows) + "\n").encode("ascii")
