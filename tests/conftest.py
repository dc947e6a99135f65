"""Puts tests/ on sys.path (pytest does so for a directory holding a conftest.py), so that
test modules can share `scenario_files`; and offers the `browser` fixture (tests/browser.py)
and the session's one local Ray (`ray_local`, tests/ray_session.py) to every test."""

from browser import browser
from ray_session import ray_local

__all__ = ["browser", "ray_local"]
