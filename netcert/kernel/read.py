"""Strict readers of numbers, networks and datasets (specs/README.md sections 1-3), to sympy QQ, bounded by the
limits of section 5 before anything is allocated. The only kernel module with numpy (its .npy format and dtypes)."""
import hashlib
import io
import json
import math
import os
import re
import stat
import zipfile
import zlib

import numpy
from sympy.polys.domains import QQ, ZZ

DEFAULTS = {"BITS": 10**6, "BYTES": 512 * 2**20, "VALUES": 10**7, "LAYER": 10**6}  # section 5; read at each use
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

def limit(name):
    """A size limit: the environment's NETCERT_MAX_<name> if it is a positive integer, else the default."""
    v = os.environ.get(f"NETCERT_MAX_{name}", "")
    return int(v) if v.isascii() and v.isdigit() and 0 < len(v) <= 30 and int(v) else DEFAULTS[name]

def too_big(digits, hexa=False):
    """Whether a digit string may denote more than the bit limit: 4k for hex, ceil(k log2 10) for decimal."""
    k, top = len(digits), limit("BITS")
    if hexa or 4 * k <= top or 3 * k >= top:  # 3 < log2 10 < 4
        return 4 * k > top
    return (ZZ(10) ** k).bit_length() > top  # exactly ceil(k log2 10)

def read_file(path):
    """A regular file's bytes, at most the byte limit (opened without blocking: a FIFO must not hang the kernel)."""
    with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as f:
        mode, top = os.fstat(f.fileno()).st_mode, limit("BYTES")
        raw = f.read(top + 1) if stat.S_ISREG(mode) else refuse("a regular file", f"{path}: {stat.filemode(mode)}", "file")
    return raw if len(raw) <= top else refuse(f"at most {top} bytes", str(path), "file")

def gunzip(raw, path):
    """The one gzip member of raw (as netcert writes it), inflated to at most the byte limit."""
    z, top = zlib.decompressobj(16 + zlib.MAX_WBITS), limit("BYTES")
    out = z.decompress(raw, top + 1)
    return out if len(out) <= top and z.eof and not z.unused_data else refuse(f"one gzip member of <= {top} bytes",
                                                                               str(path), "file")

def number(s):
    """The exact value of a number string (section 1): strict grammar, canonical, size-limited."""
    m = (RAT.fullmatch(s) or HEX.fullmatch(s)) if isinstance(s, str) else None
    if m is None:
        refuse("a number string in the grammar of section 1", json.dumps(s)[:60], "number")
    sign, a, b = m.groups()
    base = 16 if m.re is HEX else 10
    if too_big(a, base == 16) or too_big(b or "", base == 16):
        refuse(f"at most {limit('BITS')} bits", f"a string of {len(s)} characters", "number")
    p, q = (ZZ.dtype(int(t, 16) if base == 16 else t) for t in (a, b or "1"))  # FLINT's fmpz takes no base
    if (b and q == 1) or ZZ.gcd(p, q) != 1 or (sign and p == 0):
        refuse("canonical form (lowest terms, no /1, no -0)", repr(s[:60]), "number")
    return QQ(-p if sign else p, q)

def read_network(path):
    """(sha256 of the file bytes, parsed JSON) of a .json or .json.gz network."""
    raw = read_file(path)
    doc = json.loads(gunzip(raw, path) if str(path).endswith(".gz") else raw)
    for nd in doc.get("nodes", []) if isinstance(doc, dict) and isinstance(doc.get("nodes"), list) else []:
        layer = nd.get("layer") if isinstance(nd, dict) else None
        if type(layer) is int and layer > limit("LAYER"):  # every layer loop stays bounded
            refuse(f"layers of at most {limit('LAYER')}", f"node {json.dumps(nd.get('id'))[:60]}: layer {layer}",
                   "network.validity")
    return hashlib.sha256(raw).hexdigest(), doc

def read_dataset(path, csv=None):
    """(sha256, rows as tuples of QQ, labels as QQ, label kind) of a .npz or .csv file, a .csv read as the options
    `csv` say (a certificate's dataset.csv; None: the defaults); the hashed bytes are parsed."""
    suffix = str(path).rsplit(".", 1)[-1]
    if suffix not in ("npz", "csv") or (csv is not None and suffix == "npz"):
        refuse("a .npz or .csv file (and CSV options for a .csv only)", str(path), "dataset file")
    raw = read_file(path)
    return hashlib.sha256(raw).hexdigest(), *(read_npz(raw) if suffix == "npz" else read_csv(raw.decode("utf-8"), csv))

