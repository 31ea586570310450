"""Every construction in one table: build, verify, points/s, memory, and the baselines beside them.

    python benchmarks/all.py                          # the table at N = 10^4 and 10^5, then jobs, then dask
    python benchmarks/all.py --n 10000                # the table at N = 10^4 only
    python benchmarks/all.py --only zhang2017,yun2019 --parts table
    python benchmarks/all.py --parts jobs dask --jobs-n 100000 --dask-n 1000000

Parts:

- ``table``: for zhang2017, yun2019, vardi2022, park2021 and rajput2021 at each
  N, on one dataset per N: N points uniform in the unit ball of R^10 on the
  2^-30 grid, labels U{1, 2} (``threshold.ball``, the data of docs/constructions/rajput2021.md
  section 11; rajput2021 is meant for d = 10). Each row runs three fresh
  processes: build (construction and writing net.json), ``certify.verify``
  (every point by the evaluator with every core, the kernel on its 1,000
  point sample, the certificate), and the baselines on the same net.json:
  (a) ``reference.forward``, one ``fractions.Fraction`` per scalar, and (b)
  ``float64``, this file's numpy/scipy forward pass, layer by layer over a
  block of points (inexact: the column "float64 wrong" counts outputs that
  differ from the label). Both on a seeded sample of points sized to about
  ``--baseline-seconds``; the sample size is printed beside the rate.
  "x Fraction" and "x float64" are the evaluator's points/s over theirs, in
  the same run; "x Fraction, CPU" the same ratio in points per CPU second
  (the evaluator's CPU counted until its pool of processes is reaped), which
  a busy machine skews less. "bound" is the arithmetic lower bound for the network
  (docs/performance.md, "Arithmetic lower bound"): the limb products and limb additions of
  the integer-scaled formulation with shared forms (netcert's compiled
  program, no reuse across points), at GMP's 0.67 ns per limb product and
  0.28 ns per limb addition, averaged over 20 sample points, as points/s on
  one core; "bound / measured per core" is how many times faster than the
  evaluator (points/s over the cores) the bound is: the cost beyond GMP's limb work (calls, interpreter).
- ``jobs``: vardi2022 at ``--jobs-n`` on its own data (X ~ U[-1, 1]^2,
  labels U{1, 2}, as in benchmarks/vardi2022.py), ``certify.verify`` with one
  process and with two, then ``evaluate.run`` alone the same way, each in a
  fresh process. With two processes, a verify of 2,000 points or more runs
  its claims and the kernel beside the evaluation (``parallel.Beside``), so
  its "eval s" shares the cores with them; "evaluate.run alone" is the
  evaluator's own scaling.
- ``dask``: vardi2022 at ``--dask-n`` on the same kind of data, verified on
  a ``distributed.LocalCluster`` of two single-threaded worker processes on
  loopback (``parallel.Dask``), against nothing: its time is the result.

Columns: "verify s" is the whole ``certify.verify`` call; "eval s" its part
until the evaluator reported every point (reading, measuring, compiling and
evaluating; from 2,000 points on two cores, the measuring, the other claims
and the kernel run beside it, sharing the cores); points/s = N / eval s. Wall seconds (``time.perf_counter``) and
CPU seconds (``resource.getrusage``: the process and its reaped children,
the fork pool's workers included; a Dask cluster's worker processes are
reported by the workers themselves). Peak MB is ``ru_maxrss`` of the stage's
process (or of its largest child, whichever is larger): the interpreter,
libraries, data and network included. No tracemalloc: it slows the timed
code several times. The load average is printed with every row; the
machine may be shared, so times are pessimistic. Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import json
import math
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

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

CONSTRUCTIONS = ("zhang2017", "yun2019", "vardi2022", "park2021", "rajput2021")
LIMB_PRODUCT_NS, LIMB_ADD_NS = 0.67, 0.28  # docs/performance.md, "Arithmetic lower bound"


# -- measuring inside a stage process -------------------------------------------------------


def _usage() -> dict:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "cpu": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,
        "peak_mb": max(me.ru_maxrss, kids.ru_maxrss) / 1024,
    }


def _timed(fn):
    """(result, wall s, cpu s, peak MB) of fn()."""
    u0, t0 = _usage(), time.perf_counter()
    out = fn()
    u1 = _usage()
    return out, time.perf_counter() - t0, u1["cpu"] - u0["cpu"], u1["peak_mb"]


def stage_build(name: str, data: str, net: str) -> dict:
    from netcert import dataset
    from netcert.constructions import registry
    from netcert.formats import netjson
    from netcert.ir import measures

    ds = dataset.load(data)

    def build():
        G = registry.get(name).build(ds, seed=0)
        netjson.write(G, net)
        return G

    G, wall, cpu, peak = _timed(build)
    m = measures.measure(G)
    return {
        "build_s": wall,
        "build_cpu": cpu,
        "build_mb": peak,
        "depth": m.depth,
        "width": m.width,
        "nonzero": m.params_nonzero,
        "max_bits": m.max_weight_bits,
    }


def stage_verify(data: str, net: str, jobs: int | None, scheduler: str | None = None, log: str | None = None) -> dict:
    from netcert import dataset, certify

    from netcert.engine import parallel

    ds = dataset.load(data)
    marks = {}
    ex = parallel.connect(scheduler, jobs)

    def progress(done: int) -> None:
        if log:
            with open(log, "a") as f:
                f.write(f"{time.perf_counter() - marks['start']:.1f} {done}\n")
        if done >= ds.n and "eval" not in marks:
            marks["eval"] = time.perf_counter()
            if scheduler is None and not marks.get("in_map"):  # evaluated in this process
                marks["eval_cpu"] = _usage()["cpu"] - marks["cpu"]

    if scheduler is None:  # the evaluator's CPU, its forked workers included: until its map ends
        local_map = ex.map

        def evaluator_map(fn, items, **kw):
            mine = "eval" not in marks  # a later map is the kernel's (in this process when sequential)
            marks["in_map"] = mine
            yield from local_map(fn, items, **kw)
            if mine:
                marks["eval_cpu"] = _usage()["cpu"] - marks["cpu"]

        ex.map = evaluator_map

    def run():
        marks["start"], marks["cpu"] = time.perf_counter(), _usage()["cpu"]
        return certify.verify(net, data, Path(net).with_suffix(".cert.json"), data=ds, progress=progress, executor=ex)

    cert, wall, cpu, peak = _timed(run)
    out = {
        "verify_s": wall,
        "verify_cpu": cpu,
        "verify_mb": peak,
        "verdict": cert["verdict"],
        "eval_s": marks.get("eval", time.perf_counter()) - marks["start"],
        "n": ds.n,
        "eval_cpu": marks.get("eval_cpu"),
    }
    if scheduler is not None:
        out["worker_cpu"] = sum(ex.client.run(_worker_cpu).values())
    ex.close()
    return out


def stage_evaluate(data: str, net: str, jobs: int | None) -> dict:
    """``evaluate.run`` alone (no claims, no kernel beside it): the evaluator's own scaling."""
    from netcert import dataset, certify
    from netcert.engine import evaluate

    ds, G = dataset.load(data), certify.load_network(net)
    ev, wall, cpu, _ = _timed(lambda: evaluate.run(G, ds, jobs=jobs))
    return {"run_s": wall, "run_cpu": cpu, "exact": ev.exact}


