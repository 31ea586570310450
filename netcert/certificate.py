"""Certificates: what was checked, about which exact files, by which tools.

The functions here assemble the record of ``specs/README.md`` section 4 from
the results of each stage (dataset quantities, measures, the fast evaluation
and the claim it checks, the kernel's verdict, the construction's size
claims); ``to_bytes`` writes it canonically. The verdict is ``certified`` only
when every part holds.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Mapping
from pathlib import Path

import gmpy2
import networkx
import numpy
import sympy

import netcert
from netcert.constructions.base import Construction
from netcert.constructions.exactmath import evaluate_formula
from netcert.dataset import Dataset
from netcert.engine.claims import Classification, Tolerance
from netcert.engine.evaluate import Evaluation
from netcert.exact import Rat, format_rational
from netcert.formats import schemas
from netcert.ir.measures import Measures
from netcert.separation import Separation

CERTIFIED = "certified"
REFUTED = "refuted"
MAX_MISMATCHES = 10


def tools() -> dict[str, str]:
    return {
        "netcert": netcert.__version__,
        "python": platform.python_version(),
        "gmpy2": gmpy2.version(),
        "sympy": sympy.__version__,
        "networkx": networkx.__version__,
        "numpy": numpy.__version__,
    }


def relative_path(target: str | Path, cert_path: str | Path) -> str:
    """``target`` as a POSIX path relative to the certificate's directory."""
    base = Path(cert_path).resolve().parent
    return Path(os.path.relpath(Path(target).resolve(), base)).as_posix()


def dataset_section(data: Dataset, path: str, sep: Separation, max_sq_norm) -> dict:
    """Section 4's dataset section. ``csv`` (how a .csv file was read: delimiter, header, label column, index
    column, labels map) is present only when the file was not read as the default options read it, so that
    the kernel and ``netcert check`` read it the same way, and every other certificate keeps its bytes."""
    labels = data.labels
    section = {
        "path": path,
        "sha256": data.sha256,
        "digest": data.digest,
        "n": data.n,
        "d": data.d,
        "rows": data.rows,
        "duplicates_merged": len(data.merged),
        "labels": {
            "kind": data.label_kind,
            "distinct": len(set(labels)),
            "min": format_rational(min(labels)),
            "max": format_rational(max(labels)),
        },
        "min_sq_separation": None if sep.value is None else format_rational(sep.value),
        "min_sq_separation_pair": None if sep.pair is None else list(sep.pair),
        "max_sq_norm": format_rational(max_sq_norm),
    }
    if data.csv is not None:
        section["csv"] = dict(data.csv)
    return section


def interpolation_section(ev: Evaluation) -> dict:
    return {
        "exact": ev.exact,
        "points_checked": ev.points_checked,
        "mismatch_count": len(ev.mismatches),
        "mismatches": [
            {"index": m.index, "expected": format_rational(m.expected), "obtained": format_rational(m.obtained)}
            for m in ev.mismatches[:MAX_MISMATCHES]
        ],
        "outputs_digest": ev.outputs_digest,
    }


def claim_record(kind: str, eps: Rat | None) -> dict:
    """The top-level ``claim`` of a version 2 certificate: ``{"kind": ...}``, with ``eps`` for tolerance."""
    return {"kind": kind} if eps is None else {"kind": kind, "eps": format_rational(eps)}


def classification_section(c: Classification) -> dict:
    """Section 4's ``classification``: whether every point is right, the misses (first 10 by index,
    each with its label, the predicted class or "tie" and every exact output), the exact least
    margin and the first point attaining it, the digest of the outputs."""
    return {
        "correct": c.correct,
        "points_checked": c.points_checked,
        "miss_count": len(c.misses),
        "misses": [
            {
                "index": m.index,
                "label": format_rational(m.label),
                "predicted": m.predicted,
                "outputs": [format_rational(v) for v in m.outputs],
            }
            for m in c.misses[:MAX_MISMATCHES]
        ],
        "min_margin": None if c.min_margin is None else format_rational(c.min_margin),
        "min_margin_point": c.min_margin_point,
        "outputs_digest": c.outputs_digest,
    }


