"""Networks: validity (section 3.2), canonical digest (3.3), measures (3.4), exact evaluation (3.5)."""
import hashlib
import json
from collections import Counter, defaultdict
from itertools import pairwise

from sympy.polys.domains import QQ

from .read import KernelError, dec, number

CODES = {"input": 0, "relu": 1, "threshold": 2, "identity": 3, "leaky_relu": 4}
ZERO, ONE = QQ(0), QQ(1)
IDS = (int, str)  # a node id is one of these; type(True) is bool, not int

def tag(v):
    return f"node {json.dumps(v)}"

def validate(doc):
    """Section 3.2: nodes {id: (layer, activation, bias, slope)}, edges [(source, target, weight)], inputs, outputs,
    problems [(expected, found)]; graph.classes checked too. A file that is not node-link JSON at all raises."""
    problems, g = [], doc["graph"]
    bad = lambda expected, found: problems.append((expected, found))  # noqa: E731
    head = json.dumps([doc.get("directed"), doc.get("multigraph"), g.get("format"), g.get("version")])
    if head != '[true, false, "netcert.network", 1]':
        bad('[directed, multigraph, format, version] = [true, false, "netcert.network", 1]', head)
    memo = {}  # number string -> value: an honest network repeats a few weights millions of times
    nodes = read_nodes(doc["nodes"], bad, memo)
    ins, outs = (listed(g.get(k), k, nodes, bad) for k in ("inputs", "outputs"))
    inset = set(ins)
    for v in inset & set(outs):
        bad("outputs that are not inputs", tag(v))
    for v, (layer, act, *_) in nodes.items():
        if (act == "input") != (v in inset) or (layer is not None and (layer == 0) != (act == "input")):
            bad("graph.inputs are the input nodes, in layer 0; others in layer >= 1", f"{tag(v)}: {act}, layer {layer}")
    edges = read_edges(doc["edges"], nodes, bad, memo)
    classes = g.get("classes", [])  # one exact label string per output; [neg, pos] for one output
    if "classes" in g and not (isinstance(classes, list) and len(classes) == max(2, len(outs)) == len(set(
            c for c in classes if isinstance(c, str) and guard_dec(c) == c)) > 0):
        bad(f"graph.classes: {max(2, len(outs))} distinct canonical number strings", json.dumps(classes)[:200])
    if len(topo(nodes, edges)) < len(nodes):
        bad("an acyclic graph", "a cycle")
    return nodes, edges, ins, outs, problems

def guard_dec(s):  # s's canonical text, or None when it is not a number string
    try:
        return dec(number(s))
    except KernelError:
        return None

def exact(s, what, where, bad, memo):  # number(s), each string parsed once; where() only for a problem
    if type(s) is str and s in memo:
        return memo[s]
    try:
        v = memo[s] = number(s)  # number refuses a non-string before memo is touched
        return v
    except KernelError as e:
        bad(f"an exact {what}: {e.args[1]}", f"{where()}: {e.args[2]}")

def read_nodes(raw, bad, memo):
    nodes = {}
    for k, nd in enumerate(raw):
        v = nd.get("id") if isinstance(nd, dict) else None
        if type(v) not in IDS or v in nodes:
            bad("a node with a new string or integer id", f"nodes[{k}]: id {json.dumps(v)}")
            continue
        layer, act = nd.get("layer"), nd.get("activation")
        if not (type(layer) is int and layer >= 0) or act not in list(CODES):
            bad("a layer >= 0 and a known activation", f"{tag(v)}: {json.dumps(layer)}, {json.dumps(act)}")
            layer = layer if type(layer) is int and layer >= 0 else None
        if act == "input" and "bias" in nd:
            bad("no bias on an input node", tag(v))
        if (act == "leaky_relu") != ("slope" in nd):
            bad("a slope on exactly the leaky_relu nodes", tag(v))
        slope = exact(nd["slope"], "slope", lambda: tag(v), bad, memo) if "slope" in nd else None
        nodes[v] = (layer, act, None if act == "input" else exact(nd.get("bias"), "bias", lambda: tag(v), bad, memo),
                    slope)
    return nodes

def listed(ids, key, nodes, bad):
    """graph.inputs or graph.outputs: a non-empty list of existing nodes without repeats."""
    ok = [v for v in ids if type(v) in IDS and v in nodes] if isinstance(ids, list) else []
    if not ok or len(ok) < len(ids) or len(set(ok)) < len(ok):
        bad(f"graph.{key}: a non-empty list of existing nodes without repeats", json.dumps(ids)[:200])
    return ok

def read_edges(raw, nodes, bad, memo):
    edges, seen = [], set()
    for e in raw:
        s, t = (e.get("source"), e.get("target")) if isinstance(e, dict) else (None, None)
        where = lambda: f"edge {json.dumps(s)} -> {json.dumps(t)}"  # noqa: E731  (called in this pass only)
        if not (type(s) in IDS and type(t) in IDS and s in nodes and t in nodes) or (s, t) in seen:
            bad("edge endpoints that are nodes, each pair at most once", where())
            continue
        seen.add((s, t))
        w, (ls, *_), (lt, act, *_) = exact(e.get("weight"), "weight", where, bad, memo), nodes[s], nodes[t]
        if w == 0 or act == "input" or (ls is not None and lt is not None and ls >= lt):
            bad("a nonzero weight, a lower to a higher layer, not into an input", f"{where()}: layers {ls} -> {lt}")
        if w is not None:
            edges.append((s, t, w))
    return edges

