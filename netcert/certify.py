"""Certifying: files in, certificate out; and its re-check (``netcert verify`` and ``netcert check``).

``verify`` reads the network and the dataset, measures the network, evaluates
it exactly on every distinct point (``evaluate``), has the independent kernel
re-derive every claim from the files (``kernel.check``), and assembles the
certificate. ``recheck`` re-runs all of it for a stored certificate and lists
every field that no longer matches.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from pathlib import Path

from netcert import certificate, dataset, kernel, separation
from netcert.engine import parallel
from netcert.engine import claims as claims_
from netcert.engine import evaluate
from netcert.constructions import registry
from netcert.errors import FormatError, InputError, NetworkError, UsageError
from netcert.exact import Rat, mpq
from netcert.formats import files, netjson, schemas
from netcert.ir import keys, measures, validate

Progress = Callable[[int], None]
# The only fields ``recheck`` does not compare (specs/README.md section 4): the
# versions of the tools and where the points were evaluated, which differ between
# two honest runs and claim nothing about the network. Every other field is
# recomputed by a run with the certificate's own kernel parameters, or refused.
_UNCOMPARED = ("tools", "executor")
_KERNEL_PARALLEL_MIN = 200  # kernel points from which a local run forks processes for them
_BESIDE_MIN_POINTS = 2000  # points from which the claims and the kernel run beside the evaluation
_NO_MISMATCHES = {"exact": True, "mismatch_count": 0, "mismatches": []}
CLASSES = keys.CLASSES  # the graph's class labels (specs/README.md section 3)


def load_network(path: str | Path):
    """Read a net.json and refuse it (``NetworkError``) if it is ill-formed."""
    return _load_network(path)[0]


def _load_network(path: str | Path):
    """``load_network(path)`` and the network's digest (``netjson.read_digested``)."""
    G, digest = netjson.read_digested(path)
    errs = validate.errors(validate.validate(G))
    if errs:
        more = f" (and {len(errs) - 1} more problems)" if len(errs) > 1 else ""
        raise NetworkError(f"{path}: invalid network: {errs[0]}{more}")
    return G, digest


def verify(
    net_path: str | Path,
    data_path: str | Path,
    cert_path: str | Path,
    *,
    sample: int = 1000,
    seed: int = 0,
    full: bool = False,
    progress: Progress | None = None,
    kernel_progress: Progress | None = None,
    data: dataset.Dataset | None = None,
    jobs: int | None = None,
    executor: parallel.Local | parallel.Dask | None = None,
    csv: dataset.CsvOptions | None = None,
    claim: str | None = None,
    eps: Rat | None = None,
) -> dict:
    """The certificate of ``net_path`` on ``data_path`` (paths relative to ``cert_path``).

    ``claim``: interpolation, classification or tolerance (default: classification when the
    network has ``classes``, else interpolation); ``eps``, an exact number, is tolerance's and
    only tolerance's (``claim_of``). An interpolation certificate is version 1, as it always
    was; the other two are version 2 with a ``claim`` and their own section (``_claimed``).

    ``data``, if given, must be ``dataset.load(data_path, csv=csv)`` (saves reading it twice).
    ``csv``: how a .csv dataset is read (default: section 2.2's rules); the certificate
    records the effective reading in ``dataset.csv`` when it is not the default one.
    ``executor`` evaluates the points, for the fast evaluator and the kernel
    alike (default ``parallel.Local(jobs)``: ``jobs`` processes, default every
    core). Only the certificate's ``executor`` field depends on it: absent for
    local processes, ``{"kind": "dask", "workers": k}`` for a Dask cluster.
    Raises ``ExecutorError`` when the executor fails (never a refutation).

    With two local processes or more (``jobs``), from ``_BESIDE_MIN_POINTS`` points and in sample
    mode, the claims and the kernel's check run in a process forked beside the evaluation
    (``parallel.Beside``), so that neither's serial stretches leave a core idle. The kernel starts before the evaluation
    has finished, on the claim of no mismatches: in sample mode that is all it reads of the
    interpolation claims (the listed mismatches, to compare them point by point). When the
    evaluation does find mismatches, the kernel runs again after it, on the real list; either
    way the certificate is the one the sequential order gives.
    """
    data = data if data is not None else dataset.load(data_path, csv=csv)
    executor = executor or parallel.Local(jobs)
    G, digest = _load_network(net_path)
    if len(G.graph[keys.INPUTS]) != data.d:
        raise InputError(
            f"{net_path}: the network has {len(G.graph[keys.INPUTS])} inputs but {data_path} has d = {data.d}"
        )
    kind = claim_of(G, claim, eps, net_path)
    claims = partial(_claims, G, digest, data, net_path, data_path, cert_path)
    check = partial(_kernel, net_path, data_path, executor, sample=sample, seed=seed, full=full)
    if kind != claims_.INTERPOLATION:
        return _claimed(G, data, kind, eps, claims, check, executor, progress, kernel_progress)
    checked = None
    if not full and executor.beside(data.n, _BESIDE_MIN_POINTS):
        with parallel.Beside(partial(_claims_and_check, claims, check)) as other:
            ev = evaluate.run(G, data, progress, executor=executor)
            cert, checked = other.result(kernel_progress)
        checked = None if ev.mismatches else checked
    else:
        cert = claims()
        ev = evaluate.run(G, data, progress, executor=executor)
    cert["interpolation"] = certificate.interpolation_section(ev)
    cert["checker"] = checked or check(cert, kernel_progress)
    if executor.record() is not None:
        cert["executor"] = executor.record()
    cert["tools"] = certificate.tools()
    cert["verdict"] = certificate.verdict_of(cert)
    return cert


