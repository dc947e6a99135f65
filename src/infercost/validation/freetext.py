"""The strict reader: a free-text measured row (`dataset.COLUMNS`) as a structured `Measurement`.

Each field is read by an explicit rule or not at all. The load, the lengths, the unit and the
layout are matched against phrasings sources use ("concurrency 8", "8 concurrent requests",
"batch size 8", "bs=8", "max_batch_size 8 per rank", "Offline scenario", "max load", a data
set named for a length, "tok/s/user", "TPS per GPU"); text that no rule reads, or that two
rules read differently, raises `InputError` naming the column and the text. Parenthesised
asides in the load column ("1 (8 threads)") are comments and are not read. A figure or a rate
is one positive number ("12,345", "12.3k" = 12,300, "1.2e4"); a range, a bound ("8+") or a
negative count is refused, never read as one of its ends.

Lengths: "1024", "ISL 1024", "random 1024", and a pair in either column ("ISL/OSL 1024/128",
"1024/128" input first, "input 1024 output 128", "in=1024,out=128"); a side two columns state
must agree. The gpu column may count ("8xH100", "H100 x 8", "HGX B200 (8 GPUs)", "DGX H100":
the catalog server's eight); the count must equal num_gpus, or one replica when only TP is
given (else it may name the machine, not the run). "1K" is 1,000 in some sources and 1,024 in
others, so it is read only where the row's own numbers settle it (see `_kilo`). Metrics may use
bench_serving's names ("mean_ttft_ms", "p99_itl_ms", "output_throughput"). Every number in
the load column must be read by a rule ("C=4", "conc 64", "QPS 8", "500 prompts"); "batch 64"
alone is a static batch only where the row says its batching is static.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from infercost.catalog.hardware import servers
from infercost.errors import InputError
from infercost.units import precision
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
    # vLLM / SGLang bench_serving result keys
    "output_throughput": ("output_tok_s", None, None),
    "request_throughput": ("requests_s", None, None),
    "input_throughput": ("input_tok_s", None, None),
}
# names of figures the model has no target for, with the reason
_NOT_PREDICTED = {
    "total_token_throughput": "input + output tokens per second is not a figure the model "
    "predicts (it counts prompt tokens at the output rate); give output_throughput",
    "total_tok_s": "input + output tokens per second is not a figure the model predicts",
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
    """Lower case, separators as spaces, one space between words, "1,024" as "1024"."""
    low = text.lower().replace("_", " ").replace("=", " ").replace(":", " ")
    low = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", low)  # thousands separators
    low = re.sub(r"(?<![\w.])-+(?=\w)", " ", low)  # --max-concurrency → max-concurrency
    return " ".join(low.replace("-", " ").split())


def _number(text: str) -> float | None:
    """A leading number: "~100", "1,024", "16K" (× 1024)."""
    m = re.match(r"\s*~?\s*(\d[\d,]*(?:\.\d+)?)\s*(k\b)?", text.lower())
    if not m:
        return None
    value = float(m.group(1).replace(",", ""))
    return value * 1024 if m.group(2) else value


def _signed(column: str, raw: str) -> None:
    """Refuse a negative number: `_norm` would read "-8" as the flag-like " 8"."""
    if re.search(r"(?<![\w.])[-−–]\s*\d", raw):
        raise InputError(column, f"a negative number: {raw!r}")


def _count(text: str) -> int | None:
    value = _number(text)
    return int(value) if value is not None and value == int(value) else None


_FIGURE = re.compile(
    r"~?\s*(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?:e([+-]?\d+))?\s*(k|m)?\b"
    r"(?!\s*[-–+±/x×~<>]|\s*to\s*\d)(?:\s*[^\d\s][^\d]*)?\s*"
)


def _figure(text: str, column: str) -> float:
    """A measured figure or a rate: "12,345", "12.3k" (× 1000), "1.2e4", "~8", "8 QPS".

    A range ("8-16", "8 to 16"), a bound ("8+", "<8"), a second number or a value that is
    not finite and positive is refused: taking one end of it would be a guess."""
    m = _FIGURE.fullmatch(text.strip().lower())
    if not m:
        raise InputError(column, f"not one positive number: {text!r}")
    value = float(f"{m.group(1).replace(',', '')}{m.group(2) or ''}e{m.group(3) or 0}")
    value *= {"k": 1e3, "m": 1e6}.get(m.group(4) or "", 1.0)
    if not math.isfinite(value) or value <= 0:
        raise InputError(column, f"not one positive number: {text!r}")
    return value


# ---------------------------------------------------------------------------------- the figure


def _metric(row: MeasuredRow) -> tuple[str, str, str | None]:
    name = row.get("metric").strip().lower()
    if name in _METRIC_NAMES:
        metric, stat, per = _METRIC_NAMES[name]
        return metric, stat or "mean", per
    if name in _NOT_PREDICTED:
        raise InputError("metric", f"{name!r}: {_NOT_PREDICTED[name]}")
    # "ttft_ms_mean", "ttft_mean_ms", "mean_ttft_ms" (vLLM), "p99_ttft_ms", "median_e2el_ms"
    m = re.fullmatch(
        r"(?:([a-z0-9]+)_)?(ttft|tpot|itl|e2el?)(?:_latency)?(?:_([a-z0-9]+))?_(ms|s)"
        r"(?:_([a-z0-9]+))?",
        name,
    )
    if m:
        named = {g for g in (m.group(1), m.group(3), m.group(5)) if g}
        stats = {_STATISTICS.get(g) for g in named}
        if None in stats or len(stats) > 1:
            raise InputError("metric", f"no one known statistic in {name!r}")
        stat = stats.pop() if stats else "mean"
        return _LATENCY_NAMES[m.group(2).replace("e2el", "e2e")], stat or "mean", None
    raise InputError("metric", f"unknown metric {name!r}")


_PER_GPU = r"/\s*gpu|per[ -]?gpu|\btpgs\b|\btgs\b|/\s*chip|per chip|/\s*accelerator"
_PER_USER = r"/\s*user|per[ -]?user|/\s*stream\b|per[ -]?stream|/\s*request\b|per request"
_PER_NODE = r"/\s*node|per[ -]?(?:\d+-gpu )?node"
_AGGREGATE = r"all gpus|\(\d+ gpus\)|total|aggregate|all \d+ streams|whole|system"


_SECONDS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1.0),
    **dict.fromkeys(("ms", "msec", "msecs", "millisecond", "milliseconds"), 1e-3),
    **dict.fromkeys(("us", "µs", "usec", "microsecond", "microseconds"), 1e-6),
}


def _unit(row: MeasuredRow, metric: str, per_named: str | None) -> tuple[str, float, int | None]:
    """(per, factor to SI, GPUs the unit names)."""
    raw = row.get("unit")
    unit = raw.lower()
    if "ambiguous" in unit and _count(row.get("num_gpus") or "0") != 1:
        # per GPU and in all are one figure on one GPU; on several the source cannot say
        raise InputError("unit", f"the source calls the unit ambiguous: {raw!r}")
    if metric in ("ttft_s", "tpot_s", "itl_s", "e2e_s"):
        m = re.fullmatch(r"\s*([a-zµ]+)(?:\s*/\s*(?:token|tok))?\s*", unit)
        factor = _SECONDS.get(m.group(1)) if m else None
        if factor is None:
            raise InputError("unit", f"{raw!r} is not a time unit for {row.get('metric')}")
        named = re.search(r"_(ms|s)(?:_|$)", row.get("metric").lower())
        if named and _SECONDS[named.group(1)] != factor:
            raise InputError("unit", f"{raw!r} contradicts the metric {row.get('metric')!r}")
        return "aggregate", factor, None
    if metric == "requests_s":
        if "tok" in unit or not re.search(r"req|request|sentence|quer|sample|\b[qr]ps\b", unit):
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
    r"static batch(?: size)? (\d+)\b",
    r"(?<!max )(?<!n )(?<!micro )\bbatch size (\d+)\b",
    r"\bbs (\d+)\b",
    r"(?<!max )(?<!n )(?<!micro )\bbatch of (\d+)\b",
)
_CONCURRENT = (
    r"\b(?:max )?concurrency (?:of )?(\d+)\b",
    r"(\d+) (?:concurrent|parallel|simultaneous)"
    r"(?: requests| streams| users| clients| sequences)?\b",
    r"(\d+) (?:streams|users|clients)\b",
    r"(\d+) (?:requests |sequences )?in flight",
    r"\b(?:c|conc) ?(\d+)\b",  # "C=4", "c4", "conc 64" (InferenceMAX, SGLang tables)
)
_CAP = (
    r"max num seqs (\d+)\b",
    r"max batch size (\d+)\b",
    r"max batch (\d+)\b",
)
# what follows a number that counts per GPU, not per replica ("100 concurrent requests per GPU")
_THEN_PER_GPU = re.compile(r"(?: (?:requests|sequences|streams|users|clients|reqs))? per gpu\b")
_REQUESTS = (
    r"(\d+) (?:sharegpt |random |synthetic )?(?:requests|prompts|queries|samples)\b(?! ?/| per)"
    r"|\bnum (?:prompts|requests) (\d+)"
)
_RATE = (
    r"(?:request rate|rate|qps) (\d+(?:\.\d+)?)\b(?! ?(?:requests|prompts))"
    r"|(\d+(?:\.\d+)?) ?(?:req(?:uests?)?/s(?:ec)?|qps|rps|requests? per second)\b"
)
# "batch 64" alone: a static batch where the row says its batching is static, else refused (a
# continuous-batching engine's batch may be its cap or the requests in flight)
_BATCH = r"(?<!max )(?<!micro )(?<!static )(?<!decode )\bbatch (\d+)\b"
_SAYS_STATIC = r"\bstatic\b|non inflight|gptsessionbenchmark|bench one batch"
# every number the load column may hold, each read by a rule above; any other is refused
_READ = (
    *_STATIC,
    *_CONCURRENT,
    *(p + r"(?: per (?:rank|gpu|dp rank))?" for p in _CAP),
    r"(\d+)(?: (?:requests |sequences )?per gpu\b)",
    r"(\d+)k? tok(?:ens)? per gpu",
    _REQUESTS,
    _RATE,
    _BATCH,
    r"\b(?:p\d+ )?(?:ttft|tpot|e2e)(?: (?:p\d+|\d+th percentile))?"
    r" (?:<=|≤|<|under|below|of|at most)? ?\d+(?:\.\d+)? ?(?:ms|s)\b",
)


def _load_text(raw: str, asides: bool = False) -> str:
    """The load column normalised: asides dropped (unless `asides`), "3k requests" as 3000
    (counts are decimal; "16K tokens" keeps its binary K), "per device" and "/GPU" as per gpu."""
    text = _norm(raw if asides else _outer(raw))
    text = re.sub(
        r"\b(\d+(?:\.\d+)?)k\b(?! ?tok)", lambda m: str(round(float(m.group(1)) * 1000)), text
    )
    return re.sub(r"(?: per|/) ?(?:gpu|device|chip|accelerator)\b", " per gpu", text)


def _all(patterns: tuple[str, ...], text: str, per_gpu: bool = False) -> set[float]:
    """The numbers the patterns read: those counted per GPU when `per_gpu`, else the rest."""
    return {
        float(m.group(1))
        for p in patterns
        for m in re.finditer(p, text)
        if bool(_THEN_PER_GPU.match(text, m.end())) == per_gpu
    }


def _one(field: str, values: set[float], raw: str) -> float | None:
    if len(values) > 1:
        raise InputError(field, f"{raw!r} states several numbers for one setting")
    return values.pop() if values else None


def _rate(row: MeasuredRow, text: str) -> float | None:
    """The request rate from its column and the load text; they must agree."""
    raw, rate_raw = row.get("batch_or_concurrency"), row.get("request_rate").strip().lower()
    rate = None
    if rate_raw and rate_raw not in ("inf", "infinite", "∞"):
        rate = _figure(rate_raw, "request_rate")
    stated = {float(m.group(1) or m.group(2)) for m in re.finditer(_RATE, text)}
    text_rate = _one("batch_or_concurrency", stated, raw)
    if text_rate is not None:
        if rate is not None and rate != text_rate:
            raise InputError("request_rate", f"{rate_raw!r} and {raw!r} disagree")
        rate = text_rate
    return rate


def _mlperf_server(row: MeasuredRow, text: str, notes: str) -> bool:
    """MLPerf's Server or Interactive scenario (Interactive is Server with tighter bounds).

    A bare "Server" or "Interactive" load is read so only where the row names MLPerf."""
    if re.search(
        r"\b(?:server|interactive) scenario\b|\bmlperf (?:server|interactive)\b", f"{text} {notes}"
    ):
        return True
    if not re.fullmatch(r"(?:server|interactive)", text):
        return False
    context = f"{notes} {_norm(row.get('engine_version'))} {row.get('source_url').lower()}"
    if re.search(r"\bmlperf\b|mlcommons", context):
        return True
    raw = row.get("batch_or_concurrency")
    raise InputError("batch_or_concurrency", f"{raw!r} without MLPerf named: which scenario?")


def _load(row: MeasuredRow, metric_name: str) -> dict[str, Any]:
    raw = row.get("batch_or_concurrency")
    text = _load_text(raw)
    notes = _norm(row.get("notes"))
    rate_raw = row.get("request_rate").strip().lower()
    rate = _rate(row, text)
    unread = re.sub("|".join(_READ), " ", text)
    if re.search(r"\d", unread) and not re.fullmatch(r"~?\d+", text):
        raise InputError("batch_or_concurrency", f"no rule reads every number in {raw!r}")
    static_batch = _all(_STATIC, text)
    if _all((_BATCH,), text):
        context = f"{text} {notes} {_norm(row.get('engine'))}"
        if not re.search(_SAYS_STATIC, context):
            raise InputError(
                "batch_or_concurrency", f"{raw!r}: a static batch, a cap or in flight?"
            )
        static_batch |= _all((_BATCH,), text)
    static = _one("batch_or_concurrency", static_batch, raw)
    if _all(_STATIC, text, per_gpu=True):
        raise InputError("batch_or_concurrency", f"{raw!r}: a static batch per GPU, or in flight?")
    concurrent = _one("batch_or_concurrency", _all(_CONCURRENT, text), raw)
    caps = {
        float(m.group(1))
        for p in _CAP
        for m in re.finditer(p + r"( per (?:rank|gpu|dp rank))?", text)
    }
    cap = _one("batch_or_concurrency", caps, raw)
    if cap is None and "llama" in row.get("engine").lower():  # llama-server's slots: -np N
        slots = {
            float(m.group(1))
            for m in re.finditer(r"(?:^|[\s`(])(?:-np|--parallel)[ =](\d+)\b", row.get("notes"))
        }
        cap = _one("notes", slots, row.get("notes"))
    per_rank = bool(
        re.search(r"max (?:num seqs|batch(?: size)?) \d+ per (?:rank|gpu|dp rank)", text)
    )
    per_gpu = _one(
        "batch_or_concurrency",
        _all((*_CONCURRENT, r"(\d+)(?= (?:requests |sequences )?per gpu\b)"), text, per_gpu=True),
        raw,
    )
    tokens_per_gpu = re.search(r"(\d+)(k?) tok(?:ens)? per gpu", _load_text(raw, asides=True))
    requests = _one(
        "batch_or_concurrency",
        {float(m.group(1) or m.group(2)) for m in re.finditer(_REQUESTS, text)},
        raw,
    )
    requests_in_lengths = re.search(r"(\d+) (?:requests|prompts)", _norm(row.get("input_len")))
    offline_text = bool(
        re.search(
            r"\boffline\b|\bmax(?:imum)? load\b|\bmax throughput\b|saturat|at once|queued"
            r"|\b(?:request )?rate inf\b",
            text,
        )
    )
    if offline_text and rate is not None:
        raise InputError("request_rate", f"{raw!r} is offline, yet a rate {rate_raw!r} is given")
    offline = offline_text or rate_raw in ("inf", "infinite", "∞")
    mlperf = bool(re.search(r"\bmlperf\b|\bscenario\b", f"{text} {notes}"))
    server = _mlperf_server(row, text, notes)
    production = bool(re.search(r"\bproduction\b", text))
    single_metric = metric_name == "decode_tok_s_single_stream"
    bare = re.fullmatch(r"~?(\d+)", text)

    out: dict[str, Any] = {}
    n_req = requests or (float(requests_in_lengths.group(1)) if requests_in_lengths else None)
    if n_req:
        out["num_requests"] = int(n_req)
    if cap is not None:
        out["max_batch"] = int(cap)
        out["max_batch_per_rank"] = per_rank
    if tokens_per_gpu:  # "16K tokens": K is 1,024 for token counts
        kilo = 1024 if tokens_per_gpu.group(2) else 1
        out["max_batched_tokens"] = int(tokens_per_gpu.group(1)) * kilo

    kinds = []
    if static is not None:
        kinds.append(("static_batch", static))
    if concurrent is not None:
        kinds.append(("concurrency", concurrent))
    if per_gpu is not None:
        kinds.append(("concurrency_per_gpu", per_gpu))
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
    if server and (static is not None or concurrent is not None or per_gpu is not None):
        raise InputError("batch_or_concurrency", f"{raw!r} beside MLPerf's Server scenario")
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
    """Latency bounds: "TTFT ≤ 2 s", "p99 TTFT < 2000 ms", "TPOT 99th percentile ≤ 0.2 s".

    A bound without its percentile is MLPerf's p99."""
    found = []
    pattern = (
        r"\b(?:p(\d+) )?(ttft|tpot|e2e)(?: (?:p(\d+)|(\d+)th percentile))?"
        r" (?:<=|≤|<|under|below|of|at most)? ?(\d+(?:\.\d+)?) ?(ms|s)\b"
    )
    for m in re.finditer(pattern, text):
        seconds = float(m.group(5)) * (1e-3 if m.group(6) == "ms" else 1.0)
        percentile = float(m.group(1) or m.group(3) or m.group(4) or 99)
        found.append(LatencyConstraint(metric=m.group(2), percentile=percentile, seconds=seconds))
    return tuple(found)


