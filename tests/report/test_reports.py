"""HTML reports: every verb writes one self-contained file, whose numbers are the run's own,
which opens in a real browser (Debian's chromium) with no console error and draws its charts;
`infercost report` redraws a saved run, overlays runs, and refuses what it cannot read."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from report_checks import check_self_contained
from typer.testing import CliRunner, Result

from infercost.cli.main import app
from infercost.validation.dataset import BUILTIN, COLUMNS


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def assert_user_error(result: Result, *needles: str) -> None:
    """Exit 2 and one line naming what is wrong, no traceback."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1, line
    assert line.startswith("error:"), line
    for needle in needles:
        assert needle in line, line


SIM = ("simulate", "-m", "llama-3.1-8b", "-g", "h100", "--rate", "4", "--requests", "1500")
PLAN = (
    "plan", "-m", "llama-3.1-8b", "--qps", "4", "--input-tokens", "800", "--output-tokens",
    "150", "--slo", "ttft_p99=2s,tpot_p99=60ms", "--gpu", "h100,a100-80gb", "--requests",
    "1500", "--verify", "2",
)  # fmt: skip


def run(tmp: Path, name: str, *args: str) -> tuple[dict[str, Any], Path]:
    """The verb's --json document and the report it wrote beside it."""
    html = tmp / f"{name}.html"
    result = invoke(*args, "--json", "--html", str(html))
    assert result.exit_code in (0, 1), result.output
    doc = json.loads(result.stdout)
    (tmp / f"{name}.json").write_text(result.stdout, encoding="utf-8")
    return doc, html


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[dict[str, Any], Path]]:
    tmp = tmp_path_factory.mktemp("reports")
    with BUILTIN.open(encoding="utf-8") as f:
        rows = [
            r for r in csv.DictReader(f) if r["id"].startswith(("GPTFAST", "NEMO-L2", "TRTBLOG"))
        ]
    data = tmp / "small.csv"
    with data.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return {
        "reproduce": run(tmp, "reproduce", "reproduce", "chatgpt-2023"),
        "ranges": run(tmp, "ranges", "reproduce", "chatgpt-2023", "--samples", "500"),
        "disaggregated": run(tmp, "disaggregated", "reproduce", "deepseek-2025"),
        "estimate": run(
            tmp,
            "estimate",
            "estimate",
            "-m",
            "llama-3.1-70b",
            "-g",
            "h100,mi300x",
            "--tp",
            "4",
            "--qps",
            "8",
        ),
        "simulate": run(tmp, "simulate", *SIM),
        "plan": run(tmp, "plan", *PLAN),
        "validate": run(tmp, "validate", "validate", "--data", str(data)),
    }


def text_of(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "headings"),
    [
        (
            "reproduce",
            [
                "Published against computed",
                "Cost",
                "Against traffic",
                "Assumptions",
                "Ranges and tornado",
            ],
        ),
        ("ranges", ["Ranges and tornado"]),
        ("disaggregated", ["Published against computed", "Cost"]),
        ("estimate", ["One replica per accelerator", "Cost", "Against traffic"]),
        ("simulate", ["The fleet under load", "Latency"]),
        ("plan", ["The answer", "Cost by pool", "Frontiers"]),
        ("validate", ["Predicted against measured", "By source"]),
    ],
)
def test_each_verb_writes_a_self_contained_report(
    reports: dict[str, tuple[dict[str, Any], Path]], name: str, headings: list[str]
) -> None:
    _, html = reports[name]
    found = check_self_contained(html)
    for heading in headings:
        assert heading in found, found


def test_a_scenario_report_shows_its_published_figures_sources_and_computed_numbers(
    reports: dict[str, tuple[dict[str, Any], Path]],
) -> None:
    doc, html = reports["reproduce"]
    text = text_of(html)
    gpus = next(c for c in doc["comparison"] if c["key"] == "gpus")
    assert f"{gpus['published']:,.0f}" in text
    assert f"{gpus['computed']:,.0f}" in text
    for source in doc["sources"]:
        assert f'href="{source["url"]}"' in text  # provenance links
    for assumption in doc["assumptions"]:
        assert assumption["path"] in text


def test_the_cost_breakdown_names_capex_networking_power_and_facility_when_owned(
    tmp_path: Path,
) -> None:
    doc, html = run(tmp_path, "owned", "reproduce", "chatgpt-2023", "--set", "cost.mode=own")
    gpu_hour = doc["details"]["gpu_hour"]
    assert gpu_hour["networking_usd"] > 0
    assert gpu_hour["capital_usd"] > 0
    text = text_of(html)
    for part in ("servers (capex)", "networking (capex)", "power", "facility"):
        assert part in text


def test_ranges_show_where_the_scenario_has_them_and_only_there(tmp_path: Path) -> None:
    """chatgpt-2023 states ranges: its report samples them though the run did not;
    search-2023 states none: no section pretends otherwise."""
    _, html = run(tmp_path, "search", "reproduce", "search-2023")
    assert "Ranges and tornado" not in check_self_contained(html)


