"""Strict readers of numbers, networks and datasets (specs/README.md sections 1-3), to sympy QQ.
The only kernel module with numpy, used for numpy.load and dtypes only."""
import gzip
import hashlib
import io
import json
import os
import re
from pathlib import Path

import numpy
from sympy.polys.domains import QQ, ZZ

LIMIT = int(os.environ.get("NETCERT_MAX_BITS", "1000000"))  # bits of a numerator or denominator
RAT = re.compile(r"(-?)(0|[1-9][0-9]*)(?:/([1-9][0-9]*))?")
HEX = re.compile(r"(-?)0x(0|[1-9a-f][0-9a-f]*)(?:/0x([1-9a-f][0-9a-f]*))?")
LIT = re.compile(r"([+-]?)(?:([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?|([0-9]+)/([0-9]*[1-9][0-9]*))")

class KernelError(Exception):
    """One problem; args are (where, expected, found)."""

def refuse(expected, found, where="dataset"):
    raise KernelError(where, expected, found)

def dec(q):
    """The canonical decimal string of a QQ element: "-3/8", "5", "0"."""
    p, d = QQ.numer(q), QQ.denom(q)
    return str(p) if d == 1 else f"{p}/{d}"

def too_big(digits, hexa=False):
    """Whether a digit string may denote more than LIMIT bits: 4k for hex, ceil(k log2 10) for decimal."""
    k = len(digits)
    if hexa or 4 * k <= LIMIT or 3 * k >= LIMIT:  # 3 < log2 10 < 4
        return 4 * k > LIMIT
    return (ZZ(10) ** k).bit_length() > LIMIT  # exactly ceil(k log2 10)

def number(s):
    """The exact value of a number string (section 1): strict grammar, canonical, size-limited."""
    m = (RAT.fullmatch(s) or HEX.fullmatch(s)) if isinstance(s, str) else None
    if m is None:
        refuse("a number string in the grammar of section 1", json.dumps(s)[:60], "number")
    sign, a, b = m.groups()
    base = 16 if m.re is HEX else 10
    if too_big(a, base == 16) or too_big(b or "", base == 16):
        refuse(f"at most {LIMIT} bits", f"a string of {len(s)} characters", "number")
    p, q = ZZ.dtype(a, base), ZZ.dtype(b or "1", base)
    if (b and q == 1) or ZZ.gcd(p, q) != 1 or (sign and p == 0):
        refuse("canonical form (lowest terms, no /1, no -0)", repr(s[:60]), "number")
    return QQ(-p if sign else p, q)

def read_network(path):
    """(sha256 of the file bytes, parsed JSON) of a .json or .json.gz network."""
    raw = Path(path).read_bytes()
    return hashlib.sha256(raw).hexdigest(), json.loads(gzip.decompress(raw) if str(path).endswith(".gz") else raw)

def read_dataset(path):
    """(sha256, rows as tuples of QQ, labels as QQ, label kind) of a .npz or .csv file; the hashed bytes are parsed."""
    suffix = str(path).rsplit(".", 1)[-1]
    if suffix not in ("npz", "csv"):
        refuse("a .npz or .csv file", str(path), "dataset file")
    raw = Path(path).read_bytes()
    return (hashlib.sha256(raw).hexdigest(), *(read_npz(raw) if suffix == "npz" else read_csv(raw.decode("utf-8"))))

def read_npz(raw):
    with numpy.load(io.BytesIO(raw), allow_pickle=False) as z:
        X, y = z["X"], z["y"]  # a missing key raises KeyError, reported as a dataset file failure
    if X.ndim != 2 or y.ndim != 1 or 0 in X.shape or y.shape[0] != X.shape[0]:
        refuse("X of rank 2, shape (n, d), n, d >= 1; y of rank 1, shape (n,)", f"X {X.shape}, y {y.shape}")
    n, d = X.shape
    xs, ys = exact(X, "X"), exact(y, "y")
    return [tuple(xs[i * d:(i + 1) * d]) for i in range(n)], ys, "integer" if y.dtype.kind in "iu" else "real"

def exact(a, name):
    """The exact values of an integer or float array, flattened (floats widened to float64, or longdouble)."""
    if a.dtype.kind not in "iuf":
        refuse("an integer or float dtype", f"{name} has dtype {a.dtype}")
    flat = list(a.ravel()) if a.dtype.itemsize > 8 else a.ravel().tolist()  # to Python int/float; longdouble stays
    out = []
    for k, v in enumerate(flat):
        try:
            out.append(QQ(*v.as_integer_ratio()))
        except (ValueError, OverflowError):  # NaN or infinity
            refuse("finite values", f"{name}[{', '.join(map(str, numpy.unravel_index(k, a.shape)))}] is {v}")
    return out

def literal(s, where):
    """The exact value of a CSV number literal (section 2.2)."""
    m = LIT.fullmatch(s)
    if m is None:
        refuse("a number literal", f"{where}: {s[:40]!r}")
    sign, ip, fp, ex, num, den = m.groups()
    fp, e = fp or "", int(ex or "0") if len((ex or "").lstrip("+-0")) < 7 else 10**7
    if too_big((ip or "") + fp) or too_big(num or "") or too_big(den or "") or abs(e) > 10**4:
        refuse(f"at most {LIMIT} bits, a decimal exponent of at most 10^4", f"{where}: {s[:40]!r}")
    v = QQ(ZZ.dtype(num), ZZ.dtype(den)) if num else QQ(ZZ.dtype(ip + fp)) * QQ(10) ** (e - len(fp))
    return -v if sign == "-" else v

def read_csv(text):
    lines = [(k + 1, line.split(",")) for k, line in enumerate(text.split("\n")) if line.strip()]
    if lines and not any(LIT.fullmatch(f.strip()) for f in lines[0][1]):
        lines = lines[1:]  # a header: none of its fields is a number
    if not lines:
        refuse("at least one data line", "none")
    width, rows, ys = len(lines[0][1]), [], []
    for k, fields in lines:
        if len(fields) != width or width < 2:
            refuse(f"{max(width, 2)} fields on every line", f"{len(fields)} on line {k}")
        vals = [literal(f.strip(), f"line {k}, column {c + 1}") for c, f in enumerate(fields)]
        rows.append(tuple(vals[:-1]))
        ys.append(vals[-1])
    integer = all(re.fullmatch(r"[+-]?[0-9]+", fields[-1].strip()) for _, fields in lines)
    return rows, ys, "integer" if integer else "real"

def dataset_digest(rows, ys):
    """Section 2.5: sha256 of the canonical text of the rows as they are in the file."""
    h = hashlib.sha256(f"netcert.dataset 1\n{len(rows)} {len(rows[0])}\n".encode())
    for x, y in zip(rows, ys):
        h.update((" ".join(map(dec, x + (y,))) + "\n").encode())
    return h.hexdigest()
