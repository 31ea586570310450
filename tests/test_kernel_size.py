"""The trusted kernel stays small enough to read: under 650 lines in all (blank lines and comments count)."""

from pathlib import Path

KERNEL = Path(__file__).resolve().parents[1] / "netcert" / "kernel"
BUDGET = 650


def test_kernel_is_under_its_line_budget():
    lines = {p.name: len(p.read_text().splitlines()) for p in sorted(KERNEL.rglob("*.py"))}
    assert lines, "netcert/kernel/ has no modules"
    assert sum(lines.values()) < BUDGET, f"netcert/kernel/ has {sum(lines.values())} lines: {lines}"