def test_the_traffic_chart_is_the_scenario_rerun_at_other_traffic(
    reports: dict[str, tuple[dict[str, Any], Path]],
) -> None:
    from infercost.api.curves import reproduce_curve

    doc, _ = reports["reproduce"]
    curve = reproduce_curve({"scenario": "chatgpt-2023"}, doc["assumptions"])
    at = {p["traffic_factor"]: p for p in curve}
    assert at[1.0]["gpus"] == doc["computed"]["gpus"]
    assert at[1.0]["usd_per_day"] == doc["computed"]["usd_per_day"]
    gpus = [p["gpus"] for p in curve]
    assert gpus == sorted(gpus)
    assert gpus[-1] > 3 * gpus[2]


def test_the_simulation_report_carries_its_distributions(
    reports: dict[str, tuple[dict[str, Any], Path]],
) -> None:
    doc, html = reports["simulate"]
    dist = doc["distributions"]
    at = dict(zip(dist["percent"], dist["cdf"]["ttft_s"], strict=True))
    assert at[50] == pytest.approx(doc["ttft_s"]["p50"])
    assert at[99] == pytest.approx(doc["ttft_s"]["p99"])
    assert sum(dist["timeline"]["requests"]) == doc["completed"]
    assert "Latency distributions (CDF)" in text_of(html)


def test_a_plan_report_stars_the_planned_fleet_on_the_frontier(
    reports: dict[str, tuple[dict[str, Any], Path]],
) -> None:
    doc, html = reports["plan"]
    assert doc["chosen_point"]["interactivity_tokens_per_s"] > 0
    text = text_of(html)
    assert "planned fleet" in text
    assert f"${doc['best']['usd_per_month']:,.0f}" in text or doc["best"]["usd_per_month"] < 100


def test_reports_open_in_chromium_with_no_console_error_and_draw_every_chart(
    reports: dict[str, tuple[dict[str, Any], Path]], browser: Any
) -> None:
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route("**/*", lambda route: route.abort() if not route.request.url.startswith(
        "file:") else route.continue_())  # fmt: skip
    try:
        for name, (_, html) in reports.items():
            page.goto(html.as_uri())
            charts = html.read_text(encoding="utf-8").count('class="plotly-graph-div"')
            page.wait_for_function(
                f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {charts}"
            )
            assert charts >= 1, name
            assert errors == [], (name, errors)
        # Printed: the contents list goes, the charts stay (as vector graphics), pages break.
        page.goto(reports["reproduce"][1].as_uri())
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 3")
        page.emulate_media(media="print")
        assert page.locator("nav").is_hidden()
        pdf = page.pdf(format="A4")
        assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") > 2
    finally:
        page.close()


def test_report_redraws_a_saved_run_and_overlays_others(
    reports: dict[str, tuple[dict[str, Any], Path]], tmp_path: Path
) -> None:
    _, first = reports["simulate"]
    saved = first.with_suffix(".json")
    other = tmp_path / "busier.json"
    busier = invoke(*SIM[:-4], "--rate", "6", "--requests", "1500", "--json")
    other.write_text(busier.stdout, encoding="utf-8")
    out = tmp_path / "both.html"
    result = invoke("report", str(saved), str(other), "--html", str(out))
    assert result.exit_code == 0, result.output
    check_self_contained(out)
    assert "Runs overlaid: simulated, busier." in text_of(out)
    for name in ("plan", "reproduce", "validate", "estimate"):
        saved = reports[name][1].with_suffix(".json")
        result = invoke("report", str(saved))
        assert result.exit_code == 0, result.output
        assert check_self_contained(saved.with_suffix(".html"))


def test_report_refuses_what_it_cannot_draw(
    reports: dict[str, tuple[dict[str, Any], Path]], tmp_path: Path
) -> None:
    bad = tmp_path / "notes.json"
    bad.write_text('{"hello": 1}', encoding="utf-8")
    assert_user_error(invoke("report", str(bad)), "RESULTS", "not a result infercost wrote")
    bad.write_text("not json", encoding="utf-8")
    assert_user_error(invoke("report", str(bad)), "not JSON")
    assert_user_error(invoke("report", str(tmp_path / "missing.json")), "no such file")
    plan = reports["plan"][1].with_suffix(".json")
    sim = reports["simulate"][1].with_suffix(".json")
    assert_user_error(invoke("report", str(plan), str(sim)), "takes one result")
    assert_user_error(invoke("report", str(sim), "--html", str(tmp_path / "x.pdf")), "--html")


@pytest.mark.parametrize(
    "args",
    [
        ("reproduce", "chatgpt-2023"),
        ("estimate", "-m", "llama-3.1-8b", "-g", "h100"),
        SIM,
        PLAN,
        ("validate",),
    ],
)
def test_a_bad_report_path_is_refused_before_any_work(args: tuple[str, ...]) -> None:
    result = invoke(*args, "--html", "/no/such/folder/report.html")
    assert_user_error(result, "--html", "no such folder")
    assert_user_error(invoke(*args, "--html", "report.txt"), "--html", ".html")


def test_the_check_finds_a_script_fetched_from_a_cdn(tmp_path: Path) -> None:
    """The check above can fail: plotly's own default (`include_plotlyjs="cdn"`) is caught."""
    import plotly.graph_objects as go

    page = tmp_path / "cdn.html"
    go.Figure(go.Bar(y=[1, 2])).write_html(page, include_plotlyjs="cdn")
    with pytest.raises(AssertionError, match=r"cdn\.plot\.ly"):
        check_self_contained(page)