def _worker_cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def stage_baselines(data: str, net: str, seconds: float) -> dict:
    from netcert import dataset, certify
    from netcert.engine import reference
    from netcert.engine import evaluate

    ds = dataset.load(data)
    G = certify.load_network(net)
    order = list(range(ds.n))
    random.Random(0).shuffle(order)
    out = {}
    # (a) Fraction, one point at a time until the budget is spent
    done, t0, c0 = 0, time.perf_counter(), time.process_time()
    while done < ds.n and (done == 0 or time.perf_counter() - t0 < seconds):
        i = order[done]
        y = reference.forward(G, [Fraction(int(q.numerator), int(q.denominator)) for q in ds.point(i)])[0]
        if y != ds.labels[i]:
            raise SystemExit(f"the Fraction evaluator disagrees with the label at point {i}")
        done += 1
    out.update(
        fraction_pps=done / (time.perf_counter() - t0),
        fraction_points=done,
        fraction_cpu_pps=done / (time.process_time() - c0),
    )
    # (b) float64, a block of points at a time until the budget is spent
    layers = float_layers(G)
    X = np.array([[float(q) for q in ds.point(i)] for i in order[: min(ds.n, 50_000)]])
    Y = np.array([float(ds.labels[i]) for i in order[: len(X)]])
    done, wrong, t0 = 0, 0, time.perf_counter()
    block = max(1, min(256, 2_000_000 // max(1, layers[0])))
    while done < len(X) and (done == 0 or time.perf_counter() - t0 < seconds):
        got = float_forward(layers, X[done : done + block])
        wrong += int(np.sum(got != Y[done : done + block]))
        done += len(got)
    out.update(float_pps=done / (time.perf_counter() - t0), float_points=done, float_wrong=wrong)
    # the arithmetic lower bound (docs/performance.md, "Arithmetic lower bound"), on 20 points
    program = evaluate.compile_network(G, ds.scale)
    ns = [limb_ns(program, ds.num[i]) for i in order[:20]]
    out["bound_pps"] = 1e9 / (sum(ns) / len(ns))
    return out


# -- float64 forward pass over the networkx graph ------------------------------------------


def _float(q) -> float:
    try:
        return float(q)
    except OverflowError:
        return math.copysign(math.inf, q)


def float_layers(G) -> tuple:
    """(number of nodes, input positions, [(positions, CSR weights over all positions, biases, activation)]
    per layer, output position): every node at its own row, so edges may skip layers."""
    from scipy import sparse

    from netcert.ir import keys

    nodes = sorted(G.nodes, key=lambda v: (G.nodes[v][keys.LAYER], str(v)))
    pos = {v: k for k, v in enumerate(nodes)}
    by_layer: dict[int, list] = {}
    for v in nodes:
        if G.nodes[v][keys.ACTIVATION] != keys.INPUT:
            by_layer.setdefault(G.nodes[v][keys.LAYER], []).append(v)
    layers = []
    for layer in sorted(by_layer):
        vs = by_layer[layer]
        rows, cols, vals = [], [], []
        for r, v in enumerate(vs):
            for u, _, w in G.in_edges(v, data=keys.WEIGHT):
                rows.append(r)
                cols.append(pos[u])
                vals.append(_float(w))
        W = sparse.csr_matrix((vals, (rows, cols)), shape=(len(vs), len(nodes)))
        b = np.array([_float(G.nodes[v][keys.BIAS]) for v in vs])
        acts = {G.nodes[v][keys.ACTIVATION] for v in vs}
        act = acts.pop() if len(acts) == 1 else None
        codes = None if act else np.array([G.nodes[v][keys.ACTIVATION] for v in vs])
        layers.append((np.array([pos[v] for v in vs]), W, b, act, codes))
    return len(nodes), np.array([pos[v] for v in G.graph[keys.INPUTS]]), layers, pos[G.graph[keys.OUTPUTS][0]]


def _act(Z, act):
    with np.errstate(invalid="ignore", over="ignore"):
        if act == "relu":
            return np.maximum(Z, 0.0)
        if act == "threshold":
            return (Z >= 0).astype(np.float64)
        return Z


def float_forward(layers: tuple, X: np.ndarray) -> np.ndarray:
    """The network's float64 output on the rows of X (inexact; NaN and inf propagate)."""
    n, inputs, body, out = layers
    V = np.zeros((n, len(X)))
    V[inputs] = X.T
    with np.errstate(invalid="ignore", over="ignore"):
        for rows, W, b, act, codes in body:
            Z = W @ V + b[:, None]
            if act is not None:
                V[rows] = _act(Z, act)
            else:
                for a in set(codes):
                    V[rows[codes == a]] = _act(Z[codes == a], a)
    return V[out]


# -- the arithmetic lower bound (docs/performance.md) ---------------------------------------


def _limbs(v) -> int:
    return max(1, (abs(int(v)).bit_length() + 63) // 64)


def limb_ns(program, point) -> float:
    """Nanoseconds of GMP limb work to evaluate one point with netcert's compiled program, from scratch:
    every form's products and sums, every node's multiplier and bias, every table's slope product."""
    from netcert.engine import evaluate as ev
    from netcert.ir import keys

    vals = [0] * program.n_slots
    for s, x in zip(program.input_slots, point):
        vals[s] = x
    L = [0] * len(program.forms)
    ns = 0.0
    for step, before in zip(program.steps, program.form_order):
        for f in before:
            acc = 0
            for s, c in program.forms[f].terms:
                v = vals[s]
                if v:
                    p = c * v
                    ns += _limbs(c) * _limbs(v) * LIMB_PRODUCT_NS + _limbs(p) * LIMB_ADD_NS
                    acc += p
            L[f] = acc
        kind = type(step)
        if kind is ev._Node:
            z = step.m * L[step.form] + step.B
            ns += _limbs(step.m) * _limbs(L[step.form]) * LIMB_PRODUCT_NS + _limbs(z) * LIMB_ADD_NS
        elif kind is ev._Table:
            z = ev._table_value(step, L[step.form])
            ns += 2 * _limbs(L[step.form]) * _limbs(z) * LIMB_PRODUCT_NS + 3 * _limbs(z) * LIMB_ADD_NS
        else:
            z = ev._rational_value(step, vals)
            for _, terms in step.classes:
                ns += sum(_limbs(p) * _limbs(vals[s]) * LIMB_PRODUCT_NS for s, p in terms if vals[s])
        act = step.activation
        vals[step.slot] = (z if z > 0 else 0) if act == keys.RELU else (z if act == keys.IDENTITY else int(z >= 0))
    return ns


# -- the driver -----------------------------------------------------------------------------


def _load() -> str:
    return "load {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def stage(kind: str, args: argparse.Namespace, **extra) -> dict:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--stage",
        kind,
        "--data",
        str(extra["data"]),
        "--net",
        str(extra["net"]),
        "--baseline-seconds",
        str(args.baseline_seconds),
    ]
    cmd += ["--name", extra.get("name", "")] + (["--jobs", str(extra["jobs"])] if extra.get("jobs") else [])
    cmd += ["--scheduler", extra["scheduler"]] if extra.get("scheduler") else []
    cmd += ["--log", str(args.log)] if extra.get("scheduler") and args.log else []
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=args.budget)
    except subprocess.TimeoutExpired:
        return {"error": f"over {args.budget:.0f} s"}
    if r.returncode != 0:
        tail = (r.stderr or r.stdout).strip().splitlines()[-1:] or ["?"]
        return {"error": f"exit {r.returncode}: {tail[0][:120]}"}
    return json.loads(r.stdout.strip().splitlines()[-1])


def write_ball(path: Path, N: int) -> None:
    from threshold import ball

    X, y = ball(N, 10, 2, 0)
    np.savez(path, X=X, y=y)


def write_uniform(path: Path, N: int) -> None:
    from vardi2022 import uniform

    X, y = uniform(N, 2, 2, 0)
    np.savez(path, X=X, y=y)


def _f(v, spec: str = ",.1f") -> str:
    return "-" if v is None else format(v, spec)


def table_part(args, tmp: Path) -> list[str]:
    head = [
        "construction",
        "N",
        "depth",
        "nonzero",
        "max bits",
        "build s",
        "verify s (cpu)",
        "eval s",
        "points/s",
        "peak MB build / verify",
        "Fraction pts/s (sample)",
        "x Fraction",
        "x Fraction, CPU",
        "float64 pts/s (sample, wrong)",
        "x float64",
        "bound pts/s/core",
        "bound / measured per core",
        "load",
    ]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 2) + "---|"]
    print("\n".join(lines), flush=True)
    for N in args.n:
        data = tmp / f"ball{N}.npz"
        write_ball(data, N)
        for name in args.only:
            net = tmp / f"{name}{N}.json"
            b = stage("build", args, data=data, net=net, name=name)
            v = stage("verify", args, data=data, net=net) if "error" not in b else {}
            z = stage("baselines", args, data=data, net=net) if "error" not in b else {}
            pps = N / v["eval_s"] if "eval_s" in v else None
            cores = os.cpu_count() or 1
            err = b.get("error") or v.get("error") or z.get("error")
            cells = [
                name,
                f"{N:,}",
                str(b.get("depth", "-")),
                _f(b.get("nonzero"), ","),
                str(b.get("max_bits", "-")),
                _f(b.get("build_s")),
                f"{_f(v.get('verify_s'))} ({_f(v.get('verify_cpu'))})"
                + ("" if v.get("verdict") in (None, "certified") else f" {v['verdict']}"),
                _f(v.get("eval_s")),
                _f(pps, ",.0f"),
                f"{_f(b.get('build_mb'), ',.0f')} / {_f(v.get('verify_mb'), ',.0f')}",
                f"{_f(z.get('fraction_pps'), ',.2f')} ({_f(z.get('fraction_points'), ',')})",
                _f(pps / z["fraction_pps"] if pps and "fraction_pps" in z else None, ",.0f") + "x",
                _f(
                    N / v["eval_cpu"] / z["fraction_cpu_pps"]
                    if v.get("eval_cpu") and "fraction_cpu_pps" in z
                    else None,
                    ",.0f",
                )
                + "x",
                f"{_f(z.get('float_pps'), ',.0f')} ({_f(z.get('float_points'), ',')}, {_f(z.get('float_wrong'), ',')})",
                _f(pps / z["float_pps"] if pps and "float_pps" in z else None, ",.3f") + "x",
                _f(z.get("bound_pps"), ",.0f"),
                _f(z["bound_pps"] / (pps / cores) if pps and "bound_pps" in z else None, ",.0f") + "x",
                _load() + (f"; {err}" if err else ""),
            ]
            lines.append("| " + " | ".join(cells) + " |")
            print(lines[-1], flush=True)
    return lines


