"""`plan`: the cheapest fleet that meets the latency targets, proved by simulation.

Exit status 0 with an answer, 2 when nothing meets the targets (the closest candidates are
shown, each with the target it misses and by how much, and what limits it).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from infercost.cli.app import (
    CachedFractionOpt,
    CalibrationOpt,
    InputLengthOpt,
    JsonOpt,
    NoCalibrationOpt,
    OutputLengthOpt,
    TraceOpt,
    _accelerators,
    _calibration,
    _words,
    app,
    emit_json,
    fail,
    user_errors,
)
from infercost.cli.labels import fmt, table
from infercost.cli.reports import HtmlOpt, html_target, write_html
from infercost.errors import InputError

SHOWN = 10  # candidates in the ranked table


@app.command()
@user_errors
def plan(
    scenario: Annotated[
        str | None,
        typer.Argument(help="A scenario whose traffic and plan: block ask the question."),
    ] = None,
    model: Annotated[
        list[str] | None, typer.Option("--model", "-m", help="Model id(s): a,b or repeated.")
    ] = None,
    qps: Annotated[float | None, typer.Option(help="Traffic: queries per second.")] = None,
    queries_per_day: Annotated[float | None, typer.Option(help="Traffic: queries per day.")] = None,
    daily_users: Annotated[float | None, typer.Option(help="Traffic: daily users...")] = None,
    queries_per_user: Annotated[
        float | None, typer.Option(help="...times queries per user per day.")
    ] = None,
    peak_to_average: Annotated[
        float | None, typer.Option(help="Size for the peak: average × this (default 1).")
    ] = None,
    input_tokens: InputLengthOpt = None,
    output_tokens: OutputLengthOpt = None,
    trace: TraceOpt = None,
    cached_fraction: CachedFractionOpt = None,
    arrival: Annotated[str | None, typer.Option(help="poisson (default) or gamma.")] = None,
    burstiness: Annotated[
        float | None, typer.Option(help="Gamma arrivals: CV of the gaps (1 = Poisson).")
    ] = None,
    slo: Annotated[
        str | None,
        typer.Option(help="Targets: ttft_p99=2s,tpot_p99=50ms,e2e_p90=30s,interactivity_p50=20."),
    ] = None,
    goodput: Annotated[
        float | None, typer.Option(help="Share of requests that must meet every target.")
    ] = None,
    min_interactivity: Annotated[
        float | None, typer.Option(help="Tokens/s per user (median) at least.")
    ] = None,
    gpu: Annotated[
        str | None, typer.Option("--gpu", "-g", help="Allowed accelerators (default: all priced).")
    ] = None,
    server: Annotated[str | None, typer.Option(help="Allowed servers (catalog ids).")] = None,
    gpus_per_replica: Annotated[
        int | None, typer.Option(help="Accelerators per replica, exactly.")
    ] = None,
    max_gpus_per_replica: Annotated[
        int | None, typer.Option(help="Accelerators per replica, at most (default 32).")
    ] = None,
    max_gpus: Annotated[
        int | None, typer.Option(help="Accelerators in the fleet, at most.")
    ] = None,
    precision: Annotated[
        str | None, typer.Option(help="Allowed weight formats, e.g. bf16,fp8,fp4.")
    ] = None,
    kv_precision: Annotated[str | None, typer.Option(help="Allowed KV formats.")] = None,
    engine: Annotated[str | None, typer.Option(help="Engine (catalog engines).")] = None,
    price: Annotated[
        str | None, typer.Option(help="$ per GPU-hour: 2.5 for all, or h100=2.5,b200=4.")
    ] = None,
    own: Annotated[
        bool | None, typer.Option("--own/--rent", help="Own the servers (catalog price).")
    ] = None,
    owner_profile: Annotated[
        str | None, typer.Option(help="Owner cost profile (default hyperscaler-2025).")
    ] = None,
    objective: Annotated[
        str | None,
        typer.Option(help="usd_per_month (default), gpus, energy or usd_per_million_tokens."),
    ] = None,
    verify: Annotated[
        int | None, typer.Option(help="Candidates the simulator checks (default 10).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (default 0).")] = None,
    requests: Annotated[
        int | None, typer.Option(help="Requests per simulation (default: by candidate).")
    ] = None,
    router: Annotated[
        str | None, typer.Option(help="round-robin (default) or least-outstanding.")
    ] = None,
    max_candidates: Annotated[
        int | None, typer.Option(help="Bound on the search (configurations × batch caps).")
    ] = None,
    compare_api: Annotated[
        bool, typer.Option(help="Beside the fleet: the same traffic through each API.")
    ] = False,
    disaggregated: Annotated[
        bool | None,
        typer.Option(
            "--disaggregated/--no-disaggregated",
            help="Prefill and decode pools apart (default: when TTFT and TPOT targets size them).",
        ),
    ] = None,
    classes: Annotated[
        Path | None,
        typer.Option(
            "--classes",
            "--mix",
            help="Request classes (YAML): a mixed fleet, each class to its targets.",
        ),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            help="A day of traffic: diurnal, sinusoid:AMPLITUDE[:PEAK_HOUR] or a file "
            "of 24 hourly rates; the fleet fixed for its peak and autoscaled."
        ),
    ] = None,
    min_replicas: Annotated[
        int | None, typer.Option(help="Autoscaling: replicas kept at the quietest hour.")
    ] = None,
    scale_up_delay: Annotated[
        float | None, typer.Option(help="Autoscaling: a replica's cold start, s (default 300).")
    ] = None,
    headroom: Annotated[
        float | None, typer.Option(help="Autoscaling: capacity above the hour's load (0.1).")
    ] = None,
    frontier: Annotated[
        Path | None, typer.Option(help="Write the Pareto frontiers (.csv).")
    ] = None,
    plot: Annotated[Path | None, typer.Option(help="Plot the frontiers (.html).")] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Scenario override PATH=VALUE.")
    ] = None,
    samples: Annotated[
        int | None,
        typer.Option(
            "--samples",
            "-n",
            help="Re-size the chosen fleet for N samples of the scenario's ranges (its "
            "screen): P10/P50/P90 of replicas, $ and latencies, and a tornado.",
        ),
    ] = None,
    range_: Annotated[
        list[str] | None,
        typer.Option(
            "--range",
            help="An uncertain input: PATH=LOW:HIGH, PATH=LOW:MODE:HIGH or "
            "PATH=lognormal:MEDIAN:P90 (repeatable).",
        ),
    ] = None,
    calibration: CalibrationOpt = None,
    no_calibration: NoCalibrationOpt = False,
    as_json: JsonOpt = False,
    html: HtmlOpt = None,
) -> None:
    """Plan the cheapest fleet that meets latency targets, verified by simulation."""
    from infercost.api import plan as verb
    from infercost.cli.progress import counting

    _not_empty(
        model=None if model is None else ",".join(model), input_tokens=input_tokens,
        output_tokens=output_tokens, gpu=gpu, server=server, precision=precision,
        kv_precision=kv_precision, engine=engine, price=price, owner_profile=owner_profile,
        objective=objective, router=router, arrival=arrival, slo=slo,
    )  # fmt: skip
    names = [m for text in model or [] for m in _words(text)]
    report = html_target(html)
    flat, per_gpu = _prices(price)
    with counting("simulating", quiet=as_json) as bar:
        outcome = verb(
            scenario=scenario, set=set_ or [], model=names, qps=qps,
            queries_per_day=queries_per_day, daily_users=daily_users,
            queries_per_user=queries_per_user, peak_to_average=peak_to_average,
            input_tokens=input_tokens, output_tokens=output_tokens,
            trace=None if trace is None else str(trace), cached_fraction=cached_fraction,
            arrival=arrival, burstiness=burstiness, slo=slo, goodput=goodput,
            min_interactivity=min_interactivity, gpu=_accelerators(gpu), server=_words(server),
            gpus_per_replica=gpus_per_replica, max_gpus_per_replica=max_gpus_per_replica,
            max_gpus=max_gpus, precision=_words(precision), kv_precision=_words(kv_precision),
            engine=engine, price=flat, prices=per_gpu, own=own, owner_profile=owner_profile,
            objective=objective, verify=verify, seed=seed, requests=requests, router=router,
            compare_api=compare_api, disaggregated=disaggregated,
            classes=None if classes is None else str(classes), profile=profile,
            min_replicas=min_replicas, scale_up_delay=scale_up_delay, headroom=headroom,
            frontier=None if frontier is None else str(frontier),
            plot=None if plot is None else str(plot),
            calibration=_calibration(calibration, no_calibration),
            progress=None if bar is None else (lambda _what, done, total: bar(done, total)),
            samples=samples, range=range_ or [], **_bound(max_candidates),
        )  # fmt: skip
    doc = outcome.to_dict()
    write_html("plan", doc, report, quiet=as_json)
    if as_json:
        emit_json(doc)
    else:
        console = Console()
        print_plan(console, doc)
        if "quantiles" in doc:
            from infercost.cli.uncertainty import print_plan_uncertainty

            print_plan_uncertainty(console, doc)
    if not outcome.feasible:
        fail(_why_infeasible(doc))


def _why_infeasible(doc: dict[str, Any]) -> str:
    """One line for stderr: nothing meets the targets, and the closest candidate's miss."""
    closest = doc["closest"]
    if not closest:
        return "--slo: no configuration meets the targets"
    c = closest[0]
    option = "--max-gpus" if c["binding_limit"] == "max_gpus" else "--slo"
    return (
        f"{option}: no configuration meets the targets; the closest, {_name(c)}, "
        f"{c['misses'][0]} (limited by {c['binding_limit']})"
    )


