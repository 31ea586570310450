"""Recompute everything from the files and compare it with the claims of a certificate (section 4)."""
import hashlib
import json
import random
from dataclasses import asdict, replace
from functools import partial, reduce
from operator import mul, sub
from pathlib import Path, PurePosixPath

from sympy.polys.domains import QQ, ZZ

from . import Failure, Verdict
from .net import ZERO, canonical_digest, evaluate, program, structure, validate
from .read import KernelError, dataset_digest, dec, number, read_dataset, read_file, read_network

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
        classes = doc["graph"].get("classes")
        mine["digest"] = guard([], "", lambda: canonical_digest(doc, nodes))  # None if not computable
        doc = None  # freed before the program is built: on a 10^6-unit file it is most of the memory
    finally:
        compare(fails, "network", mine, part(claims, "network"))
    fails.extend(Failure("network.validity", e, f) for e, f in problems)
    if problems:
        return None
    rec["structure"] = structure(nodes, edges, ins, outs)
    compare(fails, "structure", rec["structure"], part(claims, "structure"))
    prog, pos = program(nodes, edges, ins)
    return prog, tuple(pos[v] for v in outs), len(ins), classes

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
    d = list(map(sub, u, v))  # map over Python ints: a few times faster than a generator (n = 2000, d = 64: 2 s)
    return sum(map(mul, d, d))

def separation(X, claim, full, notes):
    """max_sq_norm and min_sq_separation with its pair, exact; on integers when a common denominator is small."""
    D = reduce(lambda a, b: a if a.bit_length() > 4096 else ZZ.lcm(a, b), (QQ.denom(v) for x in X for v in x), ZZ(1))
    I, scale = ([tuple(int(QQ.numer(v * D)) for v in x) for x in X], QQ(1, D * D)) if D.bit_length() <= 4096 else (X, QQ(1))
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
    s, d, norm = [sum(u) for u in I], len(I[0]), [sum(map(mul, u, u)) for u in I]  # |x-y|^2 = |x|^2+|y|^2-2x.y
    order, best = sorted(range(len(I)), key=s.__getitem__), None
    for a, i in enumerate(order):
        x, nx, si = I[i], norm[i], s[i]
        for j in order[a + 1:]:
            if best is not None and (s[j] - si) ** 2 > d * best[0]:
                break
            cand = (nx + norm[j] - 2 * sum(map(mul, x, I[j])), min(i, j), max(i, j))
            best = cand if best is None or cand < best else best
    return best

def listed_mismatches(claim, n, fails, key="mismatches", counted="mismatch_count", where="interpolation.mismatches"):
    """The claimed mismatches (misses, overs) by index, and the last index up to which the list is complete."""
    raw, count, listed = claim.get(key, []), claim.get(counted), {}
    for m in raw if isinstance(raw, list) else [raw]:
        i = m.get("index") if isinstance(m, dict) else None
        if type(i) is int and 0 <= i < n:
            listed[i] = m
        else:
            fails.append(Failure(where, show(m), f"not an entry with an index 0 <= i < {n}"))
    return listed, max(listed) if listed and type(count) is int and count > len(listed) else n

HOLDS = {"interpolation": "exact", "classification": "correct", "tolerance": "within"}
LISTS = {"classification": ("misses", "miss_count", "min_margin"), "tolerance": ("over", "over_count", "max_error")}

def kind_of(claims):
    """The claim a certificate states: claim.kind in version 2, interpolation without a claim (version 1)."""
    kind = part(claims, "claim").get("kind")
    return kind if type(kind) is str and kind in LISTS else "interpolation"  # anything else: claim.kind fails

def judge(kind, i, o, y, classes, eps):
    """(wrong, badness, entry) of point i with outputs o and label y: badness is -margin (None: the label is no
    class) for classification, the error |f - y| for tolerance; the entry is what a listed miss / over says."""
    if kind == "tolerance":
        e = abs(o[0] - y)
        return e > eps, e, {"index": i, "expected": dec(y), "obtained": dec(o[0]), "error": dec(e)}
    label, top = dec(y), max(o)
    if len(o) == 1:  # classes [neg, pos]: f > 0 is pos, f < 0 neg, f = 0 a tie
        m = None if label not in classes else o[0] if label == classes[1] else -o[0]
        guess = classes[1] if top > ZERO else classes[0] if top < ZERO else "tie"
    else:
        k = classes.index(label) if label in classes else None
        m = None if k is None else o[k] - max(v for j, v in enumerate(o) if j != k)
        guess = "tie" if o.count(top) > 1 else classes[o.index(top)]
    entry = {"index": i, "label": label, "predicted": guess, "outputs": [dec(v) for v in o]}
    return m is None or m <= ZERO, None if m is None else -m, entry