def claim_of(G, claim: str | None, eps: Rat | None, net_path) -> str:
    """The claim to check: ``claim``, or classification when ``G`` has ``classes`` (else
    interpolation). Raises ``UsageError`` for an unknown claim or an ``eps`` given to any claim but
    tolerance (or missing for it), ``InputError`` when the network cannot carry the claim: no
    ``classes`` for classification, or more than one output for tolerance and interpolation."""
    kind = claim or (claims_.CLASSIFICATION if G.graph.get(CLASSES) is not None else claims_.INTERPOLATION)
    if kind not in claims_.KINDS:
        raise UsageError(f"unknown claim {kind!r} (one of {', '.join(claims_.KINDS)})")
    if (eps is None) == (kind == claims_.TOLERANCE):
        raise UsageError(
            "--eps is required for the tolerance claim" if eps is None else f"--eps is for tolerance only, not {kind}"
        )
    outs = len(G.graph[keys.OUTPUTS])
    if kind == claims_.CLASSIFICATION:
        classes = G.graph.get(CLASSES)
        if classes is None:
            raise InputError(f"{net_path}: the classification claim needs the network's classes (graph.classes)")
        if len(classes) != (2 if outs == 1 else outs):
            raise InputError(f"{net_path}: {len(classes)} classes for {outs} outputs")
    elif outs != 1:
        raise InputError(f"{net_path}: the network has {outs} outputs; the {kind} claim compares one with the labels")
    return kind


def _claimed(G, data, kind, eps, claims, check, executor, progress, kernel_progress) -> dict:
    """A version 2 certificate: the claims, the exact outputs of every point judged by the claim
    (``engine.claims``), and the kernel's re-derivation of the outputs, margins and errors."""
    cert = claims()
    cert["version"] = 2
    cert["claim"] = certificate.claim_record(kind, eps)
    values = evaluate.values(G, data, progress, executor=executor)
    if kind == claims_.CLASSIFICATION:
        cert[kind] = certificate.classification_section(claims_.classify(values, data.labels, G.graph[CLASSES]))
    else:
        cert[kind] = certificate.tolerance_section(claims_.tolerate(values, data.labels, eps))
    cert["checker"] = check(cert, kernel_progress)
    if executor.record() is not None:
        cert["executor"] = executor.record()
    cert["tools"] = certificate.tools()
    cert["verdict"] = certificate.verdict_of(cert)
    return cert


