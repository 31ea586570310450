"""Constructions from outside netcert: installed plugins and construction files.

A plugin is an installed distribution that declares, in the entry-point group
``netcert.constructions``, one entry point per construction:

    [project.entry-points."netcert.constructions"]
    staircase1d = "staircase1d:CONSTRUCTION"

The entry point's object must be a ``netcert.constructions.Construction``
whose ``name`` is the entry point's name. ``netcert build -c staircase1d``,
``constructions``, ``compare``, ``sweep`` and ``auto`` then treat it like a
built-in construction, and its certificates carry its size claims.

A construction file, ``-c path/to/file.py:ATTR``, is a module not yet
packaged: ATTR is a module attribute holding a Construction (or the name of
one defined there). It builds in the process that named it; a certificate
made in another process (``netcert verify``, ``netcert check``) cannot find
it by name and so records no construction section, which keeps certificates
the same in every process. Package it as a plugin to certify its size claims.

Nothing here is trusted: a plugin's network is certified like any other.
Loading never raises on a broken plugin; every problem is one line.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import sys
from collections.abc import Collection
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import ModuleType

from netcert.constructions.base import Construction
from netcert.errors import InputError

GROUP = "netcert.constructions"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")  # a construction name: no ':' (file specs), no spaces
RESERVED = ("auto",)  # a name the command line gives its own meaning


@dataclass(frozen=True)
class Installed:
    """The installed plugins: the usable ones by name, and one line per broken one (by entry-point name)."""

    constructions: dict[str, Construction] = field(default_factory=dict)
    broken: dict[str, str] = field(default_factory=dict)


def problem_with(obj: object, name: str) -> str | None:
    """Why ``obj`` cannot be the construction called ``name``, or None when it can."""
    if not isinstance(obj, Construction):
        return f"is a {type(obj).__name__}, not a netcert.constructions.Construction"
    if not isinstance(obj.name, str) or not NAME.match(obj.name):
        return f"has the name {obj.name!r}; a construction's name is letters, digits, '_', '.' and '-'"
    if obj.name != name:
        return f"is the construction {obj.name!r}, not {name!r}; the entry point's name must be the construction's"
    return None


def _reason(e: BaseException) -> str:
    """An exception as one line: its type and the first line of its message."""
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0]}" if text else type(e).__name__


def installed(builtin: Collection[str]) -> Installed:
    """Every entry point of the group ``netcert.constructions``, imported and checked, in name order.

    A plugin is broken (kept out, its problem recorded) when it fails to import, is not a Construction
    named like its entry point, takes a built-in or reserved name (a plugin cannot replace a built-in,
    so ``-c zhang2017`` always means netcert's own), or when two distributions declare the same name.
    """
    points = sorted(metadata.entry_points(group=GROUP), key=lambda ep: (ep.name, ep.value))
    counts: dict[str, int] = {}
    for ep in points:
        counts[ep.name] = counts.get(ep.name, 0) + 1
    out = Installed()
    for ep in points:
        where = f"plugin {ep.name!r} ({ep.value}{_distribution(ep)})"
        if ep.name in builtin or ep.name in RESERVED:
            out.broken[ep.name] = f"{where}: has the name of a built-in construction; a plugin cannot replace it"
            continue
        if counts[ep.name] > 1:
            out.broken[ep.name] = f"{where}: {counts[ep.name]} installed entry points have this name"
            continue
        try:
            obj = ep.load()
        except (Exception, SystemExit) as e:  # a plugin's import error is its own, reported, never a traceback
            out.broken[ep.name] = f"{where}: cannot be imported: {_reason(e)}"
            continue
        problem = problem_with(obj, ep.name)
        if problem is not None:
            out.broken[ep.name] = f"{where}: {problem}"
        else:
            out.constructions[ep.name] = obj
    return out


def _distribution(ep: metadata.EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return f", from {dist.name} {dist.version}" if dist is not None else ""


def is_file_spec(name: str) -> bool:
    """Whether a ``-c`` value names a construction file (``path.py:ATTR``) rather than a construction."""
    path, sep, _ = name.rpartition(":")
    return bool(sep) and path.endswith(".py")


def from_file(spec: str, builtin: Collection[str]) -> Construction:
    """The Construction ``ATTR`` of the file in ``spec = "path.py:ATTR"`` (InputError naming the file otherwise).

    ATTR is a module attribute holding a Construction, or else the name of the only Construction of
    that name defined at the module's top level. A file may not define a built-in's name.
    """
    text, _, attr = spec.rpartition(":")
    path = Path(text)
    if not path.is_file():
        raise InputError(f"{text}: no such construction file")
    module = _import(path, text)
    obj = getattr(module, attr, None) if attr.isidentifier() else None
    if obj is None:
        named = [v for v in vars(module).values() if isinstance(v, Construction) and v.name == attr]
        if not named:
            raise InputError(f"{text}: defines no construction {attr!r} (neither an attribute nor a name)")
        obj = named[0]
    if not isinstance(obj, Construction):
        raise InputError(f"{text}: {attr} is a {type(obj).__name__}, not a netcert.constructions.Construction")
    problem = problem_with(obj, obj.name)
    if problem is not None:
        raise InputError(f"{text}: {attr} {problem}")
    if obj.name in builtin or obj.name in RESERVED:
        raise InputError(f"{text}: {attr} has the name {obj.name!r} of a built-in construction")
    return obj


def _import(path: Path, text: str) -> ModuleType:
    """Import a construction file as a module of its own.

    Registered in ``sys.modules`` (dataclasses and pickling look a class's module up there) under a
    name made from the resolved path, so two files with one stem stay two modules; the name is
    never written into a network or a certificate.
    """
    resolved = path.resolve()
    key = "netcert_file_" + re.sub(r"\W", "_", path.stem) + "_" + hashlib.sha256(bytes(resolved)).hexdigest()[:12]
    if key in sys.modules:
        return sys.modules[key]
    spec = importlib.util.spec_from_file_location(key, resolved)
    if spec is None or spec.loader is None:
        raise InputError(f"{text}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as e:  # the file's own error, as one line
        del sys.modules[key]
        raise InputError(f"{text}: cannot be imported: {_reason(e)}") from None
    return module
