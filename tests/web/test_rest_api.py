"""The REST API through FastAPI's TestClient: each verb's answer is the verb's own
`to_dict()` for the same request; bad input, sizes past the web caps and anything naming a
file are 422s naming the field; a plan or simulation past its time stops with a 504."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infercost import api
from infercost.files import strict_json
from infercost.web.app import create_app

CHATGPT = {"scenario": "chatgpt-2023"}
SIM = {"model": "llama-3.1-8b", "gpu": "h100"}
PLAN = {"model": ["llama-3.1-8b"], "qps": 1}


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(warm=False)) as c:
        yield c


def same_as_verb(answer: Any, result: Any) -> None:
    assert answer == json.loads(strict_json(result.to_dict()))


def field_error(response: Any) -> tuple[str, str]:
    """The one field a 422 names, and its message."""
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail[0]["loc"][0] == "body"
    return str(detail[0]["loc"][-1]), detail[0]["msg"]


# --- each verb equals the verb called in process ------------------------------------------


def test_estimate_is_the_verbs_answer(client: TestClient) -> None:
    body = {"model": "llama-3.1-70b", "gpu": ["h100", "h200"], "tp": 4, "qps": 20}
    r = client.post("/api/v1/estimate", json=body)
    assert r.status_code == 200
    same_as_verb(r.json(), api.estimate(body))
    assert r.json()["estimates"][1]["fleet"]["gpus"] <= r.json()["estimates"][0]["fleet"]["gpus"]


def test_reproduce_is_the_verbs_answer(client: TestClient) -> None:
    body = {"scenario": "chatgpt-2023", "set": ["workload.output_tokens=350"]}
    r = client.post("/api/v1/reproduce", json=body)
    assert r.status_code == 200
    same_as_verb(r.json(), api.reproduce(body))
    published = {c["key"]: c["published"] for c in r.json()["comparison"]}
    assert published["gpus"] == 28936  # SemiAnalysis's A100 count, beside the computed one


def test_reproduce_samples_under_the_cap(client: TestClient) -> None:
    body = {"scenario": "chatgpt-2023", "samples": 200, "seed": 3}
    r = client.post("/api/v1/reproduce", json=body)
    assert r.status_code == 200
    same_as_verb(r.json(), api.reproduce(body))


def test_simulate_is_the_verbs_answer(client: TestClient) -> None:
    body = {"model": "llama-3.1-8b", "gpu": "h100", "rate": 5, "requests": 2000, "seed": 1}
    r = client.post("/api/v1/simulate", json=body)
    assert r.status_code == 200
    same_as_verb(r.json(), api.simulate(body))
    assert r.json()["completed"] == 2000


def test_plan_is_the_verbs_answer(client: TestClient) -> None:
    body = {
        "model": ["llama-3.1-8b"],
        "gpu": ["h100"],
        "qps": 5,
        "slo": "ttft_p99=2s,tpot_p99=50ms",
        "requests": 1000,
        "verify": 1,
        "disaggregated": False,
    }
    r = client.post("/api/v1/plan", json=body)
    assert r.status_code == 200
    doc = r.json()
    expected = json.loads(strict_json(api.plan(body).to_dict()))
    doc["search"].pop("timings_s", None)  # wall-clock times differ run to run
    expected["search"].pop("timings_s", None)
    assert doc == expected
    assert doc["feasible"]
    assert doc["frontier"]


# --- catalogs and scenarios ---------------------------------------------------------------


@pytest.mark.parametrize("table", ["gpus", "servers", "models", "prices", "engines"])
def test_catalog_tables(client: TestClient, table: str) -> None:
    r = client.get(f"/api/v1/catalog/{table}")
    assert r.status_code == 200
    assert r.json() == json.loads(strict_json(api.catalog_rows(table=table)))


def test_catalog_unknown_table_is_a_422(client: TestClient) -> None:
    r = client.get("/api/v1/catalog/teapots")
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["path", "table"]


def test_scenarios(client: TestClient) -> None:
    rows = client.get("/api/v1/scenarios").json()
    names = [row["name"] for row in rows]
    assert "chatgpt-2023" in names
    assert "search-2023" in names
    one = client.get("/api/v1/scenarios/chatgpt-2023").json()
    assert "SemiAnalysis" in one["title"]
    assert client.get("/api/v1/scenarios/nope").status_code == 404


# --- bad input: 422 naming the field, never a 500 -----------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("estimate", {"model": "llama-3.1-8b", "gpu": ["h100"], "qps": -1}, "qps"),
        ("estimate", {"model": "llama-3.1-8b", "gpu": ["h100"], "qps": 1, "typo": 1}, "typo"),
        ("estimate", {"model": "no-such-model", "gpu": ["h100"]}, "model"),
        (
            "estimate",
            {"model": "llama-3.1-8b", "gpu": ["h100"], "qps": 1, "queries_per_day": 9},
            "qps",
        ),
        ("estimate", {"model": "llama-3.1-405b", "gpu": ["l4"]}, "tp"),
        ("reproduce", {"scenario": "chatgpt-2023", "set": ["workload.nope=1"]}, None),
        ("simulate", {**SIM, "rate": 5, "arrival": "lumpy"}, "arrival"),
        ("plan", {"model": ["llama-3.1-8b"], "qps": 5}, None),
    ],
)
def test_bad_input_names_the_field(
    client: TestClient, path: str, body: dict[str, Any], field: str | None
) -> None:
    name, message = field_error(client.post(f"/api/v1/{path}", json=body))
    if field is not None:
        assert name == field, message
    assert message


def test_a_body_that_is_not_json_is_a_422(client: TestClient) -> None:
    r = client.post(
        "/api/v1/estimate", content=b"\xff\xfe{", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422


# --- caps: lower than the CLI's, the cap named --------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "field", "cap"),
    [
        (
            "simulate",
            {"model": "llama-3.1-8b", "gpu": "h100", "requests": 200_001},
            "requests",
            "200000",
        ),
        ("simulate", {"model": "llama-3.1-8b", "gpu": "h100", "replicas": 65}, "replicas", "64"),
        (
            "simulate",
            {"scenario": "chatgpt-2023", "prefill_replicas": 100},
            "prefill_replicas",
            "64",
        ),
        (
            "simulate",
            {"model": "llama-3.1-8b", "gpu": "h100", "max_seqs": 5000},
            "max_seqs",
            "4096",
        ),
        ("reproduce", {"scenario": "chatgpt-2023", "samples": 20_001}, "samples", "20000"),
        ("plan", {"model": ["llama-3.1-8b"], "qps": 1, "requests": 20_001}, "requests", "20000"),
        ("plan", {"model": ["llama-3.1-8b"], "qps": 1, "verify": 11}, "verify", "10"),
        ("plan", {"scenario": "chatgpt-2023", "samples": 201}, "samples", "200"),
        ("plan", {"model": ["llama-3.1-8b"], "max_candidates": 20_001}, "max_candidates", "20000"),
        (
            "plan",
            {"model": ["llama-3.1-8b", "llama-3.1-70b", "qwen3-32b", "llama-2-7b", "llama-3-8b"]},
            "model",
            "4",
        ),
    ],
)
def test_caps_are_named(
    client: TestClient, path: str, body: dict[str, Any], field: str, cap: str
) -> None:
    name, message = field_error(client.post(f"/api/v1/{path}", json=body))
    assert name == field
    assert f"at most {cap} in the web app" in message


# --- no endpoint reads or writes a path the client names ----------------------------------


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "estimate",
            {"model": "llama-3.1-8b", "gpu": ["h100"], "calibration": "/etc/passwd"},
            "calibration",
        ),
        ("reproduce", {"scenario": "/etc/passwd"}, "scenario"),
        ("reproduce", {"scenario": "../../scenario.yaml"}, "scenario"),
        ("reproduce", {**CHATGPT, "calibration": "cal.yaml"}, "calibration"),
        ("reproduce", {**CHATGPT, "set": ["plan.profile=/etc/hosts"]}, "set"),
        ("reproduce", {**CHATGPT, "set": ["plan.input_tokens=file:/etc/hosts"]}, "set"),
        (
            "reproduce",
            {**CHATGPT, "samples": 10, "range": ["workload.output_tokens=file:/x"]},
            "range",
        ),
        ("simulate", {**SIM, "trace": "/etc/hosts"}, "trace"),
        ("simulate", {**SIM, "records": "/tmp/out.csv"}, "records"),
        ("simulate", {**SIM, "input_tokens": "file:/etc/hosts"}, "input_tokens"),
        ("simulate", {**SIM, "output_tokens": " FILE:/etc/hosts"}, "output_tokens"),
        ("simulate", {"scenario": "/etc/passwd"}, "scenario"),
        ("simulate", {"scenario": "chatgpt-2023", "whole_fleet": True}, "whole_fleet"),
        ("simulate", {"scenario": "chatgpt-2023", "ray": "10.0.0.1:6379"}, "ray"),
        ("plan", {**PLAN, "trace": "t.csv"}, "trace"),
        ("plan", {**PLAN, "classes": "c.yaml"}, "classes"),
        ("plan", {**PLAN, "frontier": "/tmp/f.csv"}, "frontier"),
        ("plan", {**PLAN, "plot": "/tmp/f.html"}, "plot"),
        ("plan", {**PLAN, "profile": "/etc/hosts"}, "profile"),
        ("plan", {**PLAN, "scenario": "x.yaml"}, "scenario"),
    ],
)
def test_paths_are_refused(client: TestClient, path: str, body: dict[str, Any], field: str) -> None:
    name, message = field_error(client.post(f"/api/v1/{path}", json=body))
    assert name == field
    assert "web app" in message


def test_profiles_and_sets_that_name_no_file_pass_the_check(client: TestClient) -> None:
    body = {**CHATGPT, "set": ["plan.profile=diurnal", "workload.output_tokens=300"]}
    assert client.post("/api/v1/reproduce", json=body).status_code == 200


# --- time and concurrency -----------------------------------------------------------------


def test_a_simulation_past_its_time_stops_with_a_504() -> None:
    with TestClient(create_app(timeout_s=0.05, warm=False)) as slow:
        body = {**SIM, "rate": 50, "requests": 200_000, "input_tokens": "lognormal:1000:1"}
        r = slow.post("/api/v1/simulate", json=body)
    assert r.status_code == 504
    assert "stopped after 0.05 s" in r.json()["detail"]


def test_a_busy_server_answers_503() -> None:
    app = create_app(queue_wait_s=0.01, warm=False)
    with TestClient(app) as c:
        jobs = app.state.jobs
        with jobs.slot():  # another plan holds the one slot
            r = c.post("/api/v1/simulate", json={**SIM, "requests": 1000})
    assert r.status_code == 503
    assert r.headers["retry-after"]


def test_a_bug_is_a_documented_500_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(request: Any) -> Any:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(api, "estimate", broken)
    with TestClient(create_app(warm=False), raise_server_exceptions=False) as c:
        r = c.post("/api/v1/estimate", json={"model": "llama-3.1-8b", "gpu": ["h100"]})
    assert r.status_code == 500
    assert r.json() == {"detail": "internal error (ZeroDivisionError); please report it"}
    schema = c.app.openapi()["paths"]["/api/v1/estimate"]["post"]["responses"]
    assert "500" in schema
