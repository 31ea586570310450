"""Plugins: a construction installed from a temporary directory is built, certified, checked, swept and
compared like a built-in one; broken plugins and bad construction files are one line, never a traceback."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest

from netcert import dataset
from netcert.constructions import registry
from netcert.errors import InputError, UsageError

# A complete construction written against the public API: the zig-zag of gadgets.zigzag on a projection.
PLUGIN = textwrap.dedent(
    '''
    """pluginzz: a test plugin, the zig-zag interpolant as an installed construction."""
    import sympy
    from netcert.constructions import Construction, SizeClaim, Theorem, input_nodes, on_inputs
    from netcert.gadgets.projection import find_projection
    from netcert.gadgets.wiring import Affine, combination, output, relu
    from netcert.gadgets.zigzag import zigzag
    from netcert.ir import network as net

    def build(data, *, seed=0):
        p = find_projection(data, seed)
        order = sorted(range(data.n), key=p.z.__getitem__)
        kinks, weights = zigzag([p.z[i] for i in order], [data.labels[i] for i in order])
        inputs = input_nodes(data)
        G = net.new_network(inputs, construction={"name": "pluginzz", "options": {"seed": seed},
                            "reference": "tests/test_plugins.py"}, dataset=data.digest)
        t = Affine(dict(on_inputs(inputs, p.u, data)))
        hidden = [relu(G, f"h[{k}]", 1, t - kappa) for k, kappa in enumerate(kinks)]
        output(G, "out", 2, combination(0, zip(weights, hidden)))
        return G

    N = sympy.Symbol("N", integer=True)
    CONSTRUCTION = Construction(
        name="pluginzz", paper="a test", reference="tests/test_plugins.py", assumptions="distinct points",
        options={"seed": "the projection's seed"}, check=lambda data, options: [], build=build,
        size=lambda G, data: SizeClaim({"depth": sympy.Integer(2), "width": N, "neurons": N + 1}, {"N": data.n}),
        theorem=Theorem("n points, n ReLUs", "O(N)"),
        predict=lambda data, seed: (10**9, {}),
    )
    '''
)


def wheel(tmp: Path, module: str, source: str, entry_points: dict[str, str], dist: str = "netcert_test_plugin") -> Path:
    """A wheel (PEP 427) holding one module and its entry points in the group netcert.constructions."""
    info = f"{dist}-0.1.dist-info"
    files = {
        f"{module}.py": source,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{info}/entry_points.txt": "[netcert.constructions]\n"
        + "".join(f"{k} = {v}\n" for k, v in entry_points.items()),
    }
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join(record + [f"{info}/RECORD,,"]) + "\n"
    path = tmp / f"{dist}-0.1-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return path


def install(tmp: Path, whl: Path) -> dict[str, str]:
    """pip-install the wheel into a directory of its own; the environment that sees it."""
    site = tmp / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target", str(site), str(whl)],
        check=True,
        capture_output=True,
    )
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), *filter(None, [os.environ.get("PYTHONPATH")])]))


def netcert(env: dict[str, str] | None, *args: object, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "netcert", *map(str, args)], env=env, cwd=cwd, capture_output=True, text=True
    )


def one_line_error(r: subprocess.CompletedProcess, code: int, *words: str) -> None:
    assert r.returncode == code, r.stderr
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("netcert: error: ") and "Traceback" not in r.stderr
    for w in words:
        assert w in r.stderr, r.stderr


@pytest.fixture
def data(tmp_path) -> Path:
    rng = np.random.default_rng(4)
    path = tmp_path / "data.npz"
    np.savez(path, X=rng.uniform(-1, 1, (30, 3)), y=rng.integers(0, 3, 30))
    return path


def test_an_installed_plugin_is_treated_like_a_built_in(tmp_path, data):
    env = install(tmp_path, wheel(tmp_path, "pluginzz_module", PLUGIN, {"pluginzz": "pluginzz_module:CONSTRUCTION"}))
    r = netcert(env, "constructions")
    assert r.returncode == 0 and "\npluginzz\n" in r.stdout and not r.stderr, r.stderr
    r = netcert(env, "build", data, "-c", "pluginzz", "-o", tmp_path / "net.json")
    assert r.returncode == 0 and "pluginzz on 30 points" in r.stdout, r.stderr
    r = netcert(env, "verify", tmp_path / "net.json", "--data", data, "--jobs", "1", "-q")
    assert r.returncode == 0 and "CERTIFIED" in r.stdout and "pluginzz: size formulas hold" in r.stdout, r.stderr
    text = (tmp_path / "net.cert.json").read_text()
    cert = json.loads(text)
    assert cert["construction"]["name"] == "pluginzz" and cert["construction"]["size"]["holds"]
    assert str(tmp_path) not in text and "site" not in json.dumps(cert["construction"])  # nothing machine-specific
    assert netcert(env, "check", tmp_path / "net.cert.json", "--jobs", "1", "-q").returncode == 0
    r = netcert(env, "sweep", "-c", "pluginzz,zhang2017", "--n", "10,20", "--no-plots", "--out", tmp_path / "sw")
    assert r.returncode == 0 and "pluginzz" in (tmp_path / "sw" / "sweep.csv").read_text(), r.stderr
    r = netcert(env, "compare", data, "--only", "pluginzz", "--jobs", "1", "--json")
    assert r.returncode == 0 and "pluginzz" in r.stdout, r.stderr
    r = netcert(env, "build", data, "-o", tmp_path / "auto.json")  # auto predicts it (10^9: not chosen)
    assert r.returncode == 0, r.stderr
    auto = json.loads((tmp_path / "auto.json").read_text())["graph"]["construction"]["options"]["auto"]
    assert auto["predicted_nonzero"]["pluginzz"] == 10**9 and auto["chosen"] != "pluginzz"
    # without the plugin on the path the name is unknown (exit 2), and check reports the difference
    bare = {k: v for k, v in env.items() if k != "PYTHONPATH"}
    r = netcert(bare, "build", data, "-c", "pluginzz", "-o", tmp_path / "x.json")
    one_line_error(r, 2, "unknown construction 'pluginzz'")


BROKEN = {
    "fails": ("broken_fails", "raise RuntimeError('no GPU here')\n", "cannot be imported: RuntimeError: no GPU here"),
    "notone": ("broken_notone", "CONSTRUCTION = 42\n", "is a int, not a netcert.constructions.Construction"),
    "zhang2017": ("broken_shadow", "CONSTRUCTION = 1\n", "has the name of a built-in construction"),
    "renamed": ("broken_renamed", PLUGIN, "is the construction 'pluginzz', not 'renamed'"),
}


@pytest.fixture
def broken(tmp_path, monkeypatch) -> Path:
    """Four broken plugins, installed by hand (a dist-info directory) on this process' path."""
    site = tmp_path / "broken-site"
    info = site / "netcert_broken-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: netcert_broken\nVersion: 0.1\n")
    lines = ["[netcert.constructions]"]
    for name, (module, source, _) in BROKEN.items():
        (site / f"{module}.py").write_text(source)
        lines.append(f"{name} = {module}:CONSTRUCTION")
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    monkeypatch.syspath_prepend(str(site))
    registry.reload_plugins()
    yield site
    registry.reload_plugins()


