"""The hostile-input corpus: malformed datasets, networks and certificates, each with the
command that reads it, the exit code the contract demands and a fragment of its message.

Generated, not stored: ``write(directory)`` makes every file (in a few seconds) and returns
the cases; ``python tests/hostile/corpus.py DIR`` writes them and a ``manifest.json``.
Every case must end within its time limit and under 1 GB of memory, with no traceback,
exactly one stderr line ``netcert: error: ...`` when it exits 3, and no output file left
behind (not even a temporary one). ``tests/test_hostile.py`` runs them all.

A case's ``argv`` may hold ``{dir}``, the corpus directory.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
import os
import struct
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    argv: tuple[str, ...]
    exit_code: int
    fragment: str  # in the one stderr line (exit 3), or in stdout (exit 1 of check)
    output: str | None = None  # a file the command must not leave behind
    timeout: float = 30.0


GOOD_X = np.array([[0, 0], [1, 0], [0, 1], [2, 3], [3, 1], [-1, 2]], dtype=np.float64)
GOOD_Y = np.array([0, 1, 1, 2, 0, 1], dtype=np.int64)


# -- the valid files every hostile one is made from ------------------------------------------


def _good_files(d: Path) -> None:
    """good.npz, good.csv, good.json (zhang2017 on good.npz), good.cert.json (certified)."""
    from netcert import certificate, dataset, certify
    from netcert.constructions import registry
    from netcert.formats import files, netjson

    np.savez(d / "good.npz", X=GOOD_X, y=GOOD_Y)
    (d / "good.csv").write_text("x1,x2,y\n" + "".join(f"{int(a)},{int(b)},{c}\n" for (a, b), c in zip(GOOD_X, GOOD_Y)))
    G = registry.get("zhang2017").build(dataset.load(d / "good.npz"), seed=0)
    netjson.write(G, d / "good.json")
    cert = certify.verify(d / "good.json", d / "good.npz", d / "good.cert.json", jobs=1)
    assert cert["verdict"] == "certified"
    files.write_atomic(d / "good.cert.json", certificate.to_bytes(cert))
    rng = np.random.default_rng(0)  # a certificate whose kernel checked 10 of 60 points, to be forged
    np.savez(d / "sampled.npz", X=rng.integers(-50, 50, (60, 2)), y=rng.integers(0, 3, 60))
    netjson.write(registry.get("zhang2017").build(dataset.load(d / "sampled.npz"), seed=0), d / "sampled.json")
    cert = certify.verify(d / "sampled.json", d / "sampled.npz", d / "sampled.cert.json", sample=10, jobs=1)
    assert cert["verdict"] == "certified"
    files.write_atomic(d / "sampled.cert.json", certificate.to_bytes(cert))


# -- zip and npy surgery -----------------------------------------------------------------------


def _npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, a, allow_pickle=True)
    return buf.getvalue()


def _npy_header(shape: tuple, descr: str = "<f8", version: tuple[int, int] = (1, 0)) -> bytes:
    """A .npy header claiming ``shape`` (no data)."""
    text = "{'descr': '%s', 'fortran_order': False, 'shape': %r, }" % (descr, shape)
    pad = 64 - (10 + len(text) + 1) % 64
    body = (text + " " * pad + "\n").encode("latin1")
    size = struct.pack("<H", len(body)) if version == (1, 0) else struct.pack("<I", len(body))
    return b"\x93NUMPY" + bytes(version) + size + body


def _zip(path: Path, members: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> None:
    with zipfile.ZipFile(path, "w", compression=method) as z:
        for name, data in members.items():
            z.writestr(name, data)


def _npz(path: Path, X: bytes | np.ndarray, y: bytes | np.ndarray = GOOD_Y, method=zipfile.ZIP_DEFLATED) -> None:
    as_bytes = lambda a: a if isinstance(a, bytes) else _npy_bytes(a)  # noqa: E731
    _zip(path, {"X.npy": as_bytes(X), "y.npy": as_bytes(y)}, method)


def _patch_zip(
    src: Path, dst: Path, *, flag: int | None = None, method: int | None = None, version: int | None = None
) -> None:
    """A copy of a zip whose local and central headers claim another flag, method or version."""
    raw = bytearray(src.read_bytes())
    for sig, off_version, off_flag, off_method in ((b"PK\x03\x04", 4, 6, 8), (b"PK\x01\x02", 6, 8, 10)):
        at = raw.find(sig)
        while at >= 0:
            if flag is not None:
                raw[at + off_flag : at + off_flag + 2] = struct.pack("<H", flag)
            if method is not None:
                raw[at + off_method : at + off_method + 2] = struct.pack("<H", method)
            if version is not None:
                raw[at + off_version : at + off_version + 2] = struct.pack("<H", version)
            at = raw.find(sig, at + 4)
    dst.write_bytes(bytes(raw))


def _deflated_zeros(header: bytes, zeros: int) -> bytes:
    """A raw deflate stream of a header and many zero bytes, made in chunks (no big buffer)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    parts, chunk = [c.compress(header)], bytes(1 << 20)
    for _ in range(zeros >> 20):
        parts.append(c.compress(chunk))
    parts.append(c.flush())
    return b"".join(parts)


