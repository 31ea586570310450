"""Research workflows: `--construction auto`, `netcert compare`, `netcert sweep`."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from click.testing import CliRunner

from netcert import dataset, sweep
from netcert.cli import cli
from netcert.constructions import auto, registry
from netcert.ir import measures


def _run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def _uniform(path, N, d, C, seed=0, real=False):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (N, d))
    y = rng.uniform(-1, 1, N) if real else rng.integers(1, C + 1, N)
    np.savez(path, X=X, y=y)
    return path


@pytest.mark.parametrize("N,d", [(60, 2), (400, 3), (2000, 2)])
@pytest.mark.slow
def test_auto_builds_the_smallest_of_its_confirmed_predictions(N, d, tmp_path):
    data = dataset.load(_uniform(tmp_path / "d.npz", N, d, 3))
    G = auto.build(data)
    info = G.graph["construction"]["options"]["auto"]
    assert info["chosen"] == G.graph["construction"]["name"]
    assert (
        measures.measure(G).params_nonzero
        == info["built_nonzero"][info["chosen"]]
        == min(info["built_nonzero"].values())
    )
    assert len(info["built_nonzero"]) == auto.CONFIRM
    # the confirmed ones are the best predictions
    ranked = sorted(info["predicted_nonzero"], key=lambda k: (info["predicted_nonzero"][k], k))
    assert set(info["built_nonzero"]) == set(ranked[: auto.CONFIRM])
    for name, value in info["built_nonzero"].items():  # each measured figure is the real build's
        options = registry.get(name).predict(data, 0)[1]
        assert measures.measure(registry.get(name).build(data, **options)).params_nonzero == value


def test_auto_is_the_cli_default_and_the_certificate_says_why(tmp_path):
    data = _uniform(tmp_path / "d.npz", 300, 2, 2)
    assert _run("build", data, "-o", tmp_path / "net.json").exit_code == 0
    assert _run("verify", tmp_path / "net.json", "-d", data, "-q").exit_code == 0
    cert = json.loads((tmp_path / "net.cert.json").read_text())
    assert cert["verdict"] == "certified"
    assert cert["construction"]["options"]["auto"]["chosen"] == cert["construction"]["name"]
    assert "fewest nonzero" in cert["construction"]["options"]["auto"]["why"]


def test_auto_sets_aside_constructions_whose_precondition_fails(tmp_path):
    data = dataset.load(_uniform(tmp_path / "d.npz", 200, 2, 2, real=True))
    G = auto.build(data)
    info = G.graph["construction"]["options"]["auto"]
    assert "integer labels" in info["set_aside"]["vardi2022"]
    assert info["chosen"] != "vardi2022"


def test_auto_refuses_construction_options(tmp_path):
    r = CliRunner().invoke(
        cli, ["build", str(_uniform(tmp_path / "d.npz", 30, 2, 2)), "--mode", "plain", "-o", str(tmp_path / "n.json")]
    )
    assert r.exit_code == 2 and "--construction auto takes no construction option" in r.output


@pytest.mark.slow
def test_compare_certifies_or_refuses_each_construction(tmp_path):
    data = _uniform(tmp_path / "d.npz", 80, 2, 3, real=False)
    r = _run("compare", data, "--only", "zhang2017,yun2019,vardi2022", "--json", "--sample", "50", "--jobs", "1")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    rows = {row["construction"]: row for row in out["rows"]}
    assert set(rows) == {"zhang2017", "yun2019", "vardi2022"}
    ds = dataset.load(data)
    for name, row in rows.items():
        assert row["outcome"] == "certified", row
        m = measures.measure(registry.get(name).build(ds))
        assert (row["params_nonzero"], row["params_dense"], row["depth"]) == (m.params_nonzero, m.params_dense, m.depth)
        assert row["depth_bound"] == -(-80 // m.depth)
    assert out["bounds"]["vc_params"] == 9 and out["bounds"]["labels"] == 3


@pytest.mark.slow
def test_compare_reports_a_refusal_with_its_reason(tmp_path):
    data = _uniform(tmp_path / "d.npz", 40, 2, 2, real=True)
    r = _run("compare", data, "--only", "vardi2022,zhang2017", "--sample", "20")
    assert r.exit_code == 0
    line = next(l for l in r.output.splitlines() if l.startswith("| vardi2022"))
    assert "| refused |" in line and "integer labels" in line
    assert next(l for l in r.output.splitlines() if l.startswith("| zhang2017")).count("| certified |") == 1
    assert "Omega(sqrt N) parameters: 7" in r.output


@pytest.mark.slow
def test_tiny_sweep_writes_the_csv_slopes_and_plots(tmp_path):
    out = tmp_path / "sw"
    r = _run("sweep", "-c", "zhang2017,vardi2022", "--n", "50,100,200", "--L", "12,40", "--out", out, "--times")
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader((out / "sweep.csv").open()))
    assert [(row["construction"], row["N"], row["L"]) for row in rows] == [
        ("zhang2017", "50", ""),
        ("vardi2022", "50", ""),
        ("zhang2017", "100", ""),
        ("vardi2022", "100", ""),
        ("zhang2017", "200", ""),
        ("vardi2022", "200", ""),
        ("vardi2022", "200", "12"),
        ("vardi2022", "200", "40"),
    ]
    for row in rows:
        data = sweep.generated(int(row["N"]), 2, 2, 0)
        options = {"depth": int(row["L"])} if row["L"] else {}
        m = measures.measure(registry.get(row["construction"]).build(data, **options))
        assert (int(row["params_nonzero"]), int(row["params_dense"]), int(row["depth"])) == (
            m.params_nonzero,
            m.params_dense,
            m.depth,
        )
        assert float(row["eval_s"]) >= 0
        if row["L"]:
            assert int(row["depth"]) <= int(row["L"])
    assert "slope of nonzero parameters vs N, zhang2017: 1.000" in r.output
    for png in ("sizes.png", "depth.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sweep_subsamples_a_dataset_exactly(tmp_path):
    path = _uniform(tmp_path / "d.npz", 300, 3, 4)
    full = dataset.load(path)
    part = sweep.subsample(full, 120, seed=5)
    assert part.n == 120 and part.scale == full.scale
    rows = {r: lab for r, lab in zip(full.num, full.labels)}
    assert all(rows[r] == lab for r, lab in zip(part.num, part.labels))
    assert sweep.subsample(full, 10**6, seed=5).digest == full.digest


def test_sweep_rejects_bad_lists(tmp_path):
    r = CliRunner().invoke(cli, ["sweep", "--n", "10,x", "--out", str(tmp_path)])
    assert r.exit_code == 2 and "--n takes comma-separated integers" in r.output
    r = CliRunner().invoke(cli, ["sweep", "-c", "zhang2017", "--L", "10", "--out", str(tmp_path)])
    assert r.exit_code == 2 and "--L needs vardi2022" in r.output


def test_sweep_slopes_fit_all_n_and_the_last_decade():
    def point(N: int, nonzero: int, L: int | None = None) -> sweep.Point:
        return sweep.Point("c", N, 2, 2, L, "c", 2, 1, 1, nonzero, nonzero, 1, 1, 0.0, None)

    # nonzero = N up to 10^3, then 1000 * (N / 1000)^(1/2): the last decade (N >= 1,000) has slope 1/2
    points = [
        point(10, 10),
        point(100, 100),
        point(1000, 1000),
        point(4000, 2000),
        point(10**4, 3162),
        point(10**4, 5, L=3),
    ]  # capped runs do not enter the slopes
    fit, last = sweep.slopes(points)["c"]
    assert abs(last - 0.5) < 1e-3
    assert 0.5 < fit < 1
    assert sweep.slopes([point(10, 10), point(1000, 10**6)])["c"] == pytest.approx((2.5, 2.5))  # 10^5 over 10^2