def _not_empty(**given: str | None) -> None:
    """An option given as an empty text is a mistake, not a default."""
    for name, value in given.items():
        if value is not None and not value.replace(",", "").strip():
            raise InputError(name, "is empty; leave the option out for its default")


def _bound(max_candidates: int | None) -> dict[str, Any]:
    return {} if max_candidates is None else {"max_candidates": max_candidates}


def _prices(text: str | None) -> tuple[float | None, dict[str, float]]:
    """`2.5` (every accelerator) or `h100=2.5,b200=4` (each one named)."""
    if text is None:
        return None, {}
    flat: float | None = None
    named: dict[str, float] = {}
    for part in _words(text):
        name, eq, value = part.rpartition("=")
        try:
            number = float(value)
        except ValueError:
            raise InputError(
                "price", f"cannot read {part!r}; write 2.5 or h100=2.5,b200=4"
            ) from None
        if not (math.isfinite(number) and number > 0):
            raise InputError("price", f"{part!r}: a price must be a finite number > 0 $/GPU-hour")
        if eq and name.strip() in named and named[name.strip()] != number:
            raise InputError("price", f"{name.strip()} is given twice")
        if eq:
            named[name.strip()] = number
        elif flat is None:
            flat = number
        else:
            raise InputError("price", "give one price for every accelerator, not two")
    return flat, named


