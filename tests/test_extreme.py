"""Extreme but legal data: coordinates from 1e-300 to 1e290, long rationals, many prime denominators.

Each case ends in an exact outcome, never a traceback and never minutes: the construction builds and
its certificate holds, or the build refuses with exit 3 and one line naming the size limit. The size
claims and theorem bounds are evaluated exactly (``constructions.exactmath``), without evalf or floats.
"""

from __future__ import annotations

import random
import time
from fractions import Fraction

import numpy as np
import pytest
import sympy
from click.testing import CliRunner

from netcert import certificate, dataset, certify
from netcert.cli import cli
from netcert.constructions import exactmath, park2021, registry, zhang2017
from netcert.errors import PreconditionError
from netcert.exact import mpq
from netcert.gadgets import zigzag


def span_data(n: int = 40, d: int = 2, seed: int = 1):
    """float64 points of magnitudes 10^-300 .. 10^290 with random signs, labels in 0..2."""
    rng = np.random.default_rng(seed)
    X = rng.choice([-1.0, 1.0], (n, d)) * 10.0 ** rng.uniform(-300, 290, (n, d))
    return X, rng.integers(0, 3, n)


def prime_csv(path, count: int, seed: int = 4):
    """One coordinate a/p per row over the first ``count`` odd primes: the column scale is their product."""
    rng = random.Random(seed)
    primes = list(sympy.primerange(3, 10**6))[:count]
    path.write_text("".join(f"{rng.randrange(1, p)}/{p},{rng.randrange(0, 2)}\n" for p in primes))
    return path


def long_csv(path, n: int, digits: int, seed: int = 3):
    """Two coordinates per row, each a ratio of two random ``digits``-digit integers; labels in 0..3."""
    rng = random.Random(seed)

    def num():
        return rng.randrange(10 ** (digits - 1), 10**digits)

    path.write_text("".join(f"{num()}/{num()},{num()}/{num()},{rng.randrange(4)}\n" for _ in range(n)))
    return path


def fit_labels(path, name: str):
    """The file's labels made to meet a construction's assumption on labels, its coordinates kept:
    two classes for dirksen2023 (label mod 2), monotone labels for mikulincer2022 (the number of
    rows coordinatewise below or equal, exactly); the file itself for every other construction."""
    if name not in ("dirksen2023", "mikulincer2022"):
        return path
    rows = [line.split(",") for line in path.read_text().splitlines()]
    xs = [[Fraction(c) for c in row[:-1]] for row in rows]
    if name == "dirksen2023":
        labels = [int(row[-1]) % 2 for row in rows]
    else:
        labels = [sum(all(a <= b for a, b in zip(other, x)) for other in xs) for x in xs]
    out = path.with_name(f"{name}-{path.name}")
    out.write_text("".join(",".join(row[:-1] + [str(y)]) + "\n" for row, y in zip(rows, labels)))
    return out