def _claims(G, digest, data, net_path, data_path, cert_path) -> dict:
    """Every section of the certificate that does not depend on the evaluation (``digest``: ``G``'s)."""
    found = measures.measure(G)
    return {
        "format": "netcert.certificate",
        "version": 1,
        "network": {
            "path": certificate.relative_path(net_path, cert_path),
            "sha256": files.sha256_of(net_path),
            "digest": digest,
        },
        "dataset": certificate.dataset_section(
            data,
            certificate.relative_path(data_path, cert_path),
            separation.min_sq_separation(data),
            separation.max_sq_norm(data),
        ),
        "structure": found.as_dict(),
        "construction": _construction(G, data, found),
    }


def _kernel(
    net_path, data_path, executor, cert: dict, progress: Progress | None, *, sample: int, seed: int, full: bool
) -> dict:
    """The checker section: the kernel's verdict on the claims in ``cert``."""
    executor.failure = None
    verdict = kernel.check(
        net_path,
        data_path,
        cert,
        sample=sample,
        seed=seed,
        full=full,
        progress=progress,
        pmap=partial(executor.map, minimum=_KERNEL_PARALLEL_MIN),
    )
    if executor.failure is not None:  # the kernel records every exception as a failed claim; this one is not
        raise executor.failure
    return certificate.checker_section(verdict)


def _claims_and_check(claims: Callable[[], dict], check: Callable, report: Progress) -> tuple[dict, dict]:
    """The claims, and the kernel's check of them with no listed mismatches (see ``verify``)."""
    cert = claims()
    return cert, check(dict(cert, interpolation=_NO_MISMATCHES), report)


def _construction(G, data, found) -> dict | None:
    info = G.graph.get(keys.CONSTRUCTION)
    if not info or info.get("name") not in registry.CONSTRUCTIONS:
        return None
    c = registry.get(info["name"])
    return certificate.construction_section(c, info.get("options", {}), c.size(G, data), found)


def read_certificate(path: str | Path) -> dict:
    """A certificate file: strict JSON, schema-checked.

    Refused (``FormatError``) besides what the schema refuses: a key repeated in
    an object (two readers could see two certificates), NaN or infinities, and a
    float anywhere: every number of section 4 is a JSON integer, and JSON Schema
    counts ``2.0`` as an integer.
    """
    cert = files.read_json(path, "certificate", object_pairs_hook=_unique_keys)
    where = _first_float(cert)
    if where is not None:
        raise FormatError(f"{path}: {where} is a float; every number in a certificate is a JSON integer")
    schemas.check(cert, schemas.CERTIFICATE, str(path))
    return cert


class _Refused(ValueError):
    """JSON that parses but is not a certificate's."""


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    keys = [k for k, _ in pairs]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise _Refused(f"key {repeated[0]!r} repeated in one object")
    return dict(pairs)


def _first_float(value: object, where: str = "") -> str | None:
    """The dotted key path of the first float in a JSON value (list items by index), or None."""
    if isinstance(value, float):
        return where or "(top level)"
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for k, v in items:
        found = _first_float(v, f"{where}.{k}" if where else str(k))
        if found is not None:
            return found
    return None


def inside(path: Path, base: Path) -> bool:
    """Whether ``path`` stays inside the directory tree of ``base`` once both are resolved (symlinks followed)."""
    return path.resolve().is_relative_to(base.resolve())


