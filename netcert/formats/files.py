"""Writing files safely: whole or not at all.

Every output is written to a temporary file in the target's directory and
renamed over the target, so a crash or a full disk never leaves half a file.
"""

from __future__ import annotations

import gzip
import io
import os
import tempfile
from pathlib import Path

from netcert.errors import InputError


def write_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename)."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise InputError(f"{path}: directory {directory} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def gzip_bytes(data: bytes) -> bytes:
    """Deterministic gzip: no file name, mtime 0, so equal input gives equal bytes."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as f:
        f.write(data)
    return buf.getvalue()


def is_gzip_name(path: str | Path) -> bool:
    return str(path).endswith(".gz")


def read_bytes(path: str | Path) -> bytes:
    """A file's bytes; gunzipped when its name ends in ``.gz``."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror or e}") from None
    if not is_gzip_name(path):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError) as e:
        raise InputError(f"{path}: not a readable gzip file ({e})") from None
