"""``netcert compare``: every construction on one dataset, certified or refused, beside the lower bounds.

Each construction is built and verified in its own ``python -m netcert``
process (so one that runs over ``budget`` seconds can be stopped and reported,
and none can disturb another); the sizes come from the certificate it writes.
The lower bounds printed beside them are the ones the theorems are measured
against:

- Omega(sqrt N) parameters for any network that memorizes N points in general
  (the VC-dimension bound), shown as ceil(sqrt N);
- Omega~(N / L) parameters at depth L (Bartlett et al. 2019), shown as
  ceil(N / depth) for each network's own depth (log factors dropped);
- N log2(C) bits of label information (C distinct labels) against the
  network's total weight bits (a float, labelled as such: it is a count of
  bits for people, not part of any check).
"""

from __future__ import annotations

import json
from collections.abc import Callable
import math
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from netcert.constructions import registry
from netcert.dataset import Dataset


@dataclass(frozen=True)
class Row:
    """One construction's outcome on the dataset."""

    construction: str
    outcome: str  # certified, refuted, refused, over budget, failed
    reason: str = ""
    depth: int | None = None
    width: int | None = None
    neurons: int | None = None
    params_dense: int | None = None
    params_nonzero: int | None = None
    max_weight_bits: int | None = None
    total_weight_bits: int | None = None
    build_s: float | None = None
    verify_s: float | None = None
    depth_bound: int | None = None  # ceil(N / depth)


@dataclass(frozen=True)
class Bounds:
    N: int
    labels: int
    vc_params: int  # ceil(sqrt N)
    label_bits: float  # N log2(C), approximate (float)


def bounds(data: Dataset) -> Bounds:
    C = len(set(data.labels))
    return Bounds(data.n, C, math.isqrt(data.n - 1) + 1 if data.n > 1 else 1, data.n * math.log2(C) if C > 1 else 0.0)


def _run(args: list[str], budget: float | None) -> tuple[int, str, float]:
    t0 = time.perf_counter()
    try:
        p = subprocess.run([sys.executable, "-m", "netcert", *args], capture_output=True, text=True, timeout=budget)
    except subprocess.TimeoutExpired:
        return -1, f"over the budget of {budget:g} s", time.perf_counter() - t0
    err = (p.stderr.strip().splitlines() or [""])[-1]
    return p.returncode, err.removeprefix("netcert: error: "), time.perf_counter() - t0


def compare_one(
    name: str,
    data_path: Path,
    workdir: Path,
    *,
    sample: int,
    jobs: int | None,
    budget: float | None,
    scheduler: str | None = None,
) -> Row:
    net, cert = workdir / f"{name}.json", workdir / f"{name}.cert.json"
    code, err, tb = _run(["build", str(data_path), "-c", name, "-o", str(net)], budget)
    if code == -1:
        return Row(name, "over budget", f"build {err}", build_s=tb)
    if code != 0:
        return Row(name, "refused" if code == 3 else "failed", err, build_s=tb)
    extra = (["--jobs", str(jobs)] if jobs else []) + (["--scheduler", scheduler] if scheduler else [])
    code, err, tv = _run(
        ["verify", str(net), "-d", str(data_path), "-o", str(cert), "--sample", str(sample), "-q", *extra], budget
    )
    if code == -1:
        return Row(name, "over budget", f"verify {err}", build_s=tb, verify_s=tv)
    if not cert.is_file():
        return Row(name, "failed", err, build_s=tb, verify_s=tv)
    c = json.loads(cert.read_bytes())
    s = c["structure"]
    reason = "" if c["verdict"] == "certified" else _why(c)
    return Row(
        name,
        c["verdict"],
        reason,
        s["depth"],
        s["width"],
        s["neurons"],
        s["params_dense"],
        s["params_nonzero"],
        s["max_weight_bits"],
        s["total_weight_bits"],
        tb,
        tv,
        -(-c["dataset"]["n"] // max(s["depth"], 1)),
    )


def _why(cert: dict) -> str:
    i, k = cert["interpolation"], cert["checker"]
    if not i["exact"]:
        return f"{i['mismatch_count']} points not interpolated"
    if k["failures"]:
        return f"kernel: {k['failures'][0]['where']}"
    return "size formulas do not hold"


def compare(
    data_path: Path,
    workdir: Path,
    *,
    names: list[str] | None = None,
    sample: int = 1000,
    jobs: int | None = None,
    budget: float | None = None,
    progress: Callable[[str], object] | None = None,
    scheduler: str | None = None,
) -> list[Row]:
    """Build and verify every construction (``names``: some) on ``data_path``, each command in its own
    process; ``jobs`` or ``scheduler`` (a Dask scheduler's address) as for ``netcert verify``."""
    rows = []
    for name in names or list(registry.CONSTRUCTIONS):
        if progress is not None:
            progress(name)
        rows.append(compare_one(name, data_path, workdir, sample=sample, jobs=jobs, budget=budget, scheduler=scheduler))
    return rows


def table(rows: list[Row], b: Bounds) -> str:
    """The markdown table and the bounds, for people."""

    def f(v: object, fmt: str = "{:,}") -> str:
        return "-" if v is None else fmt.format(v)

    out = [
        "| construction | outcome | depth | width | neurons | dense | nonzero | max bits | total bits | "
        "build s | verify s | ceil(N/depth) | reason |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        out.append(
            f"| {r.construction} | {r.outcome} | {f(r.depth)} | {f(r.width)} | {f(r.neurons)} | "
            f"{f(r.params_dense)} | {f(r.params_nonzero)} | {f(r.max_weight_bits)} | "
            f"{f(r.total_weight_bits)} | {f(r.build_s, '{:.1f}')} | {f(r.verify_s, '{:.1f}')} | "
            f"{f(r.depth_bound)} | {r.reason} |"
        )
    out.append("")
    out.append(
        f"lower bounds: Omega(sqrt N) parameters: {b.vc_params:,} (N = {b.N:,}); Omega~(N/L) at depth L: "
        f"the ceil(N/depth) column; label information N log2 C ~ {b.label_bits:,.0f} bits "
        f"(C = {b.labels}, float) against each network's total weight bits"
    )
    return "\n".join(out)


def as_json(rows: list[Row], b: Bounds) -> str:
    return json.dumps({"rows": [asdict(r) for r in rows], "bounds": asdict(b)}, indent=2, sort_keys=True) + "\n"