def member(z, name):
    """Array `name` of an .npz archive: its .npy header read first, its size bounded before its data is inflated."""
    info = z.getinfo(name + ".npy" if name + ".npy" in z.namelist() else name)  # KeyError when missing
    if info.flag_bits & 1:
        refuse("an unencrypted archive member", f"{name}: encrypted")
    with z.open(info) as f:
        version = numpy.lib.format.read_magic(f)
        if version not in ((1, 0), (2, 0)):
            refuse(".npy format 1.0 or 2.0", f"{name}: {version}")
        shape, _, dtype = (numpy.lib.format.read_array_header_1_0 if version == (1, 0)
                           else numpy.lib.format.read_array_header_2_0)(f)
    if dtype.kind not in "iuf" or dtype.fields or dtype.subdtype:
        refuse("an integer or float dtype", f"{name} has dtype {dtype}")
    if math.prod(shape) > limit("VALUES"):
        refuse(f"at most {limit('VALUES')} values", f"{name} of shape {shape}")
    with z.open(info) as f:
        return numpy.lib.format.read_array(f, allow_pickle=False)

def read_npz(raw):
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        X, y = member(z, "X"), member(z, "y")
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
    size = f"at most {limit('BITS')} bits, a decimal exponent of at most 10^4"
    if too_big((ip or "") + fp) or too_big(num or "") or too_big(den or "") or abs(e) > 10**4:
        refuse(size, f"{where}: {s[:40]!r}")
    v = QQ(ZZ.dtype(num), ZZ.dtype(den)) if num else QQ(ZZ.dtype(ip + fp)) * QQ(10) ** (e - len(fp))
    if max(abs(QQ.numer(v)).bit_length(), QQ.denom(v).bit_length()) > limit("BITS"):
        refuse(size, f"{where}: {s[:40]!r}")
    return -v if sign == "-" else v

def lines(text, sep=","):
    """Section 2.2's lines: split at \\n, a \\r before it dropped, a leading byte order mark ignored; (number from 1,
    fields split at sep and stripped of spaces and tabs) for the lines that are not blank. Other characters stay."""
    out = []
    for k, line in enumerate((text[1:] if text.startswith("\ufeff") else text).split("\n")):
        line = line[:-1] if line.endswith("\r") else line
        if line.strip(" \t"):
            out.append((k + 1, [f.strip(" \t") for f in line.split(sep)]))
    return out

OPTIONS = ("delimiter", "header", "index_column", "label_column", "labels")  # section 4's dataset.csv

def read_csv(text, csv=None):
    """Section 2.2 by its default rules, or as the resolved options csv say: delimiter, header (a bool), label_column
    (from 1), index_column ("drop": column 1 is not read), labels (null, or the map the label strings must give)."""
    o = {} if csv is None else csv
    if csv is not None and not (type(o) is dict and sorted(o) == list(OPTIONS) and type(o["header"]) is bool
                                and o["delimiter"] in (",", ";", "\t", "|") and o["index_column"] in ("drop", "keep")
                                and type(o["label_column"]) is int and type(o["labels"]) in (dict, type(None))):
        refuse("dataset.csv: the options of section 4", json.dumps(csv)[:200])
    table, drop, names = lines(text, o.get("delimiter", ",")), int(o.get("index_column") == "drop"), o.get("labels")
    if o.get("header", table and not any(LIT.fullmatch(f) for f in table[0][1])):
        table = table[1:]  # a header (by default: none of its fields is a number)
    if not table:
        refuse("at least one data line", "none")
    width, rows, ys = len(table[0][1]), [], []
    lab = o.get("label_column", width) - 1
    cols = [c for c in range(drop, width) if c != lab]
    if not drop <= lab < width or len(table) * len(cols) > limit("VALUES"):
        refuse(f"a label column in {1 + drop}..{width}, <= {limit('VALUES')} values", f"{lab + 1}, {len(table)} rows")
    for k, fields in table:
        if len(fields) != width or width < 2 + drop:
            refuse(f"{max(width, 2 + drop)} fields on every line", f"{len(fields)} on line {k}")
        rows.append(tuple(literal(fields[c], f"line {k}, column {c + 1}") for c in cols))
        ys.append(fields[lab] if names is not None else literal(fields[lab], f"line {k}, column {lab + 1}"))
    if names is not None:  # sorted distinct label strings to 0, 1, 2, ...
        rule = {s: i for i, s in enumerate(sorted(set(ys)))}
        if "" in rule or json.dumps(names, sort_keys=True) != json.dumps(rule, sort_keys=True):
            refuse("dataset.csv.labels: the sorted distinct non-empty labels to 0, 1, ...", json.dumps(names)[:200])
        ys = [QQ(rule[y]) for y in ys]
    integer = names is not None or all(re.fullmatch(r"[+-]?[0-9]+", fields[lab]) for _, fields in table)
    return rows, ys, "integer" if integer else "real"

def dataset_digest(rows, ys):
    """Section 2.5: sha256 of the canonical text of the rows as they are in the file."""
    h = hashlib.sha256(f"netcert.dataset 1\n{len(rows)} {len(rows[0])}\n".encode())
    for x, y in zip(rows, ys):
        h.update((" ".join(map(dec, x + (y,))) + "\n").encode())
    return h.hexdigest()