def print_plan(console: Console, doc: dict[str, Any]) -> None:
    """The question, the answer, the ranked candidates and (asked) the API comparison."""
    q, search = doc["question"], doc["search"]
    targets = ", ".join(f"{_slo(t)} ≤ {fmt('x_s', t['threshold_s'])}" for t in q["targets"]["slo"])
    goodput = q["targets"]["goodput_fraction"]
    console.print(
        f"[bold]{', '.join(q['models'])}[/bold]: {fmt('x', q['rate_per_s'])} queries/s at peak "
        f"({fmt('x', q['queries_per_day'])} a day), {q['input_tokens_mean']:,.0f} → "
        f"{q['output_tokens_mean']:,.0f} tokens, {q['arrival']} arrivals; targets {targets}"
        + (f", {goodput:.1%} of requests meeting all" if goodput else ""),
        highlight=False,
    )
    t = search["timings_s"]
    console.print(
        f"Screened {search['candidates']:,} candidates ({search['configurations']:,} "
        f"configurations) in {t.get('screen', 0):.2f} s; simulated {search['verified']} in "
        f"{t.get('verify', 0):.2f} s.",
        highlight=False,
    )
    if doc["feasible"]:
        _print_best(console, doc["best"])
        console.print(_ranked(doc["candidates"][:SHOWN], q))
    else:
        _print_infeasible(console, doc)
    if doc.get("mix") is not None or doc.get("best_single") is not None:
        _print_mix(console, doc)
    if doc.get("fixed") is not None:
        _print_day(console, doc)
    if doc["api"] is not None:
        console.print(_api_table(doc["api"]))
    for warning in doc["warnings"]:
        console.print(f"[yellow]Note:[/yellow] {escape(warning)}", highlight=False)
    reasons: dict[str, list[str]] = {}
    for line in search["skipped"]:
        gpu, _, why = line.partition(": ")
        reasons.setdefault(why, []).append(gpu)
    for why, gpus in reasons.items():
        console.print(f"[dim]Left out ({why}): {', '.join(gpus)}.[/dim]", highlight=False)
    for what, path in doc["files"].items():
        if path:
            console.print(f"{what}: {path}", highlight=False)


