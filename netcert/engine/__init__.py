"""The fast exact evaluator: a network compiled once, run on every point of a dataset.

``evaluate.run(G, data)`` is the entry point (``run``); it chooses among the
engines (per point in C over GMP or in Python, exact batches of integer layers,
the two-layer sign-filter collapse) by a cost model (``plan``) and proves every
bound it relies on. Nothing here is trusted: the kernel (``netcert.kernel``)
re-derives what a certificate claims. Every module of this package is
described in docs/performance.md, "The evaluator's engines".
"""
