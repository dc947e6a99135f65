"""The calculator page in a real browser (Debian's chromium through Playwright), against the
running app: it loads without console errors; moving the traffic slider shows the GPUs and
$/day the API returns for the same inputs; the URL restores the view; a plan draws its
frontier; a bad value shows the server's message beside its field."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

READY = "body[data-ready='1'][data-busy='0']"


@pytest.fixture
def page(browser: Any, live_url: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()


def figure(page: Any, key: str) -> float:
    return float(page.get_attribute(f"#fig-{key}", "data-value"))


def slide(page: Any, key: str, position: float) -> None:
    """Move a slider as a user does: its value changes and it fires `input`."""
    page.eval_on_selector(
        f"#{key}-slider",
        "(el, v) => { el.value = v; el.dispatchEvent(new Event('input', {bubbles: true})); }",
        position,
    )


def settled(page: Any) -> None:
    page.wait_for_timeout(300)  # past the 250 ms debounce
    page.wait_for_selector(READY)


def test_page_loads_without_console_errors(page: Any, live_url: str) -> None:
    page.goto(live_url)
    page.wait_for_selector("body[data-charts='1']", timeout=30_000)
    assert page.errors == []
    assert figure(page, "gpus") >= 1
    assert page.locator("#chart-gpu-hour .main-svg").count() > 0
    assert page.locator("#scenario option").count() >= 5  # custom + the built-ins


def test_traffic_slider_shows_what_the_api_returns(page: Any, live_url: str) -> None:
    page.goto(live_url)
    page.wait_for_selector(READY)
    before = figure(page, "gpus")
    slide(page, "qps", 2.5)  # log10: 316 queries/s
    settled(page)
    qps = float(page.input_value("#qps-number"))
    assert qps == pytest.approx(316, rel=0.01)
    body = {
        "model": page.input_value("#model"),
        "gpu": [page.input_value("#gpu")],
        "tp": int(page.input_value("#tp")),
        "precision": page.input_value("#precision"),
        "qps": qps,
        "input_tokens": float(page.input_value("#input_tokens-number")),
        "output_tokens": float(page.input_value("#output_tokens-number")),
        "utilisation": float(page.input_value("#utilisation-number")),
        "target_interactivity": 1 / float(page.input_value("#tpot-number")),
    }
    answer = httpx.post(f"{live_url}/api/v1/estimate", json=body).json()["estimates"][0]
    assert figure(page, "gpus") == answer["fleet"]["gpus"]
    assert figure(page, "usd_per_day") == pytest.approx(answer["fleet_cost"]["usd_per_day"])
    assert figure(page, "gpus") > before
    assert "qps=316" in page.url


def test_the_url_restores_the_view(page: Any, live_url: str) -> None:
    page.goto(live_url)
    page.wait_for_selector(READY)
    page.select_option("#gpu", "h200")
    page.fill("#output_tokens-number", "500")
    settled(page)
    url, gpus = page.url, figure(page, "gpus")
    assert "gpu=h200" in url
    assert "output_tokens=500" in url
    page.goto("about:blank")
    page.goto(url)
    page.wait_for_selector(READY)
    assert page.input_value("#gpu") == "h200"
    assert page.input_value("#output_tokens-number") == "500"
    assert figure(page, "gpus") == gpus


def test_a_scenario_shows_published_beside_computed(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/?scenario=chatgpt-2023&set=workload.output_tokens%3D350")
    page.wait_for_selector(READY)
    body = {"scenario": "chatgpt-2023", "set": ["workload.output_tokens=350"]}
    computed = httpx.post(f"{live_url}/api/v1/reproduce", json=body).json()["computed"]
    assert figure(page, "gpus") == computed["gpus"]
    assert "published 28,936" in page.inner_text("#fig-gpus")
    assert page.locator("#comparison tbody tr").count() >= 4


def test_a_plan_draws_its_frontier(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/?model=llama-3.1-8b&tp=1&qps=5")
    page.wait_for_selector(READY)
    page.click("#plan-button")
    assert page.get_attribute("#plan", "data-state") == "running"
    page.wait_for_selector("#plan[data-state='done']", timeout=90_000)
    traces = page.evaluate("document.getElementById('chart-frontier').data.length")
    assert traces == 3  # candidates, the cost frontier, the chosen fleet
    assert "GPUs" in page.inner_text("#plan-best")
    assert page.errors == []


def test_a_bad_value_shows_the_servers_message_by_its_field(page: Any, live_url: str) -> None:
    page.goto(live_url)
    page.wait_for_selector(READY)
    page.fill("#qps-number", "-5")
    page.wait_for_selector("#qps-error:not(:empty)")
    assert "greater than 0" in page.inner_text("#qps-error")
    page.fill("#qps-number", "10")
    settled(page)
    assert page.inner_text("#qps-error") == ""


def test_exports_hold_the_result_shown(page: Any, live_url: str) -> None:
    page.goto(live_url)
    page.wait_for_selector(READY)
    with page.expect_download() as csv_download:
        page.click("#export-csv")
    lines = Path(csv_download.value.path()).read_text().splitlines()
    rows = dict(line.split(",") for line in lines[1:])
    assert float(rows["gpus"]) == figure(page, "gpus")
    with page.expect_download() as json_download:
        page.click("#export-json")
    doc = json.loads(Path(json_download.value.path()).read_text())
    assert doc["estimates"][0]["fleet"]["gpus"] == figure(page, "gpus")