def _print_day(console: Console, doc: dict[str, Any]) -> None:
    """The day: replicas hour by hour under each policy, their cost and the hours missed."""
    fixed, auto = doc["fixed"], doc["autoscaled"]
    out = table(f"A day of traffic ({doc['profile']['source']})", "hour", "queries/s",
                "fixed", "autoscaled", right=("queries/s", "fixed", "autoscaled"))  # fmt: skip
    for f, a in zip(fixed["hours"], auto["hours"], strict=True):
        mark = "" if a["met"] else " [red](misses)[/red]"
        out.add_row(f"{f['hour']:02d}", f"{f['rate_per_s']:,.2f}", f"{f['replicas']:,}",
                    f"{a['replicas']:,}{mark}")  # fmt: skip
    console.print(out)
    for name, p in (("Fixed for the peak", fixed), ("Autoscaled", auto)):
        missed = ", ".join(f"{h:02d}" for h in p["intervals_missed"]) or "none"
        console.print(
            f"{name}: {fmt('usd', p['usd_per_day'])} a day; replicas at the peak "
            f"{p['replicas_peak']:,}, on average {p['replicas_mean']:,.1f}; hours missing a "
            f"target: {missed}",
            highlight=False,
        )
    if auto.get("saving_vs_fixed") is not None:
        console.print(f"Autoscaling saves {auto['saving_vs_fixed']:.1%} a day.", highlight=False)


def _print_mix(console: Console, doc: dict[str, Any]) -> None:
    """The request classes' mixed fleet: which pools serve which classes, against the best
    single configuration."""
    mix, single = doc.get("mix"), doc.get("best_single")
    out = table("Mixed fleet, by request class", "class", "served by", "share",
                "replicas' worth", right=("share", "replicas' worth"))  # fmt: skip
    for c in [] if mix is None else mix["classes"]:
        conf = c["configuration"]
        out.add_row(c["class"], f"{c['pool_replicas']:,} × {_name(conf)}",
                    f"{c['share']:.0%}", f"{c['replicas']:.2f}")  # fmt: skip
    if mix is not None:
        console.print(out)
    parts = []
    for name, fleet in (("mixed", mix), ("best single configuration", single)):
        if fleet is not None:
            met = {True: "met", False: "[red]missed[/red]", None: "not simulated"}
            done = met[fleet["meets_targets"]]
            parts.append(f"{name}: {fmt('usd', fleet['usd_per_month'])} a month, "
                         f"{_gpus(fleet['gpus'])}, targets {done}")  # fmt: skip
    saving = (mix or {}).get("saving_vs_best_single")
    line = "; ".join(parts) + (f"; saving {saving:.1%}" if saving is not None else "")
    console.print(line, highlight=False)
    if doc.get("note"):
        console.print(f"[yellow]Note:[/yellow] {escape(doc['note'])}", highlight=False)


def _slo(t: dict[str, Any]) -> str:
    return f"{t['metric']}_p{t['percentile']:g}"


def _fleet(c: dict[str, Any]) -> str:
    """`R × configuration`, or a disaggregated candidate's two pools."""
    if c.get("disaggregated"):
        p, d = c["prefill"], c["decode"]
        return (f"{p['replicas']:,} × {_name(p)} prefill\n+ {d['replicas']:,} × {_name(d)} "
                "decode")  # fmt: skip
    return f"{c['replicas']:,} × {_name(c)}"


def _name(c: dict[str, Any]) -> str:
    layout = f"tp{c['tp']}" + (f" pp{c['pp']}" if c["pp"] > 1 else "")
    if c["ep"] > 1:
        layout += f" ep{c['ep']}"
    if c["dp_attention"] > 1:
        layout += f" dp{c['dp_attention']}"
    cap = f" cap {c['max_seqs']}" if c.get("max_seqs") else ""
    return f"{c['gpu']} {layout} {c['weight_precision']}/{c['kv_precision']}{cap}"


def _gpus(n: int) -> str:
    return f"{n:,} GPU" + ("" if n == 1 else "s")