def outputs_part(net, data, claims, full, sample, seed, progress, fails, rec, pmap=map):
    """Evaluate the checked points exactly by pmap(fn, xs) (map, or a caller's process pool), compare, count.
    Only results compared are checked: a pmap returning fewer or more results than points is a Failure."""
    (prog, outs, d, classes), (X, Y), n, kind = net, data, len(data[0]), kind_of(claims)
    if d != len(X[0]):
        fails.append(Failure("network.inputs", f"{len(X[0])} (the dataset's d)", str(d)))
        return 0
    if kind == "classification" and classes is None:
        return fails.append(Failure("network.classes", "graph.classes (the claim is classification)", "none"))
    if kind != "classification" and len(outs) != 1:
        return fails.append(Failure("network.outputs", f"one output node (the {kind} claim)", str(len(outs))))
    if kind != "interpolation":
        return claimed_part(kind, prog, outs, classes, X, Y, claims, full, sample, seed, progress, fails, rec, pmap)
    claim = part(claims, "interpolation")
    listed, limit = listed_mismatches(claim, n, fails)
    points = range(n) if full else sorted(set(random.Random(seed).sample(range(n), min(n, sample))) | set(listed))
    outputs, h, k = rec.setdefault("outputs", {}), hashlib.sha256(), 0
    results = iter(pmap(partial(evaluate, prog, out=outs[0]), [X[i] for i in points]))
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
    count(fails, k, results, points, rec)
    if full:
        wrong = [{"index": int(i), "expected": dec(Y[int(i)]), "obtained": o} for i, o in outputs.items()]
        rec["interpolation"] = {"outputs_digest": h.hexdigest(), "mismatch_count": len(wrong),
                                "exact": not wrong, "mismatches": wrong[:10]}
        compare(fails, "interpolation", rec["interpolation"], claim)
    return k

def count(fails, k, results, points, rec):
    """A shortfall or a surplus of results is a Failure; the digest of the indices compared."""
    if (got := k + sum(1 for _ in results)) != len(points):
        fails.append(Failure("outputs", f"{len(points)} results, one per point", f"{got} results"))
    rec["points_digest"] = hashlib.sha256("".join(f"{i}\n" for i in points[:k]).encode()).hexdigest()

