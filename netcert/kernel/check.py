"""Recompute everything from the files and compare it with the claims of a certificate (section 4)."""
import hashlib
import json
import random
from dataclasses import asdict, replace
from functools import partial, reduce
from pathlib import Path, PurePosixPath

from sympy.polys.domains import QQ, ZZ

from . import Failure, Verdict
from .net import canonical_digest, evaluate, program, structure, validate
from .read import KernelError, dataset_digest, dec, read_dataset, read_file, read_network

ALL_PAIRS, ALL_PAIRS_FULL = 2000, 20000  # largest n whose pairs are all rechecked (sample, full)
HASHES = ("network.sha256", "network.digest", "dataset.sha256", "dataset.digest")
MAX, NONE = 2**63 - 1, hashlib.sha256().hexdigest()  # the largest seed or sample; the digest of no points
CHECKER = ("mode", "seed", "sample", "points_checked", "points_digest", "outputs_agree", "structure_agrees",
           "hashes_agree", "dataset_agrees")  # with name, notes, failures: what a run says it checked and found

def show(v):
    s = json.dumps(v, sort_keys=True)
    return s if len(s) <= 200 else f"{s[:90]}...({len(s)} characters)...{s[-90:]}"

def part(claims, key):
    return claims.get(key) if isinstance(claims.get(key), dict) else {}

def compare(fails, where, mine, claimed):
    """A Failure for every key present in both whose JSON values differ (nested dicts key by key)."""
    for k, v in mine.items():
        if k in claimed and isinstance(v, dict) and isinstance(claimed[k], dict):
            compare(fails, f"{where}.{k}", v, claimed[k])
        elif k in claimed and json.dumps(v, sort_keys=True) != json.dumps(claimed[k], sort_keys=True):
            fails.append(Failure(f"{where}.{k}", show(claimed[k]), show(v)))

def guard(fails, where, step):
    """step(), with any problem recorded as a Failure instead of raised."""
    try:
        return step()
    except KernelError as e:
        fails.append(Failure(*e.args))
    except Exception as e:  # an unreadable or malformed file
        fails.append(Failure(where, "a readable, well-formed file", f"{type(e).__name__}: {e}"[:300]))

def network_part(path, claims, fails, rec):
    """Hashes, validity and measures; the compiled program, or None when it cannot be evaluated."""
    mine = rec["network"] = {}
    try:
        mine["sha256"], doc = read_network(path)
        nodes, edges, ins, outs, problems = validate(doc)
        mine["digest"] = guard([], "", lambda: canonical_digest(doc, nodes))  # None if not computable
        doc = None  # freed before the program is built: on a 10^6-unit file it is most of the memory
    finally:
        compare(fails, "network", mine, part(claims, "network"))
    fails.extend(Failure("network.validity", e, f) for e, f in problems)
    if problems:
        return None
    rec["structure"] = structure(nodes, edges, ins, outs)
    compare(fails, "structure", rec["structure"], part(claims, "structure"))
    if len(outs) != 1:
        return fails.append(Failure("network.outputs", "one output node (labels are scalars)", str(len(outs))))
    prog, pos = program(nodes, edges, ins)
    return prog, pos[outs[0]], len(ins)

def dataset_part(path, claims, full, fails, notes, rec):
    """Hashes and quantities of the dataset; its distinct points and their labels."""
    mine, claim = rec.setdefault("dataset", {}), part(claims, "dataset")
    try:
        mine["sha256"], rows, ys, kind = read_dataset(path, claim.get("csv"))  # read as the certificate says
        mine["digest"] = dataset_digest(rows, ys)
        first = {}  # section 2.4: the first of identical points, in file order
        for i, x in enumerate(rows):
            if ys[first.setdefault(x, i)] != ys[i]:
                j = first[x]
                raise KernelError("dataset", "one label per point", f"rows {j}, {i}: {dec(ys[j])}, {dec(ys[i])}")
        X, Y = [rows[i] for i in first.values()], [ys[i] for i in first.values()]
        mine.update(n=len(X), d=len(X[0]), rows=len(rows), duplicates_merged=len(rows) - len(X))
        mine["labels"] = {"kind": kind, "distinct": len(set(Y)), "min": dec(min(Y)), "max": dec(max(Y))}
        mine.update(separation(X, claim, full, notes))
    finally:
        compare(fails, "dataset", mine, claim)
    return X, Y

def sq(u, v):
    return sum((a - b) ** 2 for a, b in zip(u, v))