def topo(nodes, edges):
    """Kahn's algorithm: the nodes in an order where every edge goes forward (short on a cycle)."""
    indeg, succ = dict.fromkeys(nodes, 0), defaultdict(list)
    for s, t, _ in edges:
        indeg[t] += 1
        succ[s].append(t)
    order = [v for v, k in indeg.items() if k == 0]
    for v in order:  # the list grows while it is read: a queue
        for t in succ[v]:
            indeg[t] -= 1
            if indeg[t] == 0:
                order.append(t)
    return order

def canonical_digest(doc, nodes):
    """Section 3.3: sha256 of the canonical bytes; numbers are rewritten in canonical decimal form. A document
    already sorted with every number canonical (as netcert writes them) is hashed as it is, without copies."""
    key = lambda v: (type(v) is str, v)  # noqa: E731  (integer ids before string ids)
    at = lambda v: (nodes[v][0], key(v))  # noqa: E731
    try:  # when the sorts below would move nothing and the rewriting change no number, doc is its own text
        texts = {nd[k] for nd in doc["nodes"] for k in ("bias", "slope") if k in nd} | {e["weight"] for e in doc["edges"]}
        fast = all(a <= b for a, b in pairwise((nd["layer"], key(nd["id"])) for nd in doc["nodes"])) and all(
            a <= b for a, b in pairwise(at(e["source"]) + at(e["target"]) for e in doc["edges"])) and all(
            dec(number(s)) == s for s in texts)  # a <= b throughout: a stable sort leaves the order as it is
    except Exception:  # anything odd: the general path below, which raises what it raises
        fast = False
    if fast:
        return canonical_hash(doc, hashlib.sha256())
    ns = [dict(nd, **{k: dec(number(nd[k])) for k in ("bias", "slope") if k in nd}) for nd in doc["nodes"]]
    es = [dict(e, weight=dec(number(e["weight"]))) for e in doc["edges"]]
    ns.sort(key=lambda nd: (nd["layer"], key(nd["id"])))
    es.sort(key=lambda e: at(e["source"]) + at(e["target"]))
    text = json.dumps(dict(doc, nodes=ns, edges=es), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256((text + "\n").encode("ascii")).hexdigest()

def canonical_hash(doc, h, piece=1 << 16):
    """sha256 of json.dumps(doc, sort_keys, no spaces) + "\\n", fed piece by piece: a list's text is its items' texts
    joined by ",", so the nodes and edges are written a piece at a time, never the whole file's text at once."""
    enc = lambda o: json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")  # noqa: E731
    h.update(b"{")
    for i, k in enumerate(sorted(doc)):
        h.update((b"," if i else b"") + enc(k) + b":")
        if k not in ("nodes", "edges") or type(doc[k]) is not list or not doc[k]:
            h.update(enc(doc[k]))
            continue
        for a in range(0, len(doc[k]), piece):
            h.update((b"," if a else b"[") + enc(doc[k][a:a + piece])[1:-1])
        h.update(b"]")
    h.update(b"}\n")
    return h.hexdigest()

def structure(nodes, edges, ins, outs):
    """Section 3.4, on a valid network."""
    count = Counter(layer for layer, *_ in nodes.values())
    depth = max(count)
    layered = all(nodes[t][0] == nodes[s][0] + 1 for s, t, _ in edges)
    values = [w for _, _, w in edges] + [b for _, _, b, _ in nodes.values() if b]  # the nonzero ones (no slope)
    bits = [(abs(QQ.numer(q)).bit_length(), QQ.denom(q).bit_length()) for q in values]
    hidden = [c for k, c in count.items() if 0 < k < depth]  # present layers only: layer numbers may be sparse
    return {"depth": depth, "width": max(hidden, default=0),
            "neurons": sum(act != "input" for _, act, *_ in nodes.values()),
            "params_dense": sum((count[k - 1] + 1) * c for k, c in count.items() if k >= 1) if layered else None,
            "params_nonzero": len(values), "max_weight_bits": max((max(b) for b in bits), default=0),
            "total_weight_bits": sum(p + q for p, q in bits), "layered": layered,
            "activations": sorted({act for _, act, *_ in nodes.values() if act != "input"}),
            "inputs": len(ins), "outputs": len(outs)}

def program(nodes, edges, ins):
    """Per non-input node in Kahn order, once: (activation, bias, ((position, weight), ...), slope); inputs first."""
    pos, preds, prog = {v: j for j, v in enumerate(ins)}, defaultdict(list), []
    for s, t, w in edges:
        preds[t].append((s, w))
    for v in topo(nodes, edges):
        if v not in pos:  # a valid network's only input nodes are graph.inputs
            prog.append((CODES[nodes[v][1]], nodes[v][2], tuple((pos[s], w) for s, w in preds[v]), nodes[v][3]))
            pos[v] = len(pos)
    return prog, pos

def evaluate(prog, x, out):
    """The exact value at position `out` (a tuple of positions: their values) on the point x (a tuple of QQ)."""
    vals = list(x)
    for act, b, terms, *slope in prog:  # slope: [the slope] (a leaky_relu's), or [None], or []
        z = b
        for p, w in terms:
            v = vals[p]
            if v:  # a zero value contributes nothing
                z += w * v
        if act == 1:  # relu
            z = z if z > ZERO else ZERO
        elif act == 2:  # threshold
            z = ONE if z >= ZERO else ZERO
        elif act == 4:  # leaky_relu
            z = z if z >= ZERO else slope[0] * z
        vals.append(z)
    return tuple(vals[p] for p in out) if isinstance(out, tuple) else vals[out]
