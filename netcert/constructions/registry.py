"""All constructions netcert offers, by name: the built-ins, then installed plugins.

``CONSTRUCTIONS`` is a read-only mapping. The built-ins are always there; the
installed plugins (entry-point group ``netcert.constructions``, see
``netcert.plugins``) are imported only when a lookup needs them: a name that
is not built in, or the whole list (iteration, ``len``). A broken plugin is
left out with one warning line on stderr, once per process. ``get`` also takes
``path/to/file.py:ATTR``, a construction file not yet packaged.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping

from netcert import plugins
from netcert.constructions import baum1988, bubeck2020, park2021, rajput2021, vardi2022, yun2019, zhang2017
from netcert.constructions import hernandez2025
from netcert.constructions import dirksen2023, mikulincer2022
from netcert.constructions.base import Construction
from netcert.errors import InputError, UsageError

BUILTIN: dict[str, Construction] = {
    c.name: c
    for c in (
        zhang2017.CONSTRUCTION,
        bubeck2020.CONSTRUCTION,
        yun2019.CONSTRUCTION,
        vardi2022.CONSTRUCTION,
        park2021.CONSTRUCTION,
        rajput2021.CONSTRUCTION,
        baum1988.CONSTRUCTION,
        hernandez2025.CONSTRUCTION,
        mikulincer2022.CONSTRUCTION,
        dirksen2023.CONSTRUCTION,
    )
}

_installed: plugins.Installed | None = None  # the plugins, once imported
_warned = False  # whether the broken plugins were reported in this process
_files: dict[str, Construction] = {}  # construction files loaded in this process, by construction name


def installed(*, warn: bool = True) -> plugins.Installed:
    """The installed plugins, imported at the first call. Each broken one is reported once per process, as
    ``netcert: warning: ...`` on stderr, at the first call with ``warn`` (a caller that lists the plugins
    for another purpose than showing them, such as collecting their options, passes ``warn=False``)."""
    global _installed, _warned
    if _installed is None:
        _installed = plugins.installed(BUILTIN)
    if warn and not _warned:
        _warned = True
        for line in _installed.broken.values():
            print(f"netcert: warning: {line}", file=sys.stderr)
    return _installed


def reload_plugins() -> None:
    """Forget the imported plugins (and the files loaded), so that the next lookup imports them anew."""
    global _installed, _warned
    _installed, _warned = None, False
    _files.clear()


class _Registry(Mapping[str, Construction]):
    """Built-ins first (in their order), then the installed plugins (in name order).

    Constructions loaded from files are not members: ``get`` finds them by name in the process
    that loaded them, but ``name in CONSTRUCTIONS`` stays a property of the installation, so a
    certificate's construction section (which ``netcert check`` recomputes in a new process) is the
    same whichever files a process happened to load.
    """

    def __getitem__(self, name: str) -> Construction:
        if name in BUILTIN:
            return BUILTIN[name]
        return installed().constructions[name]

    def __contains__(self, name: object) -> bool:
        return name in BUILTIN or (isinstance(name, str) and name in installed().constructions)

    def __iter__(self) -> Iterator[str]:
        yield from BUILTIN
        yield from installed().constructions

    def __len__(self) -> int:
        return len(BUILTIN) + len(installed().constructions)


CONSTRUCTIONS: Mapping[str, Construction] = _Registry()


def get(name: str) -> Construction:
    """The construction called ``name``: a built-in, an installed plugin, a file loaded in this process,
    or ``path/to/file.py:ATTR`` (imported, then known by its own name in this process).

    An unknown name is a UsageError (exit 2); a broken plugin or a bad construction file an
    InputError (exit 3) with its one-line problem.
    """
    if name in BUILTIN:
        return BUILTIN[name]
    if plugins.is_file_spec(name):
        c = plugins.from_file(name, BUILTIN)
        known = installed().constructions.get(c.name) or _files.get(c.name)
        if known is not None and known is not c:
            raise InputError(f"{name.rpartition(':')[0]}: {c.name!r} is already the name of another construction")
        _files[c.name] = c
        return c
    found = installed()
    if name in found.constructions:
        return found.constructions[name]
    if name in found.broken:
        raise InputError(found.broken[name])
    if name in _files:
        return _files[name]
    raise UsageError(f"unknown construction {name!r} (known: {', '.join(sorted(CONSTRUCTIONS))})")
