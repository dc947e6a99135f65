"""The verbs: estimate, reproduce, simulate, measure, calibrate, validate and the catalogs.

Each verb takes its request model (or the same fields as keywords), checks what the
request's fields cannot check alone, asks the layers beneath, and returns a typed result
with `to_dict()`. Every rule a front end would otherwise need lives here: which options
apply together, what an output path must be before a long run starts, when a measurement
counts as failed. The command line and the web app only turn input into a request and a
result into text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infercost.api.models import (
    CalibrateRequest,
    CatalogRequest,
    EstimateRequest,
    ImportModelRequest,
    MeasureRequest,
    ReproduceRequest,
    SimulateRequest,
    ValidateRequest,
    parse,
)
from infercost.errors import InputError, renamed
from infercost.evaluate.config import CalibrationChoice, Config, resolve
from infercost.evaluate.pipeline import CostBasis, Evaluation, Serving, Workload, evaluate

# The pipeline's names for what a request calls otherwise.
REQUEST_FIELDS = {
    "weight_precision": "precision",
    "max_sequences": "max_seqs",
    "usd_per_gpu_hour": "price",
    "input_tokens": "input_tokens",
}
FEASIBILITY_FIELDS = {"weights": "tp", "request": "tp", "kv": "concurrency"}


def calibration_choice(choice: str | None) -> CalibrationChoice:
    """ "builtin", None (raw defaults), or a calibration file, loaded."""
    if choice is None:
        return None
    if choice == "builtin":
        return "builtin"
    from infercost.perf.calibration import load_calibration

    return load_calibration(choice)


def output_file(path: str | None, field: str, suffixes: tuple[str, ...]) -> Path | None:
    """An output file a verb will write, checked before any work starts."""
    if path is None:
        return None
    target = Path(path)
    if target.suffix.lower() not in suffixes:
        raise InputError(field, f"write {' or '.join(suffixes)}, not {target.suffix or '(none)'}")
    if target.is_dir():
        raise InputError(field, f"{target} is a folder; give a file name")
    if not target.parent.is_dir():
        raise InputError(field, f"no such folder: {target.parent}")
    return target


# --- estimate ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EstimateResult:
    evaluations: list[Evaluation]
    refused: list[dict[str, Any]] = field(default_factory=list)  # accelerators that don't fit

    def to_dict(self) -> dict[str, Any]:
        return {
            "estimates": [e.to_dict() for e in self.evaluations],
            "refused": self.refused,
        }


def estimate(
    request: EstimateRequest | dict[str, Any] | None = None, **fields: Any
) -> EstimateResult:
    """One replica per accelerator: memory, latency, throughput, $/1M tokens; with traffic,
    the fleet and its cost. A configuration that does not fit is an error naming the binding
    limit (when comparing accelerators, it is listed as refused)."""
    req = parse(EstimateRequest, request, **fields)
    _check_estimate(req)
    cal = calibration_choice(req.calibration)
    tp = req.tp or (req.gpus // req.pp if req.gpus else 1)
    workload = Workload(req.input_tokens, req.output_tokens, req.cached_fraction, _traffic(req))
    serving = Serving(req.concurrency, req.target_interactivity)
    basis = CostBasis("catalog", req.price)
    evaluations: list[Evaluation] = []
    refused: list[dict[str, Any]] = []
    errors: list[InputError] = []
    names = {**REQUEST_FIELDS, **({"tp": "gpus"} if req.tp is None and req.gpus else {})}
    for gpu in dict.fromkeys(req.gpu):
        config = Config(
            model=req.model,
            gpu=gpu,
            tp=tp,
            pp=req.pp,
            weight_precision=req.precision,
            kv_precision=req.kv_precision,
            engine=req.engine,
            max_sequences=req.max_seqs,
        )
        with renamed(names):
            e = evaluate(resolve(config, cal), workload, serving, basis, cal)
        try:
            e.require_feasible(_feasibility_field(e))
        except InputError as exc:
            errors.append(exc)
            refused.append(
                {
                    "gpu": e.resolved.deployment.gpu.id,
                    **e.feasibility.to_dict(),
                    "error": exc.message,
                }
            )
            continue
        evaluations.append(e)
    if not evaluations:
        raise errors[0]
    return EstimateResult(evaluations, refused)


def _feasibility_field(e: Evaluation) -> str:
    binding = e.feasibility.binding
    if binding == "speed":
        return "target_interactivity"
    if binding == "sequences":
        return "max_seqs" if e.concurrency_basis == "stated" else "concurrency"
    return FEASIBILITY_FIELDS.get(binding or "", "concurrency")


def _check_estimate(req: EstimateRequest) -> None:
    if req.gpus is not None:
        if req.tp is not None and req.tp * req.pp != req.gpus:
            raise InputError("gpus", f"must equal tp × pp = {req.tp * req.pp}, got {req.gpus}")
        if req.gpus % req.pp:
            raise InputError("gpus", f"must be a multiple of pp ({req.pp}), got {req.gpus}")
    if req.qps is not None and req.queries_per_day is not None:
        raise InputError("qps", "give qps or queries_per_day, not both")
    if req.concurrency is not None and req.target_interactivity is not None:
        raise InputError("concurrency", "give concurrency or target_interactivity, not both")
    no_traffic = req.qps is None and req.queries_per_day is None
    for name in ("peak_to_average", "utilisation"):
        if no_traffic and getattr(req, name) is not None:
            raise InputError(name, "sizes a fleet: give qps or queries_per_day too")


def _traffic(req: EstimateRequest) -> Any:
    if req.qps is None and req.queries_per_day is None:
        return None
    from infercost.units import SECONDS_PER_DAY
    from infercost.workload.traffic import Traffic

    qps = req.qps if req.qps is not None else (req.queries_per_day or 0.0) / SECONDS_PER_DAY
    return Traffic(
        queries_per_s=qps,
        input_tokens_per_query=req.input_tokens,
        output_tokens_per_query=req.output_tokens,
        peak_to_average=req.peak_to_average or 1.0,
        target_utilisation=req.utilisation or 1.0,
        cached_input_fraction=req.cached_fraction,
    )


# --- reproduce -----------------------------------------------------------------------------


def reproduce(request: ReproduceRequest | dict[str, Any] | None = None, **fields: Any) -> Any:
    """A scenario recomputed from its assumptions: published against computed."""
    from infercost.scenario.engine import run
    from infercost.scenario.loader import load

    req = parse(ReproduceRequest, request, **fields)
    cal = calibration_choice(req.calibration)
    return run(load(req.scenario, list(req.set)), cal)


# --- simulate ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SimulationResult:
    summary: dict[str, Any]
    records: Any  # infercost.records.Records
    records_path: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return self.summary


SCENARIO_SETS = {
    "tp": "parallelism.tp",
    "precision": "model.weight_precision",
    "kv_precision": "model.kv_precision",
    "engine": "serving.engine",
}
SCENARIO_REFUSES = {
    "model": "the scenario names its model; use set model.name=…",
    "gpu": "the scenario names its hardware; use set hardware.gpu=…",
    "gpus": "the scenario states its layout; use tp (or set parallelism.tp=…)",
    "rate": "the scenario sets its own traffic; use set workload.queries_per_second=…",
    "trace": "the scenario sets its own traffic; replay a trace with a model and a gpu",
    "input_tokens": "the scenario sets its lengths; use set workload.input_tokens=…",
    "output_tokens": "the scenario sets its lengths; use set workload.output_tokens=…",
}


def simulate(
    request: SimulateRequest | dict[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
    **fields: Any,
) -> SimulationResult:
    """A fleet simulated request by request: latency percentiles, goodput, queues, KV."""
    from dataclasses import replace

    from infercost.records import parse_slos
    from infercost.sim.engine import Fleet
    from infercost.sim.engine import simulate as run_simulation

    req = parse(SimulateRequest, request, **fields)
    records_path = output_file(req.records, "records", (".csv", ".parquet"))
    slos = parse_slos(req.slo)
    cal = calibration_choice(req.calibration)
    fleet_replicas: int | None = None
    if req.scenario is not None:
        plan = _scenario_simulation(req, cal)
        r, reqs, fleet, fleet_replicas = (
            plan.resolved,
            plan.requests,
            plan.fleet,
            plan.fleet_replicas,
        )
        slos = slos or plan.slos
    else:
        r, reqs = _flag_simulation(req, cal)
        fleet = Fleet.of(
            r, req.replicas or 1, req.router or "round-robin", req.cached_fraction or 0
        )
    if req.scheduler_steps is not None:
        fleet = replace(fleet, scheduler_steps=req.scheduler_steps)
    if req.prefill_apart is not None:
        fleet = replace(fleet, mixed_prefill=not req.prefill_apart)
    if req.max_seqs is not None:
        fleet = replace(fleet, max_seqs=req.max_seqs)
    result = run_simulation(
        r.deployment, reqs.arrival_s, reqs.input_tokens, reqs.output_tokens, fleet, progress
    )
    summary = result.summary(slos)
    summary["offered_rate_rps"] = reqs.rate_per_s
    summary["deployment"] = r.to_dict()
    summary["fleet"] = {
        "replicas_simulated": fleet.replicas,
        "replicas_in_fleet": fleet_replicas or fleet.replicas,
        "router": fleet.router,
        "max_seqs": fleet.max_seqs,
        "scheduler_steps": fleet.scheduler_steps,
        "mixed_prefill": fleet.mixed_prefill,
        "gpus_per_replica": r.gpus,
    }
    if records_path is not None:
        _write_records(result.records, records_path)
    return SimulationResult(summary, result.records, records_path)


def _scenario_simulation(req: SimulateRequest, cal: CalibrationChoice) -> Any:
    from infercost.perf.calibration import load_calibration
    from infercost.scenario.loader import load
    from infercost.scenario.simulation import simulation_of

    for name, why in SCENARIO_REFUSES.items():
        if getattr(req, name) is not None:
            raise InputError(name, why)
    sets = [f"{path}={getattr(req, name)}" for name, path in SCENARIO_SETS.items()]
    sets = [
        s for s, name in zip(sets, SCENARIO_SETS, strict=True) if getattr(req, name) is not None
    ]
    assert req.scenario is not None
    scenario = load(req.scenario, [*req.set, *sets])
    return simulation_of(
        scenario,
        load_calibration() if cal == "builtin" else cal,
        n=req.requests,
        seed=req.seed,
        replicas=req.replicas,
        router=req.router or "least-outstanding",
        arrival=req.arrival,
        burstiness=req.burstiness,
        cached_fraction=req.cached_fraction,
    )


def _flag_simulation(req: SimulateRequest, cal: CalibrationChoice) -> Any:
    from infercost.workload.requests import make_requests

    if req.set:
        raise InputError("set", "overrides a scenario's inputs; give a scenario")
    if req.model is None or req.gpu is None:
        raise InputError(
            "model" if req.model is None else "gpu", "give a scenario, or a model and a gpu"
        )
    if req.gpus is not None and req.tp is not None and req.gpus != req.tp:
        raise InputError("gpus", f"must equal tp ({req.tp}); the simulator runs tp only")
    if req.trace is not None and req.rate is not None:
        raise InputError("rate", "a trace sets its own schedule; drop the rate")
    if req.trace is not None and (req.input_tokens or req.output_tokens):
        raise InputError("input_tokens", "a trace sets its own lengths")
    config = Config(
        model=req.model,
        gpu=req.gpu,
        tp=req.tp or req.gpus or 1,
        weight_precision=req.precision or "bf16",
        kv_precision=req.kv_precision,
        engine=req.engine,
        max_sequences=req.max_seqs,
    )
    with renamed(REQUEST_FIELDS):
        r = resolve(config, cal)
    if r.deployment.parallelism.pp > 1:
        raise InputError("pp", "the simulator runs one pipeline stage per replica")
    reqs = make_requests(
        rate=req.rate,
        n=req.requests,
        input_spec=req.input_tokens or "1000",
        output_spec=req.output_tokens or "200",
        arrival=req.arrival,
        burstiness=req.burstiness,
        seed=req.seed,
        trace=Path(req.trace) if req.trace else None,
    )
    return r, reqs


def _write_records(records: Any, path: Path) -> None:
    try:
        if path.suffix.lower() == ".csv":
            records.write_csv(path)
        else:
            records.write_parquet(path)
    except OSError as exc:
        raise InputError("records", f"cannot write {path}: {exc.strerror or exc}") from None


# --- measure -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeasureResult:
    setup: Any  # infercost.measurement.model.Setup | None
    levels: list[dict[str, Any]]
    max_error_rate: float
    out: Path | None = None

    @property
    def sent(self) -> int:
        return sum(int(r.get("requests", 0)) for r in self.levels)

    @property
    def failed(self) -> int:
        return sum(int(r.get("errors", 0)) for r in self.levels)

    @property
    def error_causes(self) -> dict[str, int]:
        causes: dict[str, int] = {}
        for level in self.levels:
            for cause, count in (level.get("error_causes") or {}).items():
                causes[cause] = causes.get(cause, 0) + int(count)
        return dict(sorted(causes.items(), key=lambda kv: -kv[1]))

    @property
    def error_line(self) -> str | None:
        """`12 errors: 8 × connect refused, 4 × http 500`, or None when nothing failed."""
        if not self.failed:
            return None
        parts = ", ".join(f"{n} × {cause}" for cause, n in self.error_causes.items())
        noun = "error" if self.failed == 1 else "errors"
        return f"{self.failed} {noun} of {self.sent} requests: {parts}"

    @property
    def interrupted(self) -> bool:
        return any((r.get("load") or {}).get("interrupted") for r in self.levels)

    @property
    def exit_code(self) -> int:
        """1 when nothing was measured or errors passed `max_error_rate`, else 0."""
        if self.sent == 0 or self.failed == self.sent:
            return 1
        return 1 if self.failed / self.sent > self.max_error_rate else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "setup": self.setup.to_dict() if self.setup is not None else None,
            "levels": self.levels,
            "requests": self.sent,
            "errors": self.failed,
            "error_causes": self.error_causes,
            "max_error_rate": self.max_error_rate,
            "interrupted": self.interrupted,
            "exit_code": self.exit_code,
        }


def measure(
    request: MeasureRequest | dict[str, Any] | None = None,
    progress: Callable[..., None] | None = None,
    **fields: Any,
) -> MeasureResult:
    """Load levels against a live server, every request kept on disk as it finishes."""
    from infercost.measurement.run import Level, Plan, load_prompts, sweep
    from infercost.measurement.run import measure as run_measure
    from infercost.records import parse_slos

    req = parse(MeasureRequest, request, **fields)
    url = _server_url(req.url)
    levels: Any = [Level("concurrency", v) for v in req.concurrency]
    levels += [Level("rate", v) for v in req.rate]
    if req.trace is not None and (levels or req.sweep):
        raise InputError("trace", "sets its own schedule; drop concurrency, rate and sweep")
    if req.sweep and levels:
        raise InputError("sweep", "chooses its own levels; drop concurrency and rate")
    trace = _load_trace(req.trace)
    if trace is not None:
        levels = [Level("trace", 1)]
    elif req.sweep:
        levels = sweep(req.max_error_rate)
    elif not levels:
        levels = [Level("concurrency", 1)]
    slos = parse_slos(req.slo)
    setup = _setup(req)
    out = _measure_folder(req.out)
    prompts = load_prompts(Path(req.prompts)) if req.prompts else ()
    plan = Plan(
        url=url, model=req.model, input_tokens=req.input_tokens, output_tokens=req.output_tokens,
        requests=req.requests, duration_s=req.duration, arrival=req.arrival, seed=req.seed,
        chat=req.chat, extra=req.extra, timeout_s=req.timeout, price_usd_per_gpu_hour=req.price,
        gpus=req.gpus, setup=setup, prompts=prompts, trace=trace,
    )  # fmt: skip
    reports = run_measure(plan, levels, slos, out, progress)
    return MeasureResult(setup, reports, req.max_error_rate, out)


def _server_url(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError("url", f"must be http://HOST[:PORT] or https://…, got {url!r}")
    try:
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        raise InputError("url", f"bad port in {url!r}") from None
    return url.rstrip("/")


def _load_trace(path: str | None) -> Any:
    if path is None:
        return None
    from infercost.workload.trace import load_trace

    return load_trace(Path(path))


def _setup(req: MeasureRequest) -> Any:
    """The catalog setup for predictions, every name checked now (not after the run)."""
    from infercost.measurement.model import Setup

    if req.gpu is None:
        with renamed({"model": "catalog_model"}):
            _check_catalog_names(None, req.catalog_model, req.precision, req.engine)
        for name in ("catalog_model", "precision", "engine"):
            if getattr(req, name) is not None:
                raise InputError(name, "describes the server for predictions: give gpu too")
        return None
    from infercost.catalog.models import model as catalog_model

    name = req.catalog_model or req.model
    field = "catalog_model" if req.catalog_model else "model"
    with renamed({"model": field, "tp": "gpus", "weight_precision": "precision"}):
        arch = catalog_model(name)
        setup = Setup(arch.id, req.gpu, req.gpus, req.precision or "bf16", req.engine or "other")
        return setup.check()


def _check_catalog_names(
    gpu: str | None, model: str | None, precision: str | None, engine_name: str | None
) -> None:
    """Each name the user typed resolves, before anything is read or run."""
    from infercost.catalog.engines import engine
    from infercost.catalog.hardware import accelerator
    from infercost.catalog.models import model as catalog_model
    from infercost.units import weight_and_compute

    if gpu is not None:
        accelerator(gpu)
    if model is not None:
        catalog_model(model)
    if precision is not None:
        weight_and_compute(precision, "precision")
    if engine_name is not None:
        engine(engine_name)


def _measure_folder(path: str | None) -> Path | None:
    """The folder a measurement writes into: new, or empty of an earlier measurement."""
    if path is None:
        return None
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise InputError("out", f"{folder} is a file; give a folder for the records")
    if (folder / "summary.json").exists():
        raise InputError(
            "out", f"{folder} already holds a measurement (summary.json); choose a new folder"
        )
    if not folder.parent.is_dir():
        raise InputError("out", f"no such folder: {folder.parent}")
    return folder


# --- calibrate -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CalibrationResult:
    saved: Path
    calibration: Any  # infercost.perf.calibration.Calibration
    levels: list[dict[str, Any]]

    @property
    def factors(self) -> Any:
        return next(iter(self.calibration.groups.values()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "saved": str(self.saved),
            "groups": sorted(self.calibration.groups),
            "factors": self.factors.to_dict(),
            "levels": self.levels,
        }


def calibrate(
    request: CalibrateRequest | dict[str, Any] | None = None, **fields: Any
) -> CalibrationResult:
    """Efficiency factors fitted to a measurement, saved for `--calibration FILE`, with each
    level's throughput measured, predicted raw and predicted with the fitted factors."""
    from infercost.measurement.model import Setup, load_results, predict_level
    from infercost.perf.calibration import save_calibration
    from infercost.perf.deployment import Efficiency
    from infercost.validation.measured import calibrate_to

    req = parse(CalibrateRequest, request, **fields)
    given = {"gpu": req.gpu, "model": req.model, "gpus": req.gpus, "precision": req.precision,
             "engine": req.engine}  # fmt: skip
    names = {"tp": "gpus", "weight_precision": "precision"}
    _check_catalog_names(req.gpu, req.model, req.precision, req.engine)  # the user's typos first
    folder = Path(req.results)
    reports, saved = load_results(folder)
    target = output_file(req.out or str(folder / "calibration.yaml"), "out", (".yaml", ".yml"))
    assert target is not None
    merged = {**saved, **{k: v for k, v in given.items() if v is not None}}
    if "gpu" not in merged or "model" not in merged:
        missing = "gpu" if "gpu" not in merged else "model"
        raise InputError(missing, "the measurement has no catalog setup; give --gpu and --model")
    try:
        setup = Setup(**{k: merged[k] for k in ("model", "gpu", "gpus", "precision", "engine")
                         if k in merged})  # fmt: skip
    except TypeError as exc:
        raise InputError("results", f"unreadable setup in summary.json: {exc}") from None
    with renamed(names):
        setup.check()
    cal = calibrate_to(setup, reports)
    try:
        save_calibration(cal, target)
    except OSError as exc:
        raise InputError("out", f"cannot write {target}: {exc.strerror or exc}") from None
    fitted = next(iter(cal.groups.values())).apply(Efficiency())
    rows = []
    for report in reports:
        if not report.get("completed"):
            continue
        raw = predict_level(setup, report, None)["throughput_output_tok_s"]
        tuned = predict_level(setup, report, None, fitted)["throughput_output_tok_s"]
        rows.append({"level": report["level"], "measured_tok_s": report["throughput_output_tok_s"],
                     "raw_tok_s": raw, "calibrated_tok_s": tuned})  # fmt: skip
    return CalibrationResult(target, cal, rows)