def recheck(
    cert_path: str | Path,
    *,
    sample: int | None = None,
    full: bool = False,
    progress: Progress | None = None,
    kernel_progress: Progress | None = None,
    stored: dict | None = None,
    jobs: int | None = None,
    executor: parallel.Local | parallel.Dask | None = None,
    allow_outside: bool = False,
) -> list[str]:
    """Every difference between a stored certificate and a fresh run on the files it names.

    An empty list means the certificate reproduces; a reproduced certificate
    whose verdict is not ``certified`` is reported as a difference too. The
    fresh run uses the certificate's own kernel parameters (``checker.mode``,
    ``seed``, ``sample``), so a ``full`` claim is rechecked in full and every
    field but ``tools`` and ``executor`` is compared. ``full``, or a ``sample``
    that checks other points than the claimed one, adds a kernel run with them
    (on the stored claims), whose failures are differences too.

    The files must resolve (symlinks followed) inside the certificate's
    directory tree, unless ``allow_outside``. ``stored``, if given, must be
    ``read_certificate(cert_path)``. ``jobs``, ``executor``: as for ``verify``.
    """
    stored = stored if stored is not None else read_certificate(cert_path)
    base = Path(cert_path).parent
    net_path, data_path = base / stored["network"]["path"], base / stored["dataset"]["path"]
    for what, p in (("network", net_path), ("dataset", data_path)):
        if not allow_outside and not inside(p, base):
            return [
                f"{what}.path: {stored[what]['path']} leaves the directory of {cert_path} (allow_outside permits it)"
            ]
        if not p.is_file():
            return [f"{what}.path: {stored[what]['path']} does not exist (relative to {base})"]
    claimed = stored["checker"]
    executor = executor or parallel.Local(jobs)
    kind, eps = certificate.claim_kind(stored), stored.get("claim", {}).get("eps")
    try:
        fresh = verify(
            net_path,
            data_path,
            cert_path,
            sample=claimed["sample"] or 1,
            seed=claimed["seed"],
            full=claimed["mode"] == "full",
            progress=progress,
            kernel_progress=kernel_progress,
            jobs=jobs,
            executor=executor,
            csv=dataset.CsvOptions.from_record(stored["dataset"].get("csv")),
            claim=kind,
            eps=None if eps is None else mpq(eps),
        )  # read as it was read, judged by the claim it states
        diffs = _differences(stored, fresh)
        if _other_points(claimed, fresh["dataset"]["n"], sample, full):
            rest = {k: v for k, v in stored.items() if k not in ("checker", "verdict")}  # the claims alone
            more = _kernel(
                net_path,
                data_path,
                executor,
                rest,
                kernel_progress,
                sample=sample or claimed["sample"],
                seed=claimed["seed"],
                full=full,
            )
            diffs += [
                f"kernel ({more['mode']}, {more['points_checked']} points): {f['where']}: expected "
                f"{f['expected']}, found {f['found']}"
                for f in more["failures"]
            ]
    except (InputError, UsageError) as e:
        return [f"files no longer verify: {e}"]
    if not diffs and stored["verdict"] != certificate.CERTIFIED:
        diffs.append(f"verdict: {stored['verdict']} (reproduced, but not certified)")
    return diffs


def _other_points(claimed: dict, n: int, sample: int | None, full: bool) -> bool:
    """Whether a kernel run with ``sample`` / ``full`` checks what the claimed run did not: full against a
    sample, or a sample of another size (the same seed and size give the same points)."""
    if claimed["mode"] == "full":
        return False
    return full or (sample is not None and min(n, sample) != min(n, claimed["sample"]))


def _differences(stored: object, fresh: object, where: str = "") -> list[str]:
    """Every key path at which two JSON values differ (lists compared whole), the ``_UNCOMPARED`` ones aside."""
    if where in _UNCOMPARED:
        return []
    if isinstance(stored, dict) and isinstance(fresh, dict):
        out = []
        for k in sorted(set(stored) | set(fresh)):
            sub = f"{where}.{k}" if where else k
            if k not in stored or k not in fresh:
                out += [] if sub in _UNCOMPARED else [f"{sub}: present in only one of stored and recomputed"]
            else:
                out += _differences(stored[k], fresh[k], sub)
        return out
    if type(stored) is not type(fresh) or stored != fresh:  # True == 1 in Python, not in a certificate
        return [f"{where}: stored {_short(stored)}, recomputed {_short(fresh)}"]
    return []


def _short(v: object) -> str:
    s = json.dumps(v, sort_keys=True)
    return s if len(s) <= 160 else s[:150] + "..."
