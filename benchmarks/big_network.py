"""Large honest networks, and the time and memory netcert takes to read, verify and check them.

    python benchmarks/big_network.py make    --units 1000000 [--width 1000] [--fan-in 4] [--points 8] --out DIR
    python benchmarks/big_network.py measure --units 10000 100000 1000000 [--out DIR] [--profile]

``make`` writes ``DIR/net-U.json`` and ``DIR/data-U.csv``: a layered ReLU
network with U units (d = 10 inputs, hidden layers of ``--width`` neurons, one
identity output) and ``--points`` points whose labels are the network's exact
outputs, so the network is certified on them. Every hidden neuron has
``--fan-in`` edges from random neurons of the layer below (``--fan-in 0``:
dense, from all of them). The first layer reads the inputs with small
rational weights (halves and quarters); a hidden-to-hidden neuron has one
weight +1 and the others negative integers, with a bias in 0..3, so its value
is at most its positive source's plus 3: values grow by a few per layer and
their denominators stay at most 4 whatever the depth, which keeps the exact
evaluation cheap and leaves the reading of the file as the cost being measured.
The output sums the last hidden layer with weights +-1/2. Node ids are
integers (``--string-ids``: strings ``"n<k>"``). About 50 bytes of JSON per
edge: U = 10^6 at fan-in 4 is about 200 MB.

``measure`` makes the files it lacks and runs, on each, ``netcert inspect``,
``netcert verify -j 1``, ``netcert verify`` (every core) and ``netcert check``
under ``/usr/bin/time -v`` (else ``resource.getrusage(RUSAGE_CHILDREN)``), and
prints one markdown row per run: wall seconds and peak RSS. ``--profile``
also runs each under cProfile and prints its top entries by cumulative time.

Times are wall-clock on whatever machine runs this; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

D = 10  # inputs
RATIONAL = ("1/2", "-1/2", "1/4", "-1/4", "3/4", "-3/4", "1", "-1")  # first-layer weights
NEGATIVE = (-1, -2, -1, -3)  # the other hidden-to-hidden weights


def layout(units: int, width: int) -> list[int]:
    """Widths of the hidden layers: as many full layers of ``width`` as fit in units - 1, then the rest."""
    hidden = units - 1
    if hidden < 1:
        raise SystemExit("--units must be at least 2 (one hidden neuron and the output)")
    sizes = [width] * (hidden // width)
    return sizes + [hidden % width] if hidden % width else sizes


def fmt(q) -> str:
    """A canonical decimal rational of an int or Fraction."""
    from fractions import Fraction

    q = Fraction(q)
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


def network_parts(units: int, width: int, fan_in: int, seed: int):
    """(nodes, edges, output id, layers): nodes as (id, layer, activation, bias), edges as (source, target,
    weight), both in the canonical order of the specs (by layer, then integer id): ids are allocated layer by layer
    and every neuron's sources are sorted, so the file can be written without sorting."""
    rng = random.Random(seed)
    nodes = [(j, 0, "input", None) for j in range(D)]
    edges = []
    below, nxt = list(range(D)), D
    for layer, size in enumerate(layout(units, width), start=1):
        here = list(range(nxt, nxt + size))
        nxt += size
        for v in here:
            k = len(below) if fan_in <= 0 else min(fan_in, len(below))
            sources = sorted(rng.sample(below, k))
            if layer == 1:
                ws = [rng.choice(RATIONAL) for _ in sources]
            else:
                plus = rng.randrange(k)
                ws = ["1" if i == plus else str(rng.choice(NEGATIVE)) for i in range(k)]
            nodes.append((v, layer, "relu", str(rng.randrange(4))))
            edges += [(u, v, w) for u, w in zip(sources, ws)]
        below = here
    out = nxt
    nodes.append((out, layer + 1, "identity", "0"))
    edges += [(u, out, rng.choice(("1/2", "-1/2"))) for u in below]
    edges.sort()  # by source, then target: ids grow with the layer, so this is the canonical order
    return nodes, edges, out, layer + 1


