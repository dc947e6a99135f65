"""How a figure reads for a person: its label ("$ per 1M output tokens"), its number
formatted by what its key says it is (`usd_...`, `..._s`, `..._per_s`, counts, fractions),
and tables whose cells fold rather than being cut off. `--json` keeps the keys."""

from __future__ import annotations

from typing import Any

from rich.table import Table

FRACTIONS = ("margin", "share", "utilisation", "fraction")

LABELS = {
    "gpus": "GPUs",
    "servers": "servers",
    "pods": "pods (TPU: chips joined by ICI)",
    "pod_accelerators": "chips per pod",
    "replicas": "replicas",
    "replicas_exact": "replicas (unrounded)",
    "usd_per_day": "$ per day",
    "usd_per_query": "$ per query",
    "usd_per_gpu_hour": "$ per GPU-hour",
    "usd_per_hour": "$ per hour",
    "usd_per_million_output_tokens": "$ per 1M output tokens",
    "usd_per_million_tokens": "$ per 1M tokens (input + output)",
    "usd_per_million_input_tokens_attributed": "$ per 1M input tokens (prefill's share)",
    "usd_per_million_output_tokens_attributed": "$ per 1M output tokens (decode's share)",
    "energy_wh_per_query": "energy per query (Wh)",
    "queries_per_day": "queries per day",
    "queries_per_year": "queries per year",
    "concurrency": "sequences in flight",
    "concurrency_per_replica": "sequences in flight per replica",
    "max_concurrency_that_fits": "most sequences that fit",
    "output_tokens_per_s_per_gpu": "output tokens/s per GPU",
    "queries_per_s_per_server": "queries/s per server",
    "interactivity_tokens_per_s": "tokens/s per user",
    "output_tokens_per_s": "output tokens/s (replica)",
    "requests_per_s": "requests/s (replica)",
    "tpot_s": "time per output token",
    "ttft_s": "time to first token",
    "itl_s": "inter-token latency",
    "e2e_s": "end-to-end latency",
    "kv_transfer_s": "KV transfer",
    "prefill_time_share": "time spent on prefill",
    "decode_bound": "decode step bound by",
    "capex_usd": "servers' purchase price",
    "input_tokens": "prompt tokens",
    "output_tokens": "output tokens",
    "total_s": "step time",
    "compute_s": "compute",
    "memory_s": "memory traffic",
    "busy_s": "busy (per-kernel roofline)",
    "communication_s": "communication (exposed)",
    "overhead_s": "overhead",
    "bound": "bound by",
    "flops_per_gpu": "FLOPs per GPU",
    "bytes_per_gpu": "bytes per GPU",
    "sequences": "sequences",
    "new_tokens": "new tokens per sequence",
    "capacity_gb_per_gpu": "memory per GPU (GB)",
    "weights_gb_per_gpu": "weights per GPU (GB)",
    "activations_gb_per_gpu": "activations per GPU (GB)",
    "reserve_gb_per_gpu": "kept back by the engine (GB)",
    "kv_free_gb_per_gpu": "free for KV cache per GPU (GB)",
    "kv_bytes_per_token": "KV bytes per token",
    "kv_capacity_tokens": "KV cache capacity (tokens)",
    "fits": "fits",
    "requests": "requests",
    "completed": "completed",
    "errors": "errors",
    "duration_s": "duration",
    "offered_rate_rps": "offered requests/s",
    "throughput_requests_per_s": "requests/s served",
    "throughput_output_tok_s": "output tokens/s",
    "goodput_rps": "goodput (requests/s meeting every SLO)",
    "mean_concurrency": "mean requests in flight",
    "preemptions": "preemptions",
    "busy_fraction": "busy share of the time",
    "kv_utilisation": "KV cache utilisation",
    "mean_queue_length": "mean queue length",
    "mean_batch_size": "mean batch size",
    "revenue_usd_per_query": "revenue per query",
    "existing_cost_usd_per_query": "cost per query before the LLM",
    "cost_with_llm_usd_per_query": "cost per query with the LLM",
    "margin_before": "margin before",
    "margin_after": "margin after",
    "added_cost_usd_per_year": "added cost per year",
    "added_cost_after_tax_usd_per_year": "added cost per year after tax",
    "revenue_usd_per_day": "revenue per day",
    "cost_profit_margin": "profit margin on cost",
    "prefill_input_tokens_per_s_per_node": "prefill input tokens/s per node",
    "decode_output_tokens_per_s_per_node": "decode output tokens/s per node",
    "decode_interactivity_tokens_per_s": "decode tokens/s per user",
    "decode_concurrency_per_gpu": "decode sequences per GPU",
    "nodes_prefill": "prefill nodes",
    "nodes_decode": "decode nodes",
    "nodes": "nodes",
}


def label(key: str) -> str:
    """A person's name for a result key (`--json` keeps the key)."""
    head, _, last = key.rpartition(".")
    text = LABELS.get(last) or last.replace("usd_per_", "$ per ").replace("_", " ")
    return f"{head}: {text}" if head else text


def table(
    title: str | None, *columns: str, right: tuple[str, ...] = (), whole: tuple[str, ...] = ()
) -> Table:
    """A table whose cells fold instead of being cut off; `whole` columns (ids a user types)
    never break across lines."""
    out = Table(title=title, title_justify="left")
    for name in columns:
        out.add_column(
            name,
            overflow="fold",
            no_wrap=name in whole,
            justify="right" if name in right else "left",
        )
    return out


def fmt(key: str, value: Any) -> str:
    """One value, formatted for a person by what its key names."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if not isinstance(value, int | float):
        return str(value)
    name = key.rsplit(".", 1)[-1]
    if name.startswith("usd_per_query") or name.endswith("_usd_per_query"):
        return f"{value * 100:.3f} ¢" if abs(value) < 1 else _money(value)
    if "usd" in name:
        return _money(value)
    if any(f in name for f in FRACTIONS):
        return f"{value * 100:.1f} %"
    if name.endswith("_s") and not name.endswith(("_per_s", "tok_s")):
        if 0 < abs(value) < 1e-4:
            return f"{value * 1e6:.3g} µs"
        return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
    return _count(value)


def _money(value: float) -> str:
    if abs(value) >= 1e9:
        return f"${value / 1e9:,.2f} B"
    if abs(value) >= 1e6:
        return f"${value / 1e6:,.2f} M"
    if abs(value) >= 100:
        return f"${value:,.0f}"
    return f"${value:,.4f}" if abs(value) < 1 else f"${value:,.2f}"


def _count(value: float) -> str:
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) >= 1e12:
        return f"{value / 1e12:,.2f} T"
    if abs(value) >= 1e9:
        return f"{value / 1e9:,.2f} B"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.2f}" if abs(value) >= 10 else f"{value:.3g}"
