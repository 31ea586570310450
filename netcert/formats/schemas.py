"""The JSON Schemas of ``specs/`` and validation against them.

jsonschema-rs (a compiled 2020-12 validator) is used because net.json files
reach millions of edges, where a pure-Python validator takes minutes.
The schemas ship inside the wheel as ``netcert/_specs`` and are read from the
repository's ``specs/`` in a source checkout.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import jsonschema_rs

from netcert.errors import FormatError

NETWORK = "network.schema.json"
CERTIFICATE = "certificate.schema.json"


def specs_dir() -> Path:
    """Where the schema files are: in the installed package, or the checkout."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "_specs", here.parent / "specs"):
        if (candidate / NETWORK).is_file():
            return candidate
    raise FileNotFoundError("netcert's specs/ directory is missing from this installation")


@functools.cache
def _validator(name: str):
    schema = json.loads((specs_dir() / name).read_text())
    return jsonschema_rs.validator_for(schema)


def check(document: object, name: str, source: str) -> None:
    """Raise ``FormatError`` naming ``source`` and the first place ``document`` breaks schema ``name``."""
    validator = _validator(name)
    if validator.is_valid(document):
        return
    error = next(iter(validator.iter_errors(document)))
    where = "/".join(str(p) for p in error.instance_path) or "(top level)"
    raise FormatError(f"{source}: does not match {name} at {where}: {error.message[:200]}")