def _bomb_npz(path: Path, shape: tuple, zeros: int) -> None:
    """An .npz whose X member inflates to ``zeros`` bytes under a header claiming ``shape``.
    Written by hand (zipfile would want the whole inflated member in memory)."""
    header = _npy_header(shape)
    body = _deflated_zeros(header, zeros)
    crc = 0  # never reached: a reader must stop at the header
    name = b"X.npy"
    local = (
        struct.pack(
            "<4sHHHHHIIIHH",
            b"PK\x03\x04",
            20,
            0,
            8,
            0,
            0,
            crc,
            len(body),
            (len(header) + zeros) & 0xFFFFFFFF,
            len(name),
            0,
        )
        + name
    )
    y = _npy_bytes(GOOD_Y)
    yname = b"y.npy"
    ylocal = (
        struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 0, 0, 0, zlib.crc32(y), len(y), len(y), len(yname), 0)
        + yname
    )
    central = b""
    offsets = (0, len(local) + len(body))
    for nm, comp, size, method, crc_, off in (
        (name, len(body), (len(header) + zeros) & 0xFFFFFFFF, 8, crc, offsets[0]),
        (yname, len(y), len(y), 0, zlib.crc32(y), offsets[1]),
    ):
        central += (
            struct.pack(
                "<4sHHHHHHIIIHHHHHII",
                b"PK\x01\x02",
                20,
                20,
                0,
                method,
                0,
                0,
                crc_,
                comp,
                size,
                len(nm),
                0,
                0,
                0,
                0,
                0,
                off,
            )
            + nm
        )
    start = len(local) + len(body) + len(ylocal) + len(y)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 2, 2, len(central), start, 0)
    path.write_bytes(local + body + ylocal + y + central + end)


def _gzip_bomb(path: Path, size: int) -> None:
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(path, "wb") as f:
        f.write(c.compress(b"["))
        chunk = b" " * (1 << 20)
        for _ in range(size >> 20):
            f.write(c.compress(chunk))
        f.write(c.compress(b"]"))
        f.write(c.flush())


# -- the cases -------------------------------------------------------------------------------


