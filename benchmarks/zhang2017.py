"""Benchmark zhang2017: build time, and exact evaluation speed of three evaluators.

    python benchmarks/zhang2017.py            # n = 10^4 and 10^5, d = 10
    python benchmarks/zhang2017.py --quick    # n = 10^3 and 10^4
    python benchmarks/zhang2017.py --sizes 2000 50000 --d 5

For each n: random float32 points (standard normal, seeded) with integer labels
0..9 are written to an .npz; zhang2017 is built on them (timed) and written to
net.json; then three evaluators run on that file, each in its own subprocess:

- the fast evaluator, ``netcert.engine.evaluate.run``, on all n distinct points
  (the time includes compiling the network to integer form);
- the trusted kernel, ``netcert.kernel.check``, with its default sample of
  1,000 points. "kernel s" is the whole call (reading and validating both
  files with the kernel's own readers, measures, hashes, the sampled outputs);
  "kernel points/s" is the rate of its exact evaluation alone, timed between
  its progress callbacks after the 100th and the last sampled point;
- the naive reference, ``netcert.engine.reference.forward`` (one ``fractions.Fraction``
  per scalar), on a seeded random sample of points sized, from a short
  calibration run, to take about ``--fraction-seconds`` (default 15 s).

Each evaluator's outputs are compared with the labels, and the script stops
if any is wrong. "speed-up" = evaluator points/s / Fraction points/s, both
measured in the same run of this script.

Memory: each stage runs in a fresh subprocess, and "peak MB" is that process's
peak resident set size (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) at the
end of the stage: the interpreter, the imported libraries, the dataset and the
network included. In parentheses: the growth of the peak during the measured
call alone (peak after it minus the resident size just before it, from
/proc/self/statm). No tracemalloc: it would slow the timed code down.

Timings are wall-clock (``time.perf_counter``), one run each, on whatever
machine runs this; nothing here is asserted by the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

LABELS = 10


# -- measurements inside a stage subprocess -------------------------------------------


def _rss_mb() -> float:
    """Current resident set size (Linux /proc; 0 elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except OSError:
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 2**20 if sys.platform == "darwin" else kb / 2**10  # bytes on macOS, KiB on Linux


def _memory(before: float) -> dict:
    peak = _peak_mb()
    return {"peak_mb": peak, "delta_mb": max(0.0, peak - before)}


def stage_build(data: str, net: str, seed: int) -> dict:
    from netcert import dataset
    from netcert.constructions import registry
    from netcert.formats import netjson
    from netcert.ir import measures

    t0 = time.perf_counter()
    ds = dataset.load(data)
    load_s = time.perf_counter() - t0
    c = registry.get("zhang2017")
    before = _rss_mb()
    t0 = time.perf_counter()
    G = c.build(ds, seed=seed)
    build_s = time.perf_counter() - t0
    mem = _memory(before)
    t0 = time.perf_counter()
    netjson.write(G, net)
    write_s = time.perf_counter() - t0
    m = measures.measure(G)
    return {
        "n": ds.n,
        "d": ds.d,
        "load_s": load_s,
        "build_s": build_s,
        "write_s": write_s,
        "net_mb": Path(net).stat().st_size / 2**20,
        "params_nonzero": m.params_nonzero,
        "params_dense": m.params_dense,
        "max_bits": m.max_weight_bits,
        "total_bits": m.total_weight_bits,
        "direction": G.graph["construction"]["options"]["direction_method"],
        **mem,
    }


def stage_evaluator(data: str, net: str) -> dict:
    from netcert import dataset, certify
    from netcert.engine import evaluate

    ds = dataset.load(data)
    G = certify.load_network(net)
    before = _rss_mb()
    t0 = time.perf_counter()
    ev = evaluate.run(G, ds)
    seconds = time.perf_counter() - t0
    if not ev.exact:
        raise SystemExit(f"the evaluator found {len(ev.mismatches)} mismatches")
    return {
        "seconds": seconds,
        "points": ev.points_checked,
        "points_per_s": ev.points_checked / seconds,
        **_memory(before),
    }


def stage_kernel(data: str, net: str, sample: int) -> dict:
    from netcert import kernel

    marks: list[tuple[int, float]] = []
    before = _rss_mb()
    t0 = time.perf_counter()
    verdict = kernel.check(
        net, data, {}, sample=sample, seed=0, progress=lambda k: marks.append((k, time.perf_counter()))
    )
    seconds = time.perf_counter() - t0
    mem = _memory(before)
    if not verdict.ok:
        raise SystemExit(f"the kernel failed: {verdict.failures[:3]}")
    (k0, t_first), (k1, t_last) = marks[0], marks[-1]
    rate = (k1 - k0) / (t_last - t_first) if k1 > k0 else float("nan")
    return {
        "seconds": seconds,
        "points": verdict.points_checked,
        "points_per_s": rate,
        "eval_s": t_last - t_first,
        **mem,
    }


def stage_fraction(data: str, net: str, seconds: float, seed: int) -> dict:
    from netcert import dataset, certify
    from netcert.engine import reference

    ds = dataset.load(data)
    G = certify.load_network(net)
    order = list(range(ds.n))
    random.Random(seed).shuffle(order)

    def point(i: int) -> list[Fraction]:
        return [Fraction(int(q.numerator), int(q.denominator)) for q in ds.point(i)]

    def label(i: int) -> Fraction:
        return Fraction(int(ds.labels[i].numerator), int(ds.labels[i].denominator))

    def run(indices: list[int]) -> float:
        xs = [point(i) for i in indices]  # conversion not timed
        t0 = time.perf_counter()
        outs = [reference.forward(G, x)[0] for x in xs]
        elapsed = time.perf_counter() - t0
        bad = [i for i, o in zip(indices, outs) if o != label(i)]
        if bad:
            raise SystemExit(f"the Fraction evaluator disagrees with the labels at points {bad[:5]}")
        return elapsed

    # calibrate on a few points (at least 2, about a second), then size the timed sample
    k, spent = 2, 0.0
    while True:
        spent = run(order[:k])
        if spent >= 1.0 or k >= ds.n:
            break
        k = min(ds.n, k * 4)
    per_point = spent / k
    m = max(1, min(ds.n, round(seconds / per_point)))
    before = _rss_mb()
    elapsed = run(order[:m])
    return {"seconds": elapsed, "points": m, "points_per_s": m / elapsed, **_memory(before)}


def run_stage(args: argparse.Namespace) -> None:
    if args.stage == "build":
        out = stage_build(args.data, args.net, args.seed)
    elif args.stage == "evaluator":
        out = stage_evaluator(args.data, args.net)
    elif args.stage == "kernel":
        out = stage_kernel(args.data, args.net, args.sample)
    else:
        out = stage_fraction(args.data, args.net, args.fraction_seconds, args.seed)
    print(json.dumps(out))


# -- the driver -----------------------------------------------------------------


def make_data(path: Path, n: int, d: int, seed: int) -> None:
    import numpy as np

    rng = np.random.default_rng([seed, n, d])
    X = rng.standard_normal((n, d)).astype(np.float32)
    y = rng.integers(0, LABELS, size=n).astype(np.int64)
    np.savez(path, X=X, y=y)


def subprocess_stage(stage: str, data: Path, net: Path, args: argparse.Namespace) -> dict:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--stage",
        stage,
        "--data",
        str(data),
        "--net",
        str(net),
        "--seed",
        str(args.seed),
        "--sample",
        str(args.sample),
        "--fraction-seconds",
        str(args.fraction_seconds),
    ]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"stage {stage} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def bench(n: int, d: int, directory: Path, args: argparse.Namespace) -> dict:
    data, net = directory / f"data_n{n}_d{d}.npz", directory / f"net_n{n}_d{d}.json"
    make_data(data, n, d, args.seed)
    row = {"n": n, "d": d}
    for stage in ("build", "evaluator", "kernel", "fraction"):
        print(f"  n = {n}: {stage} ...", file=sys.stderr, flush=True)
        row[stage] = subprocess_stage(stage, data, net, args)
    row["speedup"] = row["evaluator"]["points_per_s"] / row["fraction"]["points_per_s"]
    return row


