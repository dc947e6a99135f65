"""Puts tests/ on sys.path (pytest does so for a directory holding a conftest.py), so that
test modules can share `scenario_files`; and offers the `browser` fixture (tests/browser.py)
and the session's one local Ray (`ray_local`, tests/ray_session.py) to every test; and puts
the built-in catalog back after each test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser import browser
from ray_session import ray_local

__all__ = ["browser", "built_in_catalog", "pytest_collection_modifyitems", "ray_local"]


@pytest.fixture(autouse=True)
def built_in_catalog() -> Iterator[None]:
    """Every test ends on the built-in catalog: a CLI run with `--catalog DIR` sets the
    process's user catalog, which a later test calling the API directly would otherwise read."""
    yield
    from infercost.catalog.lookup import use_catalog

    use_catalog(None)


def pytest_collection_modifyitems(items: list[Any]) -> None:
    """The tests that use Ray run last: Ray's own processes (its raylet, its monitors) keep
    running once started, and the timing-sensitive measurement tests run before them."""
    items.sort(key=lambda item: "ray_local" in getattr(item, "fixturenames", ()))