# --- validate ------------------------------------------------------------------------------


def validate(
    request: ValidateRequest | dict[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
    **fields: Any,
) -> Any:
    """The performance model against measured benchmarks, out of sample (see `validate`)."""
    from infercost.validation.report import validate as run_validation

    req = parse(ValidateRequest, request, **fields)
    plot = output_file(req.plot, "plot", (".html", ".png", ".svg", ".pdf"))
    written = output_file(req.write_calibration, "write_calibration", (".yaml", ".yml"))
    result = run_validation(
        req.data, calibrated=req.calibrated, fit_all=written is not None, progress=progress
    )
    if written is not None:
        from infercost.validation.store import save_fitted

        save_fitted(result, req.data, written)
    if plot is not None:
        from infercost.validation.plot import write_plot

        write_plot(result, plot)
    return result


# --- catalogs ------------------------------------------------------------------------------


def catalog_rows(
    request: CatalogRequest | dict[str, Any] | None = None, **fields: Any
) -> list[dict[str, Any]]:
    """Every row of one catalog table, as plain mappings."""
    from infercost.catalog import engines, hardware, models, prices

    req = parse(CatalogRequest, request, **fields)
    tables: dict[str, Callable[[], Any]] = {
        "gpus": hardware.accelerators,
        "servers": hardware.servers,
        "models": models.models,
        "prices": prices.price_points,
        "engines": engines.engines,
    }
    return [row.to_dict() for row in tables[req.table]()]


@dataclass(frozen=True)
class ImportedModel:
    row: dict[str, Any]
    total_params: int
    active_params: int
    attention: str
    written: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "total_params": self.total_params,
            "active_params": self.active_params,
            "written": None if self.written is None else str(self.written),
        }


