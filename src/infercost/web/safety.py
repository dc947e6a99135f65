"""What the web app refuses, bounds and stops, before and while a verb runs.

The command line trusts its user with files and hours of work; a web request is anyone's.
So, before any work starts:

- no field may name a file: a calibration other than the built-in one, a scenario that is not
  built in, a trace, records, classes, frontier or plot file, a length spec `file:…`, a day
  profile read from a file, or a `set`/`range` override whose value does;
- each size has a cap lower than the CLI's (`limits.py`), stated here with the reason;

and while a heavy verb (plan, simulate) runs, its progress callback raises `DeadlineExceeded`
once the request's time is up, so the work itself stops, and `HeavyJobs` lets only a few
run at once. Each refusal is an `InputError` naming the field, as the verbs' own are.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from infercost.api import PlanRequest, ReproduceRequest, SimulateRequest
from infercost.errors import InputError

# Caps: each keeps one request to seconds of CPU on a small server.
MAX_SIM_REQUESTS = 200_000  # the simulator runs ~1 M requests a second: ≤ ~0.5 s of work
MAX_SIM_REPLICAS = 64  # replicas simulated in full; a scenario's fleet is sampled through them
MAX_SIM_SEQUENCES = 4_096  # sequences per simulated replica (state is replicas × sequences)
MAX_REPRODUCE_SAMPLES = 20_000  # Monte Carlo samples: ~0.1 s of chatgpt-2023
MAX_PLAN_REQUESTS = 20_000  # requests per verification trial (the CLI allows 1,000,000)
PLAN_REQUESTS_DEFAULT = 5_000  # when not given (the CLI sizes it per candidate, ≤ 200,000)
MAX_PLAN_VERIFY = 10  # candidates simulated: the CLI's default, each a few simulations
MAX_PLAN_SAMPLES = 200  # a plan's fleet re-sized per sample: ~3 ms to ~0.1 s each
MAX_PLAN_CANDIDATES = 20_000  # configurations screened; one model's whole catalog is ~2-4 k
MAX_PLAN_MODELS = 4  # each model multiplies the search

# Time: the progress callback stops a plan or a simulation past this; a client waits this
# long at most for a busy server before a 503.
REQUEST_TIMEOUT_S = 60.0
QUEUE_WAIT_S = 15.0
# Plans and simulations at once: one keeps a core of the 2-core VM free for the light
# requests (estimate, reproduce, catalogs) and the page.
HEAVY_JOBS = 1

FILE_FIELDS = ("trace", "records", "classes", "frontier", "plot", "out")


class DeadlineExceeded(Exception):
    """A plan or simulation stopped because the request's time was up."""


class ServerBusy(Exception):
    """Every heavy-job slot stayed taken for `QUEUE_WAIT_S`."""


def web_request(req: BaseModel) -> BaseModel:
    """`req` checked for paths and caps (an `InputError` naming the field), with the web's
    defaults filled in where the CLI's would be too large."""
    refuse_paths(req)
    refuse_whole_fleet(req)
    if isinstance(req, PlanRequest):
        update: dict[str, Any] = {}
        if "max_candidates" not in req.model_fields_set:
            update["max_candidates"] = MAX_PLAN_CANDIDATES
        if req.requests is None:
            update["requests"] = PLAN_REQUESTS_DEFAULT
        req = req.model_copy(update=update)
    check_caps(req)
    return req


# A whole fleet is hours of CPU across worker processes, and `ray` joins a cluster by its
# address: neither is a web request's to ask for.
COMMAND_LINE_ONLY = ("whole_fleet", "hours", "profile", "workers", "ray")


def refuse_whole_fleet(req: BaseModel) -> None:
    if not isinstance(req, SimulateRequest):
        return
    for name in COMMAND_LINE_ONLY:
        if getattr(req, name) not in (None, False):
            raise InputError(name, "not offered by the web app (a whole-fleet run is the CLI's)")