def tolerance_section(t: Tolerance) -> dict:
    """Section 4's ``tolerance``: whether every error is <= eps, the points over it (first 10 by
    index), the exact largest error and the first point attaining it, the digest of the outputs."""
    return {
        "within": t.within,
        "eps": format_rational(t.eps),
        "points_checked": t.points_checked,
        "over_count": len(t.over),
        "over": [
            {
                "index": o.index,
                "expected": format_rational(o.expected),
                "obtained": format_rational(o.obtained),
                "error": format_rational(o.error),
            }
            for o in t.over[:MAX_MISMATCHES]
        ],
        "max_error": format_rational(t.max_error),
        "max_error_point": t.max_error_point,
        "outputs_digest": t.outputs_digest,
    }


HOLDS = {"interpolation": "exact", "classification": "correct", "tolerance": "within"}
"""The boolean of each claim's section that says the claim holds on every point."""


def claim_kind(cert: dict) -> str:
    """The claim a certificate checks: its ``claim.kind``, or interpolation (a version 1 file)."""
    return cert.get("claim", {}).get("kind", "interpolation")


def checker_section(verdict) -> dict:
    """The kernel's verdict as section 4's checker section: the run's mode, seed and sample size (null when
    full), the points it compared (their count and the digest of their indices), what agreed, notes, failures.
    ``netcert check`` reruns the kernel with the same mode, seed and sample and compares every field."""
    return {
        "name": "netcert.kernel",
        "mode": verdict.mode,
        "seed": verdict.seed,
        "sample": verdict.sample,
        "points_checked": verdict.points_checked,
        "points_digest": verdict.points_digest,
        "outputs_agree": verdict.outputs_agree,
        "structure_agrees": verdict.structure_agrees,
        "hashes_agree": verdict.hashes_agree,
        "dataset_agrees": verdict.dataset_agrees,
        "notes": list(verdict.notes),
        "failures": [{"where": f.where, "expected": f.expected, "found": f.found} for f in verdict.failures],
    }


def construction_section(c: Construction | None, options: Mapping, claim, measures: Measures) -> dict | None:
    """The construction's exact size formulas evaluated and compared, and the theorem as context."""
    if c is None:
        return None
    measured = measures.as_dict()
    claims = {}
    for name, formula in claim.formulas.items():
        value = evaluate_formula(formula, claim.variables)
        claims[name] = {
            "formula": str(formula),
            "value": value,
            "measured": measured[name],
            "holds": measured[name] == value,
        }
    bound = None
    if c.theorem.bound is not None:
        bound = {
            "formula": str(c.theorem.bound),
            "value": evaluate_formula(c.theorem.bound, claim.variables),
            "measure": c.theorem.bound_measure,
        }
    return {
        "name": c.name,
        "paper": c.paper,
        "options": dict(options),
        "size": {
            "variables": dict(claim.variables),
            "claims": claims,
            "holds": all(v["holds"] for v in claims.values()),
        },
        "theorem": {"statement": c.theorem.statement, "rate": c.theorem.rate, "bound": bound},
    }


def verdict_of(cert: dict) -> str:
    """``certified`` iff the claim holds on every point (interpolation exact, classification correct,
    tolerance within), the kernel agrees on everything, and size claims hold."""
    kind = claim_kind(cert)
    ok = cert[kind][HOLDS[kind]] and not cert["checker"]["failures"]
    construction = cert.get("construction")
    if construction is not None:
        ok = ok and construction["size"]["holds"]
    return CERTIFIED if ok else REFUTED


def to_bytes(cert: dict) -> bytes:
    schemas.check(cert, schemas.CERTIFICATE, "certificate")
    return (json.dumps(cert, sort_keys=True, indent=2, ensure_ascii=True) + "\n").encode("ascii")