# ---------------------------------------------------------------------------------- lengths

_NOT_STATED = ("", "-", "n/a", "na", "not stated", "?")

# Words that name a side of a length ("ISL 128", "in=1024", "prompt 512", "--random-output-len")
_SIDE_WORD = {
    "input": r"isl|input|in|prompts?|prefill",
    "output": r"osl|output|out|gen|generation|new|max new|decode",
}
_LEN_WORD = r"(?: ?(?:len|length|tokens?|toks?))?"
_LEN_NUM = r"~?(?P<{}>\d+(?:\.\d+)?k?)(?: tokens?)?"
# "1024", "random 1024", "ISL 1024", "input len 1024", "1024 tokens"
_ONE_LENGTH = re.compile(rf"(?:(?P<a>[a-z ]+?){_LEN_WORD} )?{_LEN_NUM.format('n')}")
# "1000/1000", "ISL/OSL 1000/1000", "input/output 1k/2k"
_PAIR_SLASH = re.compile(
    rf"(?:(?P<a>[a-z ]+?){_LEN_WORD} ?/ ?(?P<b>[a-z ]+?){_LEN_WORD} )?"
    rf"{_LEN_NUM.format('n')} ?/ ?{_LEN_NUM.format('m')}"
)
# "input 1024 output 128", "in=1024,out=128", "ISL 1024 / OSL 128"
_PAIR_WORDS = re.compile(
    rf"(?P<a>[a-z ]+?){_LEN_WORD} {_LEN_NUM.format('n')} ?/? "
    rf"(?P<b>[a-z ]+?){_LEN_WORD} {_LEN_NUM.format('m')}"
)

