"""Importers: trained networks (numpy layers, scikit-learn, ONNX) as exact netcert networks.

Every importer reads the weights as the exact rationals the stored floats denote and builds
the graph through ``layers.Builder``, so the same weights give the same network (the same
bytes of net.json) whichever route they came by. ``onnx`` and ``sklearn`` import their
packages only when called, so ``import netcert`` stays light.
"""
