"""What `measure` sends: unique prompts of exact length (counted by the server's /tokenize, a
tokenizer file, or estimated and said so), the engine's fields for the whole output, shared
prefixes on request, lengths drawn as `simulate` draws them. Against the fake server, which
keeps every body it receives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_server import ThreadedServer
from test_cli import assert_user_error, invoke

from infercost.measurement.engines import FIXED_OUTPUT
from infercost.measurement.prompts import build_prompts, head_words
from infercost.measurement.tokens import Estimate


def _measure(url: str, *args: str) -> dict:
    result = invoke("measure", "--url", url, "--model", "m", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_prompts_are_unique_from_their_first_word_and_exact_in_the_servers_count() -> None:
    server = ThreadedServer(tokenize=True)
    with server as url:
        doc = _measure(url, "--concurrency", "2,4", "--requests", "12", "--input-tokens", "40",
                       "--output-tokens", "5")  # fmt: skip
    prompts = [str(b["prompt"]) for b in server.bodies]
    assert len(prompts) == 24
    assert len({p.split()[0] for p in prompts}) == 24  # both levels: every first word differs
    assert all(len(p.split()) == 40 for p in prompts)  # the fake server: a token a word
    for level in doc["levels"]:
        work = level["workload"]
        assert work["length_sources"] == ["server"]
        assert work["prompts_at_requested_length"] == work["prompts_checked"] == 12


def test_without_a_tokenizer_lengths_are_estimates_and_said_to_be() -> None:
    with ThreadedServer() as url:
        doc = _measure(url, "--requests", "3", "--input-tokens", "50", "--output-tokens", "2")
    assert doc["levels"][0]["workload"]["length_sources"] == ["estimated"]


def test_a_tokenizer_file_counts_the_prompts(tmp_path: Path) -> None:
    tokenizer = _word_tokenizer(tmp_path)
    server = ThreadedServer(tokenize=True)
    with server as url:
        doc = _measure(url, "--requests", "4", "--input-tokens", "30", "--output-tokens", "2",
                       "--tokenizer", str(tokenizer))  # fmt: skip
    assert doc["levels"][0]["workload"]["length_sources"] == ["tokenizer"]
    assert doc["levels"][0]["workload"]["prompts_at_requested_length"] == 4
    assert all(len(str(b["prompt"]).split()) == 30 for b in server.bodies)


def _word_tokenizer(folder: Path) -> Path:
    """A real tokenizer.json (WordLevel over whitespace) trained on the shipped corpus."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    from infercost.measurement.prompts import corpus_words

    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.train_from_iterator([" ".join(corpus_words())], trainers.WordLevelTrainer(
        special_tokens=["[UNK]"]))  # fmt: skip
    path = folder / "tokenizer.json"
    tok.save(str(path))
    return path


@pytest.mark.parametrize(
    ("family", "metrics"),
    [
        ("vllm", b"vllm:num_requests_running 0\n"),
        ("sglang", b"sglang:num_running_reqs 0\n"),
        ("llama.cpp", b"llamacpp:requests_processing 0\n"),
        ("tgi", b"tgi_queue_size 0\n"),
    ],
)
def test_the_engine_is_detected_and_asked_for_the_whole_output(family: str, metrics: bytes) -> None:
    server = ThreadedServer(metrics=metrics)
    with server as url:
        doc = _measure(url, "--requests", "2", "--output-tokens", "7")
    assert doc["levels"][0]["workload"]["engine"] == family
    expected = {k: 7 if v == "$output_tokens" else v for k, v in FIXED_OUTPUT[family].items()}
    for body in server.bodies:
        assert {k: body[k] for k in expected} == expected
        assert body["max_tokens"] == 7
    if family == "tgi":  # no switch over HTTP: nothing extra is sent
        assert "ignore_eos" not in server.bodies[0]


def test_a_named_engine_wins_and_the_switch_can_be_turned_off() -> None:
    server = ThreadedServer()
    with server as url:
        _measure(url, "--requests", "1", "--output-tokens", "3", "--engine", "vllm")
        _measure(url, "--requests", "1", "--output-tokens", "3", "--engine", "vllm",
                 "--no-ignore-eos")  # fmt: skip
        _measure(url, "--requests", "1", "--output-tokens", "3", "--engine", "vllm",
                 "--extra", '{"min_tokens": 1}')  # fmt: skip
    first, off, own = server.bodies
    assert (first["ignore_eos"], first["min_tokens"]) == (True, 3)
    assert "ignore_eos" not in off
    assert own["min_tokens"] == 1  # the user's own fields win


