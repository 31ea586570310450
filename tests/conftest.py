import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

pytest_plugins = ["pytester"]


import pytest  # noqa: E402


@pytest.fixture
def python_per_point(monkeypatch):
    """The per-point path in Python (sweep, events, straight line) instead of the C kernel."""
    from netcert.engine import pointwise

    monkeypatch.setattr(pointwise, "native_program", lambda program: None)
