"""The strict reader: phrasings of one fact map to one case, and what no rule reads is refused."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from measured_rows import row

from infercost.validation.dataset import MeasuredRow, load_rows
from infercost.validation.mapping import Case, Unmapped, map_row

ROWS = load_rows()


def _load_variants(text: str) -> list[str]:
    static = re.fullmatch(r"static batch (\d+)", text)
    if static:
        n = static.group(1)
        return [f"batch size {n}", f"bs={n}", f"BS {n}", f"Static Batch Size {n}", f"batch of {n}"]
    streams = re.match(r"(\d+) concurrent streams", text)
    if streams:  # the phrase respelled, the rest of the text kept
        n = streams.group(1)
        rest = text[streams.end() :]
        return [
            f"{phrase}{rest}"
            for phrase in (
                f"concurrency {n}",
                f"{n} concurrent requests",
                f"--max-concurrency {n}",
                f"{n} parallel requests",
            )
        ]
    if text.strip() == "1":
        return ["concurrency 1", "batch size 1", "bs=1", "static batch 1", "1 concurrent request"]
    queued = re.fullmatch(r"max load; (\d+) requests queued at once", text)
    if queued:
        n = queued.group(1)
        return [f"offline; {n} requests", f"{n} requests, all at once", f"Max Load, {n} prompts"]
    return []


def _unit_variants(unit: str) -> list[str]:
    if unit == "tok/s/GPU":
        return ["tokens/s per GPU", "TPS per GPU", "tok/s per gpu", "output tok/s/gpu"]
    if unit in ("tok/s", "tok/s (all GPUs)"):
        return ["tok/s (all GPUs)", "tokens/s", "output tok/s total", "TPS"]
    if unit == "ms":
        return ["ms", " ms "]
    return []


def _length_variants(text: str) -> list[str]:
    if re.fullmatch(r"\d+", text):
        return [f"{text} tokens", f"~{text}", f" {text} "]
    if text.lower().startswith("sharegpt"):  # the name respelled, the rest (a count) kept
        return [text.replace("ShareGPT", name) for name in ("sharegpt", "ShareGPT_V3", "share-gpt")]
    return []


def variants(r: MeasuredRow) -> list[MeasuredRow]:
    """The row rewritten one field at a time in other phrasings of the same fact."""
    out = []
    for column, make in (
        ("batch_or_concurrency", _load_variants),
        ("unit", _unit_variants),
        ("input_len", _length_variants),
        ("output_len", _length_variants),
    ):
        for text in make(r.get(column)):
            out.append(MeasuredRow(r.id, {**r.fields, column: text}))
    return out


def _same(a: Case, b: Case) -> bool:
    # dataset descriptions and replica notes are the same text; nothing else may differ
    return replace(a, assumptions=()) == replace(b, assumptions=())


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(ROWS), st.data())
def test_a_rephrased_row_maps_to_the_same_case_or_is_refused(
    r: MeasuredRow, data: st.DataObject
) -> None:
    options = variants(r)
    if not options:
        return
    variant = data.draw(st.sampled_from(options))
    original, rewritten = map_row(r), map_row(variant)
    if isinstance(rewritten, Unmapped):
        return  # refusing is allowed; a different case is not
    assert isinstance(original, Case), (r.id, variant.fields)
    assert _same(original, rewritten), (r.id, variant.fields)


def test_every_bundled_row_has_variants_checked() -> None:
    """Deterministic sweep over every variant of every row (the property above samples)."""
    checked = 0
    for r in ROWS:
        original = map_row(r)
        for variant in variants(r):
            rewritten = map_row(variant)
            if isinstance(rewritten, Case):
                assert isinstance(original, Case), (r.id, variant.fields)
                assert _same(original, rewritten), (r.id, variant.fields)
                checked += 1
    assert checked > 300


@pytest.mark.parametrize(
    "text",
    [
        "concurrency 8",
        "8 concurrent requests",
        "--max-concurrency 8",
        "8 parallel streams",
        "max concurrency 8",
    ],
)
def test_concurrency_phrasings(text: str) -> None:
    c = map_row(row(batch_or_concurrency=text))
    assert isinstance(c, Case)
    assert (c.mode, c.batch) == ("continuous", 8)


@pytest.mark.parametrize("text", ["batch size 8", "bs=8", "static batch 8", "BS 8"])
def test_static_batch_phrasings(text: str) -> None:
    c = map_row(row(batch_or_concurrency=text))
    assert isinstance(c, Case)
    assert (c.mode, c.batch) == ("static", 8)


@pytest.mark.parametrize("text", ["Offline scenario", "max load", "offline", "MLPerf Offline"])
def test_offline_phrasings(text: str) -> None:
    c = map_row(row(batch_or_concurrency=text))
    assert isinstance(c, Case)
    assert (c.mode, c.batch) == ("offline", None)


def test_a_cap_per_rank_scales_with_the_attention_dp_ranks() -> None:
    c = map_row(
        row(
            batch_or_concurrency="offline, max_batch_size 8 per rank",
            model="DeepSeek-V3",
            tp="1",
            ep="8",
            num_gpus="8",
            notes="attention DP 8",
            precision_weights="fp8",
        )
    )
    assert isinstance(c, Case)
    assert (c.dp_attention, c.max_requests) == (8, 64)


@pytest.mark.parametrize(
    ("fields", "column"),
    [
        ({"batch_or_concurrency": ""}, "batch_or_concurrency"),
        ({"batch_or_concurrency": "8"}, "batch_or_concurrency"),  # a batch or a concurrency?
        ({"batch_or_concurrency": "whatever the engine liked"}, "batch_or_concurrency"),
        ({"batch_or_concurrency": "static batch 8, concurrency 16"}, "batch_or_concurrency"),
        ({"input_len": "LongBench"}, "input_len"),  # a data set the table does not know
        ({"input_len": "OpenOrca"}, "input_len"),  # known, but its prompt mean is not sourced
        ({"unit": "furlongs"}, "unit"),
        ({"unit": "tok/s/GPU per user"}, "unit"),
        ({"notes": "speculative decoding on"}, "notes"),
    ],
)
def test_what_no_rule_reads_is_unmapped_naming_the_field(
    fields: dict[str, str], column: str
) -> None:
    mapped = map_row(row(**fields))
    assert isinstance(mapped, Unmapped)
    assert mapped.reason.startswith(column), mapped.reason


def test_per_user_throughput_is_read_as_tpot() -> None:
    c = map_row(row(batch_or_concurrency="concurrency 16", unit="tok/s/user", value="50"))
    assert isinstance(c, Case)
    assert (c.target, c.measured) == ("tpot_ms", pytest.approx(20.0))


def test_speculative_decoding_and_balance_fill_the_case() -> None:
    c = map_row(
        row(
            notes="EAGLE-3 with 3 draft tokens, acceptance length 2.4; EPLB on",
            batch_or_concurrency="concurrency 8",
        )
    )
    assert isinstance(c, Case)
    assert (c.spec_method, c.spec_draft_tokens, c.spec_acceptance_length) == ("eagle", 3, 2.4)
    assert c.expert_balance == "balanced"
