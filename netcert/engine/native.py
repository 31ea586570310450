"""The per-point evaluator in C over GMP (``program.c``), compiled once per machine.

The per-point path in Python pays about 100 ns of interpreter work per operation even as
straight-line code; the limb work counted as the arithmetic lower bound is a
few ns (docs/performance.md, "The per-point path"). This module compiles ``program.c`` with the
system's C compiler against GMP (the system's, or the copy gmpy2 ships), caches the library
under the user's cache directory keyed by the source's hash, and runs a compiled
``program.Program`` in it on many points per call.

What is exact: everything; the C code computes ``pointwise.forward``'s integers, node for node,
with GMP integers (its opening comment says how tables and reuse map over). What is assumed: a C
compiler (``cc``, or ``$CC``) and GMP's header and library are there. When they are not, or
``NETCERT_NATIVE=0``, ``Library().why`` says why and the evaluator stays on the Python paths,
which give the same values.
"""

from __future__ import annotations

import ctypes
import hashlib
import math
import os
import shlex
import subprocess
import sys
import sysconfig
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from netcert.engine.program import Node, Table
from netcert.ir import keys

SOURCE = Path(__file__).parent / "program.c"
FLAGS = ("-O2", "-shared", "-fPIC")  # part of the cached library's name, with the source's hash
STEP_FIELDS = 12
NS_PER_OP = 20.0  # one form term or step in the C kernel, at the sizes of the papers' networks (measured)
ACTIVATIONS = {keys.RELU: 0, keys.IDENTITY: 1, keys.THRESHOLD: 2}  # program.c's enum
_I64 = ctypes.POINTER(ctypes.c_int64)


class Library:
    """The C kernel loaded in this process: ``cdll`` (None when it cannot be used) and ``why`` not.

    Loading compiles ``program.c`` into the cache directory when no library of this source is
    there yet (once per machine), then opens it. There is no process-wide copy: whoever runs
    programs holds a ``Library`` (a compiled program keeps the one it ran with in its
    ``runtime``), so that what an environment change such as ``NETCERT_NATIVE=0`` affects is
    visible, and each holder loads once.
    """

    def __init__(self):
        self.cdll, self.why = _load()


def library() -> ctypes.CDLL | None:
    """The compiled kernel, freshly loaded (compiled on first use on this machine), or None."""
    return Library().cdll


def unavailable() -> str | None:
    """Why the C kernel cannot be used (None when it can), from a fresh load."""
    return Library().why


def _load() -> tuple[ctypes.CDLL | None, str | None]:
    if os.environ.get("NETCERT_NATIVE", "1") == "0":
        return None, "NETCERT_NATIVE=0"
    source = SOURCE.read_bytes()
    tag = hashlib.sha256(source + sys.platform.encode() + " ".join(FLAGS).encode()).hexdigest()[:16]
    for directory in _cache_dirs():
        path = directory / f"netcert-native-{tag}{sysconfig.get_config_var('SHLIB_SUFFIX') or '.so'}"
        if not path.exists():
            why = _compile(path)
            if why is not None:
                return None, why
        try:
            return _bind(ctypes.CDLL(str(path))), None
        except OSError as e:
            return None, f"cannot load {path}: {e}"
    return None, "no writable cache directory"


def _cache_dirs() -> list[Path]:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    out = []
    for d in (Path(base) / "netcert", Path(tempfile.gettempdir()) / f"netcert-{os.getuid()}"):
        try:
            d.mkdir(parents=True, exist_ok=True)
            if os.access(d, os.W_OK):
                out.append(d)
        except OSError:
            continue
    return out[:1]


def _compile(path: Path) -> str | None:
    """Compile into ``path`` atomically (temporary file, then rename); None, or why it failed."""
    cc = shlex.split(os.environ.get("CC", "cc"))
    import gmpy2  # noqa: PLC0415  (its package directory ships gmp.h; gmpy2.libs its libgmp)

    here = Path(gmpy2.__file__).parent
    bundled = sorted((here.parent / "gmpy2.libs").glob("libgmp*.so*"))
    attempts = [["-lgmp"]] + ([[f"-I{here}", str(bundled[0]), f"-Wl,-rpath,{bundled[0].parent}"]] if bundled else [])
    errors = []
    for extra in attempts:
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".so")
        os.close(fd)
        cmd = [*cc, *FLAGS, "-o", tmp, str(SOURCE), *extra]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as e:
            os.unlink(tmp)
            return f"no C compiler ({cc[0]}: {e})"
        if r.returncode == 0:
            os.replace(tmp, path)
            return None
        os.unlink(tmp)
        errors.append((r.stderr.strip().splitlines() or ["?"])[-1])
    return f"compiling {SOURCE.name} failed: {errors[-1]}"


def _bind(lib: ctypes.CDLL) -> ctypes.CDLL:
    lib.nc_new.restype = ctypes.c_void_p
    lib.nc_new.argtypes = [_I64] * 9 + [ctypes.c_char_p]
    lib.nc_free.argtypes = [ctypes.c_void_p]
    lib.nc_run_i64.argtypes = [ctypes.c_void_p, ctypes.c_int64, _I64]
    lib.nc_run_bytes.argtypes = [ctypes.c_void_p, ctypes.c_int64, _I64, ctypes.c_char_p]
    lib.nc_export_size.restype = ctypes.c_int64
    lib.nc_export_size.argtypes = [ctypes.c_void_p, ctypes.c_int64]
    lib.nc_export.argtypes = [ctypes.c_void_p, ctypes.c_int64, _I64, ctypes.c_char_p]
    lib.nc_reuses.restype = ctypes.c_int64
    lib.nc_reuses.argtypes = [ctypes.c_void_p]
    return lib


