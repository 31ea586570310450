"""netcert: compile memorization theorems into exact networks and certify them.

Pipeline (each arrow a function, data flows one way)::

    dataset file --load_dataset--> Dataset
    Dataset --build(data, name)--> network (networkx DiGraph, exact weights)
    network --write_network--> net.json
    network + dataset --evaluate--> Evaluation (every point, exactly)
    network + dataset --verify--> Certificate (evaluator + independent kernel)
    *.cert.json --check--> CheckResult (re-derived from the files it names)

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
__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        from netcert import api

        return getattr(api, name)
    raise AttributeError(f"module 'netcert' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
