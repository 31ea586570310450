"""netcert: compile memorization theorems into exact networks and certify them.

Pipeline (each arrow a function, data flows one way)::

    dataset file --load_dataset--> Dataset
    Dataset --build(data, name)--> network (networkx DiGraph, exact weights)
    network --write_network--> net.json
    network + dataset --evaluate--> Evaluation (every point, exactly)
    network + dataset --verify--> Certificate (evaluator + independent kernel)
    *.cert.json --check--> CheckResult (re-derived from the files it names)
    trained model --from_sklearn / from_layers / import_onnx--> network (exact weights)

The API lives in ``netcert.api`` and is imported on first use, so that
``import netcert`` (and the command line's start-up) stays light.
"""

__version__ = "0.1.0"

_API = (
    "Certificate",
    "CheckResult",
    "CsvOptions",
    "Dataset",
    "Evaluation",
    "Measures",
    "build",
    "check",
    "constructions",
    "evaluate",
    "load_dataset",
    "measure",
    "read_network",
    "verify",
    "write_network",
)
_IMPORTERS = {
    "from_layers": "netcert.importers.layers",
    "from_sklearn": "netcert.importers.sklearn",
    "import_onnx": "netcert.importers.onnx",
}
"""Trained networks as exact ones; onnx and scikit-learn are imported only when these are called."""

__all__ = ["__version__", *_API, *_IMPORTERS]


def __getattr__(name: str):
    if name in _API:
        from netcert import api

        return getattr(api, name)
    if name in _IMPORTERS:
        import importlib

        return getattr(importlib.import_module(_IMPORTERS[name]), name)
    raise AttributeError(f"module 'netcert' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API, *_IMPORTERS])