def run(*args, env=None):
    """The CLI in-process: (exit code, stdout, stderr); a traceback would fail the caller's asserts."""
    result = CliRunner().invoke(cli, [str(a) for a in args], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result.exit_code, result.stdout, result.stderr


def refused(code: int, err: str, *words: str) -> None:
    """Exit 3 with exactly one error line, naming what was refused."""
    lines = err.strip().splitlines()
    assert code == 3 and len(lines) == 1 and lines[0].startswith("netcert: error: "), err
    assert all(w in lines[0] for w in words), lines[0]


# ------------------------------------------------------------------ exact integer functions


def test_ceil_log2_and_ceil_root_are_exact_where_floats_are_not():
    assert [exactmath.ceil_log2_int(q) for q in (1, 2, 3, 4, mpq(1, 3), mpq(1, 4), mpq(5, 4))] == [
        0,
        1,
        2,
        2,
        -1,
        -2,
        1,
    ]
    big = 2**3000 + 1  # float(big) overflows; log2 of its float neighbour would say 3000
    assert exactmath.ceil_log2_int(big) == 3001 and exactmath.ceil_log2_int(mpq(1, big)) == -3000
    assert exactmath.ceil_log2_ratio(6, 4) == 1 and exactmath.ceil_log2_ratio(4, 4) == 0
    assert [exactmath.ceil_root_int(q, 2) for q in (0, 1, 2, 4, 5, mpq(9, 4), mpq(1, 10))] == [0, 1, 2, 2, 3, 2, 1]
    r = exactmath.ceil_root_int(10**3000 + 1, 3)
    assert (r - 1) ** 3 < 10**3000 + 1 <= r**3
    N = sympy.Symbol("N", integer=True, positive=True)
    f = 47 * exactmath.ceil_root(N**2 * 3, 3) + exactmath.ceil_log2(N / 7)
    assert certificate.evaluate_formula(f, {"N": 10}) == 47 * 7 + 1
    assert certificate.evaluate_formula(f, {"N": 10**2000}) > 10**1333


def test_pi_bracket_and_lemma4_bound():
    lo, hi = exactmath.pi_bracket(300)
    assert lo < hi and hi - lo <= mpq(1, 2**300)
    assert lo < Fraction(355, 113) and hi > Fraction(333, 106)
    digits = sympy.pi.evalf(110)  # the reference only, in the test
    assert abs(Fraction(str(digits)) - Fraction(int(lo.numerator), int(lo.denominator))) < Fraction(
        1, 10**85
    )  # 2^-300 > 10^-91
    assert park2021.lemma4_bound(8, 2, mpq(49)) == 398  # docs/constructions/park2021.md section 10
    # sqrt(q pi) for a q of 4000 bits: the answer squared brackets q pi
    q = mpq(3**2500 + 7, 5)
    m = exactmath.ceil_sqrt_pi(q)
    lo, hi = exactmath.pi_bracket(9000)
    assert (m - 1) ** 2 < q * lo and q * hi <= m**2


def test_evaluate_formula_refuses_what_is_not_an_exact_integer():
    x = sympy.Symbol("x", integer=True)
    with pytest.raises(Exception, match="not an exact integer"):
        certificate.evaluate_formula(sympy.sqrt(x), {"x": 2})
    assert certificate.evaluate_formula(sympy.ceiling(x / 3) + sympy.Max(x, 4), {"x": 10**5000}) > 10**5000


def test_slope_bound_of_huge_gaps_is_fast_and_exact():
    """Gaps of 2^200000 made the old halving loop take 200,000 rational steps."""
    z = [0, 1 << 200_000, (1 << 200_001) + 5]
    y = [mpq(0), mpq(3), mpq(1)]
    t = time.perf_counter()
    K = zigzag.slope_bound(z, y)
    assert time.perf_counter() - t < 1
    assert K == mpq(1, 1 << 199_998)  # 3 / 2^200000 <= 2^-199998 < 2 * 3 / 2^200000
    kinks, weights = zigzag.zigzag(z, y, K)
    assert all(zigzag.value(zi, kinks, weights) == yi for zi, yi in zip(z, y))


# ------------------------------------------------------------------ end to end


@pytest.mark.parametrize("name", ["park2021", "zhang2017", "baum1988"])
@pytest.mark.slow
def test_float_data_from_1e_minus_300_to_1e290_certifies(tmp_path, name):
    """park2021's K0 bound and theorem bound raised PrecisionExhausted / OverflowError in verify here."""
    X, y = span_data()
    np.savez(tmp_path / "span.npz", X=X, y=y)
    code, _, err = run("build", tmp_path / "span.npz", "-c", name, "-o", tmp_path / "net.json")
    assert code == 0, err
    code, out, err = run("verify", tmp_path / "net.json", "-d", tmp_path / "span.npz", "--jobs", "1", "-q")
    assert code == 0 and "CERTIFIED" in out, out + err
    if name == "park2021":
        import json

        c = json.loads((tmp_path / "net.cert.json").read_text())["construction"]
        v = c["size"]["variables"]
        assert v["K0"] <= v["K0_lemma4_bound"] and v["K0"] > 2**1000  # Delta ~ 10^590
        dsq = mpq(v["delta_sq_num"], v["delta_sq_den"])
        assert v["log2_delta_sq_d"] == exactmath.ceil_log2_int(dsq * 2)
        assert c["theorem"]["bound"]["value"] > 15 * v["log2_delta_sq_d"]


def test_rajput2021_refuses_float_data_it_cannot_size(tmp_path):
    X, y = span_data()
    np.savez(tmp_path / "span.npz", X=X, y=y)
    code, _, err = run("build", tmp_path / "span.npz", "-c", "rajput2021", "-o", tmp_path / "net.json")
    refused(code, err, "rajput2021", "float64 range")


@pytest.mark.slow
def test_many_prime_denominators_refused_before_any_work(tmp_path):
    """The lcm of 2,000 primes is a 28,000-bit column scale; every hidden ReLU would hold it."""
    path = prime_csv(tmp_path / "primes.csv", 2000)
    env = {"NETCERT_MAX_BITS": "30000"}  # total limit 3 * 10^7 bits: 2,000 neurons of >= 28,000 bits exceed it
    t = time.perf_counter()
    code, _, err = run("build", path, "-c", "zhang2017", "-o", tmp_path / "net.json", env=env)
    assert time.perf_counter() - t < 5
    refused(code, err, "zhang2017", "30,000,000 bits per network", "NETCERT_MAX_BITS")


def test_zhang2017_total_limit_is_checked_in_the_library(monkeypatch, tmp_path):
    monkeypatch.setenv("NETCERT_MAX_BITS", "20000")
    data = dataset.load(prime_csv(tmp_path / "primes.csv", 1500))
    assert data.scale[0].bit_length() < 20000
    with pytest.raises(PreconditionError, match="over the limit of 20,000,000 bits per network"):
        zhang2017.build(data)


@pytest.mark.slow
def test_zhang2017_builds_and_certifies_many_prime_denominators(tmp_path):
    path = prime_csv(tmp_path / "primes.csv", 300)
    code, out, err = run("build", path, "-c", "zhang2017", "-o", tmp_path / "net.json")
    assert code == 0, err
    code, out, err = run("verify", tmp_path / "net.json", "-d", path, "--jobs", "1", "-q")
    assert code == 0 and "CERTIFIED" in out, out + err


def test_bubeck2020_refuses_long_rationals_at_the_first_group(tmp_path):
    """Hyperplane weights are determinant-sized: over the per-number limit, the build stops at group 0."""
    path = long_csv(tmp_path / "long.csv", 8, 60)
    env = {"NETCERT_MAX_BITS": "2500"}
    data_ok = run("build", path, "-c", "vardi2022", "-o", tmp_path / "v.json", env=env)[0]
    assert data_ok == 0  # the file itself is within the limit
    code, _, err = run("build", path, "-c", "bubeck2020", "-o", tmp_path / "net.json", env=env)
    refused(code, err, "bubeck2020", "group 0", "2,500 bits per number")


@pytest.mark.parametrize("name", sorted(registry.CONSTRUCTIONS))
def test_long_rationals_build_or_refuse(tmp_path, name):
    """200-digit ratios: every construction builds a network that verifies, or refuses in one line."""
    path = fit_labels(long_csv(tmp_path / "long.csv", 6, 200), name)
    code, _, err = run("build", path, "-c", name, "-o", tmp_path / "net.json")
    if code == 3:
        refused(code, err, name)
        assert name == "rajput2021"  # its float64 sizing
        return
    assert code == 0, err
    code, out, err = run("verify", tmp_path / "net.json", "-d", path, "--jobs", "1", "-q")
    assert code == 0 and "CERTIFIED" in out, out + err


@pytest.mark.parametrize("name", sorted(registry.CONSTRUCTIONS))
def test_decimals_beyond_the_float64_range_build_or_refuse(tmp_path, name):
    """Coordinates 10^-400 .. 10^401 (a CSV may hold them): vardi2022's direction ranking converted them to
    float and raised OverflowError; now every construction certifies or refuses in one line."""
    path = tmp_path / "huge.csv"
    path.write_text("1e400,2e-400,0\n3e400,1e-399,1\n-2e399,5e-400,2\n7e401,-3e-400,1\n1.5e400,4e-400,0\n")
    path = fit_labels(path, name)
    code, _, err = run("build", path, "-c", name, "-o", tmp_path / "net.json")
    if code == 3:
        refused(code, err, name)
        assert name == "rajput2021"  # its float64 sizing; every other construction is exact throughout
        return
    assert code == 0, err
    # The library's verify: the command's summary line prints the separation (10^-800) as a float.
    cert = certify.verify(tmp_path / "net.json", path, tmp_path / "net.cert.json", jobs=1)
    assert cert["verdict"] == "certified", cert["construction"]["size"]


PRIMES_600 = {  # outcome at NETCERT_MAX_BITS = 10000 (a 6,256-bit column scale): built, or the limit named
    "zhang2017": "bits per network",
    "vardi2022": "certified",
    "baum1988": "certified",
    "bubeck2020": "bits per number",
    "yun2019": "bits per number",
    "park2021": "bits per network",
    "rajput2021": "float64 range",
    "hernandez2025": "certified",
    "mikulincer2022": "certified",
    "dirksen2023": "certified",
}


@pytest.mark.parametrize("name", sorted(registry.CONSTRUCTIONS))
@pytest.mark.slow
def test_prime_denominators_build_or_refuse_naming_the_limit(tmp_path, name):
    path = fit_labels(prime_csv(tmp_path / "primes.csv", 600), name)
    env = {"NETCERT_MAX_BITS": "10000"}
    code, _, err = run("build", path, "-c", name, "-o", tmp_path / "net.json", env=env)
    if PRIMES_600[name] != "certified":
        refused(code, err, name, PRIMES_600[name])
    else:
        assert code == 0, err
        code, out, err = run("verify", tmp_path / "net.json", "-d", path, "--jobs", "1", "-q", env=env)
        assert code == 0 and "CERTIFIED" in out, out + err


def test_baum1988_refuses_long_rationals_at_the_first_group_over_the_limit(tmp_path):
    path = long_csv(tmp_path / "long.csv", 8, 60)
    code, _, err = run("build", path, "-c", "baum1988", "-o", tmp_path / "net.json", env={"NETCERT_MAX_BITS": "2500"})
    refused(code, err, "baum1988", "the weights of group", "2,500 bits per number")