def _print_best(console: Console, best: dict[str, Any]) -> None:
    sim = best["simulated"]
    checked = ""
    if sim is not None:
        parts = [f"{k} {fmt('x_s', v)}" for k, v in sim["upper_bound_s"].items()]
        checked = f"; simulated (upper 95 % bound): {', '.join(parts)}"
    rate = "" if best.get("disaggregated") else (
        f" at {fmt('usd', best['usd_per_gpu_hour'])} per GPU-hour"
    )  # fmt: skip
    ratio = (f", {best['prefill_to_decode_replicas']:.2f} prefill replicas per decode replica"
             if best.get("disaggregated") else "")  # fmt: skip
    console.print(
        f"[bold green]Best:[/bold green] {_fleet(best).replace(chr(10), ' ')} "
        f"({best['model']}) = {_gpus(best['gpus'])}{rate}{ratio}: "
        f"{fmt('usd', best['usd_per_month'])} a month, "
        f"{fmt('usd', best['usd_per_million_output_tokens'])} per 1M output tokens; "
        f"limited by {best['binding_limit']}{checked}",
        highlight=False,
    )


def _ranked(candidates: list[dict[str, Any]], q: dict[str, Any]) -> Any:
    """One candidate a row, its cells stacked so that the table fits 80 columns."""
    slos = [_slo(t) for t in q["targets"]["slo"]]
    out = table("Candidates, verified first", "#", "fleet", "$ a month; per 1M in · out",
                "predicted · simulated", "limit", right=("$ a month; per 1M in · out",),
                whole=("#",))  # fmt: skip
    for i, c in enumerate(candidates, start=1):
        sim = c["simulated"]
        fleet = f"{_fleet(c)}\n{_gpus(c['gpus'])}"
        if not c.get("disaggregated"):
            fleet += f", {fmt('utilisation', c['utilisation'])} busy"
        money = (
            f"{fmt('usd', c['usd_per_month'])}\n"
            f"{fmt('usd', c['usd_per_million_input_tokens_attributed'])} · "
            f"{fmt('usd', c['usd_per_million_output_tokens_attributed'])}"
        )
        lines = []
        for name in slos:
            got = "—" if sim is None else fmt("x_s", sim["upper_bound_s"][name])
            lines.append(f"{name} {fmt('x_s', c['predicted_s'].get(name))} · {got}")
        margin = c["simulated_headroom"] if sim is not None else c["predicted_headroom"]
        lines.append(f"headroom {fmt('margin', margin)}")
        miss = " (misses)" if c["meets_targets"] is False else ""
        mark = "" if c["verified"] else "*"
        out.add_row(f"{i}{mark}", fleet, money, "\n".join(lines), c["binding_limit"] + miss)
    out.caption = (
        "* screened, not simulated. Simulated: the upper 95 % bound of the percentile; "
        "headroom: the tightest target's slack, simulated when it was"
    )
    return out


def _print_infeasible(console: Console, doc: dict[str, Any]) -> None:
    console.print("[bold red]No configuration meets the targets.[/bold red] The closest:")
    out = table(None, "configuration", "what it misses", "limit")
    for c in doc["closest"]:
        out.add_row(_name(c), "\n".join(c["misses"]), c["binding_limit"])
    console.print(out)


def _api_table(api: dict[str, Any]) -> Any:
    mine = api["self_host_usd_per_month"]
    title = "The same traffic through an API"
    if mine is not None:
        # break-even is per replica of one pool: the best colocated fleet, which a
        # disaggregated or mixed best may undercut
        title += f" (self-hosted on the best colocated fleet: {fmt('usd', mine)} a month)"
    right = ("$ a month", "× self-hosted", "self-hosting breaks even")
    out = table(title, "provider", "$/1M in · out", *right, right=right)
    for o in api["options"]:
        be = o["breakeven_queries_per_day"]
        even = "—" if mine is None else "never" if be is None else (
            f"{fmt('x', be)} queries/day\n({fmt('utilisation', o['breakeven_utilisation'])} busy)"
        )  # fmt: skip
        ratio = o["api_over_self_host"]
        out.add_row(
            f"{o['provider']}\n{o['model']}",
            f"{fmt('usd', o['usd_per_million_input'])} · {fmt('usd', o['usd_per_million_output'])}",
            fmt("usd", o["usd_per_month"]),
            "—" if ratio is None else f"{ratio:.2f}",
            even,
        )
    if api["unpriced_models"]:
        out.caption = f"No API price in the catalog for {', '.join(api['unpriced_models'])}."
    return out
