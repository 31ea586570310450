"""The pytest plugin: certificates collected as test items, checked as `netcert check` does."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "certificates"
BAD = sorted(p.parent for p in ROOT.glob("bad/*/*.cert.json"))


def _copy(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst)


def test_good_certificates_pass_as_items(pytester: pytest.Pytester):
    for case in ("blobs40", "vardi2022_uniform300"):
        _copy(ROOT / "good" / case, pytester.path / case)
    result = pytester.runpytest("--netcert", "-q")
    result.assert_outcomes(passed=2)


def test_nothing_is_collected_without_the_flag(pytester: pytest.Pytester):
    _copy(ROOT / "good" / "blobs40", pytester.path / "blobs40")
    result = pytester.runpytest("-q")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_ini_option_enables_collection(pytester: pytest.Pytester):
    _copy(ROOT / "good" / "blobs40", pytester.path / "blobs40")
    pytester.makeini("[pytest]\nnetcert = true\n")
    result = pytester.runpytest("-q")
    result.assert_outcomes(passed=1)


@pytest.mark.slow
def test_each_bad_certificate_fails_with_its_reason(pytester: pytest.Pytester):
    """One session over every bad example: each item fails, with its expected.txt in the report."""
    for case in BAD:
        _copy(case, pytester.path / case.name)
    result = pytester.runpytest("--netcert", "-q", "--netcert-jobs", "1")
    result.assert_outcomes(failed=len(BAD))
    out = result.stdout.str()
    for case in BAD:
        expected = (case / "expected.txt").read_text(encoding="utf-8").rstrip("\n")
        report = out[out.index(f"FAIL {pytester.path / case.name}") :]
        assert expected in report.split("\n_")[0], (case.name, report[:2000])


def test_a_missing_network_fails_with_one_line(pytester: pytest.Pytester):
    _copy(ROOT / "good" / "blobs40", pytester.path / "blobs40")
    (pytester.path / "blobs40" / "net.json").unlink()
    result = pytester.runpytest("--netcert", "-q")
    result.assert_outcomes(failed=1)
    assert "network.path: net.json does not exist" in result.stdout.str()
