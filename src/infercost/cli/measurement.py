"""`measure` a live server and `calibrate` the model to what was measured."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from infercost.cli.app import (
    JsonOpt,
    _words,
    app,
    emit_json,
    user_errors,
)
from infercost.cli.reports import HtmlOpt, html_target, write_html


@app.command()
@user_errors
def measure(
    url: Annotated[str, typer.Option(help="Server base URL, e.g. http://127.0.0.1:8080.")],
    model: Annotated[str, typer.Option(help="Model name the server expects.")],
    concurrency: Annotated[
        str | None, typer.Option(help="Load levels: requests in flight, e.g. 1,2,4,8.")
    ] = None,
    rate: Annotated[str | None, typer.Option(help="Load levels: requests/s, e.g. 0.5,1,2.")] = None,
    arrival: Annotated[str, typer.Option(help="poisson or gamma arrivals for --rate.")] = "poisson",
    sweep: Annotated[
        bool, typer.Option(help="Double the concurrency until goodput falls or errors rise.")
    ] = False,
    trace: Annotated[
        Path | None, typer.Option(help="Replay a CSV/JSONL trace (time, prompt, output tokens).")
    ] = None,
    prompts: Annotated[
        Path | None, typer.Option(help="Prompts to send: one per line, or JSONL with 'prompt'.")
    ] = None,
    requests: Annotated[int, typer.Option(help="Requests per load level.")] = 100,
    duration: Annotated[
        float | None, typer.Option(help="Stop a level after this many seconds.")
    ] = None,
    input_tokens: Annotated[
        str,
        typer.Option(
            help="Prompt length in the server's tokens: N, uniform:MIN:MAX, "
            "lognormal:MEAN:SIGMA, file:PATH."
        ),
    ] = "128",
    output_tokens: Annotated[str, typer.Option(help="Output length, same forms.")] = "128",
    tokenizer: Annotated[
        Path | None,
        typer.Option(help="The model's tokenizer.json (else the server's /tokenize, if any)."),
    ] = None,
    shared_prefix_tokens: Annotated[
        int, typer.Option(help="Every prompt starts with the same N tokens (prefix caching).")
    ] = 0,
    prefix_groups: Annotated[int, typer.Option(help="... one of K different shared prefixes.")] = 1,
    turns: Annotated[
        int, typer.Option(help="Requests per conversation, each resending the history so far.")
    ] = 1,
    ignore_eos: Annotated[
        bool,
        typer.Option(
            "--ignore-eos/--no-ignore-eos",
            help="Ask the engine for the whole output length (its ignore-EOS fields).",
        ),
    ] = True,
    chat: Annotated[bool, typer.Option(help="Use /v1/chat/completions.")] = False,
    extra: Annotated[
        str | None, typer.Option(help="Extra JSON body fields, e.g. '{\"ignore_eos\": true}'.")
    ] = None,
    gpus: Annotated[int, typer.Option(help="Accelerators the server uses.")] = 1,
    price: Annotated[float | None, typer.Option(help="USD per GPU-hour.")] = None,
    gpu: Annotated[
        str | None, typer.Option(help="Catalog accelerator, for predictions beside the results.")
    ] = None,
    catalog_model: Annotated[
        str | None, typer.Option(help="Catalog model (default: --model, if the catalog knows it).")
    ] = None,
    precision: Annotated[
        str | None, typer.Option(help="Weight format served (fp8, q4_1, ...; default bf16).")
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option(help="The server's engine: vllm, sglang, llama.cpp, ... (default: detected)."),
    ] = None,
    slo: Annotated[
        str | None, typer.Option(help="Targets, e.g. ttft_p99=2s,tpot_p99=100ms.")
    ] = None,
    timeout: Annotated[
        float, typer.Option(help="Seconds a request may wait for the next byte from the server.")
    ] = 60.0,
    max_error_rate: Annotated[
        float, typer.Option(help="Exit 1 when more than this share of requests fail.")
    ] = 0.1,
    out: Annotated[Path | None, typer.Option(help="A new folder for records and summary.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed for arrivals and lengths.")] = 0,
    api_key: Annotated[
        str | None,
        typer.Option(
            envvar="OPENAI_API_KEY",
            show_envvar=True,
            show_default=False,
            help="Bearer token for the server (never written anywhere).",
        ),
    ] = None,
    header: Annotated[
        list[str] | None, typer.Option(help="Extra request header NAME:VALUE (repeatable).")
    ] = None,
    api_price: Annotated[
        str | None,
        typer.Option(help="A hosted endpoint's $ per 1M input and output tokens: IN,OUT."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    html: HtmlOpt = None,
) -> None:
    """Load-test a live OpenAI-compatible server: latency, throughput and cost per token."""
    from infercost.api import measure as verb
    from infercost.cli.progress import levels

    report = html_target(html)
    with levels(requests, quiet=as_json) as progress:
        result = verb(
            url=url, model=model, concurrency=_numbers("concurrency", concurrency, int),
            rate=_numbers("rate", rate, float), arrival=arrival, sweep=sweep,
            trace=None if trace is None else str(trace),
            prompts=None if prompts is None else str(prompts), requests=requests,
            duration=duration, input_tokens=input_tokens, output_tokens=output_tokens,
            tokenizer=None if tokenizer is None else str(tokenizer),
            shared_prefix_tokens=shared_prefix_tokens, prefix_groups=prefix_groups, turns=turns,
            ignore_eos=ignore_eos, chat=chat,
            extra=_json_object("extra", extra), gpus=gpus, price=price, gpu=gpu,
            catalog_model=catalog_model, precision=precision, engine=engine, slo=slo,
            timeout=timeout, max_error_rate=max_error_rate,
            out=None if out is None else str(out), seed=seed, api_key=api_key,
            header=header or [], api_price=_pair("api_price", api_price), progress=progress,
        )  # fmt: skip
    write_html("measure", result.to_dict(), report, quiet=as_json)  # an interrupted run too
    if as_json:
        emit_json(result.to_dict())
    else:
        from infercost.cli.render import print_measurement

        print_measurement(Console(), result.to_dict())
    if result.error_line:
        Console(stderr=True).print(result.error_line, highlight=False, soft_wrap=True)
    if result.interrupted:
        raise typer.Exit(130)
    if result.exit_code:
        raise typer.Exit(result.exit_code)


def _numbers(field: str, text: str | None, kind: type) -> list[Any]:
    from infercost.errors import InputError

    out = []
    for part in _words(text):
        try:
            out.append(kind(part))
        except ValueError:
            raise InputError(field, f"not a number: {part!r}") from None
    return out


def _pair(field: str, text: str | None) -> tuple[float, float] | None:
    """`IN,OUT` as two numbers."""
    if text is None:
        return None
    values = _numbers(field, text, float)
    if len(values) != 2:
        from infercost.errors import InputError

        raise InputError(field, "give two prices: IN,OUT ($ per 1M input and output tokens)")
    return values[0], values[1]


def _json_object(field: str, text: str | None) -> dict[str, Any] | None:
    from infercost.errors import InputError

    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(field, f"not JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise InputError(field, "must be a JSON object of body fields")
    return value


@app.command()
@user_errors
def calibrate(
    results: Annotated[Path, typer.Argument(help="A folder written by `measure --out`.")],
    gpu: Annotated[
        str | None, typer.Option(help="Catalog accelerator (default: as measured).")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Catalog model (default: as measured).")] = None,
    gpus: Annotated[int | None, typer.Option(help="Accelerators (default: as measured).")] = None,
    precision: Annotated[
        str | None, typer.Option(help="Weight format (default: as measured).")
    ] = None,
    engine: Annotated[
        str | None, typer.Option(help="Engine family (default: as measured).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Where to save (default: RESULTS/calibration.yaml).")
    ] = None,
    as_json: JsonOpt = False,
    html: HtmlOpt = None,
) -> None:
    """Fit efficiency factors to a measurement; estimate/reproduce/simulate take --calibration."""
    from infercost.api import calibrate as verb

    report = html_target(html)
    result = verb(
        results=str(results), gpu=gpu, model=model, gpus=gpus, precision=precision,
        engine=engine, out=None if out is None else str(out),
    )  # fmt: skip
    write_html("calibrate", result.to_dict(), report, quiet=as_json)
    if as_json:
        emit_json(result.to_dict())
        return
    from infercost.cli.render import print_calibration

    print_calibration(Console(), result.to_dict())


# --- catalog -------------------------------------------------------------------------------