def _dataset_cases(d: Path) -> list[Case]:
    """Each bad dataset, read by build (and by verify, with the good network)."""
    bad: list[tuple[str, str, str]] = []  # (file name, fragment, how it is made: done below)

    def npz(name, fragment, X, y=GOOD_Y, method=zipfile.ZIP_DEFLATED):
        _npz(d / name, X, y, method)
        bad.append((name, fragment))

    def csv(name, fragment, text: str | bytes):
        (d / name).write_bytes(text if isinstance(text, bytes) else text.encode())
        bad.append((name, fragment))

    bad.append(("missing.npz", "No such file"))
    os.mkdir(d / "dir.npz")
    bad.append(("dir.npz", "a directory"))
    os.mkfifo(d / "fifo.npz")
    bad.append(("fifo.npz", "a FIFO"))
    os.mkfifo(d / "fifo.csv")
    bad.append(("fifo.csv", "a FIFO"))
    os.symlink("/dev/zero", d / "zero.npz")
    bad.append(("zero.npz", "a device"))
    os.symlink("/dev/zero", d / "zero.csv")
    bad.append(("zero.csv", "a device"))
    os.symlink("loop.npz", d / "loop.npz")
    bad.append(("loop.npz", "symbolic links"))
    os.symlink("nowhere.npz", d / "dangling.npz")
    bad.append(("dangling.npz", "No such file"))
    (d / "data.txt").write_text("1,2\n")
    bad.append(("data.txt", "unknown dataset type"))

    (d / "notzip.npz").write_bytes(b"this is not a zip archive\n")
    bad.append(("notzip.npz", "not a zip archive"))
    (d / "empty.npz").write_bytes(b"")
    bad.append(("empty.npz", "not a zip archive"))
    (d / "truncated.npz").write_bytes((d / "good.npz").read_bytes()[:150])
    bad.append(("truncated.npz", "not a zip archive"))
    _zip(d / "noy.npz", {"X.npy": _npy_bytes(GOOD_X)})
    bad.append(("noy.npz", "missing array y"))
    _zip(d / "nokeys.npz", {"a.npy": _npy_bytes(GOOD_X)})
    bad.append(("nokeys.npz", "missing array X and y"))
    npz("object.npz", "dtype object", np.array([[1, "a"]] * 6, dtype=object))
    npz("complex.npz", "dtype complex128", GOOD_X.astype(complex))
    npz("bool.npz", "dtype bool", GOOD_X > 0)
    npz("strings.npz", "dtype <U", GOOD_X.astype(str))
    npz("datetime.npz", "dtype datetime64", np.zeros((6, 2), dtype="datetime64[s]"))
    npz("structured.npz", "expected an integer or float dtype", np.zeros((6, 2), dtype=[("a", "f8")]))
    npz("rank1.npz", "rank 2", GOOD_X[:, 0])
    npz("rank3.npz", "rank 2", GOOD_X[:, :, None])
    npz("ylabels2d.npz", "y must have rank 1", GOOD_X, GOOD_X)
    npz("n0.npz", "n = 0", np.zeros((0, 2)), np.zeros(0, dtype=np.int64))
    npz("d0.npz", "d = 0", np.zeros((6, 0)))
    npz("lengths.npz", "6 rows but y has 5", GOOD_X, GOOD_Y[:5])
    nan = GOOD_X.copy()
    nan[2, 1] = np.nan
    npz("nan.npz", "X[2, 1]", nan)
    inf = GOOD_X.copy()
    inf[4, 0] = -np.inf
    npz("inf.npz", "X[4, 0]", inf)
    npz("ynan.npz", "y[3]", GOOD_X, np.array([0, 1, 2, np.nan, 1, 0]))
    twins = GOOD_X.copy()
    twins[5] = twins[0]
    npz("conflict.npz", "identical points with different labels", twins)
    npz("claims3e9.npz", "exceeds the limit", _npy_header((3 * 10**9,)) + bytes(64))
    npz("claims1e18.npz", "exceeds the limit", _npy_header((10**9, 10**9)) + bytes(64))
    npz("claims_huge_y.npz", "exceeds the limit", GOOD_X, _npy_header((10**12,), "<i8"))
    npz("badmagic.npz", "not a readable .npy member", b"\x93NOTNPY" + bytes(100))
    npz("npyversion9.npz", "format version 9.0", _npy_header((6, 2), version=(9, 0)) + GOOD_X.tobytes())
    npz(
        "npyexpr.npz",
        "not a readable .npy member",
        b"\x93NUMPY\x01\x00" + struct.pack("<H", 54) + b"{'descr': __import__('os').system('true'), 'x': 1}  \n",
    )
    npz("npyshortdata.npz", "not a readable .npy member", _npy_header((6, 2)) + bytes(40))
    npz(
        "npybigheader.npz",
        "not a readable .npy member",
        b"\x93NUMPY\x02\x00" + struct.pack("<I", 200_000) + b"{" + b" " * 199_998 + b"\n",
    )
    npz("pickled.npz", "dtype object", np.array([[{}, {}]] * 6, dtype=object))
    _bomb_npz(d / "bomb.npz", (300_000_000,), 20 << 20)
    bad.append(("bomb.npz", "exceeds the limit"))
    _npz(d / "stored.npz", GOOD_X, method=zipfile.ZIP_STORED)
    _patch_zip(d / "stored.npz", d / "encrypted.npz", flag=1)
    bad.append(("encrypted.npz", "encrypted"))
    _patch_zip(d / "stored.npz", d / "method99.npz", method=99)
    bad.append(("method99.npz", "not a readable .npy member"))
    _patch_zip(d / "stored.npz", d / "zipversion.npz", version=99)
    bad.append(("zipversion.npz", "zip file version 9.9"))

    csv("notutf8.csv", "not UTF-8", b"1,2,3\n\xff\xfe,3,4\n")
    csv("arabicdigits.csv", "not a number", "1,2,0\n\u0661,\u0662,1\n")
    csv("fullwidth.csv", "not a number", "1,2,0\n\uff11,2,1\n")
    csv("cronly.csv", "not a number", "1,2,0\r3,4,1\r5,6,0\r")
    csv("formfeed.csv", "not a number", "1,2,0\n3,4\x0c,1\n")
    csv("u2028.csv", "not a number", "1,2,0\u20283,4,1\n")
    csv("nbsp.csv", "not a number", "1,2,0\n3,\u00a04,1\n")
    csv("ragged.csv", "3 fields, expected 2", "1,2\n3,4,5\n")
    csv("onecolumn.csv", "need at least one coordinate", "1\n2\n")
    csv("emptyfile.csv", "no points", "")
    csv("headeronly.csv", "no points", "a,b,label\n")
    csv("blanks.csv", "no points", "\n \t\n\r\n")
    csv("semicolons.csv", "separated by commas", "1;2;0\n3;4;1\n")
    csv("trailingdot.csv", "not a number", "1.,2,0\n")
    csv("leadingdot.csv", "not a number", "1,.5,0\n")
    csv("hexnumber.csv", "not a number", "1,0x10,0\n")
    csv("nanfield.csv", "not a number", "1,nan,0\n")
    csv("inffield.csv", "not a number", "1,inf,0\n")
    csv("zeroden.csv", "zero denominator", "1,3/0,0\n")
    csv("zeroden2.csv", "zero denominator", "1,3/000,0\n")
    csv("bigexponent.csv", "exponent beyond the limit", "1,1e123456789,0\n")
    csv("exponent10001.csv", "exponent beyond the limit", "1,1e10001,0\n")
    csv("negexponent.csv", "exponent beyond the limit", "1,1e-10001,0\n")
    csv("longnumber.csv", "exceeds the size limit", "1," + "7" * 400_000 + ",0\n")
    csv("longfraction.csv", "exceeds the size limit", "1,1/" + "3" * 400_000 + ",0\n")
    mersenne = "".join(f"{k},1/{2**k - 1},0\n" for k in range(1, 2200))
    csv("hugelcm.csv", "common denominator of its values exceeds the limit", mersenne)
    csv("conflict.csv", "identical points with different labels", "1,2,0\n1,2,1\n")
    csv("nullbytes.csv", "not a number", "1,2,0\n\x00\x00,1,1\n")

    cases = []
    for name, fragment in bad:
        cases.append(
            Case(
                f"build-{name}",
                ("build", f"{{dir}}/{name}", "-c", "zhang2017", "-o", "{dir}/out.json"),
                3,
                fragment,
                output="out.json",
            )
        )
    for name, fragment in bad[::3]:  # verify reads datasets by the same code; a third of them is enough
        cases.append(
            Case(
                f"verify-data-{name}",
                ("verify", "{dir}/good.json", "--data", f"{{dir}}/{name}", "-o", "{dir}/out.cert.json", "-j", "1"),
                3,
                fragment,
                output="out.cert.json",
            )
        )
    # Extreme but legal: coordinates from 1e-300 to 1e290 once overflowed park2021's float size claims
    # after a build that succeeded; the claims are exact now, so both commands certify.
    extreme = np.array(
        [
            [1e-300, 1e290],
            [2e-300, -1e290],
            [1e290, 1e-300],
            [-1e290, 3e-300],
            [5e-200, 7e100],
            [1.0, -1e-250],
            [3e150, 2.0],
            [-4e-100, -8e200],
        ]
    )
    np.savez(d / "extreme.npz", X=extreme, y=np.array([0, 1, 2, 0, 1, 2, 0, 1]))
    from netcert.constructions import registry
    from netcert.dataset import load
    from netcert.formats import netjson

    netjson.write(registry.get("park2021").build(load(d / "extreme.npz"), seed=0), d / "extreme.json")
    cases.append(
        Case(
            "build-extreme-park2021",
            ("build", "{dir}/extreme.npz", "-c", "park2021", "-o", "{dir}/extreme-built.json"),
            0,
            "park2021 on 8 points",
        )
    )
    cases.append(
        Case(
            "verify-extreme-park2021",
            ("verify", "{dir}/extreme.json", "--data", "{dir}/extreme.npz", "-o", "{dir}/extreme.cert.json", "-j", "1"),
            0,
            "CERTIFIED",
        )
    )
    cases.append(
        Case(
            "build-empty-name",
            ("build", "", "-c", "zhang2017", "-o", "{dir}/out.json"),
            3,
            "an empty file name",
            output="out.json",
        )
    )
    cases.append(
        Case(
            "build-max-values",
            ("--max-values", "5", "build", "{dir}/good.csv", "-c", "zhang2017", "-o", "{dir}/out.json"),
            3,
            "--max-values",
            output="out.json",
        )
    )
    cases.append(
        Case(
            "build-max-bytes",
            ("--max-bytes", "20", "build", "{dir}/good.csv", "-c", "zhang2017", "-o", "{dir}/out.json"),
            3,
            "--max-bytes",
            output="out.json",
        )
    )
    cases.append(
        Case(
            "build-output-dir",
            ("build", "{dir}/good.npz", "-c", "zhang2017", "-o", "{dir}/dir.npz"),
            3,
            "is a directory",
        )
    )
    cases.append(
        Case(
            "build-output-nodir",
            ("build", "{dir}/good.npz", "-c", "zhang2017", "-o", "{dir}/no/such/dir/out.json"),
            3,
            "does not exist",
        )
    )
    return cases


