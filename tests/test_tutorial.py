"""docs/new-construction.md runs: its construction file, its data, and every ``$ netcert`` line with its output.

The file construction is built, certified and swept (section 3), then installed as a plugin from a wheel
holding the tutorial's module and its pyproject's entry points (section 4), and certified again.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from test_plugins import install, wheel

DOC = Path(__file__).resolve().parents[1] / "docs" / "new-construction.md"


def blocks(text: str) -> list[tuple[str, str]]:
    """Every fenced block of the page: (language, body)."""
    return [(m.group(1), m.group(2)) for m in re.finditer(r"^```(\w*)\n(.*?)^```$", text, re.S | re.M)]


def commands(block: str) -> list[tuple[str, list[str]]]:
    """The ``$ `` lines of a shell block, each with the output lines shown under it."""
    out: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            out.append((line[2:], []))
        elif out and line.strip():
            out[-1][1].append(line)
    return out


def run(block: str, cwd: Path, env: dict[str, str] | None = None) -> int:
    """Run every command of a shell block in ``cwd``; each must exit 0 and print the lines shown (times aside)."""
    done = 0
    for command, shown in commands(block):
        argv = shlex.split(command)
        assert argv[0] == "netcert", command
        r = subprocess.run(
            [sys.executable, "-m", "netcert", *argv[1:]], cwd=cwd, env=env, capture_output=True, text=True
        )
        assert r.returncode == 0, (command, r.stderr)
        printed = {re.sub(r"build [0-9.]+ s", "", line) for line in r.stdout.splitlines()}
        for line in shown:
            assert re.sub(r"build [0-9.]+ s", "", line) in printed, (command, line, r.stdout)
        done += 1
    return done


def test_the_tutorial_runs(tmp_path):
    found = blocks(DOC.read_text())
    (code,) = [body for lang, body in found if lang == "python"]
    (data,) = [body for lang, body in found if lang == ""]
    (toml,) = [body for lang, body in found if lang == "toml"]
    file_steps, plugin_steps = [body for lang, body in found if lang == "bash"]
    assert len(code.splitlines()) < 100  # the promise: a complete construction in under 100 lines
    (tmp_path / "staircase1d.py").write_text(code)
    (tmp_path / "line.csv").write_text(data)
    assert run(file_steps, tmp_path) == 3
    assert "staircase1d" in (tmp_path / "sweep" / "sweep.csv").read_text()

    group = toml.split('[project.entry-points."netcert.constructions"]')[1]
    points = dict(re.findall(r'^(\S+) = "(\S+)"$', group, re.M))
    assert points == {"staircase1d": "staircase1d:CONSTRUCTION"}
    env = install(tmp_path, wheel(tmp_path, "staircase1d", code, points, dist="netcert_staircase1d"))
    plugin_dir = tmp_path / "plugin"
    plugin_dir.mkdir()
    (plugin_dir / "line.csv").write_text(data)  # not beside staircase1d.py: the installed module is used
    assert run(plugin_steps, plugin_dir, env) == 3