def test_broken_plugins_are_left_out_with_one_warning_line_each(broken, capsys):
    names = list(registry.CONSTRUCTIONS)
    assert names[: len(registry.BUILTIN)] == list(registry.BUILTIN) and len(names) == len(registry.BUILTIN)
    err = capsys.readouterr().err.splitlines()
    assert len(err) == len(BROKEN) and all(line.startswith("netcert: warning: plugin '") for line in err)
    for name, (_, _, problem) in BROKEN.items():
        assert any(f"'{name}'" in line and problem in line for line in err), (name, err)
    assert registry.get("zhang2017") is registry.BUILTIN["zhang2017"]  # not shadowed
    with pytest.raises(InputError, match="no GPU here"):
        registry.get("fails")
    list(registry.CONSTRUCTIONS)
    assert capsys.readouterr().err == ""  # once per process


def test_the_constructions_command_warns_and_succeeds(broken):
    env = dict(os.environ, PYTHONPATH=str(broken))
    r = netcert(env, "constructions")
    assert r.returncode == 0 and "Traceback" not in r.stderr
    assert len(r.stderr.splitlines()) == len(BROKEN) and "hernandez2025" in r.stdout
    r = netcert(env, "build", "x.npz", "-c", "fails", "-o", "n.json", cwd=broken)
    *warnings, error = r.stderr.splitlines()  # the build command lists every plugin's options: the warnings
    assert r.returncode == 3 and error.startswith("netcert: error: plugin 'fails'") and "no GPU here" in error
    assert all(w.startswith("netcert: warning: plugin") for w in warnings) and "Traceback" not in r.stderr


def test_a_construction_file_builds_and_is_known_by_its_name(tmp_path, data):
    (tmp_path / "zz.py").write_text(PLUGIN)
    r = netcert(None, "build", data, "-c", f"{tmp_path / 'zz.py'}:CONSTRUCTION", "-o", tmp_path / "net.json")
    assert r.returncode == 0 and "pluginzz on 30 points" in r.stdout, r.stderr
    assert json.loads((tmp_path / "net.json").read_text())["graph"]["construction"]["name"] == "pluginzz"
    c = registry.get(f"{tmp_path / 'zz.py'}:pluginzz")  # by the construction's name as well
    assert registry.get("pluginzz") is c and "pluginzz" not in registry.CONSTRUCTIONS  # in this process only
    G = c.build(dataset.load(data))
    assert G.graph["construction"]["name"] == "pluginzz"
    registry.reload_plugins()
    with pytest.raises(UsageError):
        registry.get("pluginzz")


@pytest.mark.parametrize(
    "source, attr, problem",
    [
        (None, "CONSTRUCTION", "no such construction file"),
        ("def (:\n", "CONSTRUCTION", "cannot be imported: SyntaxError"),
        ("import sys\nsys.exit(5)\n", "CONSTRUCTION", "cannot be imported: SystemExit"),
        ("X = 1\n", "NOPE", "defines no construction 'NOPE'"),
        ("X = 1\n", "X", "X is a int, not a netcert.constructions.Construction"),
        (
            "from netcert.constructions import registry\nC = registry.get('zhang2017')\n",
            "C",
            "has the name 'zhang2017' of a built-in",
        ),
    ],
)
def test_a_bad_construction_file_is_one_line_and_exit_3(tmp_path, data, source, attr, problem):
    path = tmp_path / "c.py"
    if source is not None:
        path.write_text(source)
    r = netcert(None, "build", data, "-c", f"{path}:{attr}", "-o", tmp_path / "net.json")
    one_line_error(r, 3, f"{path}: ", problem)
    assert not (tmp_path / "net.json").exists()
