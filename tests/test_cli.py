"""The command line: exit codes 0/1/2/3, one-line errors, determinism, atomic outputs.

Most cases run in-process with click's CliRunner; a few run ``python -m netcert``
in a subprocess to see the real exit code and the real stderr.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from netcert.cli import cli

ROOT = Path(__file__).resolve().parents[1]


def run(*args, cwd=None):
    runner = CliRunner()
    result = runner.invoke(cli, [str(a) for a in args], catch_exceptions=True)
    # Only SystemExit is expected: any other exception is a crash (a traceback for a user).
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"netcert {' '.join(map(str, args))} crashed") from result.exception
    return result


def one_line_error(result, *fragments):
    err = result.stderr
    lines = err.strip("\n").split("\n")
    assert len(lines) == 1, err
    assert lines[0].startswith("netcert: error:"), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], err
    return lines[0]


def files_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


# ---------------------------------------------------------------- fixtures


def dataset_arrays(seed=0, n=12, d=3):
    rng = np.random.default_rng(seed)
    X = np.round(rng.standard_normal((n, d)) * 8) / 8
    X[:, 0] += np.arange(n)  # distinct points
    y = rng.integers(-2, 3, n)
    return X, y


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """Dataset A, its network and certificate, built once for the module."""
    root = tmp_path_factory.mktemp("cli")
    X, y = dataset_arrays()
    np.savez(root / "a.npz", X=X, y=y)
    yb = y.copy()
    yb[5] += 1  # dataset B: one label flipped
    np.savez(root / "b.npz", X=X, y=yb)
    result = run("build", root / "a.npz", "-o", root / "net.json")
    assert result.exit_code == 0, result.output
    result = run("verify", root / "net.json", "--data", root / "a.npz", "-o", root / "net.cert.json")
    assert result.exit_code == 0, result.output
    return root


# ---------------------------------------------------------------- build, verify, check


def test_build_then_verify_certifies(work, tmp_path):
    assert (work / "net.json").is_file()
    cert = json.loads((work / "net.cert.json").read_text())
    assert cert["verdict"] == "certified"
    assert cert["interpolation"]["exact"] is True
    assert cert["dataset"]["n"] == 12 and cert["dataset"]["d"] == 3
    assert cert["network"]["path"] == "net.json"
    assert cert["dataset"]["path"] == "a.npz"
    assert cert["construction"]["name"] == "zhang2017"
    result = run("verify", work / "net.json", "--data", work / "a.npz", "-o", tmp_path / "c.cert.json")
    assert result.exit_code == 0
    assert "CERTIFIED" in result.stdout
    assert result.stderr == ""


def test_build_message(work, tmp_path):
    result = run("build", work / "a.npz", "-o", tmp_path / "n.json")
    assert result.exit_code == 0
    assert "zhang2017" in result.stdout and "12 points" in result.stdout


def test_default_certificate_name(work, tmp_path):
    net = tmp_path / "model.json.gz"
    assert run("build", work / "a.npz", "-o", net).exit_code == 0
    assert run("verify", net, "--data", work / "a.npz").exit_code == 0
    assert (tmp_path / "model.cert.json").is_file()


def test_build_is_deterministic(work, tmp_path):
    for name in ("one.json", "two.json"):
        assert run("build", work / "a.npz", "-o", tmp_path / name).exit_code == 0
    assert (tmp_path / "one.json").read_bytes() == (tmp_path / "two.json").read_bytes()
    assert (tmp_path / "one.json").read_bytes() == (work / "net.json").read_bytes()
    for name in ("one.json.gz", "two.json.gz"):
        assert run("build", work / "a.npz", "-o", tmp_path / name).exit_code == 0
    assert (tmp_path / "one.json.gz").read_bytes() == (tmp_path / "two.json.gz").read_bytes()


def test_verify_is_deterministic(work, tmp_path):
    net = tmp_path / "net.json"
    net.write_bytes((work / "net.json").read_bytes())
    data = tmp_path / "a.npz"
    data.write_bytes((work / "a.npz").read_bytes())
    for name in ("first.cert.json", "second.cert.json"):
        assert run("verify", net, "--data", data, "-o", tmp_path / name).exit_code == 0
    first = (tmp_path / "first.cert.json").read_bytes()
    assert first == (tmp_path / "second.cert.json").read_bytes()
    assert first == (work / "net.cert.json").read_bytes()


def test_flipped_label_is_refuted(work, tmp_path):
    out = tmp_path / "b.cert.json"
    result = run("verify", work / "net.json", "--data", work / "b.npz", "-o", out)
    assert result.exit_code == 1
    assert "REFUTED" in result.stdout
    cert = json.loads(out.read_text())
    assert cert["verdict"] == "refuted"
    assert cert["interpolation"]["exact"] is False
    assert cert["interpolation"]["mismatch_count"] == 1
    assert [m["index"] for m in cert["interpolation"]["mismatches"]] == [5]


def test_check_ok_then_one_changed_byte_fails(work, tmp_path):
    # CSV: change one digit of one value.
    X, y = dataset_arrays(seed=1, n=10, d=2)
    lines = [",".join(repr(float(v)) for v in row) + f",{int(label)}" for row, label in zip(X, y)]
    data = tmp_path / "d.csv"
    data.write_text("a,b,label\n" + "\n".join(lines) + "\n")
    net, cert = tmp_path / "n.json", tmp_path / "n.cert.json"
    assert run("build", data, "-o", net).exit_code == 0
    assert run("verify", net, "--data", data, "-o", cert).exit_code == 0
    result = run("check", cert)
    assert result.exit_code == 0, result.output
    assert "OK" in result.stdout
    raw = bytearray(data.read_bytes())
    k = raw.index(b",", raw.index(b"\n")) - 1  # last digit of the first coordinate of the first point
    raw[k] = ord("7") if raw[k] != ord("7") else ord("3")
    data.write_bytes(bytes(raw))
    result = run("check", cert)
    assert result.exit_code == 1
    assert "FAIL" in result.stdout


def test_check_fails_after_npz_byte_change(work, tmp_path):
    data, net, cert = tmp_path / "a.npz", tmp_path / "net.json", tmp_path / "net.cert.json"
    for p in (data, net, cert):
        p.write_bytes((work / p.name).read_bytes())
    assert run("check", cert).exit_code == 0
    raw = bytearray(data.read_bytes())
    X, _ = dataset_arrays()
    k = bytes(raw).index(X.tobytes()[:16]) + 3
    raw[k] ^= 0x01
    data.write_bytes(bytes(raw))
    result = run("check", cert)
    assert result.exit_code == 1
    assert "FAIL" in result.stdout


def test_check_fails_after_network_byte_change(work, tmp_path):
    data, net, cert = tmp_path / "a.npz", tmp_path / "net.json", tmp_path / "net.cert.json"
    for p in (data, net, cert):
        p.write_bytes((work / p.name).read_bytes())
    text = net.read_text()
    # Change one digit of one bias (still a valid, canonical number).
    k = text.index('"bias":"') + len('"bias":"')
    while not text[k].isdigit() or text[k] == "0":
        k += 1
    new_digit = "2" if text[k] == "1" else "1"
    net.write_text(text[:k] + new_digit + text[k + 1 :])
    result = run("check", cert)
    assert result.exit_code == 1
    assert "FAIL" in result.stdout


def test_check_non_json_certificate(tmp_path):
    cert = tmp_path / "bad.cert.json"
    cert.write_text("this is not JSON\n")
    result = run("check", cert)
    assert result.exit_code == 3
    one_line_error(result, str(cert))


def test_check_schema_invalid_certificate(tmp_path):
    cert = tmp_path / "bad.cert.json"
    cert.write_text('{"format": "netcert.certificate"}\n')
    result = run("check", cert)
    assert result.exit_code == 3
    one_line_error(result, str(cert))


def test_check_missing_certificate(tmp_path):
    result = run("check", tmp_path / "nope.cert.json")
    assert result.exit_code == 3
    one_line_error(result, "nope.cert.json")


# ---------------------------------------------------------------- bad inputs


def test_nan_dataset_exit_3(tmp_path):
    X, y = dataset_arrays()
    X[4, 2] = np.nan
    data = tmp_path / "nan.npz"
    np.savez(data, X=X, y=y)
    result = run("build", data, "-o", tmp_path / "net.json")
    assert result.exit_code == 3
    one_line_error(result, str(data), "X[4, 2]")
    assert files_in(tmp_path) == ["nan.npz"]


def test_conflicting_duplicates_exit_3(tmp_path):
    X, y = dataset_arrays()
    X[7] = X[2]
    y[7] = y[2] + 1
    data = tmp_path / "dup.npz"
    np.savez(data, X=X, y=y)
    result = run("build", data, "-o", tmp_path / "net.json")
    assert result.exit_code == 3
    one_line_error(result, str(data), "rows 2 and 7")
    assert files_in(tmp_path) == ["dup.npz"]


def test_unknown_construction_exit_2(work, tmp_path):
    result = run("build", work / "a.npz", "--construction", "nope2099", "-o", tmp_path / "net.json")
    assert result.exit_code == 2
    one_line_error(result, "nope2099", "zhang2017")
    assert files_in(tmp_path) == []


def test_missing_file_exit_3_one_line(tmp_path, work):
    """A file that cannot be read is bad input (exit 3, the contract's one line), not a usage error."""
    for args in (
        ("build", tmp_path / "missing.npz"),
        ("verify", work / "net.json", "--data", tmp_path / "missing.npz"),
        ("verify", tmp_path / "missing.json", "--data", work / "a.npz"),
        ("inspect", tmp_path / "missing.json"),
        ("check", tmp_path / "missing.cert.json"),
    ):
        result = run(*args)
        assert result.exit_code == 3, (args, result.output)
        one_line_error(result, "missing.", "No such file")


def test_unknown_command_and_option_exit_2(work):
    assert run("frobnicate").exit_code == 2
    assert run("build", work / "a.npz", "--no-such-option").exit_code == 2
    assert run("verify", work / "net.json").exit_code == 2  # --data is required
    assert run("verify", work / "net.json", "--data", work / "a.npz", "--sample", "0").exit_code == 2


@pytest.mark.parametrize(
    "content, fragment",
    [
        ("{not json", "JSON"),
        ('{"directed": true}', "schema"),
        (None, "weight"),  # a float weight
        ("backward", "invalid network"),
    ],
)
def test_invalid_network_exit_3(work, tmp_path, content, fragment):
    net = tmp_path / "bad.json"
    doc = json.loads((work / "net.json").read_text())
    if content is None:
        doc["edges"][0]["weight"] = 0.5
        net.write_text(json.dumps(doc))
    elif content == "backward":
        # An edge from the output back to an input: schema-valid, semantically invalid.
        doc["edges"].append({"source": doc["graph"]["outputs"][0], "target": doc["graph"]["inputs"][0], "weight": "1"})
        net.write_text(json.dumps(doc))
    else:
        net.write_text(content)
    out = tmp_path / "bad.cert.json"
    result = run("verify", net, "--data", work / "a.npz", "-o", out)
    assert result.exit_code == 3
    one_line_error(result, str(net), fragment)
    assert not out.exists()
    assert files_in(tmp_path) == ["bad.json"]


def test_verify_mismatched_d_exit_3(work, tmp_path):
    X, y = dataset_arrays(d=2)
    data = tmp_path / "d2.npz"
    np.savez(data, X=X, y=y)
    out = tmp_path / "x.cert.json"
    result = run("verify", work / "net.json", "--data", data, "-o", out)
    assert result.exit_code == 3
    one_line_error(result, "3 inputs", "d = 2")
    assert not out.exists()


def test_verify_bad_dataset_writes_nothing(work, tmp_path):
    X, y = dataset_arrays()
    y = y.astype(np.float64)
    y[3] = np.inf
    data = tmp_path / "inf.npz"
    np.savez(data, X=X, y=y)
    out = tmp_path / "out.cert.json"
    result = run("verify", work / "net.json", "--data", data, "-o", out)
    assert result.exit_code == 3
    one_line_error(result, str(data), "y[3]")
    assert files_in(tmp_path) == ["inf.npz"]


def test_verify_keeps_an_existing_certificate_on_bad_input(work, tmp_path):
    out = tmp_path / "keep.cert.json"
    out.write_bytes(b"previous content")
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2,3\n4,5\n")
    result = run("verify", work / "net.json", "--data", bad, "-o", out)
    assert result.exit_code == 3
    one_line_error(result, str(bad), "line 2")
    assert out.read_bytes() == b"previous content"
    assert files_in(tmp_path) == ["bad.csv", "keep.cert.json"]


def test_output_into_missing_directory_exit_3(work, tmp_path):
    result = run("build", work / "a.npz", "-o", tmp_path / "no" / "such" / "net.json")
    assert result.exit_code == 3
    one_line_error(result, "does not exist")


def test_multi_output_network_refused(work, tmp_path):
    doc = json.loads((work / "net.json").read_text())
    out0 = doc["graph"]["outputs"][0]
    doc["nodes"].append({"id": "second", "layer": 2, "activation": "identity", "bias": "1"})
    doc["graph"]["outputs"] = [out0, "second"]
    net = tmp_path / "two.json"
    net.write_text(json.dumps(doc))
    result = run("verify", net, "--data", work / "a.npz", "-o", tmp_path / "two.cert.json")
    assert result.exit_code == 3
    one_line_error(result)
    assert not (tmp_path / "two.cert.json").exists()


# ---------------------------------------------------------------- inspect, constructions, demo, version


def test_inspect_prints_layer_table(work):
    result = run("inspect", work / "net.json")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    header = lines[0].split()
    assert header[:3] == ["layer", "width", "activation"]
    rows = [line.split() for line in lines[1:4]]
    assert [r[0] for r in rows] == ["0", "1", "2"]
    assert rows[0][1] == "3" and rows[0][2] == "input"
    assert rows[1][1] == "12" and rows[1][2] == "relu"
    assert rows[2][1] == "1" and rows[2][2] == "identity"
    assert "depth 2" in result.stdout and "width 12" in result.stdout and "layered" in result.stdout
    assert "zhang2017" in result.stdout


def test_inspect_invalid_network_exit_3(work, tmp_path):
    doc = json.loads((work / "net.json").read_text())
    doc["edges"].append({"source": doc["graph"]["outputs"][0], "target": doc["graph"]["inputs"][0], "weight": "1"})
    net = tmp_path / "bad.json"
    net.write_text(json.dumps(doc))
    result = run("inspect", net)
    assert result.exit_code == 3
    assert "error" in result.output


def test_constructions_lists_zhang2017():
    result = run("constructions")
    assert result.exit_code == 0
    assert "zhang2017" in result.stdout
    assert "Zhang" in result.stdout


def test_demo(tmp_path):
    out = tmp_path / "demo"
    result = run("demo", "--out", out)
    assert result.exit_code == 0, result.output
    assert "CERTIFIED" in result.stdout
    assert {"demo.npz", "net.json", "net.cert.json"} <= set(files_in(out))
    cert = json.loads((out / "net.cert.json").read_text())
    assert cert["verdict"] == "certified"
    assert run("check", out / "net.cert.json").exit_code == 0


def test_version_and_help():
    result = run("--version")
    assert result.exit_code == 0 and "netcert" in result.stdout
    result = run("--help")
    assert result.exit_code == 0
    for command in ("build", "verify", "check", "inspect", "constructions", "demo"):
        assert command in result.stdout


# ---------------------------------------------------------------- real processes


def netcert_process(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "netcert", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_subprocess_bad_dataset_one_line_exit_3(tmp_path, work):
    X, y = dataset_arrays()
    X[1, 0] = np.inf
    data = tmp_path / "bad.npz"
    np.savez(data, X=X, y=y)
    out = tmp_path / "c.cert.json"
    proc = netcert_process("verify", work / "net.json", "--data", data, "-o", out, cwd=tmp_path)
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip("\n").split("\n")
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("netcert: error:")
    assert str(data) in lines[0] and "X[1, 0]" in lines[0]
    assert "Traceback" not in proc.stderr
    assert files_in(tmp_path) == ["bad.npz"]


@pytest.mark.slow
def test_subprocess_usage_errors_exit_2(tmp_path):
    proc = netcert_process("build", tmp_path / "missing.npz", cwd=tmp_path)
    assert proc.returncode == 3
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"netcert: error: {tmp_path / 'missing.npz'}: cannot read")
    proc = netcert_process(
        "build", ROOT / "netcert" / "examples" / "demo.npz", "-c", "nope", "-o", tmp_path / "n.json", cwd=tmp_path
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("netcert: error:") and proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "n.json").exists()


@pytest.mark.slow
def test_subprocess_invalid_network_exit_3(tmp_path, work):
    net = tmp_path / "net.json"
    net.write_text('{"directed": true, "multigraph": false, "graph": {}, "nodes": [], "edges": []}')
    proc = netcert_process("verify", net, "--data", work / "a.npz", cwd=tmp_path)
    assert proc.returncode == 3
    assert proc.stderr.startswith("netcert: error:") and proc.stderr.count("\n") == 1, proc.stderr
    assert str(net) in proc.stderr
    assert "Traceback" not in proc.stderr
    assert files_in(tmp_path) == ["net.json"]


def test_start_up_loads_no_heavy_module():
    """`netcert --help` and `--version` answer without sympy, scipy, networkx or numpy (measured 0.12 s
    for --version against 1.3 s when cli imported the library at start-up)."""
    code = (
        "import sys; from netcert import cli; "
        "print(sorted(m for m in ('sympy', 'scipy', 'networkx', 'numpy', 'gmpy2') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "[]", proc.stdout + proc.stderr
    assert run("--version").exit_code == 0 and run("--help").exit_code == 0


def test_build_refuses_to_overwrite_without_force(tmp_path, work):
    out = tmp_path / "n.json"
    out.write_text("mine")
    result = run("build", work / "a.npz", "-c", "zhang2017", "-o", out)
    assert result.exit_code == 3
    one_line_error(result, str(out), "--force")
    assert out.read_text() == "mine"
    assert run("build", work / "a.npz", "-c", "zhang2017", "-o", out, "--force").exit_code == 0
    assert out.read_text() != "mine"


def test_build_budget_stops_and_writes_nothing(tmp_path):
    rng = np.random.default_rng(0)
    data = tmp_path / "d.npz"
    np.savez(data, X=rng.standard_normal((3000, 10)), y=rng.integers(0, 3, 3000))
    result = run("build", data, "-c", "bubeck2020", "-o", tmp_path / "n.json", "--budget", "0.5")
    assert result.exit_code == 3
    one_line_error(result, "budget of 0.5 s", "nothing was written")
    assert files_in(tmp_path) == ["d.npz"]


def test_refusal_names_the_constructions_that_accept_the_data(tmp_path):
    rng = np.random.default_rng(0)
    data = tmp_path / "real.npz"
    np.savez(data, X=rng.standard_normal((20, 3)), y=rng.standard_normal(20))
    result = run("build", data, "-c", "vardi2022", "-o", tmp_path / "n.json")
    assert result.exit_code == 3
    line = one_line_error(result, "vardi2022 needs integer labels", "constructions that accept it: ")
    assert "zhang2017" in line.split("accept it:")[1] and "vardi2022" not in line.split("accept it:")[1]


@pytest.mark.parametrize(
    "text, flags, fragments",
    [
        # a label in the first column, read as the last: two points collide with different "labels"
        ("y,a,b\n0,1,1\n0,1,2\n1,2,2\n", [], ["identical points with different labels", "--label-column"]),
        # a pandas index column, silently a feature before
        (",a,b,y\n0,1.5,2,0\n1,3,4,1\n2,5,1,0\n", [], ["--index-column drop", "index=False"]),
        # semicolons: the whole line is one field
        ("a;b;y\n1;2;0\n3;4;1\n", [], ["--delimiter"]),
        # string labels
        ("a,b,species\n1,2,setosa\n3,4,virginica\n", [], ["'setosa'", "--labels map"]),
    ],
)
def test_csv_as_people_have_it_is_refused_with_a_way_out(tmp_path, text, flags, fragments):
    data = tmp_path / "d.csv"
    data.write_text(text)
    result = run("build", data, "-c", "zhang2017", "-o", tmp_path / "n.json", *flags)
    assert result.exit_code == 3
    line = one_line_error(result, str(data), *fragments)
    assert "column 0" not in line  # columns count from 1
    assert files_in(tmp_path) == ["d.csv"]


@pytest.mark.parametrize(
    "text, flags",
    [
        ("y,a,b\n0,1,1\n1,1,2\n0,2,2\n", ["--label-column", "1"]),
        ("y,a,b\n0,1,1\n1,1,2\n0,2,2\n", ["--label-column", "y"]),
        (",a,b,y\n0,1.5,2,0\n1,3,4,1\n2,5,1,0\n", ["--index-column", "drop"]),
        ("a;b;y\n1;2;0\n3;4;1\n", ["--delimiter", "auto"]),
        ("a\tb\ty\n1\t2\t0\n3\t4\t1\n", ["--delimiter", "tab"]),
        ("a,b,species\n1,2,setosa\n3,4,virginica\n", ["--labels", "map"]),
    ],
)
def test_csv_flags_build_verify_and_check(tmp_path, text, flags):
    data, net, cert = tmp_path / "d.csv", tmp_path / "n.json", tmp_path / "n.cert.json"
    data.write_text(text)
    assert run("build", data, "-c", "zhang2017", "-o", net, *flags).exit_code == 0
    result = run("verify", net, "--data", data, "-o", cert, "-j", "1", *flags)
    assert result.exit_code == 0, result.output
    assert run("check", cert, "-j", "1").exit_code == 0  # the certificate carries the reading


def test_extreme_coordinates_never_exit_1_after_a_certificate(tmp_path):
    """Coordinates of +-1e300 once crashed the summary (a float overflow) after a certified run, exit 1."""
    X = np.array([[1e300, -1e300], [-1e300, 1e300], [1e300, 1e300]])
    data = tmp_path / "d.npz"
    np.savez(data, X=X, y=np.array([0, 1, 2]))
    built = run("build", data, "-c", "zhang2017", "-o", tmp_path / "n.json")
    assert built.exit_code in (0, 3), built.output
    if built.exit_code == 0:
        result = run("verify", tmp_path / "n.json", "--data", data, "-o", tmp_path / "c.cert.json", "-j", "1")
        assert result.exit_code == 0, result.output
        assert "min squared separation ~" in result.output


def test_every_command_module_registers_its_commands():
    """Each module of netcert.cli.COMMANDS adds its commands to the group (adding a family is a
    one-line change): the group holds exactly the commands the modules register."""
    import click

    from netcert import cli as package

    registered = set()
    for module in package.COMMANDS:
        group = click.Group()
        module.register(group)
        assert group.commands, module.__name__
        registered |= set(group.commands)
    assert registered == set(cli.commands)
    assert {"build", "verify", "check", "inspect", "constructions", "compare", "sweep", "demo"} <= registered


@pytest.mark.parametrize(
    "net,cert",
    [("a/net.json", "a/net.cert.json"), ("a/m.json.gz", "a/m.cert.json"), ("a/model", "a/model.cert.json")],
)
def test_certificate_name_is_beside_the_network(net, cert):
    from netcert import workflow

    assert workflow.certificate_name(Path(net)) == Path(cert)


def test_certificate_files_expand_directories_sorted_and_refuse_an_empty_one(tmp_path):
    from netcert import workflow
    from netcert.errors import InputError

    (tmp_path / "d" / "sub").mkdir(parents=True)
    for p in ("d/sub/b.cert.json", "d/a.cert.json", "d/c.json", "x.cert.json"):
        (tmp_path / p).write_text("{}")
    got = workflow.certificate_files([tmp_path / "x.cert.json", tmp_path / "d"])
    assert got == [tmp_path / "x.cert.json", tmp_path / "d" / "a.cert.json", tmp_path / "d" / "sub" / "b.cert.json"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no \\*.cert.json file"):
        workflow.certificate_files([tmp_path / "empty"])


def test_a_budget_names_the_stage_it_stopped_in_and_refuses_zero():
    import time

    from netcert import workflow
    from netcert.errors import InputError, UsageError

    stage = ["starting"]
    with pytest.raises(InputError, match="work: stopped at the budget of 0.05 s, while sleeping"):
        with workflow.budget(0.05, "work", stage):
            stage.append("sleeping")
            time.sleep(5)
    with workflow.budget(None, "work", stage):  # no budget: the block runs to its end
        pass
    with pytest.raises(UsageError, match="positive"):
        with workflow.budget(0, "work", stage):
            pass
