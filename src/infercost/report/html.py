"""One self-contained HTML file per report: the sections of `report.sections` rendered by a
Jinja2 template, plotly.js embedded once, nothing fetched when the file is opened.

    write_report(kind, doc, path)      after a verb: its `to_dict()` document
    load_saved(paths)                  saved `--json` files or `measure --out` folders
    kind_of(doc)                       which verb wrote a document, from its keys

A report is drawn from the document alone (plus, for estimate and reproduce, the same
request rerun at other traffic), so a saved run draws the same report as the live one.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infercost.errors import InputError
from infercost.report import sections

KINDS = tuple(sections.BUILDERS)
OVERLAID = ("simulate", "measure")  # the runs whose latency distributions can be overlaid
_NUMERIC = re.compile(r"^[-+$]?[\d,.]+(e[-+]?\d+)?( ?(%|ms|s))?$|^—$")


def kind_of(doc: Any) -> str:
    """The verb that wrote `doc` (its `--json` object), from the keys only that verb writes."""
    if isinstance(doc, dict):
        if "scenario" in doc and "computed" in doc:
            return "reproduce"
        if "estimates" in doc:
            return "estimate"
        if "frontier" in doc and "question" in doc:
            return "plan"
        if "levels" in doc and "exit_code" in doc:
            return "measure"
        if "rows" in doc and "by_source" in doc:
            return "validate"
        if "factors" in doc and "levels" in doc and "saved" in doc:
            return "calibrate"
        if "ttft_s" in doc and ("fleet" in doc or "pools" in doc):
            return "simulate"
    raise InputError(
        "results",
        "not a result infercost wrote; give the --json output of reproduce, estimate, plan, "
        "simulate, validate or calibrate, or a `measure --out` folder",
    )


def load_saved(path: Path) -> tuple[str, dict[str, Any]]:
    """A saved result: a `--json` file, or the summary.json of a `measure --out` folder."""
    from infercost.files import read_text

    if path.is_dir():
        summary = path / "summary.json"
        if not summary.is_file():
            raise InputError("results", f"{path} is a folder without a summary.json")
        path = summary
    text = read_text(path, "results")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError("results", f"{path} is not JSON: {exc.msg} at line {exc.lineno}") from None
    if isinstance(doc, dict) and "levels" in doc and "exit_code" not in doc:
        doc = {"setup": doc.get("setup"), "exit_code": None, **doc}  # a measure summary.json
    return kind_of(doc), doc


def report_html(
    kind: str,
    doc: dict[str, Any],
    curve: list[dict[str, Any]] | None = None,
    others: list[tuple[str, dict[str, Any]]] | None = None,
) -> str:
    """The report's HTML: `curve` (estimate, reproduce: the fleet against traffic), `others`
    (simulate, measure: further runs' distributions to overlay)."""
    if kind not in sections.BUILDERS:
        raise InputError("results", f"no report for {kind!r}; reports: {', '.join(KINDS)}")
    builder = sections.BUILDERS[kind]
    if kind in ("reproduce", "estimate"):
        parts = builder(doc, curve or [])
    elif kind in OVERLAID:
        parts = builder(doc, others or [])
    else:
        parts = builder(doc)
    title, subtitle = _titles(kind, doc)
    html: str = _template().render(
        title=title,
        subtitle=subtitle,
        kind=kind,
        sections=parts,
        version=_version(),
        written=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        plotly_js=_plotly_js(),
    )
    return html


def write_report(path: Path, html: str) -> Path:
    try:
        path.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise InputError("html", f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def runs_of(kind: str, doc: dict[str, Any], label: str) -> list[tuple[str, dict[str, Any]]]:
    """A saved simulate or measure run's latency distributions, to overlay on another's."""
    if kind == "simulate":
        return [(label, doc.get("distributions") or {})]
    if kind == "measure":
        return [(f"{label} {lv.get('level')}", lv.get("distributions") or {})
                for lv in doc.get("levels") or [] if lv.get("requests")]  # fmt: skip
    raise InputError("results", f"only simulate and measure runs can be overlaid, not {kind}")


def _titles(kind: str, doc: dict[str, Any]) -> tuple[str, str]:
    if kind == "reproduce":
        s = doc.get("scenario") or {}
        return str(s.get("title") or s.get("name")), str(s.get("description") or "")
    if kind == "estimate":
        e = (doc.get("estimates") or [{}])[0].get("deployment") or {}
        return f"{e.get('model', 'A model')}: one replica, and the fleet", ""
    if kind == "plan":
        models = ", ".join((doc.get("question") or {}).get("models") or [])
        return f"Plan: {models}", "the cheapest fleet that meets the targets"
    if kind == "simulate":
        d = doc.get("deployment") or {}
        return f"Simulation: {d.get('model', '')} on {d.get('gpu', '')}", ""
    if kind == "measure":
        return "Measurement of a live server", ""
    if kind == "calibrate":
        return "Calibration to a measurement", ""
    return "The performance model against measured benchmarks", ""


def _template() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("infercost.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.tests["numeric_text"] = lambda v: isinstance(v, str) and bool(_NUMERIC.match(v))
    return env.get_template("report.html.j2")


def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    js: str = get_plotlyjs()
    return js.replace("</script", "<\\/script")  # never closes the page's script early


def _version() -> str:
    from importlib.metadata import version

    return version("infercost")
