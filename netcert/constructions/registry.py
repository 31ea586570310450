"""All constructions netcert offers, by name."""

from __future__ import annotations

from netcert.constructions import bubeck2020, vardi2022, yun2019, zhang2017
from netcert.constructions.base import Construction
from netcert.errors import UsageError

CONSTRUCTIONS: dict[str, Construction] = {c.name: c for c in (zhang2017.CONSTRUCTION, bubeck2020.CONSTRUCTION, yun2019.CONSTRUCTION, vardi2022.CONSTRUCTION)}


def get(name: str) -> Construction:
    try:
        return CONSTRUCTIONS[name]
    except KeyError:
        raise UsageError(f"unknown construction {name!r} (known: {', '.join(sorted(CONSTRUCTIONS))})") from None