# "1024 in / 128 out", "1024 input, 128 output"
_PAIR_AFTER = re.compile(
    rf"{_LEN_NUM.format('n')} (?P<a>[a-z ]+?){_LEN_WORD} ?/? "
    rf"{_LEN_NUM.format('m')} (?P<b>[a-z ]+?){_LEN_WORD}"
)

_PAIRS = (_PAIR_SLASH, _PAIR_WORDS, _PAIR_AFTER)


def _side_of(word: str | None) -> str | None:
    """The side a label names ("isl", "input len" → input), "" for none, None if unknown."""
    word = re.sub(r"^random ?", "", word or "").strip()  # vLLM's random data set
    if not word:
        return ""
    for side, pattern in _SIDE_WORD.items():
        if re.fullmatch(rf"(?:{pattern})", word.strip()):
            return side
    return None


def _kilo(text: str, side: str, column: str, row: MeasuredRow, raw: str) -> float:
    """A length: "1024", or "1k" when the source's own numbers settle what K is.

    "1K" means 1,024 in NVIDIA's tables and 1,000 in many SGLang and vLLM posts, so it is read
    only where the cell's aside or a same-side length in the notes states the exact number
    ("1k (1024)", notes "--random-input-len 1000"); otherwise it is refused."""
    if not text.endswith("k"):
        return float(text)
    base = float(text[:-1])
    candidates = {base * 1000, base * 1024}
    words = _SIDE_WORD[side]
    stated = {
        float(n) for n in re.findall(r"\b(\d+)\b", " ".join(re.findall(r"\(([^()]*)\)", raw)))
    } | {
        float(m.group(1))
        for m in re.finditer(rf"\b(?:{words}){_LEN_WORD} (?:of )?(\d+)\b", _norm(row.get("notes")))
    }
    settled = candidates & stated
    if len(settled) != 1:
        raise InputError(
            column, f"{raw!r}: K is 1,000 or 1,024 by source; state the exact number of tokens"
        )
    return settled.pop()