# -- programs ----------------------------------------------------------------------------


class _Pool:
    """Integer constants in the order the C side imports them."""

    def __init__(self):
        self.values: list[int] = []
        self.index: dict[int, int] = {}

    def shared(self, v: int) -> int:
        v = int(v)
        if v not in self.index:
            self.index[v] = len(self.values)
            self.values.append(v)
        return self.index[v]

    def run(self, values: Sequence[int]) -> int:
        """Append ``values`` as one contiguous run; its first index."""
        start = len(self.values)
        self.values.extend(int(v) for v in values)
        return start


def _encode(values: Sequence[int]) -> tuple[np.ndarray, bytes]:
    """(signed byte lengths, big-endian magnitudes back to back) of integers."""
    sizes = [(abs(v).bit_length() + 7) // 8 for v in values]
    blob = b"".join(abs(v).to_bytes(n, "big") for v, n in zip(values, sizes))
    return np.array([-n if v < 0 else n for v, n in zip(values, sizes)], dtype=np.int64), blob


def _ptr(a: np.ndarray):
    return a.ctypes.data_as(_I64)


class Program:
    """A ``program.Program`` loaded into the C kernel; ``run`` gives its output on points in order.

    The kernel keeps the previous point's values, so consecutive calls continue one sweep. ctypes
    releases the GIL during a call, so a lock keeps two threads (a Dask worker with several) from
    running one kernel's state at once; ``pointwise`` gives each thread its own copy anyway.
    """

    def __init__(self, lib: ctypes.CDLL, program):
        pool = _Pool()
        starts, slots, coefs = [0], [], []
        for f in program.forms:
            for s, c in f.terms:
                slots.append(s), coefs.append(pool.shared(c))
            starts.append(len(slots))
        steps, before = [], [0]
        forms_before = []
        for step, fs in zip(program.steps, program.form_order):
            forms_before.extend(fs)
            before.append(len(forms_before))
            act = ACTIVATIONS[step.activation]
            if type(step) is Node:
                steps.append([0, step.slot, act, step.form, pool.shared(step.m), pool.shared(step.B), 0, 0, 0, 0, 0, 0])
            elif type(step) is Table:
                pos = pool.run([math.ceil(t) for t in step.pos_tau])
                neg = pool.run([math.floor(t) for t in step.neg_tau])
                slopes = pool.run([*step.pos_slope, *step.neg_slope])
                icpts = pool.run([*step.pos_icpt, *step.neg_icpt])
                steps.append(
                    [
                        1,
                        step.slot,
                        act,
                        step.form,
                        0,
                        pool.shared(step.B),
                        len(step.pos_tau),
                        pos,
                        slopes,
                        icpts,
                        len(step.neg_tau),
                        neg,
                    ]
                )
            else:
                raise ValueError("rational-fallback nodes stay in Python")
        lengths, blob = _encode(pool.values)
        arrays = [
            np.array(
                [
                    program.n_slots,
                    len(program.forms),
                    len(program.steps),
                    len(program.input_slots),
                    len(program.output_slots),
                    len(pool.values),
                    *program.output_slots,  # header[6:]: every output's slot, in graph.outputs order
                ],
                dtype=np.int64,
            ),
            np.array(program.input_slots, dtype=np.int64),
            np.array(starts, dtype=np.int64),
            np.array(slots, dtype=np.int64),
            np.array(coefs, dtype=np.int64),
            np.array(steps, dtype=np.int64).reshape(-1),
            np.array(before, dtype=np.int64),
            np.array(forms_before, dtype=np.int64),
            lengths,
        ]
        self._lib, self.n_inputs, self._lock = lib, len(program.input_slots), threading.Lock()
        self.n_outputs = len(program.output_slots)
        self._handle = lib.nc_new(*(_ptr(a) for a in arrays), blob)
        if not self._handle:
            raise MemoryError("the C kernel could not allocate the program")

    def run(self, points: Sequence[Sequence[int]]) -> list[int]:
        """The exact output integers (``pointwise.forward``'s) of every point, in order: with k
        outputs, point i's are items i k .. i k + k - 1 (k = 1: one integer per point)."""
        with self._lock:
            return self._run(points)

    def _run(self, points: Sequence[Sequence[int]]) -> list[int]:
        n = len(points)
        if n == 0:
            return []
        lib = self._lib
        flat = [int(x) for p in points for x in p]
        if all(-(2**63) < x < 2**63 for x in flat):
            X = np.array(flat, dtype=np.int64)
            status = lib.nc_run_i64(self._handle, n, _ptr(X))
        else:
            lengths, blob = _encode(flat)
            status = lib.nc_run_bytes(self._handle, n, _ptr(lengths), blob)
        if status != 0:
            raise MemoryError("the C kernel ran out of memory")
        n *= self.n_outputs  # the values exported: every output of every point
        sizes = np.empty(n, dtype=np.int64)
        buf = ctypes.create_string_buffer(max(1, lib.nc_export_size(self._handle, n)))
        lib.nc_export(self._handle, n, _ptr(sizes), buf)
        raw, out, at = buf.raw, [], 0
        for s in sizes.tolist():
            m = -s if s < 0 else s
            v = int.from_bytes(raw[at : at + m], "big")
            out.append(-v if s < 0 else v)
            at += m
        return out

    @property
    def reuses(self) -> bool:
        """Whether the kernel still skips what did not change since the previous point: it stops
        after a probe of 32 points that recomputed more than 7/8 of the forms (values unchanged)."""
        with self._lock:
            return bool(self._lib.nc_reuses(self._handle))

    def __del__(self):
        handle, self._handle = getattr(self, "_handle", None), None
        if handle:
            self._lib.nc_free(handle)
