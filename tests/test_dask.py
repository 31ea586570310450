"""``--scheduler``: the same certificates from a Dask cluster as from this machine, but the executor field.

One ``distributed.LocalCluster`` of two worker processes on loopback serves the
module. Skipped when distributed is not installed (``pip install 'netcert[dask]'``).
"""

import json

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from netcert import certificate  # noqa: E402
from netcert.engine import parallel
from netcert.kernel import net as kernel_net  # noqa: E402
from test_cli import one_line_error, run  # noqa: E402

N = 2500  # above evaluate's fork threshold, so the local run forks too


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as c:
        yield c.scheduler_address


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """vardi2022 on N uniform points; dataset bad.npz has two labels changed."""
    root = tmp_path_factory.mktemp("dask")
    rng = np.random.default_rng(0)
    X, y = rng.uniform(-1, 1, (N, 2)), rng.integers(1, 3, N)
    np.savez(root / "a.npz", X=X, y=y)
    y[[17, 2024]] = 3 - y[[17, 2024]]
    np.savez(root / "bad.npz", X=X, y=y)
    assert run("build", root / "a.npz", "-c", "vardi2022", "-o", root / "net.json").exit_code == 0
    return root


def _pair(work, cluster, out, data):
    """(local certificate bytes, cluster certificate dict, exit codes) of one verify each way."""
    local, remote = out / "local.cert.json", out / "dask.cert.json"
    a = run("verify", work / "net.json", "--data", work / data, "-o", local, "--jobs", "2", "--sample", "100")
    b = run("verify", work / "net.json", "--data", work / data, "-o", remote, "--scheduler", cluster, "--sample", "100")
    return local.read_bytes(), json.loads(remote.read_text()), (a.exit_code, b.exit_code)


@pytest.fixture(scope="module")
def good(work, cluster):
    """The certificates of the good dataset, made locally and on the cluster."""
    return _pair(work, cluster, work, "a.npz")


def _without_executor(cert: dict) -> bytes:
    assert cert.pop("executor") == {"kind": "dask", "workers": 2}
    return certificate.to_bytes(cert)


@pytest.mark.slow
def test_a_cluster_certificate_equals_the_local_one_but_for_the_executor(good):
    local, remote, codes = good
    assert codes == (0, 0)
    assert "executor" not in json.loads(local)
    assert _without_executor(dict(remote)) == local


@pytest.mark.slow
def test_a_mismatching_network_gives_the_same_mismatches_both_ways(work, cluster, tmp_path):
    local, remote, codes = _pair(work, cluster, tmp_path, "bad.npz")
    assert codes == (1, 1)
    assert [m["index"] for m in remote["interpolation"]["mismatches"]] == [17, 2024]
    assert _without_executor(remote) == local


@pytest.mark.slow
def test_the_batch_engine_on_a_cluster_gives_the_same_certificate(work, cluster, tmp_path):
    from netcert import dataset
    from netcert.engine import evaluate
    from netcert.formats import netjson

    assert run("build", work / "a.npz", "-c", "yun2019", "-o", tmp_path / "net.json").exit_code == 0
    plan = evaluate.evaluation_plan(netjson.read(tmp_path / "net.json"), dataset.load(work / "a.npz"))
    assert plan.batched  # the runs the workers get are batch-engine ranges, not sweeps
    local, remote = tmp_path / "local.cert.json", tmp_path / "dask.cert.json"
    for out, how in ((local, ["--jobs", "2"]), (remote, ["--scheduler", cluster])):
        assert (
            run("verify", tmp_path / "net.json", "--data", work / "a.npz", "-o", out, "--sample", "100", *how).exit_code
            == 0
        )
    assert _without_executor(json.loads(remote.read_text())) == local.read_bytes()


@pytest.mark.slow
def test_the_kernel_full_mode_is_sharded_too(work, cluster, tmp_path):
    small = tmp_path / "small.npz"
    with np.load(work / "a.npz") as f:  # the kernel's sympy evaluation is slow: 300 points suffice
        np.savez(small, X=f["X"][:300], y=f["y"][:300])
    assert run("build", small, "-c", "zhang2017", "-o", tmp_path / "net.json").exit_code == 0
    local, remote = tmp_path / "local.cert.json", tmp_path / "dask.cert.json"
    assert run("verify", tmp_path / "net.json", "--data", small, "-o", local, "--full").exit_code == 0
    assert (
        run("verify", tmp_path / "net.json", "--data", small, "-o", remote, "--full", "--scheduler", cluster).exit_code
        == 0
    )
    cert = json.loads(remote.read_text())
    assert cert["checker"]["mode"] == "full" and cert["checker"]["points_checked"] == 300
    assert _without_executor(cert) == local.read_bytes()