def _length_cell(row: MeasuredRow, column: str) -> dict[str, float]:
    """The lengths one column states: {side: tokens}, one side or both ("ISL/OSL 1k/2k")."""
    raw = row.get(column)
    own = "input" if column == "input_len" else "output"
    low = " ".join(_norm(_outer(raw)).replace(",", " ").replace(";", " ").split())
    m = next((m for p in _PAIRS if (m := p.fullmatch(low))), None)
    if m:
        first, second = _side_of(m.group("a")), _side_of(m.group("b"))
        if (first, second) == ("", ""):
            first, second = "input", "output"  # "1000/1000": input first, as ISL/OSL tables
        if first is None or second is None or {first, second} != {"input", "output"}:
            raise InputError(column, f"no rule reads a pair of lengths from {raw!r}")
        return {
            first: _kilo(m.group("n"), first, column, row, raw),
            second: _kilo(m.group("m"), second, column, row, raw),
        }
    m = _ONE_LENGTH.fullmatch(low)
    side = _side_of(m.group("a")) if m else None
    if not m or side is None:
        raise InputError(column, f"no rule reads a length from {raw!r}")
    if side and side != own:
        raise InputError(column, f"{raw!r} names the {side} length in the {own} column")
    return {own: _kilo(m.group("n"), own, column, row, raw)}