def _network_docs() -> dict[str, tuple[object, str]]:
    """name -> (JSON document or raw text, fragment) of bad networks for 2 inputs."""

    def net(nodes, edges, inputs=("a", "b"), outputs=("o",), **graph):
        g = {"format": "netcert.network", "version": 1, "inputs": list(inputs), "outputs": list(outputs), **graph}
        return {"directed": True, "multigraph": False, "graph": g, "nodes": nodes, "edges": edges}

    a, b = {"id": "a", "layer": 0, "activation": "input"}, {"id": "b", "layer": 0, "activation": "input"}
    o = {"id": "o", "layer": 1, "activation": "identity", "bias": "0"}
    ea, eb = {"source": "a", "target": "o", "weight": "1"}, {"source": "b", "target": "o", "weight": "1"}

    def with_o(**o2):
        return net([a, b, dict(o, **o2)], [ea, eb])

    h = {"id": "h", "layer": 1, "activation": "relu", "bias": "0"}
    o2 = dict(o, layer=2)
    return {
        "notjson.json": ("{not json", "not JSON"),
        "emptyjson.json": ("", "not JSON"),
        "array.json": ([], "does not match"),
        "deep.json": ("[" * 100_000 + "]" * 100_000, "nested 100000 deep"),
        "deepobject.json": ('{"a":' * 100 + "1" + "}" * 100, "nested 100 deep"),
        "nan.json": ('{"directed": NaN}', "NaN is not a JSON number"),
        "layerdigits.json": (
            json.dumps(with_o(layer=1)).replace('"layer": 1', '"layer": ' + "9" * 5000),
            "4300 digits",
        ),
        "layer1e30.json": (with_o(layer=10**30), "layer"),
        "layer1e9dead.json": (
            net([a, b, o, {"id": "z", "layer": 10**9, "activation": "relu", "bias": "0"}], [ea, eb]),
            "exceeds the limit",
        ),
        "layerneg.json": (with_o(layer=-1), "does not match"),
        "layerfloat.json": (with_o(layer=1.0), "layer must be an integer"),
        "layerbool.json": (with_o(layer=True), "does not match"),
        "badact.json": (with_o(activation="sigmoid"), "does not match"),
        "noinputs.json": (net([a, b, o], [ea, eb], inputs=()), "does not match"),
        "nooutputs.json": (net([a, b, o], [ea, eb], outputs=()), "does not match"),
        "twooutputs.json": (
            net([a, b, o, dict(o, id="p")], [ea, eb, dict(ea, target="p")], outputs=("o", "p")),
            "outputs",
        ),
        "outputisinput.json": (net([a, b, o], [ea, eb], outputs=("a",)), "invalid network"),
        "missingoutput.json": (net([a, b, o], [ea, eb], outputs=("q",)), "invalid network"),
        "dupinputs.json": (net([a, b, o], [ea, eb], inputs=("a", "a")), "invalid network"),
        "cycle.json": (
            net(
                [a, b, h, o2, dict(h, id="h2", layer=1)],
                [
                    ea,
                    eb,
                    dict(ea, target="h"),
                    {"source": "h", "target": "h2", "weight": "1"},
                    {"source": "h2", "target": "h", "weight": "1"},
                    {"source": "h", "target": "o", "weight": "1"},
                ],
            ),
            "invalid network",
        ),
        "selfloop.json": (net([a, b, o], [ea, eb, {"source": "o", "target": "o", "weight": "1"}]), "invalid network"),
        "edgedown.json": (
            net([a, b, h, o2], [ea, eb, {"source": "o", "target": "h", "weight": "1"}]),
            "invalid network",
        ),
        "intoinput.json": (net([a, b, o], [ea, eb, {"source": "a", "target": "b", "weight": "1"}]), "invalid network"),
        "biasinput.json": (net([dict(a, bias="1"), b, o], [ea, eb]), "does not match"),
        "nobias.json": (net([a, b, {k: v for k, v in o.items() if k != "bias"}], [ea, eb]), "does not match"),
        "zeroweight.json": (net([a, b, o], [dict(ea, weight="0"), eb]), "does not match"),
        "noncanonical.json": (net([a, b, o], [dict(ea, weight="6/4"), eb]), "not in lowest terms"),
        "denominator1.json": (net([a, b, o], [dict(ea, weight="5/1"), eb]), "denominator of 1"),
        "minuszero.json": (with_o(bias="-0"), "not a canonical number"),
        "floatweight.json": (net([a, b, o], [dict(ea, weight="1e5"), eb]), "does not match"),
        "numberweight.json": (net([a, b, o], [dict(ea, weight=1), eb]), "does not match"),
        "hugeweight.json": (net([a, b, o], [dict(ea, weight="7" * 400_000), eb]), "number too large"),
        "hugehex.json": (net([a, b, o], [dict(ea, weight="0x" + "f" * 300_000), eb]), "number too large"),
        "boolid.json": (net([a, b, dict(o, id=True)], [ea, eb]), "does not match"),
        "dupnode.json": (net([a, b, o, o], [ea, eb]), "appears twice"),
        "dupedge.json": (net([a, b, o], [ea, eb, ea]), "appears twice"),
        "edgetonowhere.json": (net([a, b, o], [ea, eb, dict(ea, target="q")]), "not a node"),
        "wrongformat.json": (net([a, b, o], [ea, eb], format="other"), "does not match"),
        "version2.json": (net([a, b, o], [ea, eb], version=2), "does not match"),
        "directedfalse.json": (dict(net([a, b, o], [ea, eb]), directed=False), "does not match"),
        "threeinputs.json": (net([a, b, dict(a, id="c"), o], [ea, eb], inputs=("a", "b", "c")), "3 inputs"),
        "extrakey.json": (dict(net([a, b, o], [ea, eb]), links=[]), "does not match"),
    }


