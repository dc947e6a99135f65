"""Puts tests/ on sys.path (pytest does so for a directory holding a conftest.py), so that
test modules can share `scenario_files`; and offers the `browser` fixture (tests/browser.py)
and the session's one local Ray (`ray_local`, tests/ray_session.py) to every test."""

from __future__ import annotations

from typing import Any

from browser import browser
from ray_session import ray_local

__all__ = ["browser", "pytest_collection_modifyitems", "ray_local"]


def pytest_collection_modifyitems(items: list[Any]) -> None:
    """The tests that use Ray run last: Ray's own processes (its raylet, its monitors) keep
    running once started, and the timing-sensitive measurement tests run before them."""
    items.sort(key=lambda item: "ray_local" in getattr(item, "fixturenames", ()))