def jobs_part(args, tmp: Path) -> list[str]:
    data, net = tmp / f"uniform{args.jobs_n}.npz", tmp / f"vardi2022_u{args.jobs_n}.json"
    write_uniform(data, args.jobs_n)
    b = stage("build", args, data=data, net=net, name="vardi2022")
    lines = [
        f"vardi2022, N = {args.jobs_n:,} (U[-1, 1]^2, C = 2): build {_f(b.get('build_s'))} s, depth "
        f"{b.get('depth')}, {_f(b.get('nonzero'), ',')} nonzero, max {b.get('max_bits')} bits"
    ]
    print(lines[-1], flush=True)
    runs = {}
    for jobs in args.jobs:
        v = runs[jobs] = stage("verify", args, data=data, net=net, jobs=jobs)
        lines.append(
            f"  --jobs {jobs}: verify {_f(v.get('verify_s'))} s wall, {_f(v.get('verify_cpu'))} s CPU, "
            f"eval {_f(v.get('eval_s'))} s ({_f(args.jobs_n / v['eval_s'] if 'eval_s' in v else None, ',.0f')}"
            f" points/s), peak {_f(v.get('verify_mb'), ',.0f')} MB, {v.get('verdict', v.get('error'))}; "
            f"{_load()}"
        )
        print(lines[-1], flush=True)
        v.update(stage("evaluate", args, data=data, net=net, jobs=jobs))
        lines.append(
            f"  --jobs {jobs}: evaluate.run alone {_f(v.get('run_s'), '.2f')} s wall, "
            f"{_f(v.get('run_cpu'), '.2f')} s CPU, {v.get('error', 'exact' if v.get('exact') else 'not exact')}; "
            f"{_load()}"
        )
        print(lines[-1], flush=True)
    if len(runs) == 2 and all("verify_s" in v and "run_s" in v for v in runs.values()):
        (j1, one), (j2, two) = sorted(runs.items())
        lines.append(
            f"  speed-up {j2} processes over {j1}: verify {one['verify_s'] / two['verify_s']:.2f}x, "
            f"eval {one['eval_s'] / two['eval_s']:.2f}x, evaluate.run alone "
            f"{one['run_s'] / two['run_s']:.2f}x"
        )
        print(lines[-1], flush=True)
    return lines


