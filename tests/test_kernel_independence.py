"""The trusted kernel imports only the standard library, sympy and numpy (numpy in read.py only),
never another part of netcert, gmpy2, networkx or jsonschema, and never uses floats."""

import ast
import sys
from pathlib import Path

import pytest

KERNEL = Path(__file__).resolve().parents[1] / "netcert" / "kernel"
MODULES = sorted(KERNEL.glob("*.py"))
ALLOWED = {"sympy", "numpy"}
NUMPY_ONLY_IN = {"read.py"}


def imports(path):
    """(top-level module name or None for a relative import, level, full name) of every import."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], 0, alias.name
        elif isinstance(node, ast.ImportFrom):
            name = node.module or ""
            yield (name.split(".")[0] if node.level == 0 else None), node.level, name


def test_kernel_has_modules():
    assert {p.name for p in MODULES} >= {"__init__.py", "__main__.py", "read.py", "check.py"}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_kernel_imports_only_stdlib_sympy_numpy(path):
    for top, level, name in imports(path):
        if level > 0:
            assert level == 1, f"{path.name}: relative import {name!r} leaves the kernel package"
            continue
        if top == "netcert":
            assert name == "netcert.kernel" or name.startswith("netcert.kernel."), f"{path.name} imports {name}"
            continue
        assert top in sys.stdlib_module_names or top in ALLOWED, f"{path.name} imports {name}"
        assert top not in {"gmpy2", "networkx", "jsonschema", "jsonschema_rs", "flint"}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_kernel_uses_numpy_only_in_the_reader(path):
    if path.name in NUMPY_ONLY_IN:
        return
    assert all(top != "numpy" for top, _, _ in imports(path)), f"{path.name} imports numpy"
    names = {n.id for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Name)}
    assert not names & {"numpy", "np"}, f"{path.name} mentions numpy"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_kernel_has_no_floats_and_no_dynamic_imports(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        assert not (isinstance(node, ast.Constant) and isinstance(node.value, (float, complex))), (
            f"{path.name}:{node.lineno}: float literal"
        )
        if isinstance(node, ast.Name):
            assert node.id not in {"float", "__import__", "eval", "exec", "importlib"}, (
                f"{path.name}:{node.lineno}: uses {node.id}"
            )
        if isinstance(node, ast.Attribute):
            assert node.attr not in {"set_int_max_str_digits", "import_module"}, (
                f"{path.name}:{node.lineno}: uses .{node.attr}"
            )


def _dotted(node) -> str | None:
    """'numpy.lib.format.read_array' for that attribute chain, None for anything else."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return ".".join([node.id, *reversed(parts)]) if isinstance(node, ast.Name) else None


def test_kernel_reader_uses_numpy_only_to_load_arrays():
    """numpy in the kernel is the .npy format's reader (header first, then the data, never a pickle)
    and unravel_index for messages: nothing that computes."""
    tree = ast.parse((KERNEL / "read.py").read_text())
    chains = {_dotted(n) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    used = {c for c in chains if c and c.startswith("numpy.")}
    allowed = (
        {"numpy.lib", "numpy.lib.format"}
        | {
            f"numpy.lib.format.{f}"
            for f in ("read_magic", "read_array_header_1_0", "read_array_header_2_0", "read_array")
        }
        | {"numpy.unravel_index"}
    )
    assert used <= allowed, used - allowed
    reads = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and _dotted(n.func) == "numpy.lib.format.read_array"]
    assert reads and all(any(k.arg == "allow_pickle" and k.value.value is False for k in c.keywords) for c in reads)


def test_independence_check_catches_a_bad_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import gmpy2\nfrom netcert.ir import network\nfrom .. import formats\n")
    found = list(imports(bad))
    assert ("gmpy2", 0, "gmpy2") in found
    assert ("netcert", 0, "netcert.ir") in found
    assert (None, 2, "") in found