def _network_cases(d: Path) -> list[Case]:
    cases = []
    names = []
    for name, (doc, fragment) in _network_docs().items():
        (d / name).write_text(doc if isinstance(doc, str) else json.dumps(doc))
        names.append((name, fragment))
    (d / "garbage.json.gz").write_bytes(b"\x1f\x8b\x08\x00garbage, not deflate")
    names.append(("garbage.json.gz", "not a readable gzip file"))
    (d / "notgzip.json.gz").write_bytes(b'{"directed": true}')
    names.append(("notgzip.json.gz", "not a readable gzip file"))
    (d / "truncated.json.gz").write_bytes(gzip.compress((d / "good.json").read_bytes())[:-20])
    names.append(("truncated.json.gz", "truncated"))
    (d / "twomembers.json.gz").write_bytes(gzip.compress(b"{}") + gzip.compress(b"{}"))
    names.append(("twomembers.json.gz", "after its one member"))
    _gzip_bomb(d / "bomb.json.gz", 600 << 20)
    names.append(("bomb.json.gz", "inflated size"))
    os.mkfifo(d / "fifo.json")
    names.append(("fifo.json", "a FIFO"))
    os.symlink("/dev/zero", d / "zero.json")
    names.append(("zero.json", "a device"))
    os.mkdir(d / "dir.json")
    names.append(("dir.json", "a directory"))
    names.append(("missing.json", "No such file"))
    for name, fragment in names:
        cases.append(
            Case(
                f"verify-net-{name}",
                ("verify", f"{{dir}}/{name}", "--data", "{dir}/good.npz", "-o", "{dir}/out.cert.json", "-j", "1"),
                3,
                fragment,
                output="out.cert.json",
            )
        )
        if name not in ("threeinputs.json",):  # inspect needs no dataset
            cases.append(Case(f"inspect-{name}", ("inspect", f"{{dir}}/{name}"), 3, fragment))
    return cases


