"""The trusted kernel stays small enough to read: under 780 lines in all (blank lines and comments count).

The budget was 650 until the kernel learnt the claims of trained networks (specs/README.md section 4):
reading leaky_relu slopes and graph.classes, several outputs, version 2 certificates, and its own
margins and errors for the classification and tolerance claims (about 110 lines of check.py and net.py)."""

from pathlib import Path

KERNEL = Path(__file__).resolve().parents[1] / "netcert" / "kernel"
BUDGET = 780


def test_kernel_is_under_its_line_budget():
    lines = {p.name: len(p.read_text().splitlines()) for p in sorted(KERNEL.rglob("*.py"))}
    assert lines, "netcert/kernel/ has no modules"
    assert sum(lines.values()) < BUDGET, f"netcert/kernel/ has {sum(lines.values())} lines: {lines}"