def claimed_part(kind, prog, outs, classes, X, Y, claims, full, sample, seed, progress, fails, rec, pmap):
    """Classification or tolerance (section 4): each checked point's outputs, margin or error and entry recomputed
    here. Checked: the sample, every listed entry, and the claimed least-margin / largest-error point; a listed
    entry must be this point's, an unlisted point up to the list's end must be right, and no checked point may be
    worse than the claimed extreme or attain it before the claimed point. In full mode the section is recomputed."""
    n, claim, (key, counted, worst) = len(X), part(claims, kind), LISTS[kind]
    eps = number(part(claims, "claim").get("eps")) if kind == "tolerance" else None
    listed, limit = listed_mismatches(claim, n, fails, key, counted, f"{kind}.{key}")
    at, said = claim.get(worst + "_point"), claim.get(worst)
    bound = number(said) if isinstance(said, str) else None  # the claimed extreme (badness: -margin, or error)
    bound = -bound if bound is not None and kind == "classification" else bound
    extra = {at} if type(at) is int and 0 <= at < n else set()
    points = range(n) if full else sorted(set(random.Random(seed).sample(range(n), min(n, sample))) | set(listed) | extra)
    h, k, bad, first = hashlib.sha256(), 0, [], None  # first: (badness, index) of the worst point seen
    results = iter(pmap(partial(evaluate, prog, out=outs), [X[i] for i in points]))
    for k, (i, o) in enumerate(zip(points, results), 1):
        wrong, b, entry = judge(kind, i, o, Y[i], classes, eps)
        if wrong:
            bad.append(entry)
        if i in listed and json.dumps(listed[i], sort_keys=True) != json.dumps(entry, sort_keys=True) or \
                wrong and i not in listed and i <= limit or not wrong and i in listed:
            fails.append(Failure(f"output[{i}]", show(listed.get(i, "right")), show(entry if wrong else "right")))
        if b is not None and (first is None or b > first[0]):
            first = (b, i)
        if b is not None and (bound is None or b > bound or b == bound and i < at or i == at and b != bound):
            value = dec(b if kind == "tolerance" else -b)
            fails.append(Failure(f"{kind}.{worst}", f"{show(said)} at point {show(at)}", f"{value} at point {i}"))
        h.update((" ".join(map(dec, o)) + "\n").encode() if full else b"")
        if progress is not None and (k % 100 == 0 or k == len(points)):
            progress(k)
    if at is not None and at not in extra or (at is None) != (bound is None) or (at is None and kind == "tolerance"):
        fails.append(Failure(f"{kind}.{worst}_point", "a point of the dataset attaining it", show(at)))
    count(fails, k, results, points, rec)
    said_count = claim.get(counted) if type(claim.get(counted)) is int else -1
    mine = {HOLDS[kind]: said_count == 0, counted: max(said_count, len(listed)), "points_checked": n}
    if kind == "tolerance":
        mine["eps"] = dec(eps)
    if full:
        b, i = first if first else (None, None)
        mine = dict(mine, **{HOLDS[kind]: not bad, counted: len(bad), key: bad[:10], worst + "_point": i,
                             worst: None if b is None else dec(b if kind == "tolerance" else -b),
                             "outputs_digest": h.hexdigest()})
    rec[kind] = mine
    compare(fails, kind, mine, claim)
    if len(claim.get(key, [])) != min(10, mine[counted]):
        fails.append(Failure(f"{kind}.{key}", f"the first {min(10, mine[counted])} entries", show(claim.get(key))))
    return k

def check(network_path, dataset_path, claims, *, sample=1000, seed=0, full=False, progress=None, pmap=map):
    """Recheck the claims (a certificate dict) against the two files; a mismatch is a Failure, never raised.
    A claimed checker section must be this run's (so run it with the claimed mode, seed and sample)."""
    claims, fails, notes, rec = claims if isinstance(claims, dict) else {}, [], [], {}
    kind = kind_of(claims)
    compare(fails, "certificate", {"format": "netcert.certificate", "version": 1 if kind == "interpolation" else 2,
                                   "claim": {"kind": kind} if kind != "tolerance" else part(claims, "claim")}, claims)
    net = guard(fails, "network file", lambda: network_part(network_path, claims, fails, rec))
    data = guard(fails, "dataset file", lambda: dataset_part(dataset_path, claims, full, fails, notes, rec))
    run = lambda: outputs_part(net, data, claims, full, sample, seed, progress, fails, rec, pmap)  # noqa: E731
    k = (guard(fails, "outputs", run) if net and data else 0) or 0
    where = {f.where for f in fails}
    clean = lambda *prefixes: not any(w.startswith(prefixes) for w in where - set(HASHES))  # noqa: E731
    read = rec["network"].get("digest") is not None and "digest" in rec["dataset"]
    v = Verdict(not fails, "full" if full else "sample", seed, None if full else sample, k,
                rec.get("points_digest", NONE), outputs_agree=k > 0 and clean("output", kind),
                structure_agrees="structure" in rec and clean("structure", "network.validity", "network.outputs"),
                hashes_agree=read and not where & set(HASHES), dataset_agrees="labels" in rec["dataset"]
                and clean("dataset"), failures=tuple(fails), notes=tuple(notes), recomputed=rec)
    mine = dict({key: getattr(v, key) for key in CHECKER}, name="netcert.kernel", notes=list(notes),
                failures=[asdict(f) for f in fails])
    compare(fails, "checker", mine, part(claims, "checker"))
    due = part(claims, kind).get(HOLDS[kind]) is True and part(claims, "checker").get("failures") == [] \
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
