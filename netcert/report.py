"""What people read: the per-layer table of a network and the summary of a certificate.

Pure functions from records to lines of text; the command line prints them,
a notebook may too. Numbers shown to people go through ``exact.display`` (exact
decimals where they are short, else rounded and marked ``~``); the files keep
the exact values.
"""

from __future__ import annotations

from dataclasses import dataclass

import gmpy2
import networkx as nx

from netcert.exact import display, mpq
from netcert.ir import keys
from netcert.ir.measures import layer_table as layer_table_of
from netcert.ir.measures import measure


@dataclass(frozen=True)
class LayerRow:
    """One layer of a network: its nodes, their activations, incoming weights, nonzero biases, widest number."""

    layer: int
    width: int
    activations: tuple[str, ...]
    weights: int
    nonzero_biases: int
    max_bits: int


def layer_rows(G: nx.DiGraph) -> list[LayerRow]:
    """Every layer present, in order (``ir.measures.layer_table``: one pass over nodes and edges)."""
    return [LayerRow(*row) for row in layer_table_of(G)]


def layer_table(G: nx.DiGraph) -> list[str]:
    """``netcert inspect``'s table: a header, a row per layer, the measures, where the network came from."""
    lines = [f"{'layer':>5} {'width':>8} {'activation':<16} {'weights':>10} {'biases≠0':>9} {'max bits':>8}"]
    lines += [
        f"{r.layer:>5} {r.width:>8} {','.join(r.activations):<16} {r.weights:>10} {r.nonzero_biases:>9} {r.max_bits:>8}"
        for r in layer_rows(G)
    ]
    m = measure(G)
    lines.append(
        f"depth {m.depth}, width {m.width}, neurons {m.neurons}, params dense {m.params_dense}, "
        f"nonzero {m.params_nonzero}, max bits {m.max_weight_bits}, total bits {m.total_weight_bits}, "
        f"{'layered' if m.layered else 'not layered'}"
    )
    info = G.graph.get(keys.CONSTRUCTION)
    if info:
        lines.append(f"built by {info['name']} ({info['reference']}), options {info['options']}")
    return lines


def approx(text: str | None) -> str:
    """A labelled rounded rendering of an exact value, for people only (an mpfr: no overflow at 1e600)."""
    if text is None:
        return "none (one point)"
    return f"~{gmpy2.mpfr(mpq(text), 53):.6g} (exact value in the certificate)"


def _shown(text: str) -> str:
    return display(mpq(text))


def classification_line(c: dict) -> str:
    """The classification section in one line: right on every point or the misses (the first one
    shown), and the least margin with its point (a margin <= 0 is a miss)."""
    margin = (
        "no label is a class"
        if c["min_margin"] is None
        else f"min margin {_shown(c['min_margin'])} at point {c['min_margin_point']}"
    )
    if c["correct"]:
        return f"  classification: right on all {c['points_checked']} points, {margin}"
    first = c["misses"][0]
    return (
        f"  classification: FAILS: {c['miss_count']} of {c['points_checked']} points missed (first at point "
        f"{first['index']}: label {first['label']}, predicted {first['predicted']}), {margin}"
    )


def tolerance_line(t: dict) -> str:
    """The tolerance section in one line: within eps on every point or the points over it, and the
    largest error with its point."""
    worst = f"max error {_shown(t['max_error'])} at point {t['max_error_point']}"
    if t["within"]:
        return f"  tolerance: within {_shown(t['eps'])} on all {t['points_checked']} points, {worst}"
    first = t["over"][0]
    return (
        f"  tolerance: FAILS: {t['over_count']} of {t['points_checked']} points over {_shown(t['eps'])} "
        f"(first at point {first['index']}: label {_shown(first['expected'])}, output "
        f"{_shown(first['obtained'])}), {worst}"
    )


def certificate_summary(cert: dict, path: object) -> list[str]:
    """The lines ``netcert verify`` prints about a certificate it wrote."""
    s, k, ds = cert["structure"], cert["checker"], cert["dataset"]
    lines = [f"{path}: {cert['verdict'].upper()}"]
    if "classification" in cert:
        lines.append(classification_line(cert["classification"]))
    elif "tolerance" in cert:
        lines.append(tolerance_line(cert["tolerance"]))
    elif (i := cert["interpolation"])["exact"]:
        lines.append(f"  interpolation: exact on all {i['points_checked']} points")
    else:
        first = i["mismatches"][0]
        lines.append(
            f"  interpolation: FAILS: {i['mismatch_count']} of {i['points_checked']} points mismatch "
            f"(first at point {first['index']}: label {_shown(first['expected'])}, output "
            f"{_shown(first['obtained'])})"
        )
    if not k["failures"]:
        lines.append(f"  kernel ({k['mode']}, {k['points_checked']} points): agrees on every output, measure and hash")
    else:
        f = k["failures"][0]
        lines.append(
            f"  kernel ({k['mode']}, {k['points_checked']} points): {len(k['failures'])} "
            f"disagreement{'s' if len(k['failures']) > 1 else ''}, first {f['where']}: "
            f"claimed {f['expected']}, found {f['found']}"
        )
    lines.append(
        f"  network: depth {s['depth']}, width {s['width']}, {s['neurons']} neurons, "
        f"{s['params_nonzero']} nonzero / {s['params_dense']} dense parameters, "
        f"max {s['max_weight_bits']} bits, {s['total_weight_bits']} bits in all"
    )
    lines.append(
        f"  dataset: n = {ds['n']}, d = {ds['d']}, labels {ds['labels']['kind']} "
        f"({ds['labels']['distinct']} distinct), min squared separation {approx(ds['min_sq_separation'])}"
    )
    c = cert["construction"]
    if c:
        held = "hold" if c["size"]["holds"] else "DO NOT HOLD"
        formulas = ", ".join(f"{m} = {v['formula']} = {v['value']}" for m, v in c["size"]["claims"].items())
        lines.append(f"  {c['name']}: size formulas {held}: {formulas}")
    return lines