def import_model(
    request: ImportModelRequest | dict[str, Any] | None = None, **fields: Any
) -> ImportedModel:
    """A Hugging Face config.json as a catalog row; with `into`, added to that catalog folder
    (its models.yaml), so that the model can be estimated by its id at once."""
    from infercost.catalog.hf_import import arch_to_row, load_hf_config

    req = parse(ImportModelRequest, request, **fields)
    arch = load_hf_config(Path(req.file), req.id)
    row = arch_to_row(arch)
    written = _add_to_catalog(row, Path(req.into), req.replace) if req.into else None
    return ImportedModel(
        row, arch.total_params(), arch.active_params(), arch.attention_kind, written
    )


def _add_to_catalog(row: dict[str, Any], folder: Path, replace_row: bool) -> Path:
    import yaml

    from infercost.catalog import models
    from infercost.catalog.lookup import DATA_DIR
    from infercost.files import read_yaml

    if not folder.is_dir():
        raise InputError("into", f"no such folder: {folder}")
    builtin = {r.get("id") for r in (read_yaml(DATA_DIR / "models.yaml", "models.yaml")["rows"])}
    if row["id"] in builtin:
        raise InputError("id", f"{row['id']!r} is a built-in model; choose another id")
    target = folder / "models.yaml"
    rows: list[dict[str, Any]] = []
    if target.exists():
        doc = read_yaml(target, "into")
        if not isinstance(doc, dict) or not isinstance(doc.get("rows"), list):
            raise InputError("into", f"{target} has no 'rows' list")
        rows = list(doc["rows"])
    if any(r.get("id") == row["id"] for r in rows) and not replace_row:
        raise InputError("id", f"{target} already has {row['id']!r}; pass replace to overwrite")
    rows = [r for r in rows if r.get("id") != row["id"]] + [row]
    text = yaml.safe_dump({"rows": rows}, sort_keys=False, allow_unicode=True)
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError("into", f"cannot write {target}: {exc.strerror or exc}") from None
    models._models.cache_clear()
    return target
