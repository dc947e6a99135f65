"""Puts tests/ on sys.path (pytest does so for a directory holding a conftest.py), so that
test modules can share `scenario_files`; and offers the `browser` fixture (tests/browser.py)
to every test."""

from browser import browser

__all__ = ["browser"]