def refuse_paths(req: BaseModel) -> None:
    """Refuse, naming the field, anything that would make the server read or write a file."""
    fields = req.model_dump()
    calibration = fields.get("calibration", "builtin")
    if calibration not in ("builtin", None):
        raise InputError("calibration", 'the web app reads no files: use "builtin" or null')
    for name in FILE_FIELDS:
        if fields.get(name) is not None:
            raise InputError(name, "the web app reads and writes no files")
    scenario = fields.get("scenario")
    if scenario is not None and scenario not in builtin_scenarios():
        names = ", ".join(builtin_scenarios())
        raise InputError("scenario", f"the web app runs built-in scenarios only: {names}")
    for name in ("input_tokens", "output_tokens"):
        if isinstance(fields.get(name), str) and _names_file(fields[name]):
            raise InputError(name, "the web app reads no files: use N, uniform:A:B or lognormal")
    profile = fields.get("profile")
    if isinstance(profile, str) and not _builtin_profile(profile):
        raise InputError("profile", "the web app reads no files: diurnal, sinusoid:A[:H], 24 rates")
    for name in ("set", "range"):
        for item in fields.get(name) or []:
            _check_override(name, item)


def _check_override(field: str, text: str) -> None:
    path, _, value = text.partition("=")
    if "file:" in text.lower():
        raise InputError(field, f"the web app reads no files: {text!r}")
    if path.strip() == "plan.profile" and not (
        value.strip().startswith("[") or _builtin_profile(value)
    ):
        raise InputError(field, f"the web app reads no files: {text!r}")


def _names_file(spec: str) -> bool:
    return spec.strip().partition(":")[0].strip().lower() == "file"


def _builtin_profile(text: str) -> bool:
    text = text.strip()
    return text == "diurnal" or text.startswith("sinusoid:")


@lru_cache(maxsize=1)
def builtin_scenarios() -> tuple[str, ...]:
    from infercost.scenario.loader import builtin_names

    return tuple(builtin_names())


def check_caps(req: BaseModel) -> None:
    """Sizes past the web app's caps, refused with the cap named."""
    caps: dict[str, int] = {}
    if isinstance(req, SimulateRequest):
        caps = {
            "requests": MAX_SIM_REQUESTS,
            "replicas": MAX_SIM_REPLICAS,
            "prefill_replicas": MAX_SIM_REPLICAS,
            "max_seqs": MAX_SIM_SEQUENCES,
        }
    elif isinstance(req, ReproduceRequest):
        caps = {"samples": MAX_REPRODUCE_SAMPLES}
    elif isinstance(req, PlanRequest):
        caps = {
            "requests": MAX_PLAN_REQUESTS,
            "verify": MAX_PLAN_VERIFY,
            "samples": MAX_PLAN_SAMPLES,
            "max_candidates": MAX_PLAN_CANDIDATES,
        }
        models = len(req.model)
        if models > MAX_PLAN_MODELS:
            raise InputError("model", f"at most {MAX_PLAN_MODELS} in the web app, got {models}")
    for name, cap in caps.items():
        value = getattr(req, name)
        if value is not None and value > cap:
            raise InputError(name, f"at most {cap} in the web app, got {value}")


class Deadline:
    """A request's time limit; its callbacks raise `DeadlineExceeded` once it has passed."""

    def __init__(self, seconds: float = REQUEST_TIMEOUT_S) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.end:
            raise DeadlineExceeded(f"stopped after {self.seconds:g} s, the web app's limit")

    def simulate_progress(self, done: int, total: int) -> None:
        self.check()

    def plan_progress(self, stage: str, done: int, total: int) -> None:
        self.check()


class HeavyJobs:
    """At most `slots` plans or simulations at once; a request waits `wait_s` for a slot."""

    def __init__(self, slots: int = HEAVY_JOBS, wait_s: float = QUEUE_WAIT_S) -> None:
        self._slots = threading.BoundedSemaphore(slots)
        self.wait_s = wait_s

    @contextmanager
    def slot(self) -> Iterator[None]:
        if not self._slots.acquire(timeout=self.wait_s):
            raise ServerBusy("the server is busy with other plans or simulations; retry later")
        try:
            yield
        finally:
            self._slots.release()
