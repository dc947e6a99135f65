"""A real browser for the web and report tests: Debian's chromium driven by Playwright
through `executable_path` (never `playwright install`).

`.ci/run` installs chromium with apt when it is missing, and sets CI=true: there a missing
browser fails the tests. On a developer's machine without chromium they are skipped, with
the command that installs it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def chromium_path() -> str | None:
    given = os.environ.get("INFERCOST_CHROMIUM")
    if given:
        return given
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        message = "no chromium on PATH: apt-get install -y chromium (or set INFERCOST_CHROMIUM)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chrome = pw.chromium.launch(
            executable_path=path, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield chrome
        finally:
            chrome.close()
