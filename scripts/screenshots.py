"""Screenshots for the README: the web calculator (`docs/img/web.png`) and a report
(`docs/img/report.png`, the top of `infercost reproduce chatgpt-2023 --html`).

    python scripts/screenshots.py [--out docs/img/web.png] [--report-out docs/img/report.png]
        [--chromium /usr/bin/chromium]

Starts the app (`infercost.web.app.create_app`) on a free loopback port, opens the page in
chromium through Playwright (`executable_path`, never a downloaded browser), waits for the
figures and charts, runs a plan so that its frontier is drawn, and saves a full-page PNG.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sys
import threading
import time
from pathlib import Path

import uvicorn

from infercost.web.app import create_app

VIEW = "/?model=llama-3.1-70b&gpu=h100-sxm&tp=4&precision=fp8&qps=20"


def serve() -> tuple[uvicorn.Server, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(), port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def screenshot(url: str, out: Path, chromium: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(url + VIEW)
        page.wait_for_selector("body[data-charts='1']", timeout=60_000)
        page.click("#plan-button")
        page.wait_for_selector("#plan[data-state='done']", timeout=120_000)
        page.wait_for_timeout(500)  # plotly's transitions
        page.screenshot(path=str(out), full_page=True)
        browser.close()


def report_screenshot(out: Path, chromium: str) -> None:
    """The top of chatgpt-2023's report, as a reader first sees it."""
    import tempfile

    from playwright.sync_api import sync_playwright

    from infercost.api import reproduce
    from infercost.report import write

    request = {"scenario": "chatgpt-2023"}
    with tempfile.TemporaryDirectory() as tmp:
        html = write("reproduce", reproduce(request).to_dict(), Path(tmp) / "r.html", request)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1200, "height": 1500})
            page.goto(html.as_uri())
            page.wait_for_function(
                "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 3"
            )
            page.screenshot(path=str(out))
            browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/img/web.png"))
    parser.add_argument("--report-out", type=Path, default=Path("docs/img/report.png"))
    default = os.environ.get("INFERCOST_CHROMIUM") or shutil.which("chromium")
    parser.add_argument("--chromium", default=default)
    args = parser.parse_args()
    if not args.chromium:
        sys.stderr.write("no chromium: apt-get install -y chromium, or give --chromium\n")
        return 2
    server, url = serve()
    try:
        screenshot(url, args.out, args.chromium)
    finally:
        server.should_exit = True
    report_screenshot(args.report_out, args.chromium)
    sys.stdout.write(f"wrote {args.out} and {args.report_out}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