def test_an_unknown_server_gets_no_extra_fields() -> None:
    server = ThreadedServer()
    with server as url:
        doc = _measure(url, "--requests", "1", "--output-tokens", "3")
    assert doc["levels"][0]["workload"]["engine"] is None
    assert "ignore_eos" not in server.bodies[0]


def test_lengths_drawn_from_specs_like_simulate() -> None:
    server = ThreadedServer(tokenize=True)
    with server as url:
        doc = _measure(url, "--requests", "30", "--input-tokens", "uniform:10:50",
                       "--output-tokens", "lognormal:6:0.5", "--seed", "3")  # fmt: skip
    ins = [len(str(b["prompt"]).split()) for b in server.bodies]
    outs = [int(b["max_tokens"]) for b in server.bodies]  # type: ignore[call-overload]
    assert min(ins) >= 10
    assert max(ins) <= 50
    assert len(set(ins)) > 5
    assert len(set(outs)) > 2
    assert doc["levels"][0]["workload"]["prompts_at_requested_length"] == 30


def test_a_shared_prefix_on_request() -> None:
    server = ThreadedServer(tokenize=True)
    with server as url:
        _measure(url, "--requests", "6", "--input-tokens", "60", "--output-tokens", "2",
                 "--shared-prefix-tokens", "20", "--prefix-groups", "2")  # fmt: skip
    words = [str(b["prompt"]).split() for b in server.bodies]
    assert {tuple(w[:20]) for w in words[0::2]} == {tuple(words[0][:20])}
    assert {tuple(w[:20]) for w in words[1::2]} == {tuple(words[1][:20])}
    assert words[0][:20] != words[1][:20]
    assert len({w[20] for w in words}) == 6  # unique right after the shared part


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("--input-tokens", "uniform:9:1"), ("--input-tokens",)),
        (("--output-tokens", "0"), ("--output-tokens",)),
        (("--prefix-groups", "3"), ("--prefix-groups", "shared")),
        (("--tokenizer", "/no/such/tokenizer.json"), ("--tokenizer", "no such file")),
        (("--input-tokens", "2", "--shared-prefix-tokens", "5"), ("--input-tokens", "cannot hold")),
    ],
)
def test_bad_workload_options_are_refused(args: tuple[str, ...], needles: tuple[str, ...]) -> None:
    with ThreadedServer(tokenize=True) as url:
        result = invoke("measure", "--url", url, "--model", "m", "--requests", "2", *args)
    assert_user_error(result, *needles)


def test_the_corpus_gives_enough_distinct_first_words() -> None:
    assert len(head_words()) >= 500
    prompts = build_prompts([20] * 300, Estimate())
    assert len({p.text.split()[0] for p in prompts}) == 300


SECRET = "sk-test-0123456789abcdefSECRET"


