"""`measure` (load levels against a live server) and `calibrate` (factors fitted to what was
measured): every check on the request is done before the first request is sent."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from infercost.api.models import CalibrateRequest, MeasureRequest, parse
from infercost.api.options import check_catalog_names, output_file
from infercost.errors import InputError, renamed
from infercost.limits import MAX_MEASURE_TOKENS

PROMPT_OFFSETS = 10**9  # a run's prompts start at a random one of these (no reuse across runs)


@dataclass(frozen=True)
class MeasureResult:
    setup: Any  # infercost.measurement.model.Setup | None
    levels: list[dict[str, Any]]
    max_error_rate: float
    out: Path | None = None
    measurements: Path | None = None  # the levels as structured rows (validate --data)

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
            "measurements": None if self.measurements is None else str(self.measurements),
        }


def measure(
    request: MeasureRequest | dict[str, Any] | None = None,
    progress: Callable[..., None] | None = None,
    **fields: Any,
) -> MeasureResult:
    """Load levels against a live server, every request kept on disk as it finishes."""
    from infercost.catalog.engines import engine as engine_catalog
    from infercost.measurement.engines import detect, detect_slots, detect_version
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
    specs = _length_specs(req, prompts)
    engine = req.engine and engine_catalog(req.engine).id
    headers = _headers(req)
    if req.api_price is not None and req.price is not None:
        raise InputError("api_price", "costs by tokens; price costs by GPU-hours: give one")
    check_access(url, headers, req.api_key is not None)
    counter = _counter(req, url, headers, prompts)
    plan = Plan(
        url=url, model=req.model, input_spec=specs[0], output_spec=specs[1],
        requests=req.requests, duration_s=req.duration, arrival=req.arrival, seed=req.seed,
        chat=req.chat, extra=req.extra, timeout_s=req.timeout, price_usd_per_gpu_hour=req.price,
        gpus=req.gpus, setup=setup, prompts=prompts, trace=trace, counter=counter,
        engine=engine or detect(url, headers), fixed_output=req.ignore_eos,
        shared_prefix_tokens=req.shared_prefix_tokens, prefix_groups=req.prefix_groups,
        headers=headers, prompt_offset=secrets.randbelow(PROMPT_OFFSETS),
        api_price=req.api_price, turns=req.turns,
    )  # fmt: skip
    plan = replace(plan, server_slots=detect_slots(url, plan.engine, headers))
    version = detect_version(url, plan.engine, headers) if out and setup else ""
    reports = run_measure(plan, levels, slos, out, progress)
    written = _write_measurements(out, setup, req, plan.engine, version, reports)
    return MeasureResult(setup, reports, req.max_error_rate, out, written)


def _write_measurements(
    out: Path | None,
    setup: Any,
    req: MeasureRequest,
    engine: str | None,
    version: str,
    reports: list[dict[str, Any]],
) -> Path | None:
    """`OUT/measurements.jsonl`: every level as structured rows that `validate --data`
    reads. Only with a catalog setup (`gpu`): a row names its accelerator."""
    if out is None or setup is None:
        return None
    from datetime import date

    from infercost.validation.measured import Served, run_measurements
    from infercost.validation.measurements import write_measurements

    run = re.sub(r"[^A-Za-z0-9]+", "-", out.resolve().name).strip("-").upper()
    served = Served(
        model=setup.model, gpu=setup.gpu, gpus=setup.gpus, precision=req.precision,
        engine=engine or "unknown", engine_version=version,
        run=f"MEASURE-{run}" if run else "MEASURE", date=date.today().isoformat(),
    )  # fmt: skip
    rows = run_measurements(served, reports)
    return write_measurements(rows, out / MEASUREMENTS) if rows else None


MEASUREMENTS = "measurements.jsonl"


HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an HTTP token (RFC 9110)


def _headers(req: MeasureRequest) -> dict[str, str]:
    """The credentials and headers every request carries. A value is never echoed in an
    error: it may be a secret."""
    out: dict[str, str] = {}
    if req.api_key is not None:
        key = req.api_key.get_secret_value().strip()
        if not key:
            raise InputError("api_key", "is empty")
        out["Authorization"] = f"Bearer {key}"
    for k, text in enumerate(req.header, start=1):
        name, colon, value = text.partition(":")
        if not colon or not HEADER_NAME.match(name.strip()) or "\n" in value or "\r" in value:
            raise InputError("header", f"header {k} is not NAME:VALUE (its value is not shown)")
        out[name.strip()] = value.strip()
    return out


def check_access(url: str, headers: dict[str, str], keyed: bool) -> None:
    """One GET of /v1/models before any load: a server that refuses the credentials is one
    clear error, not a run of failed requests."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url + "/v1/models", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5):
            return
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            what = "refused the credentials" if keyed else "wants credentials"
            raise InputError(
                "api_key",
                f"the server {what} (HTTP {exc.code}); give --api-key or set OPENAI_API_KEY",
            ) from None
    except (OSError, ValueError):
        return  # unreachable or no /v1/models: the run records what happens


def _length_specs(req: MeasureRequest, prompts: tuple[str, ...]) -> tuple[str, str]:
    """The prompt and output length specs, checked now (a bad one fails before any request)."""
    import numpy as np

    from infercost.workload.lengths import lengths

    specs = (str(req.input_tokens).strip(), str(req.output_tokens).strip())
    rng = np.random.default_rng(0)
    for name, spec in zip(("input_tokens", "output_tokens"), specs, strict=True):
        drawn = lengths(spec, 8, rng, name, minimum=1)
        if drawn.max() > MAX_MEASURE_TOKENS:
            raise InputError(name, f"lengths must be at most {MAX_MEASURE_TOKENS:,} tokens")
    if req.turns > 1 and (req.rate or req.trace or prompts):
        raise InputError("turns", "conversations run at concurrency levels, with synthetic prompts")
    if req.shared_prefix_tokens and prompts:
        raise InputError("shared_prefix_tokens", "builds synthetic prompts: drop prompts")
    if req.prefix_groups > 1 and not req.shared_prefix_tokens:
        raise InputError("prefix_groups", "spreads a shared prefix: give shared_prefix_tokens")
    return specs


def _counter(
    req: MeasureRequest, url: str, headers: dict[str, str], prompts: tuple[str, ...]
) -> Any:
    """How the synthetic prompts are measured: a tokenizer file, the server, or estimates."""
    from infercost.measurement.tokens import Estimate, counter_for

    if prompts:
        if req.tokenizer is not None:
            raise InputError("tokenizer", "measures synthetic prompts: drop prompts")
        return Estimate()
    return counter_for(url, req.model, Path(req.tokenizer) if req.tokenizer else None, headers)


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
            check_catalog_names(None, req.catalog_model, req.precision, req.engine)
        for name in ("catalog_model", "precision"):
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
    check_catalog_names(req.gpu, req.model, req.precision, req.engine)  # the user's typos first
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
