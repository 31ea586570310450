"""All constructions netcert offers, by name."""

from __future__ import annotations

from netcert.constructions import baum1988, bubeck2020, park2021, rajput2021, vardi2022, yun2019, zhang2017
from netcert.constructions.base import Construction
from netcert.errors import UsageError

CONSTRUCTIONS: dict[str, Construction] = {
    c.name: c
    for c in (
        zhang2017.CONSTRUCTION,
        bubeck2020.CONSTRUCTION,
        yun2019.CONSTRUCTION,
        vardi2022.CONSTRUCTION,
        park2021.CONSTRUCTION,
        rajput2021.CONSTRUCTION,
        baum1988.CONSTRUCTION,
    )
}


def get(name: str) -> Construction:
    try:
        return CONSTRUCTIONS[name]
    except KeyError:
        raise UsageError(f"unknown construction {name!r} (known: {', '.join(sorted(CONSTRUCTIONS))})") from None
