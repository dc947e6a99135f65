"""Stated bounds on every size a user can ask for, checked before any work starts.

A request past a bound is refused with the bound named, instead of running for hours or
exhausting memory. Each bound is generous for real deployments and says why it is where it
is.
"""

from __future__ import annotations

MAX_TOKENS = 10_000_000  # tokens in one prompt or one output (the longest contexts: ~10 M)
MAX_REPLICA_GPUS = 1024  # accelerators in one model replica (DeepSeek's decode unit: 144)
MAX_BATCHED_TOKENS = 1 << 20  # tokens one engine step may carry
MAX_SEQUENCES = 1 << 20  # sequences one replica may run at once
MAX_SCHEDULER_STEPS = 64  # vLLM multi-step: decode steps planned at once

# The simulator keeps replicas × sequences slots of state and one step-table row per token
# count a step may carry; a million requests take about a second.
MAX_REQUESTS = 10_000_000
MAX_REPLICAS = 1024  # replicas simulated in full
MAX_FLEET_REPLICAS = 10_000_000  # a scenario's fleet, simulated through a few of them
MAX_SIM_SEQUENCES = 32_768
MAX_WHOLE_FLEET_HOURS = 7 * 24.0  # a whole fleet simulated for a week at most
MAX_SLOTS = 1 << 22  # replicas × sequences per replica (~270 MB of state)
MAX_BUDGET_TOKENS = 65_536
MAX_TRACE_SPAN_S = 366 * 86_400.0  # a year of replayed requests
MAX_TRACE_BYTES = 2 << 30  # a trace file read into memory

# Plans: the candidates one search may screen (configurations × batch caps; the whole
# catalog for one model is ~2–4 k), the top candidates simulated, requests per simulation.
MAX_PLAN_CANDIDATES = 200_000
MAX_PLAN_MODELS = 16
MAX_PLAN_VERIFY = 100
MAX_PLAN_REQUESTS = 1_000_000
MAX_CLASSES = 16  # request classes of one plan (--classes)
MAX_FLEET_GPUS = 100_000_000  # a fleet's accelerators (every GPU ever made is ~1e8)

MAX_PRICE_USD_PER_GPU_HOUR = 10_000.0
MAX_QUERIES_PER_S = 1e9  # ~30 times every web search on Earth
MAX_SEED = 2**32 - 1
MAX_OVERRIDES = 256  # --set PATH=VALUE overrides of one scenario

# Monte Carlo over uncertain inputs (`--samples`): evaluated in chunks of 65,536 samples, so
# memory stays bounded; a million samples of chatgpt-2023 take a few seconds.
MAX_SAMPLES = 1_000_000
# A plan's fleet re-sized per sample by its screen: ~3 ms a sample, ~0.1 s when a length is
# ranged (the demand is read again from the plan's requests).
MAX_PLAN_SAMPLES = 2_000

# Measurements against a live server.
MAX_LEVELS = 64
MAX_MEASURE_REQUESTS = 1_000_000
MAX_MEASURE_TOKENS = 1_000_000
MAX_TIMEOUT_S = 24 * 3600.0
MAX_DURATION_S = 7 * 24 * 3600.0
MAX_TURNS = 100  # turns of one conversation, each resending the whole conversation so far

# Sweeps (`infercost sweep`): cells of one grid, each a whole verb call. Every finished row is
# held in memory until the Parquet file is written (~2 KB a row, ~2 GB at the bound), and a
# simulate or plan cell is bounded so that one cell stays under about a minute.
MAX_SWEEP_CELLS = 1_000_000
MAX_SWEEP_CHUNK = 2_000  # cells sent to one worker at a time
MAX_SWEEP_SIM_REQUESTS = 100_000  # requests one simulate cell may simulate
MAX_SWEEP_PLAN_REQUESTS = 100_000  # requests of each of a plan cell's verifications
MAX_SWEEP_PLAN_VERIFY = 10  # candidates one plan cell may verify by simulation