def write_network(path: Path, units: int, width: int, fan_in: int, seed: int, string_ids: bool) -> None:
    """The canonical bytes of specs/README.md 3.3, written directly (a networkx graph of 10^6 nodes would take
    minutes to build just to be serialized); ``netcert check`` on the result proves they are canonical."""
    import json

    nodes, edges, out, _ = network_parts(units, width, fan_in, seed)
    name = (lambda v: f"n{v:08d}") if string_ids else (lambda v: v)  # zero-padded: string order = integer order
    ids = lambda v: json.dumps(name(v))  # noqa: E731
    graph = {
        "format": "netcert.network",
        "version": 1,
        "inputs": [name(j) for j in range(D)],
        "outputs": [name(out)],
        "construction": {
            "name": "big_network",
            "reference": "benchmarks/big_network.py",
            "options": {"units": units, "width": width, "fan_in": fan_in, "seed": seed},
        },
    }
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="ascii") as f:
        f.write('{"directed":true,"edges":[')
        f.write(",".join(f'{{"source":{ids(u)},"target":{ids(v)},"weight":"{w}"}}' for u, v, w in edges))
        f.write(
            '],"graph":' + json.dumps(graph, sort_keys=True, separators=(",", ":")) + ',"multigraph":false,"nodes":['
        )
        f.write(
            ",".join(
                f'{{"activation":"{a}",'
                + (f'"bias":"{b}",' if b is not None else "")
                + f'"id":{ids(v)},"layer":{layer}}}'
                for v, layer, a, b in nodes
            )
        )
        f.write("]}\n")
    os.replace(tmp, path)


def write_dataset(path: Path, net: Path, points: int, seed: int) -> None:
    """``points`` random points of {0..3}^d with the network's exact outputs as labels (the fast evaluator)."""
    from netcert import dataset
    from netcert.engine import evaluate
    from netcert.formats import netjson

    rng = random.Random(seed + 1)
    xs = [[rng.randrange(4) for _ in range(D)] for _ in range(points)]
    rows = [[str(v) for v in x] + ["0"] for x in xs]
    tmp = path.with_suffix(".tmp.csv")
    tmp.write_text("".join(",".join(r) + "\n" for r in rows))
    labels = evaluate.outputs(netjson.read(net), dataset.load(tmp))
    tmp.write_text("".join(",".join([*r[:-1], fmt_mpq(y)]) + "\n" for r, y in zip(rows, labels)))
    os.replace(tmp, path)


def fmt_mpq(q) -> str:
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


def make(out: Path, units: int, width: int, fan_in: int, points: int, seed: int, string_ids: bool = False):
    """Write the network and its dataset (unless present); return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    tag = f"{units}" + ("s" if string_ids else "") + (f"-f{fan_in}" if fan_in != 4 else "")
    net, data = out / f"net-{tag}.json", out / f"data-{tag}.csv"
    if not net.exists():
        t = time.perf_counter()
        write_network(net, units, width, fan_in, seed, string_ids)
        print(f"wrote {net} ({net.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    if not data.exists():
        t = time.perf_counter()
        write_dataset(data, net, points, seed)
        print(f"wrote {data} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    return net, data


def timed(argv: list[str], cwd: Path, env: dict | None = None) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MB, exit code) of one command."""
    if Path("/usr/bin/time").exists():
        t = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-v", *argv], cwd=cwd, capture_output=True, text=True, env=env)
        wall = time.perf_counter() - t
        peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
        return wall, int(peak.group(1)) / 1024 if peak else float("nan"), p.returncode
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # a high-water mark over all children
    t = time.perf_counter()
    p = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=env)
    wall, after = time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, (after if after > before else float("nan")) / 1024, p.returncode


def commands(net: Path, data: Path) -> list[tuple[str, list[str]]]:
    cert = net.with_suffix(".cert.json")
    netcert = [sys.executable, "-m", "netcert"]
    return [
        ("inspect", [*netcert, "inspect", net.name]),
        ("verify -j 1", [*netcert, "verify", net.name, "--data", data.name, "-o", cert.name, "-j", "1"]),
        ("verify", [*netcert, "verify", net.name, "--data", data.name, "-o", cert.name]),
        ("check", [*netcert, "check", cert.name]),
    ]