def dask_part(args, tmp: Path) -> list[str]:
    from distributed import LocalCluster

    data, net = tmp / f"uniform{args.dask_n}.npz", tmp / f"vardi2022_u{args.dask_n}.json"
    write_uniform(data, args.dask_n)
    b = stage("build", args, data=data, net=net, name="vardi2022")
    lines = [
        f"vardi2022, N = {args.dask_n:,} (U[-1, 1]^2, C = 2): build {_f(b.get('build_s'))} s "
        f"({_f(b.get('build_mb'), ',.0f')} MB), depth {b.get('depth')}, {_f(b.get('nonzero'), ',')} nonzero, "
        f"max {b.get('max_bits')} bits"
    ]
    print(lines[-1], flush=True)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        v = stage("verify", args, data=data, net=net, scheduler=cluster.scheduler_address)
    lines.append(
        f"  on a LocalCluster of 2 worker processes: verify {_f(v.get('verify_s'))} s wall "
        f"(eval {_f(v.get('eval_s'))} s, {_f(args.dask_n / v['eval_s'] if 'eval_s' in v else None, ',.0f')}"
        f" points/s), client CPU {_f(v.get('verify_cpu'))} s, workers' CPU {_f(v.get('worker_cpu'))} s, "
        f"client peak {_f(v.get('verify_mb'), ',.0f')} MB, {v.get('verdict', v.get('error'))}; {_load()}"
    )
    print(lines[-1], flush=True)
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], epilog=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--n", type=int, nargs="+", default=[10**4, 10**5], help="N of the table (10000 100000)")
    p.add_argument("--only", default=",".join(CONSTRUCTIONS), help="comma-separated constructions of the table")
    p.add_argument("--parts", nargs="+", default=["table", "jobs", "dask"], choices=["table", "jobs", "dask"])
    p.add_argument("--jobs-n", type=int, default=10**5, help="N of the jobs comparison (100000)")
    p.add_argument("--dask-n", type=int, default=10**6, help="N of the Dask run (1000000)")
    p.add_argument("--baseline-seconds", type=float, default=10.0, help="time per baseline sample (10)")
    p.add_argument("--budget", type=float, default=None, help="seconds allowed per stage (default: no limit)")
    p.add_argument("--log", type=Path, help="append the Dask run's progress (seconds, points done) to this file")
    p.add_argument("--workdir", type=Path, help="keep data and networks here (default: a temporary directory)")
    p.add_argument("--stage", choices=["build", "verify", "evaluate", "baselines"], help=argparse.SUPPRESS)
    p.add_argument("--data", help=argparse.SUPPRESS)
    p.add_argument("--net", help=argparse.SUPPRESS)
    p.add_argument("--name", help=argparse.SUPPRESS)
    p.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="processes to compare (1 2)")
    p.add_argument("--scheduler", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.stage == "build":
        print(json.dumps(stage_build(args.name, args.data, args.net)))
        return 0
    if args.stage == "verify":
        jobs = args.jobs[0] if argv is not None or "--jobs" in sys.argv else None
        print(
            json.dumps(
                stage_verify(
                    args.data, args.net, None if args.scheduler else jobs, args.scheduler, args.log and str(args.log)
                )
            )
        )
        return 0
    if args.stage == "evaluate":
        print(json.dumps(stage_evaluate(args.data, args.net, args.jobs[0])))
        return 0
    if args.stage == "baselines":
        print(json.dumps(stage_baselines(args.data, args.net, args.baseline_seconds)))
        return 0
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; {_load()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="netcert-all-") as t:
        tmp = args.workdir or Path(t)
        tmp.mkdir(parents=True, exist_ok=True)
        out = []
        for part in args.parts:
            out += {"table": table_part, "jobs": jobs_part, "dask": dask_part}[part](args, tmp) + [""]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