def test_a_secured_endpoint_is_measured_and_its_key_never_written(tmp_path: Path) -> None:
    server = ThreadedServer(api_key=SECRET)
    with server as url:
        out = str(tmp_path / "run")
        result = invoke("measure", "--url", url, "--model", "m", "--api-key", SECRET,
                        "--header", "X-Team: infercost-tests", "--requests", "4",
                        "--output-tokens", "3", "--out", out, "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["errors"] == 0
    assert SECRET not in result.output
    for path in (tmp_path / "run").rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(errors="replace"), path


def test_the_key_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    with ThreadedServer(api_key=SECRET) as url:
        result = invoke("measure", "--url", url, "--model", "m", "--requests", "2",
                        "--output-tokens", "2", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("key", [None, "sk-wrong-key-000000000000"])
def test_refused_credentials_are_one_line(key: str | None) -> None:
    with ThreadedServer(api_key=SECRET) as url:
        args = ["--api-key", key] if key else []
        result = invoke("measure", "--url", url, "--model", "m", "--requests", "5", *args)
    err = assert_user_error(result, "--api-key", "HTTP 401")
    assert SECRET not in err
    if key:
        assert key not in err


def test_a_header_value_is_never_echoed() -> None:
    with ThreadedServer() as url:
        result = invoke("measure", "--url", url, "--model", "m", "--header",
                        "Bad Name: sk-hidden-value-12345")  # fmt: skip
    err = assert_user_error(result, "--header", "NAME:VALUE")
    assert "sk-hidden" not in err


def test_a_hosted_endpoint_is_costed_by_its_tokens() -> None:
    with ThreadedServer(tokenize=True) as url:
        doc = _measure(url, "--requests", "5", "--input-tokens", "100", "--output-tokens", "10",
                       "--api-price", "0.5,2.0")  # fmt: skip
    (level,) = doc["levels"]
    assert level["cost_basis"] == "api price"
    # Every query: 100 × $0.5 + 10 × $2.0 per 1M tokens = $0.00007.
    assert level["usd_per_query"] == pytest.approx(7e-5, rel=1e-6)
    assert level["usd_per_million_output_tokens"] == pytest.approx(7.0, rel=1e-6)
    with ThreadedServer() as url:
        clash = invoke("measure", "--url", url, "--model", "m", "--api-price", "1,2",
                       "--price", "2")  # fmt: skip
    assert_user_error(clash, "--api-price", "give one")


def test_conversations_resend_their_history_turn_by_turn() -> None:
    server = ThreadedServer(tokenize=True)
    with server as url:
        doc = _measure(url, "--concurrency", "2", "--requests", "6", "--turns", "3",
                       "--input-tokens", "12", "--output-tokens", "4")  # fmt: skip
    assert doc["levels"][0]["workload"]["turns"] == 3
    prompts = [str(b["prompt"]) for b in server.bodies]
    firsts = [p for p in prompts if len(p.split()) == 12]
    assert len(firsts) == 2  # two conversations, one first turn each
    for first in firsts:  # its later turns carry it, and the answer "t0 t1 t2 t3"
        later = [p for p in prompts if p.startswith(first) and p != first]
        assert len(later) == 2
        assert all("t0 t1 t2 t3" in p for p in later)
        assert len(later[1]) > len(later[0])
    bad = invoke("measure", "--url", url, "--model", "m", "--rate", "1", "--turns", "2")
    assert_user_error(bad, "--turns", "concurrency")


def test_a_measured_run_and_a_simulated_run_are_the_same_workload(tmp_path: Path) -> None:
    """The same specs and seed give `measure` and `simulate` the same lengths, request by
    request: an empirical file for prompts, a lognormal for outputs."""
    law = tmp_path / "prompts.txt"
    law.write_text("\n".join(str(n) for n in (12, 30, 30, 45, 80, 160)) + "\n")
    specs = ("--input-tokens", f"file:{law}", "--output-tokens", "lognormal:9:0.6", "--seed", "11")
    runs = tmp_path / "measured"
    with ThreadedServer(tokenize=True) as url:
        _measure(url, "--requests", "40", "--out", str(runs), *specs)
    records = [json.loads(line) for line in (runs / "concurrency-1.jsonl").read_text().splitlines()]
    measured = sorted((r["input_tokens"], r["output_tokens"]) for r in records)
    assert all(r["requested_input_tokens"] == r["input_tokens"] for r in records)
    simulated_csv = tmp_path / "simulated.csv"
    result = invoke("simulate", "-m", "llama-3.1-8b", "-g", "h100", "--rate", "2",
                    "--requests", "40", "--records", str(simulated_csv), *specs)  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = [line.split(",") for line in simulated_csv.read_text().splitlines()]
    column = {name: i for i, name in enumerate(rows[0])}
    simulated = sorted(
        (int(r[column["input_tokens"]]), int(r[column["output_tokens"]])) for r in rows[1:]
    )
    assert measured == simulated
    assert len({p for p, _ in measured}) > 3  # the file's law, not one length
    assert len({o for _, o in measured}) > 3


def test_a_closed_loop_of_equal_answers_is_seen_in_lockstep() -> None:
    # Every answer is the same length, so the four workers finish together and send
    # together: the level records it, and the prediction beside it prefills them together.
    with ThreadedServer(tokenize=True) as url:
        doc = _measure(url, "--concurrency", "4", "--requests", "12", "--output-tokens", "5",
                       "--input-tokens", "20")  # fmt: skip
    (level,) = doc["levels"]
    assert level["workload"]["arrival_group"] > 3

    from infercost.measurement.model import LevelShape

    assert LevelShape.of(level).arrival_group == level["workload"]["arrival_group"]
    rate = {**level, "level": "rate-2"}
    assert LevelShape.of(rate).arrival_group == 1.0  # arrivals at a rate are their own