def _length(row: MeasuredRow, column: str, other: str) -> dict[str, Any]:
    """`{side}_tokens` (either side: "ISL/OSL 1k/2k" states both) or `{side}_dataset`."""
    side = "input" if column == "input_len" else "output"
    raw = row.get(column)
    _signed(column, raw)
    low = _norm(_outer(raw))
    named = named_in(raw)
    if named is None and low in ("", "variable", "mixed", "same") and named_in(other):
        named = named_in(other)  # "ShareGPT" on one side, "variable" on the other
    if named is not None:
        return {f"{side}_dataset": named.id, "length_distribution": "variable"}
    if low in _NOT_STATED or raw.strip().lower().startswith(("pp (", "tg (")):
        return {}
    return {f"{s}_tokens": v for s, v in _length_cell(row, column).items()}


_SIDE = {
    side: {f"{side}_tokens", f"{side}_dataset"} for side in ("input", "output")
}  # the fields one length column gives


def _lengths(row: MeasuredRow, fixed: set[str]) -> dict[str, Any]:
    """Both columns' lengths; a side two columns state must agree ("1000/1000" and "1000")."""
    out: dict[str, Any] = {}
    for column, other, side in (
        ("input_len", "output_len", "input"),
        ("output_len", "input_len", "output"),
    ):
        if fixed & _SIDE[side]:
            continue
        for key, value in _length(row, column, row.get(other)).items():
            if key != "length_distribution" and fixed & _SIDE[key.split("_")[0]]:
                continue  # a hand fix sets this side
            if key in out and out[key] != value:
                raise InputError(column, f"{row.get(column)!r} disagrees with the other column")
            out[key] = value
    return out


