"""The strict reader: a free-text measured row (`dataset.COLUMNS`) as a structured `Measurement`.

Each field is read by an explicit rule or not at all. The load, the lengths, the unit and the
layout are matched against phrasings sources use ("concurrency 8", "8 concurrent requests",
"batch size 8", "bs=8", "max_batch_size 8 per rank", "Offline scenario", "max load", a data
set named for a length, "tok/s/user", "TPS per GPU"); text that no rule reads, or that two
rules read differently, raises `InputError` naming the column and the text. Parenthesised
asides in the load column ("1 (8 threads)") are comments and are not read.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from infercost.errors import InputError
from infercost.validation.dataset import MeasuredRow
from infercost.validation.datasets import named_in
from infercost.validation.fixes import Fix
from infercost.validation.schema import LatencyConstraint, Measurement

# metric column → (metric, statistic, per implied by the name)
_METRIC_NAMES: dict[str, tuple[str, str | None, str | None]] = {
    "throughput_output_tok_s": ("output_tok_s", None, None),
    "output_tok_s": ("output_tok_s", None, None),
    "throughput_per_gpu_output_tok_s": ("output_tok_s", None, "gpu"),
    "throughput_per_user_output_tok_s": ("output_tok_s", None, "user"),
    "decode_tok_s_single_stream": ("output_tok_s", None, "user"),
    "prefill_tok_s": ("input_tok_s", None, None),
    "throughput_input_tok_s": ("input_tok_s", None, None),
    "requests_per_s": ("requests_s", None, None),
}
_LATENCY_NAMES = {"ttft": "ttft_s", "tpot": "tpot_s", "itl": "itl_s", "e2e": "e2e_s"}
_STATISTICS = {
    "mean": "mean",
    "avg": "mean",
    "median": "p50",
    "p50": "p50",
    "p90": "p90",
    "p95": "p95",
    "p99": "p99",
}


def _norm(text: str) -> str:
    """Lower case, separators as spaces, one space between words."""
    low = text.lower().replace("_", " ").replace("=", " ").replace(":", " ")
    low = re.sub(r"(?<![\w.])-+(?=\w)", " ", low)  # --max-concurrency → max-concurrency
    return " ".join(low.replace("-", " ").split())


def _number(text: str) -> float | None:
    """A leading number: "~100", "1,024", "16K" (× 1024)."""
    m = re.match(r"\s*~?\s*(\d[\d,]*(?:\.\d+)?)\s*(k\b)?", text.lower())
    if not m:
        return None
    value = float(m.group(1).replace(",", ""))
    return value * 1024 if m.group(2) else value


def _count(text: str) -> int | None:
    value = _number(text)
    return int(value) if value is not None and value == int(value) else None


# ---------------------------------------------------------------------------------- the figure


def _metric(row: MeasuredRow) -> tuple[str, str, str | None]:
    name = row.get("metric").strip().lower()
    if name in _METRIC_NAMES:
        metric, stat, per = _METRIC_NAMES[name]
        return metric, stat or "mean", per
    m = re.fullmatch(r"(ttft|tpot|itl|e2e)(?:_latency)?_(ms|s)(?:_(\w+))?", name)
    if m:
        stat = _STATISTICS.get(m.group(3) or "mean")
        if stat is None:
            raise InputError("metric", f"unknown statistic in {name!r}")
        return _LATENCY_NAMES[m.group(1)], stat, None
    raise InputError("metric", f"unknown metric {name!r}")


_PER_GPU = r"/\s*gpu|per[ -]?gpu|\btpgs\b|\btgs\b|/\s*chip|per chip|/\s*accelerator"
_PER_USER = r"/\s*user|per[ -]?user|/\s*stream\b|per[ -]?stream|/\s*request\b|per request"
_PER_NODE = r"/\s*node|per[ -]?(?:\d+-gpu )?node"
_AGGREGATE = r"all gpus|\(\d+ gpus\)|total|aggregate|all \d+ streams|whole|system"


def _unit(row: MeasuredRow, metric: str, per_named: str | None) -> tuple[str, float, int | None]:
    """(per, factor to SI, GPUs the unit names)."""
    raw = row.get("unit")
    unit = raw.lower()
    if "ambiguous" in unit and _count(row.get("num_gpus") or "0") != 1:
        # per GPU and in all are one figure on one GPU; on several the source cannot say
        raise InputError("unit", f"the source calls the unit ambiguous: {raw!r}")
    if metric.endswith("_s") and metric in ("ttft_s", "tpot_s", "itl_s", "e2e_s"):
        m = re.fullmatch(
            r"\s*(ms|s|seconds?|milliseconds?|us|µs)(?:\s*/\s*(?:token|tok))?\s*", unit
        )
        if not m:
            raise InputError("unit", f"{raw!r} is not a time unit for {row.get('metric')}")
        factor = {"ms": 1e-3, "s": 1.0, "us": 1e-6, "µs": 1e-6}.get(m.group(1)[:2].rstrip("i"), 1.0)
        if m.group(1).startswith("milli"):
            factor = 1e-3
        return "aggregate", factor, None
    if metric == "requests_s":
        if not re.search(r"req|request|sentence|quer|sample|\bqps\b|/s\b", unit):
            raise InputError("unit", f"{raw!r} is not a rate of requests")
    elif not re.search(r"tok|\btps\b|\btgs\b|\btpgs\b", unit):
        raise InputError("unit", f"{raw!r} is not a token rate")
    found = [
        per
        for per, pattern in (("gpu", _PER_GPU), ("user", _PER_USER), ("node", _PER_NODE))
        if re.search(pattern, unit)
    ]
    if len(found) > 1:
        raise InputError("unit", f"{raw!r} names both per {found[0]} and per {found[1]}")
    per = found[0] if found else "aggregate"
    if per_named and found and per != per_named:
        raise InputError("unit", f"{raw!r} contradicts the metric {row.get('metric')!r}")
    per = per_named or per
    gpus = re.search(r"\((?:all )?(\d+) gpus?\)|(\d+)[ -]gpu node", unit)
    count = int(gpus.group(1) or gpus.group(2)) if gpus else None
    return per, 1.0, count


# ---------------------------------------------------------------------------------- the load


def _outer(text: str) -> str:
    return re.sub(r"\([^()]*\)", " ", text)


_STATIC = (
    r"static batch(?: size)? (\d+)",
    r"(?<!max )(?<!n )(?<!micro )\bbatch size (\d+)(?! per)",
    r"\bbs (\d+)\b",
    r"(?<!max )(?<!n )(?<!micro )\bbatch of (\d+)\b",
)
_CONCURRENT = (
    r"\b(?:max )?concurrency (?:of )?(\d+)",
    r"(\d+) (?:concurrent|parallel|simultaneous)(?: requests| streams| users| clients| sequences)?",
    r"(\d+) (?:streams|users|clients)\b",
    r"(\d+) (?:requests |sequences )?in flight",
)
_CAP = (
    r"max num seqs (\d+)",
    r"max batch size (\d+)",
    r"max batch (\d+)",
)


def _all(patterns: tuple[str, ...], text: str) -> set[float]:
    return {float(m.group(1)) for p in patterns for m in re.finditer(p, text)}


def _one(field: str, values: set[float], raw: str) -> float | None:
    if len(values) > 1:
        raise InputError(field, f"{raw!r} states several numbers for one setting")
    return values.pop() if values else None


def _load(row: MeasuredRow, metric_name: str) -> dict[str, Any]:
    raw = row.get("batch_or_concurrency")
    text = _norm(_outer(raw))
    notes = _norm(row.get("notes"))
    rate_raw = row.get("request_rate").strip().lower()
    rate = None
    if rate_raw and rate_raw not in ("inf", "infinite", "∞"):
        rate = _number(rate_raw)
        if rate is None or rate <= 0:
            raise InputError("request_rate", f"not a positive rate: {rate_raw!r}")
    text_rate = re.search(
        r"(?:request rate|rate|qps) (\d+(?:\.\d+)?)|(\d+(?:\.\d+)?) (?:req/s|qps|requests/s)", text
    )
    if text_rate:
        stated = float(text_rate.group(1) or text_rate.group(2))
        if rate is not None and rate != stated:
            raise InputError("request_rate", f"{rate_raw!r} and {raw!r} disagree")
        rate = stated
    static = _one("batch_or_concurrency", _all(_STATIC, text), raw)
    concurrent = _one("batch_or_concurrency", _all(_CONCURRENT, text), raw)
    caps = {
        float(m.group(1))
        for p in _CAP
        for m in re.finditer(p + r"( per (?:rank|gpu|dp rank))?", text)
    }
    cap = _one("batch_or_concurrency", caps, raw)
    per_rank = bool(
        re.search(r"max (?:num seqs|batch(?: size)?) \d+ per (?:rank|gpu|dp rank)", text)
    )
    per_gpu = re.search(r"(\d+) (?:requests |sequences )?per gpu\b", text)
    tokens_per_gpu = re.search(r"(\d+)k? tokens per gpu", _norm(raw))
    requests = re.search(r"(\d+) (?:requests|prompts|queries|samples)\b(?! per)", text)
    requests_in_lengths = re.search(r"(\d+) (?:requests|prompts)", _norm(row.get("input_len")))
    offline = bool(
        re.search(
            r"\boffline\b|\bmax(?:imum)? load\b|\bmax throughput\b|saturat|at once|queued", text
        )
        or rate_raw in ("inf", "infinite", "∞")
    )
    mlperf = bool(re.search(r"\bmlperf\b|\bscenario\b", f"{text} {notes}"))
    server = bool(re.search(r"\bserver scenario\b|\bmlperf server\b", f"{text} {notes}"))
    production = bool(re.search(r"\bproduction\b", text))
    single_metric = metric_name == "decode_tok_s_single_stream"
    bare = re.fullmatch(r"~?(\d+)", text)

    out: dict[str, Any] = {}
    n_req = requests or requests_in_lengths
    if n_req:
        out["num_requests"] = int(n_req.group(1))
    if cap is not None:
        out["max_batch"] = int(cap)
        out["max_batch_per_rank"] = per_rank
    if tokens_per_gpu:
        out["max_batched_tokens"] = int(_number(tokens_per_gpu.group(0)) or 0)

    kinds = []
    if static is not None:
        kinds.append(("static_batch", static))
    if concurrent is not None:
        kinds.append(("concurrency", concurrent))
    if per_gpu and "tokens" not in text.split("per gpu")[0].split()[-2:]:
        kinds.append(("concurrency_per_gpu", float(per_gpu.group(1))))
    if bare:
        n = float(bare.group(1))
        if n != 1:
            raise InputError("batch_or_concurrency", f"{raw!r}: a batch or a concurrency?")
        kinds.append(("one", 1.0))
    if single_metric:
        kinds.append(("one", 1.0))
    sizes = {value for _, value in kinds}
    if len(sizes) > 1:
        raise InputError("batch_or_concurrency", f"{raw!r} states different loads")
    if sizes == {1.0} and rate is None:
        # One sequence: a static batch of 1, one stream and concurrency 1 are the same run.
        return {**out, "load_mode": "concurrency", "batch": 1.0}
    if server:
        return {
            **out,
            "load_mode": "mlperf_server",
            "request_rate_per_s": rate,
            "latency_constraints": _constraints(f"{text} {notes}"),
        }
    if kinds:
        kind, value = kinds[0]
        if rate is not None:
            if kind == "static_batch":
                raise InputError("batch_or_concurrency", f"a static batch and a rate {rate_raw!r}")
            return {
                **out,
                "load_mode": "request_rate",
                "request_rate_per_s": rate,
                "max_batch": int(value),
            }
        if kind == "concurrency_per_gpu":
            return {**out, "load_mode": "concurrency", "batch": value, "batch_per_gpu": True}
        return {
            **out,
            "load_mode": "static_batch" if kind == "static_batch" else "concurrency",
            "batch": value,
        }
    if rate is not None:
        return {**out, "load_mode": "request_rate", "request_rate_per_s": rate}
    if offline or tokens_per_gpu:
        return {**out, "load_mode": "mlperf_offline" if mlperf and offline else "offline"}
    if production:
        return {**out, "load_mode": "production"}
    if "max_batch" in out and n_req:  # a cap and a number of requests: all sent at once
        return {**out, "load_mode": "offline"}
    raise InputError("batch_or_concurrency", f"no rule reads the load from {raw!r}")


def _constraints(text: str) -> tuple[LatencyConstraint, ...]:
    found = []
    pattern = (
        r"\b(ttft|tpot|e2e)(?: p(\d+))? (?:<=|≤|<|under|below|of|at most)? ?"
        r"(\d+(?:\.\d+)?) ?(ms|s)\b"
    )
    for m in re.finditer(pattern, text):
        seconds = float(m.group(3)) * (1e-3 if m.group(4) == "ms" else 1.0)
        found.append(
            LatencyConstraint(
                metric=m.group(1), percentile=float(m.group(2) or 99), seconds=seconds
            )
        )
    return tuple(found)


# ---------------------------------------------------------------------------------- lengths

_NOT_STATED = ("", "-", "n/a", "na", "not stated", "?")


def _length(row: MeasuredRow, column: str, other: str) -> dict[str, Any]:
    """`{side}_tokens` or `{side}_dataset` from one length column (the other for context)."""
    side = "input" if column == "input_len" else "output"
    raw = row.get(column)
    low = _norm(_outer(raw))
    named = named_in(raw)
    if named is None and low in ("", "variable", "mixed", "same") and named_in(other):
        named = named_in(other)  # "ShareGPT" on one side, "variable" on the other
    if named is not None:
        return {f"{side}_dataset": named.id, "length_distribution": "variable"}
    if low in _NOT_STATED or raw.strip().lower().startswith(("pp (", "tg (")):
        return {}
    value = _number(low)
    if value is None or not re.fullmatch(r"~?\s*\d[\d,]*(?:\.\d+)?\s*k?(?: tokens?)?", low):
        raise InputError(column, f"no rule reads a length from {raw!r}")
    return {f"{side}_tokens": value}


_SIDE = {
    side: {f"{side}_tokens", f"{side}_dataset"} for side in ("input", "output")
}  # the fields one length column gives


def _cache_hit(row: MeasuredRow) -> float:
    text = " ".join(row.get(c) for c in ("input_len", "notes")).lower()
    hit = re.search(r"(\d+(?:\.\d+)?)\s*%[^,;)]*cache hit", text)
    return float(hit.group(1)) / 100 if hit else 0.0


# ---------------------------------------------------------------------------------- layout


def _layout(row: MeasuredRow) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column in ("tp", "pp"):
        text = row.get(column)
        if text and _count(text) is None:
            raise InputError(column, f"not a whole number: {text!r}")
        if text and _count(text):
            out[column] = _count(text)
    ep_text = row.get("ep")
    if ep_text and _count(ep_text) is None:
        raise InputError("ep", f"not a whole number: {ep_text!r}")
    if ep_text and _count(ep_text):
        out["ep"] = _count(ep_text)
    gpus = row.get("num_gpus")
    if gpus and _count(gpus) is not None:
        out["num_gpus"] = _count(gpus)
    text = _norm(" ".join(row.get(c) for c in ("ep", "notes", "engine_version")))
    dp = re.search(
        r"\b(?:attention dp|attn dp|dp attention|attention data parallel(?:ism)?|"
        r"mla/shared dp|enable dp attention)(?: size)? ?(\d+)?",
        text,
    ) or re.search(r"\bdp ?(\d+)\b(?! ?(?:gpus|nodes))", text)
    if dp:
        count = dp.group(1)
        if count:
            out["attention_dp"] = int(count)
        elif "ep" in out:
            out["attention_dp"] = max(out["ep"] // out.get("tp", 1), 1)
    elif re.search(r"\bdp ?\+ ?ep\b", text) and "ep" in out:
        out["attention_dp"] = max(out["ep"] // out.get("tp", 1), 1)
    return out


# ---------------------------------------------------------------------------------- options

_NEGATED = r"(?:no|without|disabled?|off|w/o)\s+"


def _speculative(text: str) -> dict[str, Any]:
    methods = (
        ("mtp", r"\bmtp\b|multi token prediction"),
        ("eagle", r"\beagle ?\d?\b"),
        ("medusa", r"\bmedusa\b"),
        ("ngram", r"\bn ?gram\b|prompt lookup"),
        ("draft", r"\bdraft model\b"),
    )
    found = {
        name
        for name, pattern in methods
        for m in re.finditer(pattern, text)
        if not re.search(_NEGATED + r"$", text[: m.start()])
    }
    if len(found) > 1:
        raise InputError("notes", f"several speculative methods: {', '.join(sorted(found))}")
    if not found:
        if re.search(r"(?<!no )(?<!without )\bspeculative decoding\b", text):
            raise InputError("notes", "speculative decoding stated without its method")
        return {}
    out: dict[str, Any] = {"spec_method": found.pop()}
    draft = re.search(
        r"(\d+) (?:draft|speculative|predicted) tokens|(?:draft length|num speculative tokens|"
        r"draft tokens|speculative tokens) (\d+)",
        text,
    )
    if draft:
        out["spec_draft_tokens"] = int(draft.group(1) or draft.group(2))
    length = re.search(r"acceptance length (?:of )?(\d+(?:\.\d+)?)", text)
    if length:
        out["spec_acceptance_length"] = float(length.group(1))
    rate = re.search(r"acceptance rate (?:of )?(\d+(?:\.\d+)?) ?(%)?", text)
    if rate:
        value = float(rate.group(1))
        out["spec_acceptance_rate"] = value / 100 if rate.group(2) or value > 1 else value
    return out


def _balance(text: str) -> str | None:
    m = re.search(
        r"\beplb\b|expert load balanc\w*|perfectly balanced routing|balanced routing", text
    )
    if not m:
        return None
    return "none" if re.search(_NEGATED + r"$", text[: m.start()]) else "balanced"


def _engine_options(row: MeasuredRow, text: str, fixed: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "vllm" in row.get("engine").lower() and "scheduler_steps" not in fixed:
        steps = re.search(r"num scheduler steps (\d+)", text)
        if steps:
            out["scheduler_steps"] = int(steps.group(1))
        elif "multi step" in text:
            raise InputError("notes", "multi-step scheduling stated without its number of steps")
    if re.search(r"\boverlap\b", text):
        out["comm_overlap"] = True
    if re.search(
        r"decode (?:tgs|tpgs)|\(decode\)|disaggregated",
        row.get("unit").lower() + " " + row.get("notes").lower(),
    ):
        out["phase"] = "decode"
    speed = re.search(
        r"output speed (\d+(?:\.\d+)?) ?[-–] ?(\d+(?:\.\d+)?) tok/s", row.get("notes").lower()
    )
    if speed:
        out["target_user_tok_s"] = (float(speed.group(1)) + float(speed.group(2))) / 2
    return out


# ---------------------------------------------------------------------------------- the row


def read_row(row: MeasuredRow, fixes: Sequence[Fix] = ()) -> Measurement:
    """The row as a `Measurement`, or `InputError` naming the column no rule reads.

    `fixes` set fields the row's text leaves out (`fixes.py`): no rule reads a fixed field,
    and the notes cite each fix's source."""
    fixed = {f.field for f in fixes}
    metric, statistic, per_named = _metric(row)
    value = _number(row.get("value"))
    if value is None or not math.isfinite(value) or value <= 0:
        raise InputError("value", f"not a positive number: {row.get('value')!r}")
    per, factor, unit_gpus = _unit(row, metric, per_named)
    layout = _layout(row)
    if unit_gpus is not None:
        stated = layout.get("num_gpus")
        if stated is not None and stated != unit_gpus:
            raise InputError("unit", f"{row.get('unit')!r} but num_gpus {stated}")
        layout["num_gpus"] = unit_gpus
    notes = _norm(row.get("notes") + " " + row.get("engine_version"))
    lengths = {
        **({} if fixed & _SIDE["input"] else _length(row, "input_len", row.get("output_len"))),
        **({} if fixed & _SIDE["output"] else _length(row, "output_len", row.get("input_len"))),
    }
    fields: dict[str, Any] = {
        "id": row.id,
        "source_url": row.get("source_url"),
        "date": row.get("date"),
        "engine": row.get("engine"),
        "engine_version": row.get("engine_version"),
        "model": row.get("model"),
        "gpu": row.get("gpu"),
        "precision_weights": row.get("precision_weights") or None,
        "precision_kv": row.get("precision_kv") or None,
        **layout,
        **_load(row, row.get("metric").strip().lower()),
        **lengths,
        "cache_hit_rate": _cache_hit(row),
        **_speculative(notes),
        "expert_balance": _balance(notes),
        **_engine_options(row, notes, fixed),
        "metric": metric,
        "value": value * factor,
        "per": per,
        "statistic": statistic,
        "notes": "; ".join(
            [
                *(
                    f"{c}: {row.get(c)}"
                    for c in ("batch_or_concurrency", "input_len", "output_len", "unit", "notes")
                    if row.get(c)
                ),
                *(f.note() for f in fixes),
            ]
        ),
    }
    fields.update({f.field: f.value for f in fixes})
    try:
        return Measurement.model_validate(fields)
    except ValueError as exc:
        raise InputError("row", str(exc).splitlines()[-1] if str(exc) else "invalid") from None