def _mem(stage: dict) -> str:
    return f"{stage['peak_mb']:.0f} (+{stage['delta_mb']:.0f})"


def table(rows: list[dict]) -> str:
    head = [
        "n",
        "d",
        "build s",
        "evaluator s",
        "evaluator points/s",
        "kernel s (1,000 pts)",
        "kernel points/s",
        "Fraction points/s (sample)",
        "speed-up vs Fraction",
        "peak MB: build",
        "peak MB: evaluator",
        "peak MB: kernel",
        "peak MB: Fraction",
        "params_nonzero",
        "max bits",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---:" for _ in head) + "|"]
    for r in rows:
        b, e, k, f = r["build"], r["evaluator"], r["kernel"], r["fraction"]
        cells = [
            f"{r['n']:,}",
            str(r["d"]),
            f"{b['build_s']:.2f}",
            f"{e['seconds']:.2f}",
            f"{e['points_per_s']:,.0f}",
            f"{k['seconds']:.2f}",
            f"{k['points_per_s']:,.0f}",
            f"{f['points_per_s']:,.2f} ({f['points']:,})",
            f"{r['speedup']:,.0f}x",
            _mem(b),
            _mem(e),
            _mem(k),
            _mem(f),
            f"{b['params_nonzero']:,}",
            str(b["max_bits"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__
    )
    parser.add_argument("--quick", action="store_true", help="n = 10^3 and 10^4 instead of 10^4 and 10^5")
    parser.add_argument("--sizes", type=int, nargs="+", help="the values of n (overrides --quick)")
    parser.add_argument("--d", type=int, default=10, help="dimension (default 10)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and of the samples (default 0)")
    parser.add_argument("--sample", type=int, default=1000, help="the kernel's sample (default 1000)")
    parser.add_argument(
        "--fraction-seconds",
        type=float,
        default=15.0,
        help="target time of the Fraction evaluator's timed sample (default 15)",
    )
    parser.add_argument("--workdir", type=Path, help="keep the data and networks here (default: a temporary dir)")
    parser.add_argument("--json", type=Path, help="also write the raw measurements here")
    parser.add_argument("--stage", choices=["build", "evaluator", "kernel", "fraction"], help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--net", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage:
        run_stage(args)
        return 0
    sizes = args.sizes or ([10**3, 10**4] if args.quick else [10**4, 10**5])
    with tempfile.TemporaryDirectory(prefix="netcert-bench-") as tmp:
        directory = args.workdir or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        rows = [bench(n, args.d, directory, args) for n in sizes]
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    print(table(rows))
    print()
    print(
        f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; one run each. "
        "peak MB = peak RSS of the stage's own process (interpreter, libraries, data and network included); "
        "(+x) = growth of that peak during the timed call."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