def _cache_hit(row: MeasuredRow) -> float:
    text = " ".join(row.get(c) for c in ("input_len", "notes")).lower()
    hit = re.search(r"(\d+(?:\.\d+)?)\s*%[^,;)]*cache hit", text)
    return float(hit.group(1)) / 100 if hit else 0.0


# ---------------------------------------------------------------------------------- layout


def _whole(row: MeasuredRow, column: str) -> int | None:
    """A TP, PP or EP degree: "8", "TP8", "tp=8", "8-way", "8 (DP+EP)"."""
    _signed(column, row.get(column))
    text = _norm(_outer(row.get(column)))
    if not text:
        return None
    m = re.fullmatch(rf"(?:{column} ?)?(\d+)(?: way)?", text)
    if not m or not int(m.group(1)):
        raise InputError(column, f"not a positive whole number: {row.get(column)!r}")
    return int(m.group(1))


def _gpus(row: MeasuredRow) -> int | None:
    """GPUs the run used: "8", "8xH100", "16 (2 nodes)", "2x8", "2 nodes x 8 GPUs", or a
    row's "8 per node (...)" (the per-node unit); "not stated" gives None."""
    raw = row.get("num_gpus")
    _signed("num_gpus", raw)
    text = _norm(raw)
    if text in _NOT_STATED or "not stated" in text:
        return None
    product = re.match(r"(\d+) ?(?:nodes? )?[x×*] ?(\d+)\b", text)
    if product:
        return int(product.group(1)) * int(product.group(2))
    count = _count(text)
    if count is None:
        raise InputError("num_gpus", f"not a number of GPUs: {raw!r}")
    return count