def separation(X, claim, full, notes):
    """max_sq_norm and min_sq_separation with its pair, exact; on integers when a common denominator is small."""
    D = reduce(lambda a, b: a if a.bit_length() > 4096 else ZZ.lcm(a, b), (QQ.denom(v) for x in X for v in x), ZZ(1))
    I, scale = ([tuple(QQ.numer(v * D) for v in x) for x in X], QQ(1, D * D)) if D.bit_length() <= 4096 else (X, QQ(1))
    n, limit = len(I), ALL_PAIRS_FULL if full else ALL_PAIRS
    out = {"max_sq_norm": dec(max(sum(a * a for a in u) for u in I) * scale)}
    if n == 1:
        return dict(out, min_sq_separation=None, min_sq_separation_pair=None)
    if n <= limit:
        best, i, j = closest(I)
        return dict(out, min_sq_separation=dec(best * scale), min_sq_separation_pair=[i, j])
    pair = claim.get("min_sq_separation_pair")
    ok = isinstance(pair, list) and len(pair) == 2 and all(type(k) is int for k in pair) and 0 <= pair[0] < pair[1] < n
    notes.append(f"min_sq_separation: only the claimed pair was rechecked (n = {n} > {limit}), not that it is least")
    dist = dec(sq(I[pair[0]], I[pair[1]]) * scale) if ok else None
    return dict(out, min_sq_separation=dist, min_sq_separation_pair=pair if ok else None)

def closest(I):
    """(least squared distance, i, j), [i, j] the lexicographically least pair attaining it. A sweep by coordinate
    sum s: d |x - y|^2 >= (s(x) - s(y))^2 (Cauchy-Schwarz), so every pair at distance <= best is visited."""
    s, d = [sum(u) for u in I], len(I[0])
    order, best = sorted(range(len(I)), key=s.__getitem__), None
    for a, i in enumerate(order):
        for j in (order[b] for b in range(a + 1, len(order))):
            if best is not None and (s[j] - s[i]) ** 2 > d * best[0]:
                break
            cand = (sq(I[i], I[j]), min(i, j), max(i, j))
            best = cand if best is None or cand < best else best
    return best

def listed_mismatches(claim, n, fails):
    """The claimed mismatches by index, and the last index up to which the list is complete (the first 10)."""
    raw, count, listed = claim.get("mismatches", []), claim.get("mismatch_count"), {}
    for m in raw if isinstance(raw, list) else [raw]:
        i = m.get("index") if isinstance(m, dict) else None
        if type(i) is int and 0 <= i < n:
            listed[i] = m
        else:
            fails.append(Failure("interpolation.mismatches", show(m), f"not an entry with an index 0 <= i < {n}"))
    return listed, max(listed) if listed and type(count) is int and count > len(listed) else n

def outputs_part(net, data, claims, full, sample, seed, progress, fails, rec, pmap=map):
    """Evaluate the checked points exactly by pmap(fn, xs) (map, or a caller's process pool), compare, count.
    Only results compared are checked: a pmap returning fewer or more results than points is a Failure."""
    (prog, out, d), (X, Y), n = net, data, len(data[0])
    if d != len(X[0]):
        fails.append(Failure("network.inputs", f"{len(X[0])} (the dataset's d)", str(d)))
        return 0
    claim = part(claims, "interpolation")
    listed, limit = listed_mismatches(claim, n, fails)
    points = range(n) if full else sorted(set(random.Random(seed).sample(range(n), min(n, sample))) | set(listed))
    outputs, h, k = rec.setdefault("outputs", {}), hashlib.sha256(), 0
    results = iter(pmap(partial(evaluate, prog, out=out), [X[i] for i in points]))
    for k, (i, o) in enumerate(zip(points, results), 1):  # zip reads a result only after a point
        m = listed.get(i)
        if o != Y[i]:
            outputs[str(i)] = dec(o)
        # claimed: a listed mismatch's "obtained" (and it is not the label), else the label (up to limit)
        wrong = o != Y[i] if m is None else not m.get("expected") == dec(Y[i]) != m.get("obtained") == dec(o)
        if wrong and (m is not None or i <= limit):
            fails.append(Failure(f"output[{i}]", show(m or dec(Y[i])), show(dec(o))))
        h.update((dec(o) + "\n").encode() if full else b"")
        if progress is not None and (k % 100 == 0 or k == len(points)):
            progress(k)
    if (got := k + sum(1 for _ in results)) != len(points):  # a shortfall, or a surplus
        fails.append(Failure("outputs", f"{len(points)} results, one per point", f"{got} results"))
    rec["points_digest"] = hashlib.sha256("".join(f"{i}\n" for i in points[:k]).encode()).hexdigest()
    if full:
        wrong = [{"index": int(i), "expected": dec(Y[int(i)]), "obtained": o} for i, o in outputs.items()]
        rec["interpolation"] = {"outputs_digest": h.hexdigest(), "mismatch_count": len(wrong),
                                "exact": not wrong, "mismatches": wrong[:10]}
        compare(fails, "interpolation", rec["interpolation"], claim)
    return k

