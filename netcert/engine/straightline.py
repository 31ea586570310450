"""Straight-line Python for a compiled network: one statement per shared form and per node.

The per-point sweep (``pointwise.Sweep``) interprets the compiled program: for
every step it walks lists, indexes slots and dispatches on the step's kind,
about 1-3 us of interpreter work per node, against tens of nanoseconds of GMP
arithmetic on the numbers of the papers' networks
(docs/performance.md, "The per-point path"). Here the program is written out once as the body of one Python
function (a local per value, small coefficients as literals, unit ones as
plain additions and subtractions), compiled by CPython and called per point,
so the interpreter executes little more than the arithmetic itself.

What is exact: the function computes the same integers as
``pointwise.forward``, form by form, node by node, with the same coefficients
(a zero value multiplies to zero instead of being skipped), and each activation
as ``activations.SOURCE`` writes it. It does not reuse work between points as
``pointwise.Sweep`` does, so ``pointwise`` times both on the first points of a
run and keeps the faster; the values cannot differ. A rational-fallback node
becomes its classes' sums, each divided by its denominator as
``pointwise.rational_value`` does.
"""

from __future__ import annotations

from collections.abc import Callable

from netcert.engine.activations import LEAKY_RELU, SOURCE
from netcert.engine.program import Program, RatNode, Table

SMALL = 1 << 62  # coefficients below this are literals; larger ones are bound by name
MAX_TERMS = 400_000  # beyond this CPython's compiler needs seconds and gigabytes
_CHUNK = 48  # terms per statement: longer sums nest deeply enough to exhaust the compiler's stack


def compile_program(
    program: Program, table_value: Callable, mpz: Callable, mpq: Callable
) -> Callable[[tuple], list] | None:
    """The program as a function point -> output values, or None when it is too large to compile."""
    rational_terms = sum(len(t) for step in program.steps if type(step) is RatNode for _, t in step.classes)
    if sum(len(f.terms) for f in program.forms) + len(program.steps) + rational_terms > MAX_TERMS:
        return None
    env: dict = {"_table_value": table_value, "_mpz": mpz, "_mpq": mpq}
    lines = ["def run(point):"]
    for k, s in enumerate(program.input_slots):
        lines.append(f"    v{s} = _mpz(point[{k}])" if program.big else f"    v{s} = point[{k}]")
    for step, before in zip(program.steps, program.form_order):
        for f in before:
            lines += _sum(f"L{f}", program.forms[f].terms, env)
        if type(step) is RatNode:
            lines += _rational(step, env)
        elif type(step) is Table:
            lines.append(f"    z = _table_value({_bind(step, env)}, L{step.form})")
        else:
            lines.append(f"    z = {_product(step.m, f'L{step.form}', env)}{_signed(step.B, env)}")
        if type(step) is RatNode and step.activation == LEAKY_RELU:
            lines.append(f"    v{step.slot} = z if z >= 0 else {_bind(step.slope, env)} * z")
        else:
            lines.append(f"    v{step.slot} = {SOURCE[step.activation]}")
    lines.append(f"    return [{', '.join(f'v{s}' for s in program.output_slots)}]")
    exec(compile("\n".join(lines), "<netcert straight-line program>", "exec"), env)  # noqa: S102
    return env["run"]


def _bind(value, env: dict) -> str:
    """A new global name of the function, bound to ``value``."""
    name = f"K{len(env)}"
    env[name] = value
    return name


def _constant(c, env: dict) -> str:
    """A literal for a small integer, else a global name bound to it (big literals are slow to
    parse and bounded by Python's int-to-string digit limit)."""
    return str(int(c)) if -SMALL < c < SMALL else _bind(c, env)


def _product(c, var: str, env: dict) -> str:
    if c == 1:
        return var
    if c == -1:
        return f"-{var}"
    return f"{_constant(c, env)} * {var}"


def _signed(c, env: dict) -> str:
    """`` + c`` / `` - |c|`` (empty for 0), to append to an expression."""
    if c == 0:
        return ""
    return f" + {_constant(c, env)}" if c > 0 else f" - {_constant(-c, env)}"


def _rational(step: RatNode, env: dict) -> list[str]:
    """z = bias + sum over classes (q, terms) of (sum p v_s) / q, a class adding nothing when its
    sum is 0, as ``pointwise.rational_value``."""
    out = [f"    z = {_bind(step.bias, env)}"]
    for q, terms in step.classes:
        out += _sum("t", terms, env)
        out.append(f"    if t: z += _mpq(t, {_constant(q, env)})")
    return out


def _sum(target: str, terms, env: dict) -> list[str]:
    """Statements setting ``target`` to sum c * v_s over ``terms``, _CHUNK terms per statement."""
    if not terms:
        return [f"    {target} = 0"]
    out = []
    for a in range(0, len(terms), _CHUNK):
        parts = []
        for s, c in terms[a : a + _CHUNK]:
            if not parts and a == 0:
                parts.append(_product(c, f"v{s}", env))
            elif c > 0:
                parts.append(f" + {_product(c, f'v{s}', env)}")
            else:
                parts.append(f" - {_product(-c, f'v{s}', env)}")
        out.append(f"    {target} {'=' if a == 0 else '+='} {''.join(parts)}")
    return out
