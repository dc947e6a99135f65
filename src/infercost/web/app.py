"""The FastAPI app behind `infercost serve`: the verbs as a REST API, and the calculator page.

    POST /api/v1/{estimate,reproduce,plan,simulate}   a request model as JSON → `to_dict()`
    GET  /api/v1/catalog/{table}                      the catalog's rows
    GET  /api/v1/scenarios[/{name}]                   the built-in scenarios
    GET  /                                            the page (static/, plotly.js served here)

Bodies are the verbs' own request models, so the API and the command line take the same
fields. Each request is checked by `safety` (no paths, web caps) before any work; estimate
and reproduce (milliseconds) run on the event loop, plans, simulations and Monte Carlos in the
threadpool; answers are strict JSON (no NaN). Bad input
of any kind is a 422 in FastAPI's shape, naming the field; a plan or simulation past its
time is a 504, a server too busy to start one a 503.
"""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Annotated, Any, Literal

from fastapi import Body, FastAPI, Path, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from infercost import api
from infercost.errors import InputError
from infercost.files import strict_json
from infercost.web.safety import (
    QUEUE_WAIT_S,
    REQUEST_TIMEOUT_S,
    Deadline,
    DeadlineExceeded,
    HeavyJobs,
    ServerBusy,
    builtin_scenarios,
    web_request,
)

STATIC = pathlib.Path(__file__).parent / "static"
Table = Literal["gpus", "servers", "models", "prices", "api-prices", "engines"]


class Problem(BaseModel):
    """An error that is not about one field: the server busy, a request out of time."""

    detail: str


class Scenario(BaseModel):
    name: str
    title: str
    description: str = ""


OBJECT = {"content": {"application/json": {"schema": {"type": "object"}}}}
ROWS = {"content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}}
# Not expected: a bug in infercost. Still JSON in a documented shape, its type named.
BUG: dict[int | str, dict[str, Any]] = {
    500: {"model": Problem, "description": "A bug in infercost: the error's type, logged"}
}
HEAVY_ERRORS: dict[int | str, dict[str, Any]] = {
    503: {"model": Problem, "description": "Busy: every plan/simulation slot stayed taken"},
    504: {"model": Problem, "description": "Stopped: past the web app's time per request"},
}


# Examples shown in /docs, and sent first by the schema tests: one real run per verb.
EXAMPLES: dict[str, dict[str, Any]] = {
    "estimate": {"model": "llama-3.1-70b", "gpu": ["h100"], "tp": 4, "qps": 20},
    "reproduce": {"scenario": "chatgpt-2023", "set": ["workload.output_tokens=350"]},
    "plan": {
        "model": ["llama-3.1-8b"],
        "gpu": ["h100"],
        "qps": 5,
        "slo": "ttft_p99=2s,tpot_p99=50ms",
        "requests": 1000,
        "verify": 2,
    },
    "simulate": {"model": "llama-3.1-8b", "gpu": "h100", "rate": 5, "requests": 2000},
}


def _example(verb: str) -> dict[str, Any]:
    return {verb: {"summary": f"a small {verb}", "value": EXAMPLES[verb]}}


class JSONText(Response):
    media_type = "application/json"


def _json(doc: Any) -> bytes:
    return strict_json(doc, indent=None).encode()


EstimateBody = Annotated[api.EstimateRequest, Body(openapi_examples=_example("estimate"))]
ReproduceBody = Annotated[api.ReproduceRequest, Body(openapi_examples=_example("reproduce"))]
PlanBody = Annotated[api.PlanRequest, Body(openapi_examples=_example("plan"))]
SimulateBody = Annotated[api.SimulateRequest, Body(openapi_examples=_example("simulate"))]


ScenarioName = Annotated[str, Path(openapi_examples={"chatgpt": {"value": "chatgpt-2023"}})]


def create_app(
    timeout_s: float = REQUEST_TIMEOUT_S,
    queue_wait_s: float = QUEUE_WAIT_S,
    heavy_jobs: int = 1,
    warm: bool = True,
) -> FastAPI:
    """The app; the limits are arguments so that tests can make them small. `warm` runs one
    estimate and reads the catalogs at start-up, so the first page is not the one to pay for
    the imports and catalog loading (a second or more)."""
    from importlib.metadata import version

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if warm:
            await run_in_threadpool(_warm_up)
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="infercost",
        version=version("infercost"),
        summary="What it costs to serve a large language model: the verbs over HTTP.",
    )
    jobs = HeavyJobs(heavy_jobs, queue_wait_s)
    app.state.jobs = jobs  # the heavy-job slots, for tests and monitoring
    _handlers(app)
    _verbs(app, jobs, timeout_s)
    _tables(app)
    _page(app)
    return app


def _warm_up() -> None:
    api.estimate(EXAMPLES["estimate"])
    api.reproduce(scenario="chatgpt-2023")
    scenarios()
    for table in ("models", "gpus"):
        rows(table)


@lru_cache(maxsize=16)
def rows(table: str) -> bytes:
    """A catalog table as JSON, encoded once: the catalog is fixed while the server runs."""
    return _json(api.catalog_rows(table=table))


@lru_cache(maxsize=1)
def scenarios() -> dict[str, Scenario]:
    """The built-in scenarios' names, titles and descriptions."""
    from infercost.scenario.loader import read_raw

    out = {}
    for name in builtin_scenarios():
        raw = read_raw(name)
        out[name] = Scenario(
            name=name,
            title=str(raw.get("title", "")),
            description=str(raw.get("description", "")).strip(),
        )
    return out


