"""netcert's trusted kernel: rechecks a certificate from the files, with its own readers and sympy's QQ.
It imports the standard library, sympy, and numpy (numpy.load in read.py only); nothing else of netcert."""
from dataclasses import dataclass

@dataclass(frozen=True)
class Failure:
    where: str  # e.g. "structure.depth", "network.sha256", "output[17]", "network.validity"
    expected: str  # what the claim says
    found: str  # what the kernel computed

@dataclass(frozen=True)
class Verdict:  # a run's checker section (section 4, check.section), with what it recomputed
    ok: bool  # no failures
    mode: str  # "sample" or "full"
    seed: int
    sample: int | None  # k, the sample size (None when full)
    points_checked: int  # results compared, one per point
    points_digest: str  # sha256 of the compared indices, one decimal line each
    outputs_agree: bool
    structure_agrees: bool
    hashes_agree: bool
    dataset_agrees: bool
    failures: tuple[Failure, ...]
    notes: tuple[str, ...]  # honest remarks: what was not rechecked
    recomputed: dict  # JSON-ready: network, dataset, structure, outputs (+ interpolation when full)

from .check import check, check_certificate  # noqa: E402  (check.py uses the two types above)
__all__ = ["Failure", "Verdict", "check", "check_certificate"]