_TIMES = r"(?: ?[x×*] ?)"
_GPU_COUNT = (
    re.compile(rf"(?P<n>\d+){_TIMES}(?P<name>[a-z].*)"),  # "8xH100", "8 × H200", "2x DGX H100"
    re.compile(r"(?P<name>.*[a-z0-9])(?: [x×*] ?| ?[×*] ?)(?P<n>\d+)"),  # "H100 x 8"
)


def _accelerator(row: MeasuredRow) -> tuple[str, int | None]:
    """The gpu column as (accelerator, GPUs it counts): "8xH100", "8x H100 SXM", "H100 x 8",
    "8 × H200", "HGX B200 (8 GPUs)", "DGX H100" (the catalog server's accelerators), or a
    plain name (no count). Other asides ("(330W cap)") stay for the catalog lookup."""
    raw = row.get("gpu")
    text = " ".join(raw.split())
    count: int | None = None
    aside = re.search(r"\((\d+) ?(?:x ?)?(?:gpus?|chips?|accelerators?)\)", text, re.I)
    if aside:
        count, text = int(aside.group(1)), (text[: aside.start()] + text[aside.end() :]).strip()
    times = 1
    for pattern in _GPU_COUNT:
        m = pattern.fullmatch(text.lower())
        if m:
            times, text = int(m.group("n")), text[m.start("name") : m.end("name")].strip()
            break
    name, per = text, None
    if re.search(r"\b(?:dgx|hgx)\b", text, re.I):
        if text not in servers():
            raise InputError("gpu", f"no catalog server matches {raw!r}")
        node = servers().get(text)
        name, per = node.accelerator, node.accelerators_per_server
    if not times:
        raise InputError("gpu", f"zero GPUs in {raw!r}")
    counted = times * per if per else (times if m else None)
    if count is not None and counted is not None and count != counted:
        raise InputError("gpu", f"{raw!r} counts GPUs two ways")
    return name, count if count is not None else counted


def _gpu_count(row: MeasuredRow, layout: dict[str, Any], count: int) -> int:
    """The GPUs the gpu column counts, checked against num_gpus, or TP × PP (× DP) when num_gpus
    is not stated: "8xH100" beside TP 4 may name the machine or the run, so it is refused."""
    raw = row.get("gpu")
    stated = layout.get("num_gpus")
    if stated is not None:
        if stated != count:
            raise InputError("gpu", f"{raw!r} but num_gpus {stated}")
        return count
    if "tp" in layout or layout.get("pp", 1) > 1:
        replica = layout.get("tp", 1) * layout.get("pp", 1) * layout.get("attention_dp", 1)
        if replica != count:
            raise InputError("gpu", f"{raw!r} but one replica is {replica} GPUs: the machine?")
    return count


def _canonical(name: str) -> str:
    try:
        return precision(name).name
    except InputError:
        return name


def _kv(row: MeasuredRow) -> str | None:
    """The KV precision column, or a setting the notes state ("--kv-cache-dtype fp8",
    "kv_cache_dtype=fp8_e4m3"); "auto" (the model's dtype) states none. Both must agree."""
    column = row.get("precision_kv") or None
    flags = {
        _canonical(m.group(1).replace(" ", "_"))
        for m in re.finditer(r"\bkv cache dtype (\w+(?: e\dm\d\w*)?)", _norm(row.get("notes")))
        if m.group(1) != "auto"
    }
    if len(flags) > 1 or (flags and column and _canonical(column.lower()) not in flags):
        raise InputError("precision_kv", f"{column!r} and the notes' kv-cache-dtype disagree")
    return column or (flags.pop() if flags else None)


