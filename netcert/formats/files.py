"""Writing files safely: whole or not at all.

Every output is written to a temporary file in the target's directory and
renamed over the target, so a crash or a full disk never leaves half a file.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import stat
import tempfile
import zlib
from collections.abc import Callable, Iterator
from glob import escape as glob_escape
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from netcert import limits
from netcert.errors import FormatError, InputError


def write_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename), mode 0666 less the umask.

    The temporary file is ``.<name>.<pid>.<random>.tmp`` in the target's directory,
    so no glob for outputs (``*.json``, ``*.cert.json``) ever matches it; one that a
    killed writer left (its pid no longer alive: SIGKILL cannot be caught) is removed
    by the next write of the same name.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise InputError(f"{path}: directory {directory} does not exist")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, cannot write a file there")
    _sweep_stale(directory, path.name)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=directory)
    except OSError as e:
        raise InputError(f"{path}: cannot write: {_reason(e)}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o666 & ~_umask())  # mkstemp's 0600 would make shared certificates private
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(f"{path}: cannot write: {_reason(e)}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _sweep_stale(directory: Path, name: str) -> None:
    """Remove ``.<name>.<pid>.*.tmp`` files whose writer is gone; a live writer's are left alone."""
    for tmp in directory.glob(f".{glob_escape(name)}.*.tmp"):
        pid = tmp.name[len(name) + 2 :].split(".", 1)[0]
        if not (pid.isascii() and pid.isdigit()) or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            tmp.unlink(missing_ok=True)
        except (PermissionError, OverflowError):  # alive, someone else's; or not a pid
            pass


def _umask() -> int:
    mask = os.umask(0o22)  # reading the umask means setting it; put it straight back
    os.umask(mask)
    return mask


def gzip_bytes(data: bytes) -> bytes:
    """Deterministic gzip: no file name, mtime 0, so equal input gives equal bytes."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as f:
        f.write(data)
    return buf.getvalue()


def is_gzip_name(path: str | Path) -> bool:
    return str(path).endswith(".gz")


def read_bytes(path: str | Path, *, gunzip: bool | None = None) -> bytes:
    """A regular file's bytes, gunzipped when its name ends in ``.gz`` (or ``gunzip``).

    Bounded before anything is allocated: only a regular file is opened (a FIFO,
    a device or a directory is refused without blocking on it), its size and its
    inflated size are held to ``limits.BYTES``. Every problem is an ``InputError``
    naming the file.
    """
    path = Path(path)
    raw = _read_regular(path)
    if not (is_gzip_name(path) if gunzip is None else gunzip):
        return raw
    return _gunzip(raw, path)


def sha256_of(path: str | Path) -> str:
    """The sha256 of a regular file's bytes, read in pieces under the same checks as ``read_bytes``
    (a 250 MB network is hashed without a second copy of it in memory)."""
    h = hashlib.sha256()
    for chunk in _regular_chunks(Path(path)):
        h.update(chunk)
    return h.hexdigest()


def _read_regular(path: Path) -> bytes:
    return b"".join(_regular_chunks(path))


def _regular_chunks(path: Path) -> Iterator[bytes]:
    """The bytes of a regular file, in pieces of at most 16 MiB, held to ``limits.BYTES``."""
    if not str(path):
        raise InputError("'': an empty file name")
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        raise InputError(f"{path}: cannot read: {_reason(e)}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{path}: not a regular file ({_kind(info.st_mode)})")
        cap = limits.BYTES.value()
        if info.st_size > cap:
            raise InputError(f"{path}: {limits.BYTES.exceeded('file size', f'{info.st_size} bytes')}")
        total = 0
        while chunk := os.read(fd, min(1 << 24, cap + 1 - total)):
            total += len(chunk)
            if total > cap:  # the file grew while it was read
                raise InputError(f"{path}: {limits.BYTES.exceeded('file size', f'more than {cap} bytes')}")
            yield chunk
    except OSError as e:
        raise InputError(f"{path}: cannot read: {_reason(e)}") from None
    finally:
        os.close(fd)


def _gunzip(raw: bytes, path: Path) -> bytes:
    """Inflate the one gzip member of ``raw`` (as netcert writes it), refusing past ``limits.BYTES``:
    a bomb stops there. Trailing bytes after the member are refused, as the kernel refuses them."""
    cap, total, out = limits.BYTES.value(), 0, []
    z, data = zlib.decompressobj(16 + zlib.MAX_WBITS), raw
    try:
        while data and not z.eof:  # in pieces: one call would grow its buffer by doubling, to twice the cap
            out.append(z.decompress(data, min(_PIECE, cap + 1 - total)))
            total += len(out[-1])
            if total > cap:
                raise InputError(f"{path}: {limits.BYTES.exceeded('inflated size', f'more than {cap} bytes')}")
            data = z.unconsumed_tail
    except zlib.error as e:
        raise InputError(f"{path}: not a readable gzip file ({e})") from None
    if not z.eof:
        raise InputError(f"{path}: not a readable gzip file (truncated)")
    if z.unused_data:
        raise InputError(f"{path}: not a readable gzip file ({len(z.unused_data)} bytes after its one member)")
    return b"".join(out)


_PIECE = 1 << 24


def read_json(
    path: str | Path, what: str, object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None
) -> object:
    """The JSON document in a file (``read_bytes``), refused with one line naming the file
    when it is not UTF-8 JSON, nests deeper than ``limits.JSON_DEPTH``, writes an
    integer of more than 4300 digits, or uses NaN or Infinity (not JSON). A ValueError
    from ``object_pairs_hook`` is a refusal too."""
    raw = read_bytes(path)
    depth = json_depth(raw)
    if depth > limits.JSON_DEPTH:
        raise FormatError(f"{path}: not a {what}: JSON nested {depth} deep (the limit is {limits.JSON_DEPTH})")
    try:
        return json.loads(raw, parse_constant=_no_constant, object_pairs_hook=object_pairs_hook)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise FormatError(f"{path}: not JSON ({_one_line(e)})") from None
    except (ValueError, RecursionError) as e:  # ints beyond Python's 4300 digits; NaN
        raise FormatError(f"{path}: not a {what}: {_one_line(e)}") from None


def json_depth(raw: bytes) -> int:
    """The greatest nesting of arrays and objects in a JSON text, in linear time without parsing:
    only brackets, quotes and backslashes matter, an escape is a backslash and the next byte,
    and brackets inside strings do not count."""
    structural = raw.translate(None, _NOT_STRUCTURAL)
    if b"\\" in structural:
        structural = _ESCAPE.sub(b"", structural)
    if b'"' in structural:
        structural = _STRING.sub(b"", structural)
    if not structural:
        return 0
    a = np.frombuffer(structural, dtype=np.uint8)
    steps = np.where((a == ord("[")) | (a == ord("{")), 1, -1).astype(np.int64)
    return int(np.cumsum(steps).max(initial=0))


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split())[:200]


def _reason(e: OSError) -> str:
    return e.strerror or str(e)


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a device"),
        (stat.S_ISBLK, "a device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a file"


_NOT_STRUCTURAL = bytes(b for b in range(256) if b not in b'[]{}"\\')
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_STRING = re.compile(rb'"[^"]*"')
