"""The evaluator's public names, for callers that want one module: ``evaluate.run(G, data)``.

The evaluator is split by role (docs/performance.md, "The evaluator's engines"):
``program`` (the compiled program and its step types), ``pointwise`` (the
per-point interpreters), ``native`` and ``program.c`` (the C kernel over GMP),
``straightline``, ``batch``, ``collapse``, ``plan`` (engine choice and cost
model), ``run`` (ranges, executors, digest), ``parallel`` (the executors:
local forks, Beside, Dask) and ``reference`` (the Fraction oracle). This module only re-exports what the rest of netcert calls; the
internals are imported from their own modules.
"""

from __future__ import annotations

from netcert.engine.plan import ENGINES, evaluation_plan
from netcert.engine.pointwise import forward
from netcert.engine.program import Program, compile_network
from netcert.engine.run import Evaluation, Mismatch, Progress, outputs, run, values

__all__ = [
    "ENGINES",
    "Evaluation",
    "Mismatch",
    "Program",
    "Progress",
    "compile_network",
    "evaluation_plan",
    "forward",
    "outputs",
    "run",
    "values",
]