def _layout(row: MeasuredRow) -> dict[str, Any]:
    out: dict[str, Any] = {
        column: value for column in ("tp", "pp", "ep") if (value := _whole(row, column))
    }
    gpus = _gpus(row)
    if gpus is not None:
        out["num_gpus"] = gpus
    text = _norm(" ".join(row.get(c) for c in ("ep", "notes", "engine_version")))
    phrases = list(
        re.finditer(
            r"\b(?:attention dp|attn dp|dp attention|attention data parallel(?:ism)?|"
            r"mla/shared dp|enable dp attention)(?: size)? ?(\d+)?",
            text,
        )
    )
    dp = next((m for m in phrases if m.group(1)), phrases[0] if phrases else None) or re.search(
        r"\bdp ?(\d+)\b(?! ?(?:gpus|nodes))", text
    )
    if dp:
        count = dp.group(1) or next(
            (
                m.group(1)
                for m in re.finditer(r"\b(?:dp|dp size|data parallel size) ?(\d+)\b", text)
                if not re.match(r" ?(?:gpus|nodes)", text[m.end() :])
            ),
            None,
        )
        if count:
            out["attention_dp"] = int(count)
        elif "ep" in out:
            out["attention_dp"] = max(out["ep"] // out.get("tp", 1), 1)
    elif re.search(r"\bdp ?\+ ?ep\b", text) and "ep" in out:
        out["attention_dp"] = max(out["ep"] // out.get("tp", 1), 1)
    return _group_tp(row, out)


# Engines whose tensor-parallel size names the whole attention-DP group: SGLang's
# `--tp 8 --dp 8 --enable-dp-attention` and TensorRT-LLM's `tp_size 8` with
# `enable_attention_dp` run on 8 GPUs, where vLLM's `--tensor-parallel-size` is per DP rank.
GROUP_TP_ENGINES = ("sglang", "tensorrt", "trt-llm")


def _group_tp(row: MeasuredRow, out: dict[str, Any]) -> dict[str, Any]:
    """The structured format's `tp` is per attention-DP rank. A row whose TP counts the
    group (its GPU count says so, or its engine's convention does when it gives none) is
    read as TP ÷ DP per rank."""
    tp, dp, pp = out.get("tp"), out.get("attention_dp"), out.get("pp", 1)
    if not tp or not dp or dp == 1 or tp % dp:
        return out
    gpus = out.get("num_gpus")
    engine = row.get("engine").lower()
    group = gpus == tp * pp if gpus else any(e in engine for e in GROUP_TP_ENGINES)
    if group and gpus != tp * pp * dp:
        out["tp"] = tp // dp
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
    value = _figure(row.get("value"), "value")
    per, factor, unit_gpus = _unit(row, metric, per_named)
    layout = _layout(row)
    gpu, gpu_count = _accelerator(row)
    if gpu_count is not None:
        layout["num_gpus"] = _gpu_count(row, layout, gpu_count)
    if unit_gpus is not None:
        stated = layout.get("num_gpus")
        if stated is not None and stated != unit_gpus:
            raise InputError("unit", f"{row.get('unit')!r} but num_gpus {stated}")
        layout["num_gpus"] = unit_gpus
    notes = _norm(row.get("notes") + " " + row.get("engine_version"))
    lengths = _lengths(row, fixed)
    fields: dict[str, Any] = {
        "id": row.id,
        "source_url": row.get("source_url"),
        "date": row.get("date"),
        "engine": row.get("engine"),
        "engine_version": row.get("engine_version"),
        "model": row.get("model"),
        "gpu": gpu,
        "precision_weights": row.get("precision_weights") or None,
        "precision_kv": _kv(row),
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
        raise InputError("row", _first_error(exc)) from None


def _first_error(exc: ValueError) -> str:
    """Pydantic's first complaint as "field: message", without its documentation link."""
    if isinstance(exc, ValidationError) and exc.errors():
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "row"
        return f"{where}: {err['msg']}"
    return str(exc).splitlines()[0] if str(exc) else "invalid"