def profile(argv: list[str], cwd: Path, top: int, env: dict | None = None) -> str:
    """The ``top`` entries by cumulative time of one command under cProfile."""
    stats = cwd / "profile.out"
    subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(stats), *argv[1:]], cwd=cwd, capture_output=True, env=env
    )
    import io
    import pstats

    buf = io.StringIO()
    pstats.Stats(str(stats), stream=buf).sort_stats("cumulative").print_stats(top)
    return buf.getvalue()


def stages(net: Path, data: Path) -> list[tuple[str, float, float]]:
    """(stage, seconds, peak RSS MB after it) of every step of reading, validating, measuring, hashing and
    compiling ``net``, in one process, in the order ``netcert verify`` takes them; then the kernel's."""
    import hashlib

    from netcert import dataset
    from netcert.engine import evaluate
    from netcert.formats import files, netjson, schemas
    from netcert.ir import measures, validate
    from netcert.kernel import net as knet
    from netcert.kernel import read as kread

    out, t, kept = [], time.perf_counter(), {}

    def step(name, fn):
        nonlocal t
        kept[name] = fn()
        now = time.perf_counter()
        out.append((name, now - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
        print(f"{name:<28} {now - t:8.2f} s {out[-1][2]:8.0f} MB", file=sys.stderr, flush=True)
        t = time.perf_counter()
        return kept[name]

    doc = step("json parse", lambda: files.read_json(net, "network"))
    step("schema", lambda: schemas.check(doc, schemas.NETWORK, str(net)))
    G = step("from_document", lambda: netjson.from_document(doc, str(net)))
    doc = None  # freed, as the readers free it
    del kept["json parse"]
    step("ir.validate", lambda: validate.validate(G))
    step("ir.measures", lambda: measures.measure(G))
    step("sha256 of the file", lambda: hashlib.sha256(net.read_bytes()).hexdigest())
    step("netjson.digest", lambda: netjson.digest(G))
    d = step("dataset.load", lambda: dataset.load(data))
    step("evaluate.run", lambda: evaluate.run(G, d, jobs=1))
    G = None
    del kept["from_document"], kept["evaluate.run"]
    sha, kdoc = step("kernel read_network", lambda: kread.read_network(net))
    nodes, edges, ins, outs, problems = step("kernel validate", lambda: knet.validate(kdoc))
    step("kernel canonical_digest", lambda: knet.canonical_digest(kdoc, nodes))
    step("kernel structure", lambda: knet.structure(nodes, edges, ins, outs))
    step("kernel program", lambda: knet.program(nodes, edges, ins))
    return out


def versions(baseline: Path | None) -> list[tuple[str, dict | None]]:
    """(label, environment) of each version to run: the baseline first (on PYTHONPATH), then this checkout."""
    if baseline is None:
        return [("this", None)]
    return [("before", dict(os.environ, PYTHONPATH=str(baseline.resolve()))), ("after", None)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=("make", "measure", "stages"))
    ap.add_argument("--units", type=int, nargs="+", default=[10**4, 10**5, 10**6])
    ap.add_argument("--width", type=int, default=1000)
    ap.add_argument("--fan-in", type=int, default=4)
    ap.add_argument("--points", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--string-ids", action="store_true")
    ap.add_argument("--out", type=Path, default=Path("big-networks"))
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--only", default="", help="comma-separated commands to run (default all)")
    ap.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="a copy of an older netcert/ (its parent directory): each command runs with it first",
    )
    args = ap.parse_args()
    rows = []
    for units in args.units:
        net, data = make(args.out, units, args.width, args.fan_in, args.points, args.seed, args.string_ids)
        if args.what == "make":
            continue
        if args.what == "stages":
            stages(net, data)
            continue
        size = net.stat().st_size / 1e6
        for name, argv in commands(net, data):
            if args.only and name not in args.only.split(","):
                continue
            for label, env in versions(args.baseline):
                wall, peak, rc = timed(argv, args.out, env)
                rows.append(f"| {units:,} | {size:,.1f} | `{name}` | {label} | {rc} | {wall:,.1f} | {peak:,.0f} |")
                print(rows[-1], flush=True)
                if args.profile:
                    print(profile(argv, args.out, 30, env), flush=True)
    if rows:
        print("| units | MB | command | code | exit | wall s | peak RSS MB |\n|---:|---:|---|---|---:|---:|---:|")
        print("\n".join(rows))


if __name__ == "__main__":
    main()