def _certificate_cases(d: Path) -> list[Case]:
    good = json.loads((d / "good.cert.json").read_text())
    cases = []

    def cert(name, doc_or_text, code, fragment):
        (d / name).write_text(doc_or_text if isinstance(doc_or_text, str) else json.dumps(doc_or_text))
        cases.append(Case(f"check-{name}", ("check", f"{{dir}}/{name}", "-j", "1"), code, fragment))

    def edited(path: str, value):
        doc = json.loads(json.dumps(good))
        *head, last = path.split(".")
        node = doc
        for k in head:
            node = node[k]
        node[last] = value
        return doc

    cert("c_notjson.cert.json", "{", 3, "not JSON")
    cert("c_deep.cert.json", "[" * 100_000, 3, "nested 100000 deep")
    cert("c_digits.cert.json", json.dumps(good).replace('"n": 6', '"n": ' + "6" * 5000, 1), 3, "4300 digits")
    cert("c_depthfloat.cert.json", edited("structure.depth", 2.0), 3, "structure.depth is a float")
    cert("c_seedhuge.cert.json", edited("checker.seed", 10**30), 3, "does not match")
    cert("c_nan.cert.json", json.dumps(good).replace('"n": 6', '"n": NaN', 1), 3, "NaN")
    cert("c_array.cert.json", [], 3, "does not match")
    outside = edited("dataset.path", "../" * 40 + "etc/passwd")
    cert("c_outside.cert.json", outside, 1, "leaves the directory")
    cert("c_absolute.cert.json", edited("network.path", "/etc/passwd"), 3, "does not match")
    forged = json.loads((d / "sampled.cert.json").read_text())  # 60 points, 10 checked by the kernel
    forged["checker"].update(mode="full", sample=None, points_checked=60, notes=[])
    cert("c_forged_full.cert.json", forged, 1, "checker.")
    os.mkfifo(d / "c_fifo.cert.json")
    cases.append(Case("check-c_fifo.cert.json", ("check", "{dir}/c_fifo.cert.json"), 3, "a FIFO"))
    os.mkdir(d / "nocerts")
    cases.append(Case("check-empty-directory", ("check", "{dir}/nocerts"), 3, "no *.cert.json"))
    cases.append(Case("check-missing", ("check", "{dir}/missing.cert.json"), 3, "No such file"))
    return cases


def write(directory: Path) -> list[Case]:
    """Make every file of the corpus in ``directory`` (empty); return the cases."""
    directory = Path(directory)
    _good_files(directory)
    return _dataset_cases(directory) + _network_cases(directory) + _certificate_cases(directory)


if __name__ == "__main__":
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    made = write(out)
    (out / "manifest.json").write_text(json.dumps([dataclasses.asdict(c) for c in made], indent=1))
    print(f"{len(made)} cases in {out}")