@pytest.mark.slow
def test_check_on_a_cluster_ignores_the_executor_field(work, cluster, good):
    local, remote = work / "local.cert.json", work / "dask.cert.json"
    result = run("check", local, remote, "--scheduler", cluster, "--sample", "100")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"OK   {local}", f"OK   {remote}"]
    assert run("check", remote, "--sample", "100").exit_code == 0  # and locally


@pytest.mark.slow
def test_the_executor_map_keeps_order_and_runs_the_kernels_own_function(cluster):
    from sympy.polys.domains import QQ

    prog = [(1, QQ(-1), ((0, QQ(1, 3)),))]  # relu(x / 3 - 1), in the kernel's program form
    points = [(QQ(k),) for k in range(40)]
    expected = [kernel_net.evaluate(prog, x, 1) for x in points]
    with parallel.Dask(cluster) as ex:
        assert ex.record() == {"kind": "dask", "workers": 2}
        assert list(ex.map(lambda x: kernel_net.evaluate(prog, x, 1), points)) == expected
    assert list(parallel.Local(2).map(lambda x: kernel_net.evaluate(prog, x, 1), points)) == expected


@pytest.mark.slow
def test_an_unreachable_scheduler_is_one_line_and_exit_3(work, monkeypatch):
    monkeypatch.setattr(parallel, "CONNECT_TIMEOUT", 1.0)
    for address in ("tcp://127.0.0.1:9", "no-such-protocol://x"):
        result = run("verify", work / "net.json", "--data", work / "a.npz", "--scheduler", address)
        assert result.exit_code == 3
        one_line_error(result, "cannot reach the Dask scheduler at", address)
        result = run("check", work / "nothing.cert.json", "--scheduler", address)
        assert result.exit_code == 3
        one_line_error(result, "cannot reach the Dask scheduler")


@pytest.mark.slow
def test_jobs_and_scheduler_together_is_a_usage_error(work, cluster):
    result = run("verify", work / "net.json", "--data", work / "a.npz", "--scheduler", cluster, "--jobs", "2")
    assert result.exit_code == 2
    one_line_error(result, "--jobs and --scheduler")
    result = run("compare", work / "a.npz", "--scheduler", cluster, "--jobs", "2")
    assert result.exit_code == 2  # before any build
    one_line_error(result, "--jobs and --scheduler")


@pytest.mark.slow
def test_compare_verifies_on_the_cluster(cluster, tmp_path):
    rng = np.random.default_rng(1)
    np.savez(tmp_path / "d.npz", X=rng.uniform(-1, 1, (300, 2)), y=rng.integers(1, 3, 300))
    result = run(
        "compare",
        tmp_path / "d.npz",
        "--only",
        "zhang2017,vardi2022",
        "--scheduler",
        cluster,
        "--sample",
        "50",
        "--keep",
        tmp_path / "kept",
        "--json",
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["rows"]
    assert [(r["construction"], r["outcome"]) for r in rows] == [("zhang2017", "certified"), ("vardi2022", "certified")]
    for name in ("zhang2017", "vardi2022"):
        cert = json.loads((tmp_path / "kept" / f"{name}.cert.json").read_text())
        assert cert["executor"] == {"kind": "dask", "workers": 2}


def test_compare_refuses_an_unreachable_scheduler_before_building(tmp_path, monkeypatch):
    monkeypatch.setattr(parallel, "CONNECT_TIMEOUT", 1.0)
    np.savez(tmp_path / "d.npz", X=np.eye(3), y=np.arange(3))
    result = run("compare", tmp_path / "d.npz", "--scheduler", "tcp://127.0.0.1:9", "--keep", tmp_path / "kept")
    assert result.exit_code == 3
    one_line_error(result, "cannot reach the Dask scheduler")
    assert not (tmp_path / "kept").exists() or not list((tmp_path / "kept").iterdir())


@pytest.mark.slow
def test_the_pytest_plugin_checks_certificates_on_the_cluster(cluster, pytester, good, work, monkeypatch):
    monkeypatch.setattr(parallel, "CONNECT_TIMEOUT", 1.0)
    for name in ("local.cert.json", "net.json", "a.npz"):
        (pytester.path / name).write_bytes((work / name).read_bytes())
    result = pytester.runpytest("--netcert", "-q", "--netcert-scheduler", cluster, "--netcert-sample", "50")
    result.assert_outcomes(passed=1)
    result = pytester.runpytest("--netcert", "-q", "--netcert-scheduler", "tcp://127.0.0.1:9", "--netcert-sample", "50")
    result.assert_outcomes(failed=1)
    assert "cannot reach the Dask scheduler" in result.stdout.str()