def check(network_path, dataset_path, claims, *, sample=1000, seed=0, full=False, progress=None, pmap=map):
    """Recheck the claims (a certificate dict) against the two files; a mismatch is a Failure, never raised.
    A claimed checker section must be this run's (so run it with the claimed mode, seed and sample)."""
    claims, fails, notes, rec = claims if isinstance(claims, dict) else {}, [], [], {}
    compare(fails, "certificate", {"format": "netcert.certificate", "version": 1}, claims)
    net = guard(fails, "network file", lambda: network_part(network_path, claims, fails, rec))
    data = guard(fails, "dataset file", lambda: dataset_part(dataset_path, claims, full, fails, notes, rec))
    run = lambda: outputs_part(net, data, claims, full, sample, seed, progress, fails, rec, pmap)  # noqa: E731
    k = (guard(fails, "outputs", run) if net and data else 0) or 0
    where = {f.where for f in fails}
    clean = lambda *prefixes: not any(w.startswith(prefixes) for w in where - set(HASHES))  # noqa: E731
    read = rec["network"].get("digest") is not None and "digest" in rec["dataset"]
    v = Verdict(not fails, "full" if full else "sample", seed, None if full else sample, k,
                rec.get("points_digest", NONE), outputs_agree=k > 0 and clean("output", "interp"),
                structure_agrees="structure" in rec and clean("structure", "network.validity", "network.outputs"),
                hashes_agree=read and not where & set(HASHES), dataset_agrees="labels" in rec["dataset"]
                and clean("dataset"), failures=tuple(fails), notes=tuple(notes), recomputed=rec)
    mine = dict({key: getattr(v, key) for key in CHECKER}, name="netcert.kernel", notes=list(notes),
                failures=[asdict(f) for f in fails])
    compare(fails, "checker", mine, part(claims, "checker"))
    due = part(claims, "interpolation").get("exact") is True and part(claims, "checker").get("failures") == [] \
        and part(part(claims, "construction"), "size").get("holds", True) is True  # section 4: when certified is due
    if claims.get("verdict") == "certified" and not due:  # a stored verdict must follow from the stored claims
        fails.append(Failure("verdict", show("certified"), show("refuted")))
    return replace(v, ok=not fails, failures=tuple(fails))

def refused(*failure):
    return Verdict(False, "sample", 0, None, 0, NONE, False, False, False, False, (Failure(*failure),), (), {})

def check_certificate(cert_path, *, sample=None, full=False, progress=None, allow_outside=False):
    """Check a *.cert.json as made: with its checker's mode, seed and sample (default 1000), paths relative to its
    directory and, unless allow_outside, in its tree (symlinks resolved). full, or a sample checking other points,
    adds a run with those. Unreadable: a "certificate file" Failure."""
    try:
        cert, base = json.loads(read_file(cert_path)), Path(cert_path).parent
        c = part(cert, "checker")
        mode, seed = c.get("mode", "sample"), c.get("seed", 0)
        k = c.get("sample", None if mode == "full" else 1000)
        if not (mode in ("sample", "full") and type(seed) is int and 0 <= seed <= MAX
                and (k is None if mode == "full" else type(k) is int and 1 <= k <= MAX)):
            raise ValueError(f"checker: mode {mode!r}, seed {seed!r}, sample {k!r} (section 4)")
        paths = {key: base / PurePosixPath(cert[key]["path"]) for key in ("network", "dataset")}
        far = [key for key, p in paths.items() if not (allow_outside or p.resolve().is_relative_to(base.resolve()))]
    except Exception as e:
        return refused("certificate file", "a readable netcert certificate", f"{type(e).__name__}: {e}"[:300])
    if far:
        return refused(f"{far[0]}.path", "a path inside the certificate's directory", show(cert[far[0]]["path"]))
    v = check(*paths.values(), cert, sample=k or 1000, seed=seed, full=mode == "full", progress=progress)
    n = v.recomputed["dataset"].get("n", 0)
    if mode == "full" or not (full or sample and min(n, sample) != min(n, k)):
        return v
    rest = {key: val for key, val in cert.items() if key not in ("checker", "verdict")}  # the claims alone
    w = check(*paths.values(), rest, sample=sample or k, seed=seed, full=full, progress=progress)
    return replace(w, ok=v.ok and w.ok, failures=v.failures + tuple(f for f in w.failures if f not in v.failures))