def _handlers(app: FastAPI) -> None:
    """Errors as JSON in the documented shapes."""

    def field_error(field: str, message: str, kind: str) -> JSONText:
        doc = {"detail": [{"loc": ["body", field], "msg": message, "type": kind}]}
        return JSONText(_json(doc), status_code=422)

    async def input_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, InputError)
        return field_error(exc.field, exc.message, "value_error")

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        return JSONText(_json({"detail": detail}), status_code=422)

    async def unreadable(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code != 400:  # 404, 405: Starlette's own answers
            return await http_exception_handler(request, exc)
        doc = {"detail": [{"loc": ["body"], "msg": exc.detail, "type": "json_invalid"}]}
        return JSONText(_json(doc), status_code=422)  # a body that is not UTF-8 JSON

    async def busy(request: Request, exc: Exception) -> Response:
        return JSONText(_json({"detail": str(exc)}), 503, headers={"Retry-After": "10"})

    async def late(request: Request, exc: Exception) -> Response:
        return JSONText(_json({"detail": str(exc)}), status_code=504)

    async def bug(request: Request, exc: Exception) -> Response:
        doc = {"detail": f"internal error ({type(exc).__name__}); please report it"}
        return JSONText(_json(doc), status_code=500)  # uvicorn logs the traceback

    app.add_exception_handler(Exception, bug)
    app.add_exception_handler(InputError, input_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, unreadable)
    app.add_exception_handler(ServerBusy, busy)
    app.add_exception_handler(DeadlineExceeded, late)


def _verbs(app: FastAPI, jobs: HeavyJobs, timeout_s: float) -> None:
    """The four verbs: checked, run (inline or in the threadpool), answered as `to_dict()`."""

    async def light(verb: Callable[[Any], Any], body: BaseModel) -> Response:
        """A verb of a few milliseconds (estimate, reproduce) runs on the event loop: a hop
        to the threadpool and back cost more than the work, and 40 threads contending for
        the interpreter lock stretched the tail (p99 224 → 123 ms at 50 clients). A Monte
        Carlo (reproduce with samples) goes to the threadpool."""
        req = web_request(body)
        if getattr(req, "samples", None):
            return JSONText(await run_in_threadpool(lambda: _json(verb(req).to_dict())))
        return JSONText(_json(verb(req).to_dict()))

    async def heavy(verb: Callable[..., Any], body: BaseModel, stage: bool) -> Response:
        deadline = Deadline(timeout_s)
        req = web_request(body)
        progress = deadline.plan_progress if stage else deadline.simulate_progress

        def work() -> bytes:
            with jobs.slot():
                deadline.check()
                return _json(verb(req, progress=progress).to_dict())

        return JSONText(await run_in_threadpool(work))

    @app.post("/api/v1/estimate", responses={200: OBJECT, **BUG}, tags=["verbs"])
    async def estimate(body: EstimateBody) -> Response:
        """One replica per accelerator; with traffic (qps), the fleet and its cost."""
        return await light(api.estimate, body)

    @app.post("/api/v1/reproduce", responses={200: OBJECT, **BUG}, tags=["verbs"])
    async def reproduce(body: ReproduceBody) -> Response:
        """A built-in scenario recomputed: published against computed figures."""
        return await light(api.reproduce, body)

    @app.post("/api/v1/plan", responses={200: OBJECT, **HEAVY_ERRORS, **BUG}, tags=["verbs"])
    async def plan(body: PlanBody) -> Response:
        """The cheapest fleet that meets latency targets, verified by simulation."""
        return await heavy(api.plan, body, stage=True)

    @app.post("/api/v1/simulate", responses={200: OBJECT, **HEAVY_ERRORS, **BUG}, tags=["verbs"])
    async def simulate(body: SimulateBody) -> Response:
        """A fleet simulated request by request: latency percentiles, goodput, queues."""
        return await heavy(api.simulate, body, stage=False)


def _tables(app: FastAPI) -> None:
    """The catalogs and the built-in scenarios: fixed while the server runs, encoded once."""

    @app.get("/api/v1/catalog/{table}", responses={200: ROWS}, tags=["catalog"])
    async def catalog(table: Table) -> Response:
        """A catalog table's rows, each with its source and date."""
        return JSONText(await run_in_threadpool(rows, table))

    @app.get("/api/v1/scenarios", tags=["scenarios"])
    async def scenario_list() -> list[Scenario]:
        """The built-in scenarios: name and title."""
        return list(scenarios().values())

    @app.get(
        "/api/v1/scenarios/{name}",
        response_model=Scenario,
        responses={404: {"model": Problem, "description": "No such built-in scenario"}},
        tags=["scenarios"],
    )
    async def scenario(name: ScenarioName) -> Any:
        """One built-in scenario: name, title and description."""
        found = scenarios().get(name)
        if found is None:
            doc = {"detail": f"no built-in scenario {name!r}: {', '.join(scenarios())}"}
            return JSONText(_json(doc), status_code=404)
        return found


def _page(app: FastAPI) -> None:
    """The calculator page and its assets, plotly.js from the installed plotly package."""
    import plotly

    plotly_js = pathlib.Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    cache = {"Cache-Control": "public, max-age=86400"}

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    async def plotly_min() -> FileResponse:
        return FileResponse(plotly_js, media_type="text/javascript", headers=cache)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
