"""The fast exact evaluator: a network compiled once, run on every point of a dataset.

``evaluate.run(G, data)`` is the entry point; it chooses among the engines (per
point in C over GMP or in Python, exact batches of integer layers, the
two-layer sign-filter collapse) by a cost model and proves every bound it
relies on. Nothing here is trusted: the kernel (``netcert.kernel``) re-derives
what a certificate claims.
"""
