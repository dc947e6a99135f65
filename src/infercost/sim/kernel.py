"""The simulator's event loop, compiled with numba.

A replica runs vLLM-style continuous batching. At every step boundary it admits waiting
requests first-come first-served while a slot (`max_seqs`) and KV room for the whole prompt
are free; a step carries one token per decoding sequence plus prompt chunks up to the token
budget (chunked prefill); a prompt's last chunk emits its first token. When the KV cache
cannot take the next step's tokens, the latest admitted sequence is preempted by recompute:
it frees its KV and goes back to the front of the queue, to re-prefill prompt + output so far.
With vLLM's multi-step scheduling (`group_steps` > 1) waiting requests join only between
groups of steps. Engines that do not mix (`mixed` = 0: vLLM before V1, SGLang 0.3) run a
prefill step alone while the decodes wait.

Speed comes from two things. While a batch only decodes and nothing can join, its step time
grows linearly with context, so the k steps up to the next event — a completion, a full KV
cache, the end of a step group, or the next arrival — take a closed-form time and the loop
jumps there at once. And decoding sequences are kept lazily: a replica counts its decode
steps, and a sequence stores its context and finish *relative to that counter*, so a jump
costs O(1) until someone finishes.

A replica of a disaggregated deployment's decode pool (`decode_only` = 1) receives prompts
already prefilled elsewhere: admission reserves the prompt's KV at once, the KV then arrives
over the link (`transfer[i]` seconds, holding that memory meanwhile: a "landing" slot), and
the sequence joins the decodes when it has landed — its first token reaches the user then.
A sequence preempted on such a replica is recomputed here, like any other.

State lives in arrays owned by the caller (see `empty_state`), so the loop can run a slice of
arrivals at a time (for a progress bar) and pick up where it stopped. A router sends each
arrival to a replica: round-robin, or the one with the fewest outstanding requests after
every replica has been advanced to the arrival time.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from infercost.sim.steps import ATT, KVC, step_seconds

ROUND_ROBIN = 0
LEAST_OUTSTANDING = 1
NEVER_FITS = -1.0  # finish time of a request whose KV can never fit (an error record)
DRAIN_SLICE_S = 3600.0  # simulated time a replica runs per call while draining
ITL_BINS = 400
ITL_LOW_S = 1e-5
ITL_HIGH_S = 1e3
BIG = 1 << 60

# Per-replica integer state, ri[r, ...]
N_DEC, N_PRE, SUM_CTX0, MIN_FIN, DSTEP, KV_USED = 0, 1, 2, 3, 4, 5
QUEUED, OUTSTANDING, HEAD, TAIL, GROUP_LEFT, STEPS, N_LAND = 6, 7, 8, 9, 10, 11, 12
# Per-replica float state, rf[r, ...]
CLOCK, BUSY, QUEUE_T, KV_T = 0, 1, 2, 3
# Decoding slots dec[r, j, ...]: request, context − decode counter, decode counter at finish
D_REQ, D_CTX0, D_FIN = 0, 1, 2
# Prefilling slots pre[r, j, ...], in admission order
P_REQ, P_CTX, P_LEFT, P_REM = 0, 1, 2, 3
# Landing slots land[r, j, ...] (a decode pool's prompts whose KV is on its way), and the
# time each lands, land_at[r, j]
L_REQ, L_CTX, L_REM = 0, 1, 2
# Integer parameters (float ones: `steps.StepTable.params`)
KV_CAP, MAX_SEQS, BUDGET, GROUP_STEPS, MIXED, WATERMARK, DECODE_ONLY = 0, 1, 2, 3, 4, 5, 6
N_INTS = 7


@njit(cache=True)
def _itl_bin(dt: float) -> int:
    x = math.log(max(dt, ITL_LOW_S) / ITL_LOW_S) / math.log(ITL_HIGH_S / ITL_LOW_S)
    return min(int(x * ITL_BINS), ITL_BINS - 1)


@njit(cache=True)
def _admit(r, ri, rf, pre, dec, land, land_at, nxt, arrival, prefill_len, remaining_out,
           first_token, finish, preempted, transfer, pi):  # fmt: skip
    """Move queued requests into free slots while KV room for their prompt remains (on a
    decode-only replica, a prompt not preempted here lands by transfer instead)."""
    cap, watermark = pi[KV_CAP], pi[WATERMARK]
    while ri[r, HEAD] >= 0 and ri[r, N_DEC] + ri[r, N_PRE] + ri[r, N_LAND] < pi[MAX_SEQS]:
        i = ri[r, HEAD]
        if arrival[i] > rf[r, CLOCK]:
            break
        need = prefill_len[i]
        # Room for the prompt, every running sequence's next token and the watermark
        # (vLLM's 1 %), so that an admission never forces a preemption at the next step.
        if ri[r, KV_USED] + need + ri[r, N_DEC] + ri[r, N_PRE] + 1 + watermark > cap:
            break
        ri[r, HEAD] = nxt[i]
        if ri[r, HEAD] < 0:
            ri[r, TAIL] = -1
        ri[r, QUEUED] -= 1
        if pi[DECODE_ONLY] == 1 and preempted[i] == 0:
            ri[r, KV_USED] += need
            j = ri[r, N_LAND]
            land[r, j, L_REQ] = i
            land[r, j, L_CTX] = need
            land[r, j, L_REM] = remaining_out[i]
            land_at[r, j] = rf[r, CLOCK] + transfer[i]
            ri[r, N_LAND] = j + 1
            continue
        j = ri[r, N_PRE]
        pre[r, j, P_REQ] = i
        pre[r, j, P_CTX] = 0
        pre[r, j, P_LEFT] = need
        pre[r, j, P_REM] = remaining_out[i]
        ri[r, N_PRE] += 1
        ri[r, KV_USED] += need


@njit(cache=True)
def _land(r, ri, rf, dec, land, land_at, first_token, finish):  # fmt: skip
    """Landed prompts join the decodes; their first token reaches the user as they land."""
    j = 0
    while j < ri[r, N_LAND]:
        if land_at[r, j] > rf[r, CLOCK]:
            j += 1
            continue
        i, ctx, rem = land[r, j, L_REQ], land[r, j, L_CTX], land[r, j, L_REM] - 1
        if first_token[i] < 0:
            first_token[i] = land_at[r, j]
        if rem <= 0:
            finish[i] = land_at[r, j]
            ri[r, KV_USED] -= ctx
            ri[r, OUTSTANDING] -= 1
        else:
            _add_dec(r, i, ctx, rem, ri, dec)
        last = ri[r, N_LAND] - 1
        for f in range(3):
            land[r, j, f] = land[r, last, f]
        land_at[r, j] = land_at[r, last]
        ri[r, N_LAND] = last


@njit(cache=True)
def _next_landing(r, ri, land_at):  # fmt: skip
    t = math.inf
    for j in range(ri[r, N_LAND]):
        t = min(t, land_at[r, j])
    return t


@njit(cache=True)
def _requeue_front(r, i, ri, nxt):  # fmt: skip
    nxt[i] = ri[r, HEAD]
    ri[r, HEAD] = i
    if ri[r, TAIL] < 0:
        ri[r, TAIL] = i
    ri[r, QUEUED] += 1


@njit(cache=True)
def _remove_pre(r, j, ri, pre):  # fmt: skip
    """Drop prefilling slot j, keeping the others in admission order."""
    n = ri[r, N_PRE]
    for k in range(j, n - 1):
        for f in range(4):
            pre[r, k, f] = pre[r, k + 1, f]
    ri[r, N_PRE] = n - 1


@njit(cache=True)
def _add_dec(r, i, ctx, rem, ri, dec):  # fmt: skip
    j = ri[r, N_DEC]
    dec[r, j, D_REQ] = i
    dec[r, j, D_CTX0] = ctx - ri[r, DSTEP]
    dec[r, j, D_FIN] = ri[r, DSTEP] + rem
    ri[r, N_DEC] = j + 1
    ri[r, SUM_CTX0] += ctx - ri[r, DSTEP]
    ri[r, MIN_FIN] = min(ri[r, MIN_FIN], ri[r, DSTEP] + rem)


@njit(cache=True)
def _remove_dec(r, j, ri, dec):  # fmt: skip
    """Drop decoding slot j (swap with the last); MIN_FIN is refreshed by the caller."""
    last = ri[r, N_DEC] - 1
    ri[r, SUM_CTX0] -= dec[r, j, D_CTX0]
    for f in range(3):
        dec[r, j, f] = dec[r, last, f]
    ri[r, N_DEC] = last


@njit(cache=True)
def _finish_decodes(r, ri, rf, dec, finish):  # fmt: skip
    """Complete every decoding sequence whose finish is now; refresh the next finish."""
    step = ri[r, DSTEP]
    low = BIG
    j = 0
    while j < ri[r, N_DEC]:
        if dec[r, j, D_FIN] <= step:
            finish[dec[r, j, D_REQ]] = rf[r, CLOCK]
            ri[r, KV_USED] -= dec[r, j, D_CTX0] + step
            ri[r, OUTSTANDING] -= 1
            _remove_dec(r, j, ri, dec)
        else:
            low = min(low, dec[r, j, D_FIN])
            j += 1
    ri[r, MIN_FIN] = low


@njit(cache=True)
def _preempt(r, ri, dec, pre, nxt, prefill_len, remaining_out, preempted):  # fmt: skip
    """Send the latest admitted sequence back to the queue to be recomputed."""
    if ri[r, N_PRE] > 0:
        j = ri[r, N_PRE] - 1
        i = pre[r, j, P_REQ]
        held = pre[r, j, P_CTX] + pre[r, j, P_LEFT]
        remaining_out[i] = pre[r, j, P_REM]
        _remove_pre(r, j, ri, pre)
    else:
        j = ri[r, N_DEC] - 1
        i = dec[r, j, D_REQ]
        held = dec[r, j, D_CTX0] + ri[r, DSTEP]
        remaining_out[i] = dec[r, j, D_FIN] - ri[r, DSTEP]
        _remove_dec(r, j, ri, dec)
        low = BIG
        for k in range(ri[r, N_DEC]):
            low = min(low, dec[r, k, D_FIN])
        ri[r, MIN_FIN] = low
    ri[r, KV_USED] -= held
    prefill_len[i] = held
    preempted[i] += 1
    _requeue_front(r, i, ri, nxt)


@njit(cache=True)
def _chunk_tokens(r, ri, pre, left):  # fmt: skip
    """Prompt tokens the prefilling sequences get, in admission order, from `left` budget."""
    total = 0
    for j in range(ri[r, N_PRE]):
        if left <= 0:
            break
        p = min(pre[r, j, P_LEFT], left)
        total += p
        left -= p
    return total


@njit(cache=True)
def _account(r, dt, n, ri, rf, batch_time):  # fmt: skip
    rf[r, CLOCK] += dt
    rf[r, BUSY] += dt
    rf[r, QUEUE_T] += ri[r, QUEUED] * dt
    rf[r, KV_T] += ri[r, KV_USED] * dt
    batch_time[r, min(n, batch_time.shape[1] - 1)] += dt


@njit(cache=True)
def run_replica(r, until, ri, rf, dec, pre, land, land_at, batch_time, itl, nxt, arrival,
                prefill_len, remaining_out, first_token, finish, preempted, transfer, pi, pf,
                matmul, weights, comm):  # fmt: skip
    """Advance replica `r` to the first step boundary at or after `until` (or until idle)."""
    cap, budget, group = pi[KV_CAP], pi[BUDGET], pi[GROUP_STEPS]
    slope = max(pf[ATT], pf[KVC])  # a decode step's growth per context token
    while rf[r, CLOCK] < until:
        if ri[r, N_LAND] > 0:
            _land(r, ri, rf, dec, land, land_at, first_token, finish)
        if ri[r, N_DEC] + ri[r, N_PRE] == 0:
            ri[r, GROUP_LEFT] = 0  # an idle engine plans afresh
        if ri[r, GROUP_LEFT] == 0:
            _admit(r, ri, rf, pre, dec, land, land_at, nxt, arrival, prefill_len,
                   remaining_out, first_token, finish, preempted, transfer, pi)  # fmt: skip
        b = ri[r, N_DEC]
        n = b + ri[r, N_PRE]
        landing = _next_landing(r, ri, land_at) if ri[r, N_LAND] > 0 else math.inf
        if n == 0:
            h = ri[r, HEAD]
            arriving = h >= 0 and arrival[h] > rf[r, CLOCK]
            if not arriving and ri[r, N_LAND] == 0:
                rf[r, CLOCK] = until  # idle
                return
            t = min(until, landing)  # wait for the next landing or arrival
            if arriving:
                t = min(t, arrival[h])
            rf[r, CLOCK] = t
            continue
        if ri[r, KV_USED] + b > cap and n > 1:  # the decodes' next tokens do not fit
            _preempt(r, ri, dec, pre, nxt, prefill_len, remaining_out, preempted)
            continue
        step = ri[r, DSTEP]
        ctx_dec = float(ri[r, SUM_CTX0] + b * step)
        prefill_tokens = _chunk_tokens(r, ri, pre, budget - b)
        if prefill_tokens == 0:
            # Decode only: jump kk steps to the next completion, full KV, group end or `until`.
            # Each step is the last plus the KV of b more tokens (communication overlap is
            # taken as of the first step).
            work = ctx_dec + b
            t0 = step_seconds(b, b, work, work, matmul, weights, comm, pf)
            growth = slope * b
            k_fin = ri[r, MIN_FIN] - step
            k_kv = (cap - ri[r, KV_USED]) // b
            gap = min(until, landing) - rf[r, CLOCK]
            if gap <= 0:
                k_until = 1
            elif growth > 0:
                b1 = t0 - growth / 2.0
                root = (-b1 + math.sqrt(b1 * b1 + 2.0 * growth * gap)) / growth
                k_until = int(math.ceil(root))  # noqa: RUF046 (numba's ceil is a float)
            else:
                k_until = int(math.ceil(gap / t0))  # noqa: RUF046
            kk = max(1, min(k_fin, k_kv, k_until))
            if group > 1:
                in_group = ri[r, GROUP_LEFT] if ri[r, GROUP_LEFT] > 0 else group
                if ri[r, HEAD] >= 0:  # someone waits: stop at the end of this group
                    kk = min(kk, in_group)
                ri[r, GROUP_LEFT] = (in_group - kk) % group
            dt = kk * t0 + growth * kk * (kk - 1) / 2.0
            ri[r, KV_USED] += b * kk // 2  # time-average KV over the jump
            _account(r, dt, n, ri, rf, batch_time)
            ri[r, KV_USED] += b * kk - b * kk // 2
            itl[_itl_bin(dt / kk)] += b * kk
            ri[r, STEPS] += kk
            ri[r, DSTEP] = step + kk
            if ri[r, DSTEP] >= ri[r, MIN_FIN]:
                _finish_decodes(r, ri, rf, dec, finish)
            continue
        if pi[MIXED] == 0:
            # Prefill-first engines (vLLM before V1, SGLang 0.3): the running decodes wait
            # while a prefill step runs alone.
            b = 0
            ctx_dec = 0.0
            prefill_tokens = _chunk_tokens(r, ri, pre, budget)
        # A mixed step: every decode advances one token, prompt chunks fill the budget.
        attention = ctx_dec + b
        reads = ctx_dec + b
        seqs = b
        left = budget - b
        for j in range(ri[r, N_PRE]):
            if left <= 0:
                break
            p = min(pre[r, j, P_LEFT], left)
            left -= p
            attention += p * (pre[r, j, P_CTX] + (p + 1) / 2.0)
            reads += pre[r, j, P_CTX] + p
            seqs += 1
        dt = step_seconds(b + prefill_tokens, seqs, attention, reads, matmul, weights, comm, pf)
        _account(r, dt, n, ri, rf, batch_time)
        if b > 0:
            itl[_itl_bin(dt)] += b
        ri[r, STEPS] += 1
        if group > 1:
            started = ri[r, GROUP_LEFT] if ri[r, GROUP_LEFT] > 0 else group
            ri[r, GROUP_LEFT] = (started - 1) % group
        if b > 0:
            ri[r, KV_USED] += b
            ri[r, DSTEP] = step + 1
            if ri[r, DSTEP] >= ri[r, MIN_FIN]:
                _finish_decodes(r, ri, rf, dec, finish)
        left = budget - b
        j = 0
        while j < ri[r, N_PRE] and left > 0:
            p = min(pre[r, j, P_LEFT], left)
            left -= p
            pre[r, j, P_LEFT] -= p
            pre[r, j, P_CTX] += p
            if pre[r, j, P_LEFT] > 0:
                j += 1
                continue
            # The prompt is in: its next token comes out now.
            i = pre[r, j, P_REQ]
            if first_token[i] < 0:
                first_token[i] = rf[r, CLOCK]
            rem = pre[r, j, P_REM] - 1
            ctx = pre[r, j, P_CTX]
            _remove_pre(r, j, ri, pre)
            if rem <= 0:
                finish[i] = rf[r, CLOCK]
                ri[r, KV_USED] -= ctx
                ri[r, OUTSTANDING] -= 1
            else:
                _add_dec(r, i, ctx, rem, ri, dec)


@njit(cache=True)
def route(start, stop, router, n_replicas, rr, ri, rf, dec, pre, land, land_at, batch_time,
          itl, nxt, arrival, prefill_len, output, remaining_out, first_token, finish, preempted,
          replica, transfer, pi, pf, matmul, weights, comm):  # fmt: skip
    """Send arrivals `start`…`stop` to replicas, advancing replicas as time passes."""
    for i in range(start, stop):
        t = arrival[i]
        if router == LEAST_OUTSTANDING:
            best = 0
            for r in range(n_replicas):
                run_replica(r, t, ri, rf, dec, pre, land, land_at, batch_time, itl, nxt,
                            arrival, prefill_len, remaining_out, first_token, finish,
                            preempted, transfer, pi, pf, matmul, weights, comm)  # fmt: skip
                if ri[r, OUTSTANDING] < ri[best, OUTSTANDING]:
                    best = r
            r = best
        else:
            r = rr[0]
            rr[0] = (r + 1) % n_replicas
            run_replica(r, t, ri, rf, dec, pre, land, land_at, batch_time, itl, nxt, arrival,
                        prefill_len, remaining_out, first_token, finish, preempted, transfer,
                        pi, pf, matmul, weights, comm)  # fmt: skip
        replica[i] = r
        if finish[i] == NEVER_FITS:  # marked before the run: its KV can never fit
            continue
        remaining_out[i] = output[i]
        nxt[i] = -1
        if ri[r, TAIL] >= 0:
            nxt[ri[r, TAIL]] = i
        else:
            ri[r, HEAD] = i
        ri[r, TAIL] = i
        ri[r, QUEUED] += 1
        ri[r, OUTSTANDING] += 1


@njit(cache=True)
def drain(n_replicas, ri, rf, dec, pre, land, land_at, batch_time, itl, nxt, arrival,
          prefill_len, remaining_out, first_token, finish, preempted, transfer, pi, pf, matmul,
          weights, comm):  # fmt: skip
    """Run every replica until it has finished all its requests."""
    for r in range(n_replicas):
        while ri[r, OUTSTANDING] > 0:
            run_replica(r, rf[r, CLOCK] + DRAIN_SLICE_S, ri, rf, dec, pre, land, land_at,
                        batch_time, itl, nxt, arrival, prefill_len, remaining_out, first_token,
                        finish, preempted, transfer, pi, pf, matmul, weights, comm)  # fmt: skip


def empty_state(n: int, n_replicas: int, max_seqs: int) -> dict[str, np.ndarray]:
    """Zeroed state arrays for `n` requests on `n_replicas` replicas."""
    ri = np.zeros((n_replicas, 13), dtype=np.int64)
    ri[:, MIN_FIN] = BIG
    ri[:, HEAD] = -1
    ri[:, TAIL] = -1
    return {
        "ri": ri,
        "rf": np.zeros((n_replicas, 4)),
        "dec": np.zeros((n_replicas, max_seqs, 3), dtype=np.int64),
        "pre": np.zeros((n_replicas, max_seqs, 4), dtype=np.int64),
        "land": np.zeros((n_replicas, max_seqs, 3), dtype=np.int64),
        "land_at": np.zeros((n_replicas, max_seqs)),
        "batch_time": np.zeros((n_replicas, max_seqs + 1)),
        "itl": np.zeros(ITL_BINS),
        "nxt": np.full(n, -1, dtype=np.int64),
        "remaining_out": np.zeros(n, dtype=np.int64),
        "first_token": np.full(n, -1.0),
        "finish": np.full(n, -2.0),
        "preempted": np.zeros(n, dtype=np.int64),
        "replica": np.full(n, -1, dtype=np.int64),
        "rr": np.zeros(1, dtype=np.int64),
    }


def itl_bin_edges() -> np.ndarray:
    return np.geomspace(ITL_LOW_S, ITL_HIGH_S, ITL_BINS + 1)
